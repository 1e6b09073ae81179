"""Checks of option values that run before any input is read, naming the option the user typed."""

from __future__ import annotations

import math
from collections.abc import Iterable

from asvbench.errors import AsvbenchError


def probability(option: str, value: float | None) -> None:
    """``value`` lies strictly between 0 and 1 (a prior)."""
    if value is not None and not (math.isfinite(value) and 0.0 < value < 1.0):
        raise AsvbenchError(f"{option} must lie strictly between 0 and 1, got {value}",
                            hint=f"e.g. {option} 0.01")


def probabilities(option: str, values: Iterable[float] | None) -> None:
    for value in values or ():
        probability(option, value)


def positive(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise AsvbenchError(f"{option} must be a positive number, got {value}", hint=f"e.g. {option} 1")


def at_least(option: str, value: int | None, low: int) -> None:
    if value is not None and value < low:
        raise AsvbenchError(f"{option} must be >= {low}, got {value}", hint=f"e.g. {option} {max(low, 1)}")


def unit_interval(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise AsvbenchError(f"{option} must lie in [0, 1], got {value}", hint=f"e.g. {option} 0.5")


def benchmark(value: str | None) -> None:
    """A ``--benchmark`` name is registered or ``custom:NAME`` (checked again against the list later)."""
    if value is not None:
        from asvbench.trials.registry import resolve_benchmark

        resolve_benchmark(value, None)


def metric_options(*, p_target: Iterable[float] | None = None, c_miss: float | None = None,
                   c_fa: float | None = None, bench: str | None = None) -> None:
    """The metric-definition options shared by score / metrics."""
    probabilities("--p-target", p_target)
    positive("--c-miss", c_miss)
    positive("--c-fa", c_fa)
    benchmark(bench)
