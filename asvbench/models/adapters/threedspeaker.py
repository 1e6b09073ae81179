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

from asvbench.models.adapters import counters_to_int64, drop_prefixes, strip_prefix, unwrap_state_dict

DROPPED_PREFIXES = ("classifier.",)


def adapt_threedspeaker(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """3D-Speaker checkpoint object -> our state dict (to load strictly)."""
    state = unwrap_state_dict(obj, where=where)
    state = strip_prefix(state, "module.")
    state = strip_prefix(state, "embedding_model.")
    state = drop_prefixes(state, DROPPED_PREFIXES)
    return counters_to_int64(state)
