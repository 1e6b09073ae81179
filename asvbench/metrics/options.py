"""The names of the metric choices (``--eer-method``, ``--adcf-costs``): a leaf module without numpy, so the
CLI offers them as parser choices without importing the metrics."""

from __future__ import annotations

#: EER definitions; see :func:`asvbench.metrics.eer.compute_eer`
EER_METHODS: tuple[str, ...] = ("interp", "rocch", "roc", "nearest", "kaldi")
#: named a-DCF cost settings; the costs are :data:`asvbench.metrics.adcf.ADCF_COSTS` (same keys, tested)
ADCF_COST_NAMES: tuple[str, ...] = ("default", "asvspoof5")
