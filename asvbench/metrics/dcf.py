"""Detection cost function: minimum (minDCF) and actual (actDCF), normalised.

Definition followed: NIST SRE detection cost (e.g. NIST SRE 2016 evaluation plan, sec. 3.1),

    C_det(t) = C_miss * P_target * P_miss(t) + C_fa * (1 - P_target) * P_fa(t),

normalised by the cost of the best trivial system, ``min(C_miss * P_target, C_fa * (1 - P_target))``.
minDCF minimises over every operating point including accept-all and reject-all (as the
ASVspoof5 package and BOSARIS; WeSpeaker/3D-Speaker omit accept-all). actDCF applies the
Bayes threshold ``log((1 - P_target) C_fa / (P_target C_miss))`` to scores taken as
log-likelihood ratios: a target with LLR below it is a miss, a non-target at or above it a
false alarm (BOSARIS / PYLLR convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asvbench.metrics._checks import check_binary, check_prior
from asvbench.metrics._curve import OperatingPoints, operating_points


@dataclass(frozen=True)
class DcfResult:
    value: float
    threshold: float
    p_miss: float
    p_fa: float


def _normaliser(p_target: float, c_miss: float, c_fa: float) -> float:
    return min(c_miss * p_target, c_fa * (1.0 - p_target))


def min_dcf_from_points(points: OperatingPoints, p_target: float = 0.01, c_miss: float = 1.0,
                        c_fa: float = 1.0) -> DcfResult:
    """minDCF over precomputed operating points (see :func:`min_dcf`)."""
    check_prior(p_target, c_miss, c_fa)
    cost = c_miss * p_target * points.fnr + c_fa * (1.0 - p_target) * points.fpr
    k = int(np.argmin(cost))
    norm = _normaliser(p_target, c_miss, c_fa)
    return DcfResult(float(cost[k] / norm), float(points.thresholds[k]), float(points.fnr[k]), float(points.fpr[k]))


def min_dcf(scores, is_target, p_target: float = 0.01, c_miss: float = 1.0, c_fa: float = 1.0) -> DcfResult:
    """Normalised minimum detection cost over all thresholds (ties grouped).

    ``threshold`` is the score at or below which trials are rejected at the minimum
    (``-inf`` for accept-all).
    """
    return min_dcf_from_points(operating_points(scores, is_target), p_target, c_miss, c_fa)


def bayes_threshold(p_target: float, c_miss: float = 1.0, c_fa: float = 1.0) -> float:
    """The LLR threshold that minimises expected cost: ``log((1-p) C_fa / (p C_miss))``."""
    check_prior(p_target, c_miss, c_fa)
    return math.log((1.0 - p_target) * c_fa / (p_target * c_miss))


def act_dcf(llrs, is_target, p_target: float = 0.01, c_miss: float = 1.0, c_fa: float = 1.0) -> DcfResult:
    """Normalised actual detection cost of scores used as LLRs at the Bayes threshold."""
    s, y = check_binary(llrs, is_target, name="llrs")
    return act_dcf_of_split(s[y], s[~y], p_target, c_miss, c_fa)


def act_dcf_of_split(tar: np.ndarray, non: np.ndarray, p_target: float, c_miss: float = 1.0,
                     c_fa: float = 1.0) -> DcfResult:
    """:func:`act_dcf` of checked target and non-target LLRs, already split by class."""
    thr = bayes_threshold(p_target, c_miss, c_fa)
    p_miss = float(np.mean(tar < thr))
    p_fa = float(np.mean(non >= thr))
    cost = c_miss * p_target * p_miss + c_fa * (1.0 - p_target) * p_fa
    return DcfResult(cost / _normaliser(p_target, c_miss, c_fa), thr, p_miss, p_fa)
