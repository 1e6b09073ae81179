"""DET curve points (as data) and their probit transform."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from asvbench.errors import AsvbenchError
from asvbench.metrics import det_curve
from tests.metrics.test_eer import CASE_B, TIED, ref_points


def test_points_by_hand():
    # Case B (see test_eer.py): thr -inf 0.1 0.2 0.3 0.5 0.6 0.8 0.9
    #   FPR 1 2/3 2/3 1/3 1/3 0 0 0 ; FNR 0 0 1/4 1/4 1/2 1/2 3/4 1
    det = det_curve(*CASE_B)
    np.testing.assert_allclose(det.fpr, [1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    np.testing.assert_allclose(det.fnr, [0, 0, 1 / 4, 1 / 4, 1 / 2, 1 / 2, 3 / 4, 1])
    np.testing.assert_array_equal(det.thresholds, [-np.inf, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.9])


def test_points_match_brute_force_and_ties_are_grouped():
    scores, is_target = TIED  # tar 2 3, non 2 1: (FPR, FNR) = (1,0) (1/2,0) (0,1/2) (0,1)
    det = det_curve(scores, is_target)
    np.testing.assert_allclose(det.fpr, [1, 0.5, 0, 0])
    np.testing.assert_allclose(det.fnr, [0, 0, 0.5, 1])
    rng = np.random.default_rng(0)
    s = rng.integers(0, 30, 500).astype(float)
    y = rng.random(500) < 0.4
    thr, fnr, fpr = ref_points(s, y)
    det = det_curve(s, y)
    np.testing.assert_allclose(det.fnr, fnr)
    np.testing.assert_allclose(det.fpr, fpr)
    np.testing.assert_array_equal(det.thresholds, thr)


def test_monotone():
    rng = np.random.default_rng(1)
    s = rng.normal(size=400)
    y = rng.random(400) < 0.5
    det = det_curve(s, y)
    assert (np.diff(det.fnr) >= 0).all() and (np.diff(det.fpr) <= 0).all()
    assert (det.fpr[0], det.fnr[0], det.fpr[-1], det.fnr[-1]) == (1.0, 0.0, 0.0, 1.0)


def test_probit_values_and_clipping():
    det = det_curve(*CASE_B)
    px, py = det.probit(clip=1e-6)
    # probit(1/3) = norm.ppf(1/3) = -0.4307; rates 0 and 1 are clipped to 1e-6 and 1 - 1e-6 (+-4.753)
    assert px[3] == pytest.approx(norm.ppf(1 / 3))
    assert py[4] == pytest.approx(0.0)  # probit(1/2) = 0
    assert px[0] == pytest.approx(norm.ppf(1 - 1e-6)) and py[0] == pytest.approx(norm.ppf(1e-6))
    assert np.isfinite(px).all() and np.isfinite(py).all()


def test_thinning_keeps_both_ends():
    rng = np.random.default_rng(2)
    s = rng.normal(size=2000)
    y = rng.random(2000) < 0.5
    full = det_curve(s, y)
    thin = det_curve(s, y, max_points=50)
    assert len(thin.fpr) <= 50
    assert (thin.fpr[0], thin.fnr[0], thin.fpr[-1], thin.fnr[-1]) == (1.0, 0.0, 0.0, 1.0)
    # every kept point is a point of the full curve
    pairs = set(zip(full.fpr.tolist(), full.fnr.tolist()))
    assert all(p in pairs for p in zip(thin.fpr.tolist(), thin.fnr.tolist()))


def test_bad_input():
    with pytest.raises(AsvbenchError, match="only target"):
        det_curve([1.0, 2.0], [True, True])
    with pytest.raises(AsvbenchError, match="NaN"):
        det_curve([1.0, np.nan], [True, False])
