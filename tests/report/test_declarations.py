"""The metric declaration table drives the summary keys, the table headers and the fusion records."""

from __future__ import annotations

import numpy as np

from asvbench.metrics.declarations import BY_KEY, SPOOF_ONLY_KEYS, declaration
from asvbench.metrics.summary import summarize
from asvbench.report.save import fusion_metrics
from asvbench.report.tables import NOT_METRICS, metric_spec
from asvbench.types import Label


def test_every_summary_metric_is_declared():
    labels = np.array([Label.TARGET, Label.NONTARGET, Label.SPOOF, Label.TARGET, Label.NONTARGET, Label.SPOOF])
    summary = summarize([0.9, 0.1, 0.2, 0.8, 0.3, 0.05], labels).to_dict()
    numeric = {k for k, v in summary.items() if isinstance(v, (float, dict)) and k not in NOT_METRICS}
    assert numeric - {"extra"} <= set(BY_KEY)
    assert set(SPOOF_ONLY_KEYS) == {"sasv_eer", "sv_eer", "spf_eer"}


def test_spoof_only_keys_leave_a_summary_without_spoofs():
    summary = summarize([0.9, 0.1], np.array([Label.TARGET, Label.NONTARGET])).to_dict()
    assert not set(SPOOF_ONLY_KEYS) & set(summary)


def test_headers_come_from_the_declaration():
    assert metric_spec("eer").label == "EER (%)" and metric_spec("eer").scale == 100.0
    assert metric_spec("min_dcf@0.01").label == "minDCF (p=0.01)"
    assert metric_spec("min_a_dcf").decimals == 4
    assert declaration("min_dcf@0.05").key == "min_dcf"
    assert declaration("eer").header("fraction") == "EER" and declaration("eer").factor("fraction") == 1.0


def test_fusion_keys_are_renamed_by_the_declaration():
    result = {"eval": {"fused": {"sasv_eer": 0.01, "sv_eer": 0.02, "spf_eer": 0.03, "min_adcf": 0.25}}}
    assert fusion_metrics(result) == {"sasv_eer": 0.01, "sv_eer": 0.02, "spf_eer": 0.03, "min_a_dcf": 0.25}
