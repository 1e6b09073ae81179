"""Resemblyzer checkpoints (``resemblyzer/pretrained.pt``, GE2E ``VoiceEncoder``).

``pretrained.pt`` is a training checkpoint ``{"step": int, "model_state": state dict,
"optimizer_state": Adam state}``; ``VoiceEncoder.__init__`` loads ``checkpoint["model_state"]``
with ``strict=False`` because that dict also holds the GE2E loss scalars ``similarity_weight``
and ``similarity_bias`` (1,), which are not part of the encoder. Here: unwrap ``model_state``
(the step counter and the optimizer state are ignored: everything loads with
``torch.load(weights_only=True)``, no code is unpickled), strip a ``module.`` prefix, drop the
two loss scalars; the 14 encoder keys (``lstm.*``, ``linear.*``) keep their names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import WRAPPER_KEYS, drop_prefixes, register_adapter, strip_prefix, unwrap_state_dict

#: where Resemblyzer's encoder training script nests the weights
RESEMBLYZER_WRAPPER_KEYS = ("model_state",) + WRAPPER_KEYS
#: the GE2E loss's learnt scale and offset of the similarity matrix (training only)
LOSS_KEYS = ("similarity_weight", "similarity_bias")


@register_adapter("resemblyzer")
def adapt_resemblyzer(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """Resemblyzer checkpoint object -> state dict of :class:`~asvbench.models.ge2e.GE2EEncoder`."""
    state = unwrap_state_dict(obj, where=where, wrapper_keys=RESEMBLYZER_WRAPPER_KEYS)
    state = strip_prefix(state, "module.")
    return drop_prefixes(state, LOSS_KEYS)
