"""open-speaker-verification (mmclassification) checkpoints: ResNet34-AM-VoxCeleb2.

mmcv ``save_checkpoint`` writes ``{"meta": ..., "state_dict": ..., ["optimizer": ...]}``; the
state dict is the ``ImageClassifier``'s: ``backbone.*`` (216 keys), ``neck.*`` (7) and the
training-only AM-softmax class weights ``head.W`` (5994 x 256), dropped with every other
``head.*`` key (``shared/parity/osv_resnet34_am/README.md``). A ``module.`` prefix
(DataParallel) is stripped, as mmcv's loader does. mmcls's shortcut ``downsample.{0,1}`` is our
(WeSpeaker-named) ``shortcut.{0,1}``; every other key keeps its name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from asvbench.models.adapters import counters_to_int64, drop_prefixes, register_adapter, strip_prefix, unwrap_state_dict

DROPPED_PREFIXES = ("head.",)
_DOWNSAMPLE = re.compile(r"^(backbone\.layer\d+\.\d+\.)downsample\.")


@register_adapter("mmcls-osv")
def adapt_mmcls_osv(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """open-speaker-verification checkpoint object -> state dict of :class:`~asvbench.models.osv_resnet.OsvResNet`."""
    state = unwrap_state_dict(obj, where=where)
    state = strip_prefix(state, "module.")
    state = drop_prefixes(state, DROPPED_PREFIXES)
    state = {_DOWNSAMPLE.sub(r"\1shortcut.", k): v for k, v in state.items()}
    return counters_to_int64(state)
