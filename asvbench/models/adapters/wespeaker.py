"""WeSpeaker (wenet-e2e/wespeaker) checkpoints, any family (CAM++, ECAPA_TDNN_GLOB, ResNet, ...).

Released ``avg_model.pt`` = plain state dict of the speaker model **plus** the margin head
saved as submodule ``projection`` (``projection.weight``, other heads add ``projection.bias`` …;
maintainers: wespeaker issue #381). Drop every ``projection.*`` key. A dict with key
``state_dict`` is unwrapped (as ``wespeaker/utils/checkpoint.py`` does); ``module.`` prefixes
are stripped. ``avg_model.pt`` is an element-wise average, so ``num_batches_tracked`` come out
as floats: cast back to int64. Network keys keep their WeSpeaker names (our modules use them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import clean_state, register_adapter

DROPPED_PREFIXES = ("projection.",)


@register_adapter("wespeaker")
def adapt_wespeaker(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """WeSpeaker checkpoint object -> our state dict (to load strictly)."""
    return clean_state(obj, where=where, drop=DROPPED_PREFIXES)
