"""TaoRuijie/ECAPA-TDNN checkpoints (``exps/pretrain.model``).

``ECAPAModel.save_parameters`` saves ``ECAPAModel.state_dict()``: the encoder under
``speaker_encoder.`` (234 keys, including the three front-end buffers ``torchfbank.*``) and the
AAM-softmax head ``speaker_loss.weight`` (5994 x 192). Strip ``speaker_encoder.`` (and a
``module.`` prefix from DataParallel saves), drop ``speaker_loss.*``; the front-end buffers are
kept and used verbatim. Anything else is left for the strict load to report.
(``shared/docs/models.md`` §3.3.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import clean_state, register_adapter

ENCODER_PREFIX = "speaker_encoder."
DROPPED_PREFIXES = ("speaker_loss.",)


@register_adapter("taoruijie")
def adapt_taoruijie(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """TaoRuijie checkpoint object -> state dict of :class:`~asvbench.models.ecapa_tdnn` ``taoruijie`` layout."""
    return clean_state(obj, where=where, strip=(ENCODER_PREFIX,), drop=DROPPED_PREFIXES)
