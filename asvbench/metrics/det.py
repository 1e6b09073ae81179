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
    """DET curve points; ``max_points`` thins long curves (see :func:`thin_indices`)."""
    points = operating_points(scores, is_target)
    fpr, fnr, thr = points.fpr, points.fnr, points.thresholds
    if max_points is not None:
        keep = thin_indices(fpr, fnr, max_points)
        fpr, fnr, thr = fpr[keep], fnr[keep], thr[keep]
    return DetCurve(fpr=fpr, fnr=fnr, thresholds=thr)


def thin_indices(fpr, fnr, max_points: int, clip: float = 1e-5) -> np.ndarray:
    """Indices of at most ``max_points`` points of a DET curve, evenly spaced along the curve
    in probit space (so the low-error ends, stretched by the probit, keep their detail).

    Both end points are always kept. A point is kept when it is the first to enter one of
    ``max_points - 2`` equal stretches of the probit-space path length.
    """
    from scipy.special import ndtri

    fpr = np.asarray(fpr, np.float64)
    fnr = np.asarray(fnr, np.float64)
    n = fpr.shape[0]
    if n <= max_points:
        return np.arange(n)
    x = ndtri(np.clip(fpr, clip, 1 - clip))
    y = ndtri(np.clip(fnr, clip, 1 - clip))
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    if arc[-1] <= 0:
        return np.array([0, n - 1])
    buckets = np.floor(arc / arc[-1] * (max_points - 2)).astype(np.int64)
    keep = np.flatnonzero(np.diff(buckets, prepend=-1) != 0)
    return np.unique(np.concatenate([keep, [0, n - 1]]))
