"""Property tests (hypothesis): order invariance, monotone-transform invariance, bounds, symmetry,
and agreement with the independent references of test_eer.py / test_dcf.py / test_cllr.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.metrics import EER_METHODS, cllr, compute_eer, det_curve, min_cllr, min_dcf
from tests.metrics.test_cllr import ref_min_cllr
from tests.metrics.test_dcf import ref_min_dcf
from tests.metrics.test_eer import REFERENCES

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def score_sets(draw, integer: bool = True):
    """Scores with both classes present; small integers make ties likely."""
    n_t = draw(st.integers(1, 12))
    n_n = draw(st.integers(1, 12))
    if integer:
        values = st.integers(-8, 8).map(float)
    else:
        values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    scores = np.array(draw(st.lists(values, min_size=n_t + n_n, max_size=n_t + n_n)))
    is_target = np.arange(n_t + n_n) < n_t
    perm = np.array(draw(st.permutations(range(n_t + n_n))))
    return scores, is_target, perm


TRANSFORMS = {
    "affine": lambda s: 3.0 * s - 7.0,
    "exp": lambda s: np.exp(s / 5.0),
    "cubic": lambda s: s**3 + s,
    "arctan": np.arctan,  # distinct integers stay distinct
}

P_TARGETS = (0.01, 0.1, 0.5)


@SETTINGS
@given(score_sets(), st.sampled_from(EER_METHODS))
def test_eer_order_invariant_and_bounded(data, method):
    scores, is_target, perm = data
    a = compute_eer(scores, is_target, method)
    b = compute_eer(scores[perm], is_target[perm], method)
    assert a.eer == b.eer and a.threshold == b.threshold
    assert 0.0 <= a.eer <= 1.0


@SETTINGS
@given(score_sets(), st.sampled_from(sorted(TRANSFORMS)))
def test_monotone_transform_invariance(data, name):
    scores, is_target, _ = data
    f = TRANSFORMS[name]
    t = f(scores)
    for method in EER_METHODS:
        assert compute_eer(t, is_target, method).eer == pytest.approx(compute_eer(scores, is_target, method).eer,
                                                                      abs=1e-12)
    for p in P_TARGETS:
        assert min_dcf(t, is_target, p).value == min_dcf(scores, is_target, p).value
    assert min_cllr(t, is_target) == pytest.approx(min_cllr(scores, is_target), abs=1e-12)
    d0, d1 = det_curve(scores, is_target), det_curve(t, is_target)
    np.testing.assert_array_equal(d0.fnr, d1.fnr)
    np.testing.assert_array_equal(d0.fpr, d1.fpr)


@SETTINGS
@given(score_sets(integer=False))
def test_other_metrics_order_invariant_and_bounded(data):
    scores, is_target, perm = data
    s2, y2 = scores[perm], is_target[perm]
    for p in P_TARGETS:
        v = min_dcf(scores, is_target, p).value
        assert v == min_dcf(s2, y2, p).value
        assert 0.0 <= v <= 1.0 + 1e-12
    m = min_cllr(scores, is_target)
    assert m == pytest.approx(min_cllr(s2, y2), abs=1e-12)
    c = cllr(scores, is_target)
    assert c == pytest.approx(cllr(s2, y2), rel=1e-12)
    assert 0.0 <= m <= 1.0 + 1e-9
    assert m <= c + 1e-9
    d0, d1 = det_curve(scores, is_target), det_curve(s2, y2)
    np.testing.assert_array_equal(d0.fnr, d1.fnr)
    np.testing.assert_array_equal(d0.fpr, d1.fpr)


@SETTINGS
@given(score_sets(), st.sampled_from(["interp", "rocch", "roc"]))
def test_swap_labels_and_negate_scores(data, method):
    # negating the scores and swapping the classes reflects the DET curve about FNR = FPR, which keeps its
    # crossing with the diagonal. (Not asserted for 'nearest', whose first-minimum tie-break is one-sided,
    # nor for 'kaldi', which walks the target scores only.)
    scores, is_target, _ = data
    a = compute_eer(scores, is_target, method).eer
    b = compute_eer(-scores, ~is_target, method).eer
    assert a == pytest.approx(b, abs=1e-12)


@SETTINGS
@given(score_sets(), st.sampled_from(EER_METHODS))
def test_eer_matches_reference(data, method):
    scores, is_target, _ = data
    assert compute_eer(scores, is_target, method).eer == pytest.approx(REFERENCES[method](scores, is_target),
                                                                      abs=1e-9)


@SETTINGS
@given(score_sets(), st.sampled_from(P_TARGETS))
def test_min_dcf_and_min_cllr_match_references(data, p):
    scores, is_target, _ = data
    assert min_dcf(scores, is_target, p).value == pytest.approx(ref_min_dcf(scores, is_target, p), abs=1e-12)
    assert min_cllr(scores, is_target) == pytest.approx(ref_min_cllr(scores, is_target), abs=1e-10)
