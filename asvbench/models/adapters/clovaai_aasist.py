"""clovaai/aasist checkpoints (``models/weights/AASIST.pth``, ``AASIST-L.pth``; also the
ASVspoof 5 baseline ``Baseline-AASIST/models/weights/AASIST/best.pth``).

Released files are plain state dicts of ``models/AASIST.py:Model`` (229 keys, no prefix), which
our AASIST uses unchanged. Training scripts that wrap the model in DataParallel save ``module.``
prefixes: stripped. A dict nesting the weights under a wrapper key is unwrapped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asvbench.models.adapters import clean_state, register_adapter


@register_adapter("clovaai-aasist")
def adapt_clovaai_aasist(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """AASIST checkpoint object -> our state dict (to load strictly)."""
    return clean_state(obj, where=where)
