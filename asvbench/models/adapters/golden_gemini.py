"""Golden-Gemini releases (``Liu-Tianchi/Golden-Gemini-for-Speaker-Verification``, Google-Drive
folders ``…/models/model_165.pt``, LM: ``final_model.pt``) of Gemini DF-ResNet 60 / 114 / 183.

They were trained in WeSpeaker with the release's own ``Gemini_df_resnet.py``, whose network keys
equal WeSpeaker's ``gemini_dfresnet.py`` (``downsample_layers.*``, ``stages.*``) except that the
last layer is ``embedding`` (WeSpeaker: ``seg_1``); WeSpeaker's training script adds the margin
head as ``projection``. So: unwrap ``state_dict`` if present, strip ``module.``, drop
``projection.*``, rename ``embedding.`` -> ``seg_1.``, cast the averaged counters to int64.
(The release's pooling epsilon differs too: the ``golden-gemini-*`` presets carry it.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import clean_state, register_adapter

DROPPED_PREFIXES = ("projection.",)
RENAMED = ("embedding.", "seg_1.")


@register_adapter("golden-gemini")
def adapt_golden_gemini(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """Golden-Gemini checkpoint object -> our Gemini DF-ResNet state dict (to load strictly)."""
    old, new = RENAMED
    state = clean_state(obj, where=where, drop=DROPPED_PREFIXES)
    return {(new + k.removeprefix(old) if k.startswith(old) else k): v for k, v in state.items()}
