"""Which preset a checkpoint's tensors fit: the error for a checkpoint of one size given to another.

A strict load of a ResNet221 checkpoint into ResNet293 fails with "N missing keys"; what the user
needs to hear is "this is a ResNet221". :func:`refuse_other_presets` compares the adapted state
dict's key set and shapes with those of each candidate preset (networks built on the ``meta``
device: shapes only, no memory, no initialisation) and raises an
:class:`~asvbench.errors.AsvbenchError` naming the presets it fits. When it fits none, the strict
load that follows names the missing and unexpected keys.

Imports torch (only loaders import this module, lazily).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from asvbench.errors import AsvbenchError

Shapes = Mapping[str, tuple[int, ...]]


def state_shapes(state: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """``key -> shape`` of a state dict (or of ``module.state_dict()``)."""
    return {k: tuple(v.shape) for k, v in state.items()}


@cache
def _cached_shapes(build: Callable[[str], nn.Module], preset: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    with torch.device("meta"):
        module = build(preset)
    return tuple(state_shapes(module.state_dict()).items())


def preset_shapes(build: Callable[[str], nn.Module], preset: str) -> dict[str, tuple[int, ...]]:
    """State-dict shapes of ``build(preset)``, built once on the meta device and cached."""
    return dict(_cached_shapes(build, preset))


def fitting(state: Shapes, candidates: Iterable[tuple[str, Shapes]]) -> list[str]:
    """Labels of the candidates whose key set and shapes equal ``state``'s."""
    return [label for label, shapes in candidates if dict(shapes) == dict(state)]


def refuse_other_presets(state: Mapping[str, Any], *, expected: str, candidates: Iterable[tuple[str, Shapes]],
                         where: str | Path, hint: str | None = None) -> None:
    """:class:`AsvbenchError` when ``state`` does not fit the ``expected`` candidate but fits others.

    ``candidates``: ``(label, shapes)`` pairs, ``expected`` among the labels. Returns silently
    when ``state`` fits ``expected`` or fits nothing (the strict load then names the keys)."""
    shapes = state_shapes(state)
    pairs = list(candidates)
    fits = fitting(shapes, pairs)
    if not fits or expected in fits:
        return
    raise AsvbenchError(
        f"checkpoint is not a {expected}: its {len(shapes)} tensors fit {' / '.join(fits)}",
        where=where,
        hint=hint or "pick the --model of that architecture (asvbench models list)",
    )
