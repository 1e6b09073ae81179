"""Calibration of ASV and CM scores to LLRs for LLR-domain SASV fusion.

As the ASVspoof 5 ``Tool-score-fusion`` (without its Gaussian back-end): the ASV scores are
calibrated on the bona fide development trials (target vs non-target), the CM scores on all
development trials (bona fide = target + non-target vs spoof), each with an affine logistic
regression (:func:`asvbench.calibration.fit_linear`) at the empirical class prior, so the
outputs are LLRs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.calibration import LinearCalibration, fit_linear
from asvbench.errors import AsvbenchError
from asvbench.types import Label


@dataclass(frozen=True)
class SasvCalibration:
    asv: LinearCalibration
    cm: LinearCalibration

    def apply(self, asv_scores, cm_scores) -> tuple[np.ndarray, np.ndarray]:
        return self.asv.apply(asv_scores), self.cm.apply(cm_scores)


def fit_sasv_calibration(asv_scores, cm_scores, labels) -> SasvCalibration:
    lab = np.asarray(labels)
    bona = lab != Label.SPOOF
    if not bona.any() or bona.all():
        raise AsvbenchError("the development set needs bona fide and spoof trials to calibrate the CM")
    y_asv = lab[bona] == Label.TARGET
    try:
        asv = fit_linear(np.asarray(asv_scores)[bona], y_asv, p_target=float(y_asv.mean()) if 0 < y_asv.mean() < 1 else 0.5)
    except AsvbenchError as exc:
        raise AsvbenchError(f"ASV calibration on the development set: {exc.what}", hint=exc.hint) from None
    cm = fit_linear(np.asarray(cm_scores), bona, p_target=float(bona.mean()))
    return SasvCalibration(asv, cm)
