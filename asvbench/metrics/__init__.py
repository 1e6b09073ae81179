"""Metrics: pure functions over score and label arrays.

Labels are boolean target masks for binary metrics, or :class:`asvbench.types.Label`
codes (0 nontarget, 1 target, 2 spoof) for SASV metrics and :func:`summarize`.

The names below are loaded on first use (PEP 562), so importing a leaf such as
:mod:`asvbench.metrics.options` (the CLI's choices) does not import numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "OperatingPoints": "_curve", "operating_points": "_curve",
    "cllr": "cllr", "min_cllr": "cllr", "pav_llrs": "cllr",
    "DcfResult": "dcf", "act_dcf": "dcf", "bayes_threshold": "dcf", "min_dcf": "dcf",
    "DetCurve": "det", "det_curve": "det",
    "EerResult": "eer", "compute_eer": "eer",
    "EER_METHODS": "options",
    "SasvEers": "sasv", "sasv_eers": "sasv",
    "MetricsSummary": "summary", "summarize": "summary",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'asvbench.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"asvbench.metrics.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # pragma: no cover
    from asvbench.metrics._curve import OperatingPoints, operating_points
    from asvbench.metrics.cllr import cllr, min_cllr, pav_llrs
    from asvbench.metrics.dcf import DcfResult, act_dcf, bayes_threshold, min_dcf
    from asvbench.metrics.det import DetCurve, det_curve
    from asvbench.metrics.eer import EerResult, compute_eer
    from asvbench.metrics.options import EER_METHODS
    from asvbench.metrics.sasv import SasvEers, sasv_eers
    from asvbench.metrics.summary import MetricsSummary, summarize
