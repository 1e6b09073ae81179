"""Argument checks shared by the metric functions."""

from __future__ import annotations

import numpy as np

from asvbench.errors import AsvbenchError


def check_binary(scores, is_target, *, name: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    """Validate a score array and a boolean target mask; return them as float64 / bool arrays.

    Raises :class:`AsvbenchError` on shape mismatch, empty input, NaN/inf scores, or when
    only one class is present (an error rate is not defined then).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(is_target)
    if s.ndim != 1 or y.ndim != 1:
        raise AsvbenchError(f"{name} and labels must be 1-D arrays, got shapes {s.shape} and {y.shape}")
    if s.shape[0] != y.shape[0]:
        raise AsvbenchError(f"{name} and labels differ in length: {s.shape[0]} vs {y.shape[0]}")
    if s.shape[0] == 0:
        raise AsvbenchError(f"no trials: {name} is empty", hint="check that the score file has data lines")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise AsvbenchError("binary labels must be 0/1 or boolean")
        y = y.astype(bool)
    bad = ~np.isfinite(s)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise AsvbenchError(
            f"{int(bad.sum())} {name} are NaN or infinite (first at trial index {first}: {s[first]})",
            hint="fix or drop those trials; error rates are undefined for them",
        )
    n_tar = int(y.sum())
    if n_tar == 0 or n_tar == y.shape[0]:
        only = "target" if n_tar else "non-target"
        raise AsvbenchError(
            f"only {only} trials are present ({y.shape[0]} trials); the metric needs both classes",
        )
    return s, y


def check_prior(p_target: float, c_miss: float, c_fa: float) -> None:
    if not 0.0 < p_target < 1.0:
        raise AsvbenchError(f"p_target must lie strictly between 0 and 1, got {p_target}")
    if c_miss <= 0 or c_fa <= 0:
        raise AsvbenchError(f"costs must be positive, got c_miss={c_miss}, c_fa={c_fa}")
