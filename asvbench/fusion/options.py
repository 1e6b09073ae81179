"""The names of the fusion choices (``asvbench fuse`` options): a leaf module, so the CLI offers them as
parser choices without importing the fusion code."""

from __future__ import annotations

#: fusion rules (``--method``); see :mod:`asvbench.fusion.methods`
FUSION_METHODS: tuple[str, ...] = ("product", "sum", "llr-sum", "nonlinear")
#: the rules that fuse calibrated LLRs (they need a development set)
LLR_METHODS: tuple[str, ...] = ("llr-sum", "nonlinear")
#: which CM value is fused (``--cm-score``); see :func:`asvbench.fusion.methods.cm_input`
CM_SCORE_CHOICES: tuple[str, ...] = ("auto", "logit", "prob", "sigmoid")
#: where the t-DCF takes the ASV operating point from (``--tdcf-asv``)
TDCF_ASV_SOURCES: tuple[str, ...] = ("eer", "asvspoof5-organiser")
