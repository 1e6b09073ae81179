"""Non-parametric monotone calibration with the pool-adjacent-violators (PAV) algorithm.

Definition followed: Brümmer & du Preez (2006) / BOSARIS ``pav_calibration``: on the development
set, PAV gives the optimal monotone (non-decreasing) map from each distinct score to an LLR
(:func:`asvbench.metrics.pav_llrs`, ties pooled). New scores are mapped by linear interpolation
between the development scores' LLRs, and held constant beyond the development range.

Bins holding one class only have infinite PAV LLRs; they are clipped to the largest finite LLR
magnitude of the fit plus ``log 2`` (the LLR one more trial of the other class would give), so
that applied LLRs stay finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asvbench.calibration.linear import check_two_classes
from asvbench.errors import AsvbenchError


@dataclass(frozen=True)
class PavCalibration:
    """A monotone piecewise-linear score-to-LLR map (knots ``scores`` -> ``llrs``)."""

    scores: np.ndarray
    llrs: np.ndarray

    def apply(self, scores, quality=None) -> np.ndarray:
        if quality is not None and np.size(quality):
            raise AsvbenchError("PAV calibration does not use quality measures", hint="use --method linear")
        s = np.asarray(scores, dtype=np.float64)
        if self.scores.shape[0] == 1:
            return np.full(s.shape, self.llrs[0])
        return np.interp(s, self.scores, self.llrs)


def fit_pav(scores, is_target) -> PavCalibration:
    """Fit the PAV score-to-LLR map on a development set with both classes."""
    from asvbench.metrics import pav_llrs

    s, y = check_two_classes(scores, is_target)
    knots, llr, _, _ = pav_llrs(s, y)
    finite = np.isfinite(llr)
    bound = (float(np.max(np.abs(llr[finite]))) if finite.any() else 0.0) + math.log(2.0)
    return PavCalibration(knots.copy(), np.clip(llr, -bound, bound))
