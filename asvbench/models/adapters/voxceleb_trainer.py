"""clovaai/voxceleb_trainer checkpoints (``baseline_v2_ap.model``, ``baseline_v2_smproto.model``;
the SASV2022 DoubleRoc ``resnet34v2.model`` is ``baseline_v2_ap.model`` renamed).

``SpeakerNet.saveParameters`` saved ``SpeakerNet.state_dict()``: the speaker network under
``__S__.`` (ResNetSE34V2: 295 keys, including the three front-end buffers ``torchfb.*``) and the
loss head under ``__L__.`` (softmaxproto: the softmax classifier's weights). Since 2026 the file
is a dict ``{"model_state_dict": ..., "optimizer_state_dict": ..., ...}``; ``loadParameters``
also accepts a legacy ``{"model": <network state dict without __S__.>}``. Unwrap either, strip a
``module.`` prefix (DataParallel saves), drop ``__L__.*``, strip ``__S__.`` (as DoubleRoc's
``resume_spk_model`` does). The front-end buffers are kept and used verbatim.
(``shared/docs/models.md`` §4.2.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import counters_to_int64, drop_prefixes, register_adapter, strip_prefix, unwrap_state_dict

NETWORK_PREFIX = "__S__."
DROPPED_PREFIXES = ("__L__.",)


@register_adapter("voxceleb-trainer")
def adapt_voxceleb_trainer(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """voxceleb_trainer checkpoint object -> state dict of :class:`~asvbench.models.resnet_se.ResNetSE`."""
    state = unwrap_state_dict(obj, where=where)
    state = strip_prefix(state, "module.")
    state = drop_prefixes(state, DROPPED_PREFIXES)
    state = strip_prefix(state, NETWORK_PREFIX)
    return counters_to_int64(state)
