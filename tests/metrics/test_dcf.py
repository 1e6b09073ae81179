"""minDCF and actDCF: hand-computed values and a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.metrics import act_dcf, bayes_threshold, min_dcf
from tests.metrics.test_eer import CASE_B, TIED, ref_points, split


def ref_min_dcf(scores, is_target, p, c_miss=1.0, c_fa=1.0) -> float:
    """Brute force over every operating point (accept-all and reject-all included), NIST normalisation."""
    _, fnr, fpr = ref_points(scores, is_target)
    cost = min(c_miss * p * m + c_fa * (1 - p) * f for m, f in zip(fnr, fpr))
    return cost / min(c_miss * p, c_fa * (1 - p))


# Case B operating points (thr, FNR, FPR), see test_eer.py:
#   -inf (0,1) | 0.1 (0,2/3) | 0.2 (1/4,2/3) | 0.3 (1/4,1/3) | 0.5 (1/2,1/3) | 0.6 (1/2,0) | 0.8 (3/4,0) | 0.9 (1,0)
@pytest.mark.parametrize("p,c_miss,c_fa,want,thr,p_miss,p_fa", [
    # p = 0.25: cost = 0.25 FNR + 0.75 FPR = 0.75, 0.5, 0.5625, 0.3125, 0.375, 0.125, 0.1875, 0.25
    # min 0.125 at thr 0.6; normaliser min(0.25, 0.75) = 0.25 -> 0.5
    (0.25, 1.0, 1.0, 0.5, 0.6, 0.5, 0.0),
    # p = 0.5: cost = (FNR + FPR)/2, min (1/2 + 0)/2 = 1/4 at thr 0.6; normaliser 1/2 -> 0.5
    (0.5, 1.0, 1.0, 0.5, 0.6, 0.5, 0.0),
    # p = 0.01: 0.01 FNR + 0.99 FPR; only FPR = 0 points are cheap: thr 0.6 -> 0.005; normaliser 0.01 -> 0.5
    (0.01, 1.0, 1.0, 0.5, 0.6, 0.5, 0.0),
    # c_miss 10, p 0.5: 5 FNR + 0.5 FPR = 0.5, 1/3, 1.25 + 1/3, ... min 1/3 at thr 0.1;
    # normaliser min(5, 0.5) = 0.5 -> 2/3
    (0.5, 10.0, 1.0, 2 / 3, 0.1, 0.0, 2 / 3),
])
def test_min_dcf_case_b(p, c_miss, c_fa, want, thr, p_miss, p_fa):
    got = min_dcf(*CASE_B, p_target=p, c_miss=c_miss, c_fa=c_fa)
    assert got.value == pytest.approx(want, abs=1e-12)
    assert got.threshold == pytest.approx(thr)
    assert (got.p_miss, got.p_fa) == (pytest.approx(p_miss), pytest.approx(p_fa))
    assert ref_min_dcf(*CASE_B, p, c_miss, c_fa) == pytest.approx(want)


def test_min_dcf_accept_all_point_counts():
    # tar 1 3, non 2; p = 0.9: cost = 0.9 FNR + 0.1 FPR:
    #   accept-all (0, 1) -> 0.1 | thr 1 (1/2, 1) -> 0.55 | thr 2 (1/2, 0) -> 0.45 | reject-all (1, 0) -> 0.9
    # normaliser min(0.9, 0.1) = 0.1 -> minDCF = 1.0 at accept-all (without that point it would be 4.5)
    got = min_dcf(*split([1.0, 3.0], [2.0]), p_target=0.9)
    assert got.value == pytest.approx(1.0)
    assert got.threshold == -math.inf
    assert (got.p_miss, got.p_fa) == (0.0, 1.0)


def test_min_dcf_reject_all_point_counts():
    # inverted tar 1 2, non 3 4; p = 0.01: every point but reject-all has FPR >= 1/2 (cost >= 0.495);
    # reject-all (1, 0) costs 0.01; normaliser 0.01 -> 1.0, threshold = highest score
    got = min_dcf(*split([1.0, 2.0], [3.0, 4.0]), p_target=0.01)
    assert got.value == pytest.approx(1.0)
    assert got.threshold == 4.0
    assert (got.p_miss, got.p_fa) == (1.0, 0.0)


def test_min_dcf_ties_grouped():
    # tar 2 3, non 2 1: points (0,1) (0,1/2) (1/2,0) (1,0); p = 0.5: (FNR + FPR)/2 = 1/2, 1/4, 1/4, 1/2
    # -> 0.25 / 0.5 = 0.5 (splitting the tie at 2 would wrongly reach (0, 0) -> 0)
    scores, is_target = TIED
    for perm in ([0, 1, 2, 3], [2, 0, 3, 1], [3, 2, 1, 0]):
        assert min_dcf(scores[perm], is_target[perm], p_target=0.5).value == pytest.approx(0.5)


def test_min_dcf_separated_is_zero():
    assert min_dcf(*split([3.0, 4.0], [1.0, 2.0]), p_target=0.01).value == 0.0


@pytest.mark.parametrize("p", [0.001, 0.01, 0.05, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_min_dcf_matches_brute_force(p, seed):
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(1.2, 1, 60), rng.normal(0, 1, 140)]).round(1)
    is_target = np.arange(200) < 60
    got = min_dcf(scores, is_target, p_target=p, c_miss=1.0 + seed, c_fa=1.0)
    assert got.value == pytest.approx(ref_min_dcf(scores, is_target, p, 1.0 + seed, 1.0), abs=1e-12)
    assert 0.0 <= got.value <= 1.0


# actDCF: LLRs tar -1 0 3, non -2 0 1.2
ACT = split([-1.0, 0.0, 3.0], [-2.0, 0.0, 1.2])


@pytest.mark.parametrize("p,c_miss,c_fa,thr,p_miss,p_fa,want", [
    # p 0.5: thr log(0.5/0.5) = 0; misses tar < 0: {-1} -> 1/3 (0 is not a miss);
    # FAs non >= 0: {0, 1.2} -> 2/3 (0 is a false alarm); cost 0.5/3 + 0.5*2/3 = 0.5; / 0.5 -> 1.0
    (0.5, 1.0, 1.0, 0.0, 1 / 3, 2 / 3, 1.0),
    # c_miss 2: thr log(0.5*1/(0.5*2)) = -log 2 = -0.693; misses {-1} -> 1/3; FAs {0, 1.2} -> 2/3;
    # cost 2*0.5/3 + 0.5*2/3 = 2/3; normaliser min(1, 0.5) = 0.5 -> 4/3 (actDCF can exceed 1)
    (0.5, 2.0, 1.0, -math.log(2), 1 / 3, 2 / 3, 4 / 3),
    # p 0.2: thr log(0.8/0.2) = log 4 = 1.386; misses {-1, 0} -> 2/3; FAs none -> 0;
    # cost 0.2*2/3 = 2/15; normaliser min(0.2, 0.8) = 0.2 -> 2/3
    (0.2, 1.0, 1.0, math.log(4), 2 / 3, 0.0, 2 / 3),
])
def test_act_dcf_by_hand(p, c_miss, c_fa, thr, p_miss, p_fa, want):
    got = act_dcf(*ACT, p_target=p, c_miss=c_miss, c_fa=c_fa)
    assert got.threshold == pytest.approx(thr)
    assert got.p_miss == pytest.approx(p_miss)
    assert got.p_fa == pytest.approx(p_fa)
    assert got.value == pytest.approx(want)


def test_act_dcf_at_least_min_dcf():
    rng = np.random.default_rng(3)
    llrs = np.concatenate([rng.normal(2, 2, 300), rng.normal(-2, 2, 700)])
    is_target = np.arange(1000) < 300
    for p in (0.01, 0.1, 0.5):
        assert act_dcf(llrs, is_target, p).value >= min_dcf(llrs, is_target, p).value - 1e-12


def test_bayes_threshold():
    assert bayes_threshold(0.01) == pytest.approx(math.log(99))  # log(0.99 / 0.01)
    assert bayes_threshold(0.5) == 0.0
    assert bayes_threshold(0.05, c_miss=10, c_fa=1) == pytest.approx(math.log(0.95 / 0.5))


@pytest.mark.parametrize("kwargs,message", [
    ({"p_target": 0.0}, "strictly between 0 and 1"),
    ({"p_target": 1.0}, "strictly between 0 and 1"),
    ({"p_target": 0.01, "c_miss": 0.0}, "costs must be positive"),
    ({"p_target": 0.01, "c_fa": -1.0}, "costs must be positive"),
])
@pytest.mark.parametrize("fn", [min_dcf, act_dcf])
def test_bad_priors(fn, kwargs, message):
    with pytest.raises(AsvbenchError, match=message):
        fn(*CASE_B, **kwargs)


@pytest.mark.parametrize("fn", [min_dcf, act_dcf])
@pytest.mark.parametrize("scores,is_target,message", [
    ([0.1, 0.2], [True, True], "only target"),
    ([], [], "no trials"),
    ([0.1, float("nan")], [True, False], "NaN or infinite"),
    ([0.1], [True, False], "differ in length"),
])
def test_bad_scores(fn, scores, is_target, message):
    with pytest.raises(AsvbenchError, match=message):
        fn(scores, is_target)
