"""Metrics: pure functions over score and label arrays.

Labels are boolean target masks for binary metrics, or :class:`asvbench.types.Label`
codes (0 nontarget, 1 target, 2 spoof) for SASV metrics and :func:`summarize`.
"""

from asvbench.metrics._curve import OperatingPoints, operating_points
from asvbench.metrics.cllr import cllr, min_cllr, pav_llrs
from asvbench.metrics.dcf import DcfResult, act_dcf, bayes_threshold, min_dcf
from asvbench.metrics.det import DetCurve, det_curve
from asvbench.metrics.eer import EER_METHODS, EerResult, compute_eer
from asvbench.metrics.sasv import SasvEers, sasv_eers
from asvbench.metrics.summary import MetricsSummary, summarize

__all__ = [
    "EER_METHODS", "DcfResult", "DetCurve", "EerResult", "MetricsSummary", "OperatingPoints", "SasvEers",
    "act_dcf", "bayes_threshold", "cllr", "compute_eer", "det_curve", "min_cllr", "min_dcf",
    "operating_points", "pav_llrs", "sasv_eers", "summarize",
]
