"""Detection error trade-off (DET) curve as data; plotting lives in :mod:`asvbench.report`.

Definition followed: Martin et al., "The DET curve in assessment of detection task
performance", Eurospeech 1997: miss vs false-alarm probability on normal-deviate
(probit) axes. Points are the tie-grouped operating points, accept-all to reject-all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.metrics._curve import operating_points


@dataclass(frozen=True)
class DetCurve:
    fpr: np.ndarray
    fnr: np.ndarray
    thresholds: np.ndarray

    def probit(self, clip: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        """(probit FPR, probit FNR), rates clipped to [clip, 1 - clip] so the ends stay finite."""
        from scipy.special import ndtri

        return ndtri(np.clip(self.fpr, clip, 1 - clip)), ndtri(np.clip(self.fnr, clip, 1 - clip))


def det_curve(scores, is_target, max_points: int | None = None) -> DetCurve:
    """DET curve points; ``max_points`` thins long curves while keeping both ends."""
    points = operating_points(scores, is_target)
    fpr, fnr, thr = points.fpr, points.fnr, points.thresholds
    if max_points is not None and fpr.shape[0] > max_points:
        keep = np.unique(np.linspace(0, fpr.shape[0] - 1, max_points).round().astype(np.int64))
        fpr, fnr, thr = fpr[keep], fnr[keep], thr[keep]
    return DetCurve(fpr=fpr, fnr=fnr, thresholds=thr)
