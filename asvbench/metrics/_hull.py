"""Lower convex hull of the (FPR, FNR) operating points: the ROC convex hull (ROCCH).

Its segments are exactly the bins that the pool-adjacent-violators (PAV) algorithm forms on
the score-sorted labels, so the same hull gives the ROCCH-EER and the optimal (PAV) LLRs.
"""

from __future__ import annotations

import numpy as np

_MAX_PASSES = 64


def lower_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the lower convex hull of points with non-decreasing ``x``, both ends kept.

    Vectorised: each pass drops every interior point lying on or above the segment joining
    its current neighbours (such a point can never be a hull vertex, whatever else is
    dropped in the same pass); passes repeat until none is dropped. Degenerate inputs that
    need many passes fall back to Andrew's monotone chain.
    """
    keep = np.arange(x.shape[0])
    for _ in range(_MAX_PASSES):
        if keep.shape[0] <= 2:
            return keep
        xa, ya = x[keep[:-2]], y[keep[:-2]]
        xb, yb = x[keep[1:-1]], y[keep[1:-1]]
        xc, yc = x[keep[2:]], y[keep[2:]]
        cross = (xb - xa) * (yc - ya) - (yb - ya) * (xc - xa)
        bad = cross <= 0
        if not bad.any():
            return keep
        drop = np.zeros(keep.shape[0], dtype=bool)
        drop[1:-1] = bad
        keep = keep[~drop]
    return keep[_monotone_chain(x[keep], y[keep])]


def _monotone_chain(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    hull: list[int] = []
    for k in range(x.shape[0]):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (x[b] - x[a]) * (y[k] - y[a]) - (y[b] - y[a]) * (x[k] - x[a]) <= 0:
                hull.pop()
            else:
                break
        hull.append(k)
    return np.asarray(hull, dtype=np.int64)
