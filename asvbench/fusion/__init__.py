"""Spoofing-aware speaker verification (SASV): fusion of ASV and CM scores, and its metrics."""

from asvbench.fusion.calibrate import SasvCalibration, fit_sasv_calibration
from asvbench.fusion.join import SasvTrials, join_sasv
from asvbench.fusion.methods import (
    FUSION_METHODS,
    LLR_METHODS,
    RhoSearch,
    fuse_llr_sum,
    fuse_nonlinear,
    fuse_product,
    fuse_sum,
    parse_rho_grid,
    select_rho,
)

__all__ = [
    "FUSION_METHODS", "LLR_METHODS", "RhoSearch", "SasvCalibration", "SasvTrials", "fit_sasv_calibration",
    "fuse_llr_sum", "fuse_nonlinear", "fuse_product", "fuse_sum", "join_sasv", "parse_rho_grid", "select_rho",
]
