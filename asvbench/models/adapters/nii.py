"""NII (nii-yamagishilab/project-NN-Pytorch-scripts) checkpoints: the LFCC-LCNN-LSTM countermeasure.

``trained_network.pt`` of the ASVspoof 2021 toy example is the plain state dict of
``Model`` (60 keys, no prefix), which our :class:`~asvbench.models.lcnn.LCNN` uses unchanged;
the project's inference (``f_load_checkpoint_for_inference``) loads it strictly. The project's
training checkpoints (``epoch_NNN.pt``) nest it under ``state_dict`` beside the optimizer state:
unwrapped. ``module.`` prefixes (DataParallel) are stripped. The front-end constants it stores
(``m_frontend.0.lfcc_fb``, ``m_frontend.0.l_dct.weight``) are kept and used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import counters_to_int64, register_adapter, strip_prefix, unwrap_state_dict


@register_adapter("nii")
def adapt_nii(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """NII checkpoint object -> state dict of :class:`~asvbench.models.lcnn.LCNN` (to load strictly)."""
    state = unwrap_state_dict(obj, where=where)
    state = strip_prefix(state, "module.")
    return counters_to_int64(state)
