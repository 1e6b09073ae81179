"""One shape for "unknown X" errors: :func:`check_choice`, fed by the tuple or registry that
defines the choices (base layer: io, models, metrics and pipelines all use it)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from asvbench.errors import AsvbenchError

T = TypeVar("T")


def check_choice(value: T, choices: Iterable[T], what: str, *, where: str | Path | None = None,
                 hint: str | None = None) -> T:
    """``value`` when it is one of ``choices``; else an :class:`AsvbenchError`
    ``unknown <what> <value!r>`` whose hint lists the choices (or says ``hint``).

    ``choices`` is the tuple or registry (a mapping: its keys) that defines the valid values, so
    the message and the check cannot drift apart.
    """
    names = tuple(choices)
    if value in names:
        return value
    raise AsvbenchError(f"unknown {what} {value!r}", where=where,
                        hint=hint if hint is not None else f"choose one of: {', '.join(map(str, names))}")
