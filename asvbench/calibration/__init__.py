"""Score calibration: scores -> log-likelihood ratios (linear logistic regression, PAV)."""

from asvbench.calibration.linear import LinearCalibration, fit_linear
from asvbench.calibration.pav import PavCalibration, fit_pav

CALIBRATION_METHODS: tuple[str, ...] = ("linear", "pav")

__all__ = ["CALIBRATION_METHODS", "LinearCalibration", "PavCalibration", "fit_linear", "fit_pav"]
