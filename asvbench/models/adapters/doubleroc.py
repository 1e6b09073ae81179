"""SASV2022 DoubleRoc (``WebPrague/SASV2022_DoubleRoc``) Res2Net checkpoints: ``res2net50v2.model``
(SE-Res2Net-50) and ``res2next50.model`` (Res2NeXt-50).

``ASV/models/Res2Net50V2.py`` / ``Res2NeXt50.py`` ``resume_spk_model`` load the file with
``network.load_state_dict(torch.load(path), strict=True)``: a plain state dict of the network, no
prefix, no head, including the three front-end buffers (``torchfb.*`` / ``torchfbank.*``), which
our modules keep under the same names (``shared/docs/models.md`` §4.3, §4.4). A dict nesting the
weights under a wrapper key is unwrapped and a ``module.`` (DataParallel) prefix stripped;
anything else is left for the strict load to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import counters_to_int64, register_adapter, strip_prefix, unwrap_state_dict


@register_adapter("doubleroc-res2net")
def adapt_doubleroc_res2net(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """DoubleRoc Res2Net / Res2NeXt checkpoint object -> our state dict (to load strictly)."""
    state = unwrap_state_dict(obj, where=where)
    state = strip_prefix(state, "module.")
    return counters_to_int64(state)
