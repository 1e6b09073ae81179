"""Cllr and minCllr (bits): hand-computed values; PAV against scipy's isotonic regression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import isotonic_regression

from asvbench.errors import AsvbenchError
from asvbench.metrics import cllr, min_cllr, pav_llrs
from tests.metrics.test_eer import split

LOG2 = math.log2


def ref_min_cllr(scores, is_target) -> float:
    """minCllr via scipy PAV: pool ties into one weighted point, isotonic posterior, LLR = logit - prior logit."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_target, dtype=bool)
    uniq, inverse = np.unique(s, return_inverse=True)
    n_each = np.bincount(inverse).astype(float)
    tar_each = np.bincount(inverse, weights=y.astype(float))
    post = isotonic_regression(tar_each / n_each, weights=n_each, increasing=True).x
    post = post[inverse]  # per trial
    n_t, n_n = y.sum(), (~y).sum()
    # Cllr with LLR = log(post/(1-post)) - log(n_t/n_n), written with probabilities to avoid inf - inf:
    # target cost log2(1 + exp(-llr)) = log2(1 + (1-post)/post * n_t/n_n)
    with np.errstate(divide="ignore"):
        c_tar = np.log2(1 + (1 - post[y]) / post[y] * n_t / n_n)
        c_non = np.log2(1 + post[~y] / (1 - post[~y]) * n_n / n_t)
    return float(0.5 * (c_tar.mean() + c_non.mean()))


def test_cllr_uninformative_is_one():
    # every LLR 0: each trial costs log2(1 + e^0) = 1 bit -> Cllr = 1
    assert cllr(*split([0.0, 0.0], [0.0, 0.0, 0.0])) == pytest.approx(1.0)


def test_cllr_by_hand():
    # tar LLR log 3: log2(1 + 1/3) = log2(4/3); non LLR -log 3: log2(1 + 1/3) -> Cllr = log2(4/3) = 0.41504
    assert cllr(*split([math.log(3)], [-math.log(3)])) == pytest.approx(LOG2(4 / 3))
    # tar 0 and log 3: (log2 2 + log2 4/3)/2; non log 3: log2(1 + 3) = 2
    # Cllr = 1/2 [ (1 + 0.415037)/2 + 2 ] = 1.353759
    assert cllr(*split([0.0, math.log(3)], [math.log(3)])) == pytest.approx(0.5 * ((1 + LOG2(4 / 3)) / 2 + 2))
    assert cllr(*split([0.0, math.log(3)], [math.log(3)])) == pytest.approx(1.353759, abs=1e-6)


def test_cllr_large_llrs_stay_finite():
    # tar LLR -1000: log2(1 + e^1000) = 1000/ln 2 = 1442.695 bits; non LLR -1000: ~0 -> Cllr = 721.3475
    assert cllr(*split([-1000.0], [-1000.0])) == pytest.approx(1000 / math.log(2) / 2)
    # well calibrated, very confident: ~0
    assert cllr(*split([800.0], [-800.0])) == pytest.approx(0.0, abs=1e-300)


# Scores 1..5 with labels N T N T T (sorted by score). PAV on 0 1 0 1 1: the violating pair (1, 0) pools
# to 1/2, giving posteriors 0, 1/2, 1/2, 1, 1. Prior odds n_t/n_n = 3/2, so the LLRs are
#   score 1: -inf | scores 2, 3: log(1) - log(3/2) = -log 1.5 | scores 4, 5: +inf
# minCllr: targets at 2 (LLR -log 1.5): log2(1 + 1.5) = log2 2.5; at 4, 5: 0  -> mean log2(2.5)/3
#          non at 1: 0; at 3 (LLR -log 1.5): log2(1 + 1/1.5) = log2(5/3)   -> mean log2(5/3)/2
# minCllr = 1/2 [ log2(2.5)/3 + log2(5/3)/2 ] = 1/2 [0.440643 + 0.368483] = 0.404563
PAV_CASE = (np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([False, True, False, True, True]))
PAV_CASE_MIN_CLLR = 0.5 * (LOG2(2.5) / 3 + LOG2(5 / 3) / 2)


def test_min_cllr_by_hand():
    assert PAV_CASE_MIN_CLLR == pytest.approx(0.404563, abs=1e-6)
    assert min_cllr(*PAV_CASE) == pytest.approx(PAV_CASE_MIN_CLLR)
    assert ref_min_cllr(*PAV_CASE) == pytest.approx(PAV_CASE_MIN_CLLR)


def test_pav_llrs_by_hand():
    uniq, llr, tar_counts, non_counts = pav_llrs(*PAV_CASE)
    np.testing.assert_array_equal(uniq, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(llr, [-np.inf, -math.log(1.5), -math.log(1.5), np.inf, np.inf])
    np.testing.assert_array_equal(tar_counts, [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(non_counts, [1, 0, 1, 0, 0])


def test_pav_llrs_pool_ties():
    # scores 1 1 2 with labels T N T: the tie at 1 is one bin (1 tar, 1 non, posterior 1/2), 2 is a target bin.
    # prior odds 2/1: LLR(1) = log(1) - log 2 = -log 2, LLR(2) = +inf
    uniq, llr, _, _ = pav_llrs([1.0, 1.0, 2.0], [True, False, True])
    np.testing.assert_array_equal(uniq, [1.0, 2.0])
    np.testing.assert_allclose(llr, [-math.log(2), np.inf])


def test_min_cllr_extremes():
    # separated: PAV gives +inf to targets and -inf to non-targets -> 0 bits
    assert min_cllr(*split([3.0, 4.0], [1.0, 2.0])) == 0.0
    # fully inverted: PAV pools everything into one bin with posterior = prior -> every LLR 0 -> 1 bit
    assert min_cllr(*split([1.0, 2.0], [3.0, 4.0])) == pytest.approx(1.0)
    # all tied: one bin -> 1 bit
    assert min_cllr(*split([0.5, 0.5, 0.5], [0.5])) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(6))
def test_min_cllr_matches_scipy_pav(seed):
    rng = np.random.default_rng(seed)
    n_t, n_n = int(rng.integers(2, 80)), int(rng.integers(2, 200))
    scores = np.concatenate([rng.normal(1, 1, n_t), rng.normal(0, 1, n_n)]).round(int(rng.integers(0, 3)))
    is_target = np.arange(n_t + n_n) < n_t
    assert min_cllr(scores, is_target) == pytest.approx(ref_min_cllr(scores, is_target), abs=1e-10)
    assert min_cllr(scores, is_target) <= cllr(scores, is_target) + 1e-12


def test_min_cllr_after_calibration_is_cllr_of_pav_llrs():
    # feeding the PAV LLRs back as scores: Cllr equals minCllr (they are already optimally calibrated)
    uniq, llr, _, _ = pav_llrs(*PAV_CASE)
    # replace +-inf by large finite values with the same order (Cllr of +-inf on the right side is 0)
    finite = np.clip(llr, -800, 800)
    per_trial = finite[np.searchsorted(uniq, PAV_CASE[0])]
    assert cllr(per_trial, PAV_CASE[1]) == pytest.approx(PAV_CASE_MIN_CLLR)


@pytest.mark.parametrize("fn", [cllr, min_cllr])
@pytest.mark.parametrize("scores,is_target,message", [
    ([0.1, 0.2], [False, False], "only non-target"),
    ([], [], "no trials"),
    ([float("inf"), 0.2], [True, False], "NaN or infinite"),
    ([0.1, 0.2], [True], "differ in length"),
])
def test_bad_input(fn, scores, is_target, message):
    with pytest.raises(AsvbenchError, match=message):
        fn(scores, is_target)
