"""3D-Speaker (modelscope/3D-Speaker, ``speakerlab``) checkpoints.

Released models (modelscope ``iic/speech_campplus_*``, ``.bin``/``.pt``) are plain state dicts
of the embedding network, loaded by ``speakerlab/bin/infer_sv.py`` with ``load_state_dict``:
no prefix, no head; our CAM++ uses the same key names. Training checkpoints keep the network and
the classifier in separate files (``embedding_model.ckpt`` / ``classifier.ckpt``); if a combined
or DataParallel-wrapped dict is given, ``module.``/``embedding_model.`` prefixes are stripped and
``classifier.*`` keys dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import clean_state, register_adapter

DROPPED_PREFIXES = ("classifier.",)


@register_adapter("3dspeaker")
def adapt_threedspeaker(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """3D-Speaker checkpoint object -> our state dict (to load strictly)."""
    return clean_state(obj, where=where, strip=("embedding_model.",), drop=DROPPED_PREFIXES)
