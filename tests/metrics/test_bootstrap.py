"""The bootstrap engine (asvbench.metrics.bootstrap): exact enumeration, cross-check against a plain
per-replicate loop over the existing metric functions on the same resamples, the grid path against
the full cumulative-sum path, interval properties, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.metrics import act_dcf, cllr, compute_eer, min_cllr, min_dcf, sasv_eers
from asvbench.metrics import bootstrap as bs
from asvbench.metrics.adcf import ADCF_COSTS, min_adcf
from asvbench.types import Label


def _speaker_data(rng, n_speakers=12, n_tar=6, n_non=20, offset=0.0, ties=False):
    unit = np.repeat(np.arange(n_speakers), n_tar + n_non)
    is_tar = np.tile(np.r_[np.ones(n_tar, bool), np.zeros(n_non, bool)], n_speakers)
    shift = rng.normal(0.0, offset, n_speakers)[unit] if offset else 0.0
    scores = rng.normal(np.where(is_tar, 2.0, 0.0), 1.0) + shift * is_tar
    return (np.round(scores, 1) if ties else scores), is_tar, unit


def _resampled(scores, labels, unit, mult_row):
    """The replicate as a re-sampled trial list: each trial repeated by its unit's multiplicity."""
    w = mult_row[unit]
    return np.repeat(scores, w), np.repeat(labels, w)


# --------------------------------------------------------------------------- exact enumeration

def test_bootstrap_reproduces_the_exact_resampling_distribution():
    # 3 speakers, each with 2 target and 3 non-target trials: drawing 3 speakers with replacement has
    # 3^3 = 27 equally likely ordered outcomes; the EER of each is computed by compute_eer on the
    # repeated trials (no bootstrap code involved).
    scores = np.array([2.0, 0.9, 0.1, 1.2, -0.4,    # speaker 0: targets 2.0, 0.9
                       1.5, 0.3, 0.5, -1.0, 0.0,    # speaker 1: targets 1.5, 0.3
                       0.8, 1.1, 0.2, 0.7, -0.2])   # speaker 2: targets 0.8, 1.1
    is_tar = np.array([1, 1, 0, 0, 0] * 3, bool)
    unit = np.repeat(np.arange(3), 5)
    exact = []
    for draw in itertools.product(range(3), repeat=3):
        mult = np.bincount(draw, minlength=3)
        s, y = _resampled(scores, is_tar, unit, mult)
        exact.append(compute_eer(s, y).eer)
    exact = np.array(exact)
    reps = 4000
    boot = bs.binary_replicates(scores, is_tar, unit, 3, reps=reps, seed=11,
                                request=bs.BinaryRequest(min_dcf=False, act_dcf=False, cllr=False, min_cllr=False))["eer"]
    # mean within 4 Monte Carlo standard errors
    assert abs(boot.mean() - exact.mean()) < 4 * exact.std() / math.sqrt(reps)
    # each distinct value's frequency within 4 binomial standard errors
    for value in np.unique(exact):
        p = np.mean(np.isclose(exact, value))
        assert abs(np.mean(np.isclose(boot, value)) - p) < 4 * math.sqrt(p * (1 - p) / reps) + 1e-12


def test_multiplicities_do_not_depend_on_the_block():
    whole = bs.multiplicities(50, range(20), seed=3)
    parts = np.vstack([bs.multiplicities(50, range(0, 7), seed=3), bs.multiplicities(50, range(7, 20), seed=3)])
    assert np.array_equal(whole, parts)
    assert (whole.sum(axis=1) == 50).all()  # n units drawn per replicate


# --------------------------------------------------------------------------- cross-check

@pytest.mark.parametrize("method", ["interp", "nearest", "rocch", "roc", "kaldi"])
@pytest.mark.parametrize("ties", [False, True])
def test_replicates_equal_a_plain_loop_on_the_same_resamples(method, ties):
    rng = np.random.default_rng(5)
    scores, is_tar, unit = _speaker_data(rng, ties=ties, offset=0.5)
    reps, seed, priors = 25, 7, (0.01, 0.1)
    request = bs.BinaryRequest(eer_method=method, p_targets=priors)
    got = bs.binary_replicates(scores, is_tar, unit, 12, reps=reps, seed=seed, request=request,
                               block_elements=5 * scores.shape[0])  # several blocks
    mult = bs.multiplicities(12, range(reps), seed)
    for r in range(reps):
        s, y = _resampled(scores, is_tar, unit, mult[r])
        assert got["eer"][r] == pytest.approx(compute_eer(s, y, method).eer, abs=1e-12)
        for p in priors:
            assert got[f"min_dcf@{p:g}"][r] == pytest.approx(min_dcf(s, y, p).value, abs=1e-12)
            assert got[f"act_dcf@{p:g}"][r] == pytest.approx(act_dcf(s, y, p).value, abs=1e-12)
        assert got["cllr"][r] == pytest.approx(cllr(s, y), abs=1e-12)
        assert got["min_cllr"][r] == pytest.approx(min_cllr(s, y), abs=1e-9)


def test_sasv_and_adcf_replicates_equal_a_plain_loop():
    rng = np.random.default_rng(8)
    n_spk, per = 10, 30
    unit = np.repeat(np.arange(n_spk), per)
    labels = np.tile(np.array([Label.TARGET] * 6 + [Label.NONTARGET] * 14 + [Label.SPOOF] * 10, np.int8), n_spk)
    scores = rng.normal(np.select([labels == Label.TARGET, labels == Label.SPOOF], [2.0, 1.0], 0.0), 1.0)
    got = bs.sasv_replicates(scores, labels, unit, n_spk, reps=20, seed=2)
    adcf = bs.min_adcf_replicates(scores, labels, unit, n_spk, ADCF_COSTS["default"], reps=20, seed=2)
    mult = bs.multiplicities(n_spk, range(20), 2)
    for r in range(20):
        s, lab = _resampled(scores, labels, unit, mult[r])
        want = sasv_eers(s, lab)
        assert (got["sasv_eer"][r], got["sv_eer"][r], got["spf_eer"][r]) == pytest.approx(
            (want.sasv_eer, want.sv_eer, want.spf_eer), abs=1e-12)
        assert adcf[r] == pytest.approx(min_adcf(s, lab).min_adcf, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 40), per_unit=st.integers(2, 30),
       decimals=st.sampled_from([0, 1, 3, None]))
def test_grid_path_equals_full_cumulative_sums(seed, n_units, per_unit, decimals):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), per_unit)
    is_tar = rng.random(unit.shape[0]) < 0.3
    is_tar[:2] = [True, False]
    scores = rng.normal(np.where(is_tar, 1.5, 0.0), 1.0)
    if decimals is not None:
        scores = np.round(scores, decimals)
    for method in ("interp", "nearest"):
        request = bs.BinaryRequest(eer_method=method, p_targets=(0.001, 0.01, 0.3), act_dcf=False, cllr=False,
                                   min_cllr=False)
        grid = bs.binary_replicates(scores, is_tar, unit, n_units, reps=15, seed=seed, request=request)
        full = bs.binary_replicates(scores, is_tar, unit, n_units, reps=15, seed=seed, request=request,
                                    use_grid=False)
        for key in full:
            np.testing.assert_array_equal(grid[key], full[key])


def test_a_replicate_without_targets_is_nan():
    # unit 0 holds the only target trial: any replicate that does not draw it has no target trial
    scores = np.array([1.0, 0.0, 0.2, -0.3])
    is_tar = np.array([True, False, False, False])
    got = bs.binary_replicates(scores, is_tar, np.array([0, 0, 1, 1]), 2, reps=200, seed=0)
    mult = bs.multiplicities(2, range(200), 0)
    assert np.array_equal(np.isnan(got["eer"]), mult[:, 0] == 0)
    assert np.isnan(got["cllr"][mult[:, 0] == 0]).all()


# --------------------------------------------------------------------------- intervals

def test_percentile_interval_by_hand():
    # 0..100: the 5th and 95th percentiles (linear interpolation) are 5 and 95
    assert bs.percentile_interval(np.arange(101.0), 90) == (5.0, 95.0)
    # NaN left out; the 25th / 75th percentiles of [1, 3] are 1 + 0.25 * 2 = 1.5 and 1 + 0.75 * 2 = 2.5
    assert bs.percentile_interval(np.array([np.nan, 1.0, 3.0]), 50) == (1.5, 2.5)


def _width(values, level=95):
    lo, hi = bs.percentile_interval(values, level)
    return hi - lo


def _widths(seed, offset):
    rng = np.random.default_rng(seed)
    scores, is_tar, unit = _speaker_data(rng, n_speakers=40, n_tar=8, n_non=24, offset=offset)
    request = bs.BinaryRequest(min_dcf=False, act_dcf=False, cllr=False, min_cllr=False)
    speaker = bs.binary_replicates(scores, is_tar, unit, 40, reps=300, seed=seed, request=request)["eer"]
    trial = bs.binary_replicates(scores, is_tar, np.arange(unit.shape[0]), unit.shape[0], reps=300, seed=seed,
                                 request=request)["eer"]
    return _width(speaker), _width(trial)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_speaker_interval_wider_than_trial_interval_with_speaker_offsets(seed):
    speaker, trial = _widths(seed, offset=1.5)
    assert speaker > trial


def test_speaker_and_trial_intervals_agree_in_expectation_without_offsets():
    ratios = [np.divide(*_widths(seed, offset=0.0)) for seed in range(8)]
    assert 0.8 < float(np.mean(ratios)) < 1.25


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("level", [0, 100, -5, 150])
def test_level_outside_0_100_is_an_error(level):
    with pytest.raises(AsvbenchError, match="between 0 and 100"):
        bs.check_level(level)


def test_bad_arguments_are_errors():
    s, y = np.array([1.0, 0.0]), np.array([True, False])
    with pytest.raises(AsvbenchError, match="at least 2 replicates"):
        bs.binary_replicates(s, y, np.array([0, 1]), 2, reps=1)
    with pytest.raises(AsvbenchError, match="differ in length"):
        bs.binary_replicates(s, y, np.array([0, 1, 1]), 2, reps=5)
    with pytest.raises(AsvbenchError, match="only target"):
        bs.binary_replicates(s, np.array([True, True]), np.array([0, 1]), 2, reps=5)
    with pytest.raises(AsvbenchError, match="unknown EER method"):
        bs.binary_replicates(s, y, np.array([0, 1]), 2, reps=5, request=bs.BinaryRequest(eer_method="x"))
