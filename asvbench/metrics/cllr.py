"""Log-likelihood-ratio cost (Cllr) and its minimum after optimal calibration (minCllr), in bits.

Definition followed: Brümmer & du Preez, "Application-independent evaluation of speaker
detection", Computer Speech and Language 20 (2006):

    Cllr = 1/2 [ mean_tar log2(1 + exp(-llr)) + mean_non log2(1 + exp(llr)) ].

minCllr is Cllr of the LLRs that the pool-adjacent-violators (PAV) algorithm assigns to the
scores (ties pooled into one bin), as BOSARIS ``min_cllr`` / PYLLR. A system that knows
nothing (every LLR 0) has Cllr = 1.
"""

from __future__ import annotations

import math

import numpy as np

from asvbench.metrics._checks import check_binary
from asvbench.metrics._curve import OperatingPoints, operating_points
from asvbench.metrics.eer import rocch_vertices

_LN2 = math.log(2.0)


def _cllr_parts(tar_llr: np.ndarray, non_llr: np.ndarray, tar_w=None, non_w=None) -> float:
    return _mean_costs(np.logaddexp(0.0, -tar_llr) / _LN2, np.logaddexp(0.0, non_llr) / _LN2, tar_w, non_w)


def _mean_costs(c_tar: np.ndarray, c_non: np.ndarray, tar_w=None, non_w=None) -> float:
    """Cllr from the per-trial costs in bits of the targets and non-targets (weighted means)."""
    return 0.5 * (float(np.average(c_tar, weights=tar_w)) + float(np.average(c_non, weights=non_w)))


def cllr_of_split(tar_llr: np.ndarray, non_llr: np.ndarray) -> float:
    """:func:`cllr` of checked target and non-target LLRs, already split by class."""
    return _cllr_parts(tar_llr, non_llr)


def cllr(llrs, is_target) -> float:
    """Cllr in bits of scores taken as natural-log likelihood ratios."""
    s, y = check_binary(llrs, is_target, name="llrs")
    return _cllr_parts(s[y], s[~y])


def pav_llrs(scores, is_target) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Optimal (PAV) LLR per distinct score.

    Returns ``(unique_scores, llr, target_counts, nontarget_counts)``, scores ascending.
    LLRs may be ``-inf``/``+inf`` for bins holding one class only.
    """
    return pav_llrs_from_points(operating_points(scores, is_target))


def pav_llrs_from_points(points: OperatingPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pav_llrs` over precomputed operating points.

    The PAV bins are the segments of the ROC convex hull (Fawcett & Niculescu-Mizil, 2007):
    segment a -> b (operating-point indices) pools the distinct scores a .. b-1, and its
    posterior is its share of targets.
    """
    llr_bins, sizes = _pav_bins(points)
    return points.thresholds[1:], np.repeat(llr_bins, sizes), points.target_counts, points.nontarget_counts


def _pav_bins(points: OperatingPoints) -> tuple[np.ndarray, np.ndarray]:
    """The LLR of each PAV bin and the number of distinct scores it pools (see :func:`pav_llrs_from_points`)."""
    cum_tar = np.concatenate(([0], np.cumsum(points.target_counts)))
    cum_non = np.concatenate(([0], np.cumsum(points.nontarget_counts)))
    vertices = rocch_vertices(points)
    start, stop = vertices[:-1], vertices[1:]
    n_tar = (cum_tar[stop] - cum_tar[start]).astype(np.float64)
    n_non = (cum_non[stop] - cum_non[start]).astype(np.float64)
    with np.errstate(divide="ignore"):
        log_odds = np.log(n_tar) - np.log(n_non)
    return log_odds - math.log(points.n_target / points.n_nontarget), stop - start


def min_cllr(scores, is_target) -> float:
    """Cllr in bits after optimal monotone calibration (PAV) of the scores."""
    return min_cllr_from_points(operating_points(scores, is_target))


def min_cllr_from_points(points: OperatingPoints) -> float:
    """:func:`min_cllr` over precomputed operating points."""
    llr_bins, sizes = _pav_bins(points)
    tar_counts, non_counts = points.target_counts, points.nontarget_counts
    has_tar = tar_counts > 0
    has_non = non_counts > 0
    # the cost is a function of the LLR, and the LLR is constant over a bin: the costs of the few
    # bins, repeated per distinct score, are the per-score costs (the same values, elementwise)
    with np.errstate(over="ignore"):
        c_tar = np.repeat(np.logaddexp(0.0, -llr_bins) / _LN2, sizes)
        c_non = np.repeat(np.logaddexp(0.0, llr_bins) / _LN2, sizes)
    return _mean_costs(c_tar[has_tar], c_non[has_non], tar_counts[has_tar], non_counts[has_non])
