"""The scorer's fixed option values: a leaf module, so the CLI offers them as parser choices without
importing the scorer."""

from __future__ import annotations

#: score normalisations (``--norm``)
NORM_METHODS: tuple[str, ...] = ("none", "znorm", "tnorm", "snorm", "asnorm")
#: dot-product precisions of the cosine (``--precision``)
PRECISIONS: tuple[str, ...] = ("float32", "float64")
