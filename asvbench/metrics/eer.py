"""Equal error rate (EER) under the five definitions in circulation.

All methods group tied scores, so the result never depends on the order of the input.
Rates are fractions in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from asvbench._choices import check_choice
from asvbench.metrics._checks import check_binary
from asvbench.metrics._curve import OperatingPoints, operating_points
from asvbench.metrics._hull import lower_hull
from asvbench.types import EER_METHODS

EerMethod = Literal["interp", "rocch", "roc", "nearest", "kaldi"]


@dataclass(frozen=True)
class EerResult:
    """An EER and the score threshold it was found at (accept scores above it)."""

    eer: float
    threshold: float
    method: str


def compute_eer(scores, is_target, method: str = "interp") -> EerResult:
    """Equal error rate of target vs non-target scores.

    Parameters
    ----------
    scores : (n_trials,) array-like of float
        Higher means "more likely target". Must be finite.
    is_target : (n_trials,) array-like of bool or 0/1
        True for target trials. Both classes must be present.
    method : {"interp", "rocch", "roc", "nearest", "kaldi"}
        * ``interp`` (default): linear interpolation between the two operating points that
          straddle FNR = FPR, as the NIST SRE16 scoring script v4.1 used by WeSpeaker and
          3D-Speaker (``score_metrics.compute_eer``), but with ties grouped and the
          accept-all point included.
        * ``rocch``: EER of the ROC convex hull, as BOSARIS ``rocch2eer`` / PYLLR: the
          point where the lower convex hull of the (FPR, FNR) points crosses FNR = FPR.
        * ``roc``: as the SASV 2022 baseline (``metrics.get_all_EERs``): the root of
          ``1 - x - TPR(x)`` (Brent's method) on the linearly interpolated ROC.
        * ``nearest``: as the ASVspoof5 evaluation package (``compute_eer``): (FNR + FPR) / 2
          at the operating point where |FNR - FPR| is smallest; no interpolation.
        * ``kaldi``: as Kaldi ``compute-eer``: walk the sorted target scores, stop at the
          first target position k whose matching non-target is below it; EER = k / N_tar.

    Returns
    -------
    EerResult
    """
    if method == "kaldi":
        return _kaldi_eer(scores, is_target)
    return eer_from_points(operating_points(scores, is_target), method)


def eer_from_points(points: OperatingPoints, method: str = "interp") -> EerResult:
    """EER from precomputed operating points (every method but ``kaldi``, which needs the raw scores)."""
    if method == "interp":
        return _interp_eer(points, points.fnr, points.fpr, points.thresholds)
    if method == "rocch":
        return _rocch_eer(points)
    if method == "roc":
        return _roc_eer(points)
    if method == "nearest":
        return _nearest_eer(points)
    check_choice(method, tuple(m for m in EER_METHODS if m != "kaldi"), "EER method",
                 hint=None if method != "kaldi" else "kaldi needs the raw scores: call compute_eer")
    raise AssertionError("unreachable")  # check_choice raised: every other method returned above


def _crossing(fnr: np.ndarray, fpr: np.ndarray) -> int:
    """Index i >= 1 of the first point with fnr >= fpr (point 0 is accept-all: fnr 0 < fpr 1)."""
    return int(np.argmax(fnr >= fpr))


def _interp_eer(points: OperatingPoints, fnr, fpr, thresholds) -> EerResult:
    i = _crossing(fnr, fpr)
    d0 = fnr[i - 1] - fpr[i - 1]  # < 0
    d1 = fnr[i] - fpr[i]  # >= 0
    a = -d0 / (d1 - d0)
    eer = fnr[i - 1] + a * (fnr[i] - fnr[i - 1])
    return EerResult(float(eer), float(thresholds[i]), "interp")


def _rocch_eer(points: OperatingPoints) -> EerResult:
    vertices = rocch_vertices(points)
    on_hull = _interp_eer(points, points.fnr[vertices], points.fpr[vertices], points.thresholds[vertices])
    return EerResult(on_hull.eer, on_hull.threshold, "rocch")


def rocch_vertices(points: OperatingPoints) -> np.ndarray:
    """Indices (ascending threshold order) of the operating points on the ROC convex hull."""
    corners = _staircase_corners(points)
    hull = lower_hull(points.fpr[corners][::-1], points.fnr[corners][::-1])  # ascending-FPR order
    return np.sort(corners[corners.shape[0] - 1 - hull])


def _staircase_corners(points: OperatingPoints) -> np.ndarray:
    """Operating points where the curve can turn: a point inside a run of steps that all move
    the same way (only targets, or only non-targets, per distinct score) lies on a straight
    segment and can never be a hull vertex. Millions of points thin to a few corners."""
    # step k goes from point k to point k + 1: 0 = non-targets only, 1 = targets only, 2 = both
    kind = np.where(points.target_counts > 0, np.where(points.nontarget_counts > 0, 2, 1), 0)
    turns = (kind[:-1] != kind[1:]) | (kind[:-1] == 2)
    return np.concatenate(([0], np.flatnonzero(turns) + 1, [kind.shape[0]]))


def _roc_eer(points: OperatingPoints) -> EerResult:
    # The SASV 2022 baseline runs brentq on f(x) = 1 - x - TPR(x), TPR linearly interpolated
    # over the ROC. f is piecewise linear, so its root is found here in closed form on the
    # first ROC segment where f changes sign (a vertical segment puts the root at its FPR).
    fpr = points.fpr[::-1]  # ascending FPR: the ROC from (0, 0) to (1, 1)
    f = points.fnr[::-1] - fpr  # = 1 - fpr - tpr
    k = int(np.argmax(f <= 0))  # f[0] = 1 > 0 at the reject-all point
    x0, x1, f0, f1 = fpr[k - 1], fpr[k], f[k - 1], f[k]
    eer = x0 if x1 == x0 else x0 + f0 * (x1 - x0) / (f0 - f1)
    return EerResult(float(eer), float(points.thresholds[::-1][k]), "roc")


def _nearest_eer(points: OperatingPoints) -> EerResult:
    # |FNR - FPR| scaled by N_tar * N_non is an exact integer, so equally close points
    # tie exactly and the first (lowest threshold) wins, whatever the float rounding
    misses = np.concatenate(([0], np.cumsum(points.target_counts)))
    false_alarms = points.n_nontarget - np.concatenate(([0], np.cumsum(points.nontarget_counts)))
    gap = np.abs(misses * points.n_nontarget - false_alarms * points.n_target)
    k = int(np.argmin(gap))
    return EerResult(float((points.fnr[k] + points.fpr[k]) / 2.0), float(points.thresholds[k]), "nearest")


def _kaldi_eer(scores, is_target) -> EerResult:
    s, y = check_binary(scores, is_target)
    tar = np.sort(s[y])
    non = np.sort(s[~y])
    n_t, n_n = tar.shape[0], non.shape[0]
    if n_t == 1:
        return EerResult(0.0, float(tar[0]), "kaldi")
    k = np.arange(n_t - 1)
    non_pos = np.maximum(n_n - 1 - np.floor(n_n * k / n_t).astype(np.int64), 0)
    stop = non[non_pos] < tar[k]
    pos = int(np.argmax(stop)) if stop.any() else n_t - 1  # Kaldi's loop runs out at target_size - 1
    return EerResult(pos / n_t, float(tar[pos]), "kaldi")
