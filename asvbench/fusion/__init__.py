"""Spoofing-aware speaker verification (SASV): fusion of ASV and CM scores, and its metrics.

The names below are loaded on first use (PEP 562), so that importing the leaf module
:mod:`asvbench.fusion.options` (the CLI's choices) imports nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SasvCalibration": "calibrate", "fit_sasv_calibration": "calibrate",
    "SasvTrials": "join", "join_sasv": "join",
    "FUSION_METHODS": "methods", "LLR_METHODS": "methods", "RhoSearch": "methods", "fuse_llr_sum": "methods",
    "fuse_nonlinear": "methods", "fuse_product": "methods", "fuse_sum": "methods", "parse_rho_grid": "methods",
    "select_rho": "methods",
    "FusionInputs": "run", "FusionRun": "run", "FusionSettings": "run", "run_fusion": "run",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
