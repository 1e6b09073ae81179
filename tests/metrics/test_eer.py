"""EER under its five definitions: hand-computed cases and independent implementations.

The reference implementations below (``ref_*``) are written from the published definitions,
not from asvbench's code; ``test_properties.py`` reuses them on random inputs.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import brentq

from asvbench.errors import AsvbenchError
from asvbench.metrics import EER_METHODS, compute_eer

# ----------------------------------------------------------------------------- independent references


def ref_points(scores, is_target):
    """(thresholds, fnr, fpr) by brute force: accept-all, then 'reject every score <= u' per distinct u."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_target, dtype=bool)
    thr = [-np.inf] + sorted(set(s.tolist()))
    fnr = np.array([np.mean(s[y] <= u) for u in thr])
    fpr = np.array([np.mean(s[~y] > u) for u in thr])
    return np.array(thr), fnr, fpr


def ref_interp(scores, is_target) -> float:
    """First point with FNR >= FPR and its predecessor; linear interpolation of the straddling pair."""
    _, fnr, fpr = ref_points(scores, is_target)
    i = next(k for k in range(len(fnr)) if fnr[k] >= fpr[k])
    d0, d1 = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    a = d0 / (d0 - d1)
    return float(fnr[i - 1] + a * (fnr[i] - fnr[i - 1]))


def ref_nearest(scores, is_target) -> float:
    """ASVspoof5 package: (FNR + FPR)/2 where |FNR - FPR| is smallest (first such point, accept-all first).

    The rates are exact fractions here, so points that are equally close tie exactly and the
    first wins; float differences such as 5/9 - 1/9 vs 1 - 5/9 would otherwise pick either.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_target, dtype=bool)
    tar, non = s[y].tolist(), s[~y].tolist()
    best = None
    for u in [-np.inf] + sorted(set(s.tolist())):
        fnr = Fraction(sum(v <= u for v in tar), len(tar))
        fpr = Fraction(sum(v > u for v in non), len(non))
        if best is None or abs(fnr - fpr) < best[0]:
            best = (abs(fnr - fpr), (fnr + fpr) / 2)
    return float(best[1])


def ref_roc_brentq(scores, is_target) -> float:
    """The SASV 2022 baseline: sklearn-style roc_curve, then brentq(1 - x - interp(x, fpr, tpr), 0, 1)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_target, dtype=bool)
    fpr, tpr = [0.0], [0.0]
    for u in sorted(set(s.tolist()), reverse=True):  # accept every score >= u
        fpr.append(float(np.mean(s[~y] >= u)))
        tpr.append(float(np.mean(s[y] >= u)))
    fpr_a, tpr_a = np.array(fpr), np.array(tpr)
    return float(brentq(lambda x: 1.0 - x - np.interp(x, fpr_a, tpr_a), 0.0, 1.0, xtol=1e-14))


def ref_monotone_chain_lower(points):
    """Andrew's monotone chain, lower hull, of (x, y) points (sorted by x then y here)."""
    pts = sorted(set(points))
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def ref_rocch(scores, is_target) -> float:
    """BOSARIS rocch2eer: where the lower convex hull of (Pfa, Pmiss) crosses Pmiss = Pfa."""
    _, fnr, fpr = ref_points(scores, is_target)
    hull = ref_monotone_chain_lower(list(zip(fpr.tolist(), fnr.tolist())))
    for (x0, y0), (x1, y1) in zip(hull[:-1], hull[1:]):
        if y0 - x0 >= 0 >= y1 - x1:  # the segment crosses (or touches) the diagonal
            if x0 == x1:
                return float(x0)
            slope = (y1 - y0) / (x1 - x0)
            return float((y0 - slope * x0) / (1 - slope))  # y0 + slope (x - x0) = x
    raise AssertionError("hull never crosses the diagonal")


def ref_kaldi(scores, is_target) -> float:
    """Direct transcription of Kaldi ``compute-eer`` (src/ivectorbin/compute-eer.cc, ComputeEer)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_target, dtype=bool)
    target_scores = sorted(s[y].tolist())
    nontarget_scores = sorted(s[~y].tolist())
    target_position, target_size = 0, len(target_scores)
    while target_position + 1 < target_size:
        nontarget_size = len(nontarget_scores)
        nontarget_n = int(nontarget_size * target_position * 1.0 / target_size)  # C++ truncation
        nontarget_position = nontarget_size - 1 - nontarget_n
        if nontarget_position < 0:
            nontarget_position = 0
        if nontarget_scores[nontarget_position] < target_scores[target_position]:
            break
        target_position += 1
    return target_position * 1.0 / target_size


REFERENCES = {"interp": ref_interp, "rocch": ref_rocch, "roc": ref_roc_brentq, "nearest": ref_nearest,
              "kaldi": ref_kaldi}


def split(tar, non):
    scores = np.array(list(tar) + list(non), dtype=float)
    is_target = np.array([True] * len(tar) + [False] * len(non))
    return scores, is_target


# ----------------------------------------------------------------------------- hand-computed cases

# Case B: targets 0.2 0.5 0.8 0.9, non-targets 0.1 0.3 0.6 (4 + 3 trials).
# Operating points "reject score <= thr" (thr, FNR, FPR):
#   -inf (0, 1) | 0.1 (0, 2/3) | 0.2 (1/4, 2/3) | 0.3 (1/4, 1/3) | 0.5 (1/2, 1/3) | 0.6 (1/2, 0)
#   | 0.8 (3/4, 0) | 0.9 (1, 0)
CASE_B = split([0.2, 0.5, 0.8, 0.9], [0.1, 0.3, 0.6])
CASE_B_EXPECTED = {
    # interp: straddling pair thr 0.3 (d0 = 1/4 - 1/3 = -1/12) and thr 0.5 (d1 = 1/2 - 1/3 = 1/6);
    # a = (1/12) / (1/12 + 1/6) = 1/3; EER = 1/4 + 1/3 * (1/2 - 1/4) = 1/3 (the vertical step at FPR 1/3)
    "interp": (1 / 3, 0.5),
    # rocch: lower hull (Pfa, Pmiss) = (0,1) (0,1/2) (1/3,1/4) (2/3,0) (1,0); the middle three are collinear,
    # Pmiss = 1/2 - 3/4 Pfa meets Pmiss = Pfa at Pfa = (1/2) / (7/4) = 2/7
    "rocch": (2 / 7, None),
    # roc: ROC (FPR, TPR) = (0,0) (0,1/4) (0,1/2) (1/3,1/2) (1/3,3/4) ...; 1 - x - TPR(x) = 1/6 > 0 just left
    # of x = 1/3 and 1 - 1/3 - 3/4 = -1/12 < 0 just right: the root is x = 1/3
    "roc": (1 / 3, None),
    # nearest: |FNR - FPR| = 1, 2/3, 5/12, 1/12, 1/6, 1/2, 3/4, 1 -> thr 0.3: (1/4 + 1/3)/2 = 7/24
    "nearest": (7 / 24, 0.3),
    # kaldi: tar sorted 0.2 0.5 0.8 0.9, non sorted 0.1 0.3 0.6 (n_n = 3, n_t = 4)
    #   pos 0: n = floor(3*0/4) = 0, non[2] = 0.6 < 0.2? no
    #   pos 1: n = floor(3*1/4) = 0, non[2] = 0.6 < 0.5? no
    #   pos 2: n = floor(3*2/4) = 1, non[1] = 0.3 < 0.8? yes -> EER = 2/4, threshold 0.8
    "kaldi": (0.5, 0.8),
}


@pytest.mark.parametrize("method", EER_METHODS)
def test_case_b_by_hand(method):
    want, want_thr = CASE_B_EXPECTED[method]
    got = compute_eer(*CASE_B, method=method)
    assert got.eer == pytest.approx(want, abs=1e-12)
    assert got.method == method
    if want_thr is not None:
        assert got.threshold == pytest.approx(want_thr)
    assert REFERENCES[method](*CASE_B) == pytest.approx(want, abs=1e-9)  # the references agree with the hand


# Case with a target/non-target tie: targets 2 3, non-targets 1 2.
# Points: -inf (0, 1) | 1 (0, 1/2) | 2 (1/2, 0) | 3 (1, 0). The tied pair moves together, so the
# segment from (FNR 0, FPR 1/2) to (1/2, 0) is diagonal: it crosses FNR = FPR at 1/4.
# (Sorting the tie target-first would give 1/2, non-target-first 0.)
TIED = split([2.0, 3.0], [2.0, 1.0])
TIED_EXPECTED = {
    "interp": 0.25,  # d0 = 0 - 1/2, d1 = 1/2 - 0, a = 1/2, EER = 0 + 1/2 * 1/2
    "rocch": 0.25,  # hull (0,1) (0,1/2) (1/2,0) (1,0): Pmiss = 1/2 - Pfa = Pfa at 1/4
    "roc": 0.25,  # ROC (0,0) (0,1/2) (1/2,1) (1,1): 1 - x - (1/2 + x) = 0 at x = 1/4
    "nearest": 0.25,  # |d| = 1, 1/2, 1/2, 1: first minimum at thr 1: (0 + 1/2)/2
    # kaldi: tar 2 3, non 1 2: pos 0: n = 0, non[1] = 2 < 2? no; the loop ends at pos = n_t - 1 = 1 -> 1/2
    "kaldi": 0.5,
}


@pytest.mark.parametrize("method", EER_METHODS)
def test_tied_scores_by_hand_and_order_free(method):
    scores, is_target = TIED
    want = TIED_EXPECTED[method]
    assert compute_eer(scores, is_target, method).eer == pytest.approx(want, abs=1e-12)
    for perm in ([0, 1, 2, 3], [2, 0, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]):
        assert compute_eer(scores[perm], is_target[perm], method).eer == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("method", EER_METHODS)
def test_all_scores_tied(method):
    # every trial scores 0.5: points (0, 1) and (1, 0) only; the straight line crosses the diagonal at 1/2.
    # kaldi: non[1] = 0.5 < tar[0] = 0.5 is false, the loop runs out at pos = n_t - 1 = 1 -> 1/2
    scores, is_target = split([0.5, 0.5], [0.5, 0.5])
    assert compute_eer(scores, is_target, method).eer == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("method", EER_METHODS)
def test_one_target_one_nontarget(method):
    # separated: tar 1 > non 0: the point thr 0 is (FNR 0, FPR 0) -> EER 0 for every method
    assert compute_eer(*split([1.0], [0.0]), method=method).eer == 0.0


# One target below one non-target: points (0,1) (1,1) (1,0).
ONE_EACH_INVERTED = {
    "interp": 1.0,  # first FNR >= FPR is (1, 1): a = 1, EER = 1
    "rocch": 0.5,  # the hull is the chance line (0,1)-(1,0): crosses at 1/2
    "roc": 1.0,  # ROC (0,0) (1,0) (1,1): 1 - x - 0 > 0 up to x = 1
    "nearest": 1.0,  # |d| = 1, 0, 1: (1 + 1)/2
    "kaldi": 0.0,  # Kaldi's loop never runs with one target: EER = 0/1 (a known Kaldi edge case)
}


@pytest.mark.parametrize("method", EER_METHODS)
def test_one_target_one_nontarget_inverted(method):
    assert compute_eer(*split([0.0], [1.0]), method=method).eer == pytest.approx(ONE_EACH_INVERTED[method])


@pytest.mark.parametrize("method", EER_METHODS)
def test_perfectly_separated_is_zero(method):
    # targets 3 4 5 above non-targets 0 1 2: the point thr 2 has FNR 0 and FPR 0
    # kaldi: pos 0: n = 0, non[2] = 2 < 3 -> EER 0/3
    assert compute_eer(*split([3.0, 4.0, 5.0], [0.0, 1.0, 2.0]), method=method).eer == 0.0


# Fully inverted: targets 1 2 below non-targets 3 4.
# Points: -inf (0, 1) | 1 (1/2, 1) | 2 (1, 1) | 3 (1, 1/2) | 4 (1, 0).
INVERTED = {
    "interp": 1.0,  # first FNR >= FPR at thr 2 (1, 1); d0 = 1/2 - 1 = -1/2, d1 = 0, a = 1 -> 1
    "rocch": 0.5,  # every point lies on or above the chance line: the hull is (0,1)-(1,0) -> 1/2
    "roc": 1.0,  # TPR(x) = 0 for x < 1: the root of 1 - x is x = 1
    "nearest": 1.0,  # |d| = 1, 1/2, 0, 1/2, 1 -> (1 + 1)/2
    # kaldi: tar 1 2, non 3 4: pos 0: n = 0, non[1] = 4 < 1? no; loop ends at pos = 1 -> 1/2
    "kaldi": 0.5,
}


@pytest.mark.parametrize("method", EER_METHODS)
def test_fully_inverted(method):
    scores, is_target = split([1.0, 2.0], [3.0, 4.0])
    assert compute_eer(scores, is_target, method).eer == pytest.approx(INVERTED[method])
    assert REFERENCES[method](scores, is_target) == pytest.approx(INVERTED[method])


def test_kaldi_loop_without_break_ends_at_last_target():
    # tar 1 2 3, non 5 6: pos 0: non[1] = 6 < 1? no; pos 1: n = floor(2/3) = 0, non[1] = 6 < 2? no;
    # the loop stops at pos = 2 (= n_t - 1) with no break -> EER = 2/3, threshold tar[2] = 3
    got = compute_eer(*split([1.0, 2.0, 3.0], [5.0, 6.0]), method="kaldi")
    assert got.eer == pytest.approx(2 / 3)
    assert got.threshold == 3.0


def test_kaldi_nontarget_position_clamped_at_zero():
    # n_t = 4, n_n = 1: pos 1: n = floor(1*1/4) = 0 -> non[0]; pos 2 and 3 never reach a negative index
    # (nontarget_size - 1 - n >= 0 because n <= n_n * (n_t - 2) / n_t < n_n); tar 1 2 3 4, non 2.5:
    # pos 0: 2.5 < 1? no; pos 1: 2.5 < 2? no; pos 2: 2.5 < 3 yes -> 2/4
    assert compute_eer(*split([1.0, 2.0, 3.0, 4.0], [2.5]), method="kaldi").eer == pytest.approx(0.5)


def test_interp_threshold_is_a_score_at_the_crossing():
    # Case B: the crossing pair is thr 0.3 -> 0.5; the reported threshold is the second of the two
    assert compute_eer(*CASE_B).threshold == 0.5


@pytest.mark.parametrize("method", EER_METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_methods_match_independent_references_on_random_data(method, seed):
    rng = np.random.default_rng(seed)
    n_t, n_n = 37 + seed * 11, 91 + seed * 7
    scores = np.concatenate([rng.normal(1.5, 1, n_t), rng.normal(0, 1, n_n)]).round(1)  # rounding makes ties
    is_target = np.arange(n_t + n_n) < n_t
    want = REFERENCES[method](scores, is_target)
    assert compute_eer(scores, is_target, method).eer == pytest.approx(want, abs=1e-9)


def test_roc_and_interp_agree_with_baseline_brentq_on_large_tied_set():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 40, 3000).astype(float)
    is_target = rng.random(3000) < 0.3 + scores / 100
    want = ref_roc_brentq(scores, is_target)
    assert compute_eer(scores, is_target, "roc").eer == pytest.approx(want, abs=1e-9)
    assert compute_eer(scores, is_target, "interp").eer == pytest.approx(want, abs=1e-9)


def test_unknown_method():
    with pytest.raises(AsvbenchError, match="unknown EER method 'bogus'") as info:
        compute_eer(*CASE_B, method="bogus")
    assert "interp" in str(info.value)  # the hint lists the choices


@pytest.mark.parametrize("method", EER_METHODS)
@pytest.mark.parametrize("scores,is_target,message", [
    ([0.1, 0.2], [True, True], "only target trials"),
    ([0.1, 0.2], [False, False], "only non-target trials"),
    ([], [], "no trials"),
    ([0.1, float("nan"), 0.3], [True, False, False], "NaN or infinite"),
    ([0.1, float("inf")], [True, False], "NaN or infinite"),
    ([0.1, -float("inf")], [True, False], "first at trial index 1"),
    ([0.1, 0.2, 0.3], [True, False], "differ in length: 3 vs 2"),
    ([0.1, 0.2], [1, 2], "0/1 or boolean"),
])
def test_bad_input(method, scores, is_target, message):
    with pytest.raises(AsvbenchError, match=message):
        compute_eer(scores, is_target, method)


def test_accepts_int_labels_and_lists():
    assert compute_eer([0.2, 0.5, 0.8, 0.9, 0.1, 0.3, 0.6], [1, 1, 1, 1, 0, 0, 0]).eer == pytest.approx(1 / 3)
