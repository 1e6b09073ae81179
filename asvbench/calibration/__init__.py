"""Score calibration: scores -> log-likelihood ratios (linear logistic regression, PAV), and a whole
``asvbench calibrate`` run (:func:`run_calibration`).

The fitting code is loaded on first use (PEP 562): the CLI reads :data:`CALIBRATION_METHODS`
without importing numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

CALIBRATION_METHODS: tuple[str, ...] = ("linear", "pav")

_WHERE = {"LinearCalibration": "linear", "fit_linear": "linear", "PavCalibration": "pav", "fit_pav": "pav",
          "CalibrationRun": "run", "CalibrationSettings": "run", "run_calibration": "run"}

__all__ = ["CALIBRATION_METHODS", "CalibrationRun", "CalibrationSettings", "LinearCalibration", "PavCalibration",
           "fit_linear", "fit_pav", "run_calibration"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'asvbench.calibration' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"asvbench.calibration.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from asvbench.calibration.linear import LinearCalibration, fit_linear
    from asvbench.calibration.pav import PavCalibration, fit_pav
    from asvbench.calibration.run import CalibrationRun, CalibrationSettings, run_calibration
