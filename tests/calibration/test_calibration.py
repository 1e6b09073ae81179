"""Calibration: recovers a known affine map on simulated LLRs; PAV; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.calibration import fit_linear, fit_pav
from asvbench.errors import AsvbenchError
from asvbench.metrics import cllr, min_cllr


def _simulated(n=100_000, seed=0):
    # x ~ N(+1, 1) for targets, N(-1, 1) for non-targets: the true LLR is 2x
    # (log N(x; 1, 1) - log N(x; -1, 1) = ((x + 1)^2 - (x - 1)^2) / 2 = 2x).
    # Raw score r = (x - 0.3) / 4, so x = 4r + 0.3 and LLR(r) = 8r + 0.6.
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(1.0, 1.0, n), rng.normal(-1.0, 1.0, n)]
    y = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return (x - 0.3) / 4.0, y


def test_linear_recovers_known_affine_map():
    r, y = _simulated()
    cal = fit_linear(r, y)
    # standard error of the scale with 2 x 100k trials is ~0.03 (~0.4 %)
    assert cal.scale == pytest.approx(8.0, rel=0.02)
    assert cal.offset == pytest.approx(0.6, abs=0.03)
    assert cal.converged
    llr = cal.apply(r)
    # calibrated: Cllr close to its minimum (minCllr)
    assert cllr(llr, y) == pytest.approx(min_cllr(llr, y), abs=0.01)
    assert cllr(llr, y) < cllr(r, y)


def test_linear_prior_shifts_offset_not_scale():
    r, y = _simulated(20_000, seed=1)
    a = fit_linear(r, y, p_target=0.5)
    b = fit_linear(r, y, p_target=0.1)
    # the model family holds the truth, so any training prior recovers the same map
    assert b.scale == pytest.approx(a.scale, rel=0.05)
    assert b.offset == pytest.approx(a.offset, abs=0.1)


def test_quality_measure_weight_recovered():
    # LLR = 2x + 1.5 q: targets' scores carry an extra q-dependent shift.
    rng = np.random.default_rng(2)
    n = 100_000
    q = rng.uniform(-1, 1, 2 * n)
    # generate labels from the logistic model directly: P(tar | x, q) = sigmoid(2x + 1.5q)
    x = rng.normal(0, 1.5, 2 * n)
    y = rng.uniform(size=2 * n) < 1 / (1 + np.exp(-(2 * x + 1.5 * q)))
    # with class frequencies not 50/50 the LLR offset is -logit(empirical prior); compare slopes
    cal = fit_linear(x, y, p_target=float(y.mean()), quality=q[:, None])
    assert cal.scale == pytest.approx(2.0, rel=0.05)
    assert cal.quality_weights[0] == pytest.approx(1.5, rel=0.08)
    with pytest.raises(AsvbenchError, match="none were given"):
        cal.apply(x)


def test_pav_monotone_and_close_to_truth():
    r, y = _simulated(50_000, seed=3)
    cal = fit_pav(r, y)
    grid = np.linspace(-1, 1, 41)
    llr = cal.apply(grid)
    assert np.all(np.diff(llr) >= 0)
    inner = np.abs(grid) < 0.5  # dense region: PAV close to the true 8r + 0.6
    np.testing.assert_allclose(llr[inner], 8 * grid[inner] + 0.6, atol=0.6)
    assert np.isfinite(cal.apply(np.array([-100.0, 100.0]))).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=40), st.integers(0, 1000))
def test_pav_never_worse_than_raw_on_dev(values, seed):
    s = np.array(values)
    y = np.random.default_rng(seed).uniform(size=s.shape[0]) < 0.5
    if y.all() or not y.any():
        with pytest.raises(AsvbenchError, match="only"):
            fit_pav(s, y)
        return
    llr = fit_pav(s, y).apply(s)
    assert np.all(np.diff(llr[np.argsort(s, kind="stable")]) >= -1e-12)  # monotone in the score


def test_one_class_dev_set_is_a_clear_error():
    with pytest.raises(AsvbenchError, match="only target trials"):
        fit_linear(np.array([1.0, 2.0]), np.array([True, True]))
    with pytest.raises(AsvbenchError, match="only non-target trials"):
        fit_pav(np.array([1.0, 2.0]), np.array([False, False]))
    with pytest.raises(AsvbenchError, match="p_target"):
        fit_linear(np.array([1.0, 2.0]), np.array([True, False]), p_target=1.0)
