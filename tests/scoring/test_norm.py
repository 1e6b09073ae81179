"""Score normalisation: against a direct per-trial loop written here, plus bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.scoring.norm import _topk_rows, build_cohort, cohort_stats, normalise


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _loop_norm(enroll, test, cohort, pairs, method, top_k):
    """Independent reference: per trial, score both sides against every cohort row, sort, take top-k."""
    out = []
    for e_i, t_i in pairs:
        s = _cos(enroll[e_i], test[t_i])
        e_coh = sorted((_cos(enroll[e_i], c) for c in cohort), reverse=True)
        t_coh = sorted((_cos(test[t_i], c) for c in cohort), reverse=True)
        if top_k is not None:
            e_coh, t_coh = e_coh[:top_k], t_coh[:top_k]
        z = (s - np.mean(e_coh)) / np.std(e_coh)  # np.std: population (ddof=0)
        t = (s - np.mean(t_coh)) / np.std(t_coh)
        out.append({"znorm": z, "tnorm": t, "snorm": 0.5 * (z + t), "asnorm": 0.5 * (z + t)}[method])
    return np.array(out)


def _data(seed=0, n_e=7, n_t=9, n_c=40, dim=8, n_trials=25):
    rng = np.random.default_rng(seed)
    enroll = rng.standard_normal((n_e, dim))
    test = rng.standard_normal((n_t, dim))
    cohort = rng.standard_normal((n_c, dim))
    e_idx = rng.integers(0, n_e, n_trials)
    t_idx = rng.integers(0, n_t, n_trials)
    raw = np.array([_cos(enroll[i], test[j]) for i, j in zip(e_idx, t_idx)])
    return enroll, test, cohort, e_idx, t_idx, raw


@pytest.mark.parametrize("method,top_k", [("asnorm", 5), ("asnorm", 39), ("snorm", None), ("znorm", None),
                                          ("tnorm", None), ("znorm", 6), ("tnorm", 11)])
def test_matches_per_trial_loop(method, top_k):
    enroll, test, cohort, e_idx, t_idx, raw = _data()
    got = normalise(raw, e_idx, t_idx, enroll, test, cohort, method, top_k)
    k = None if method == "snorm" else top_k
    want = _loop_norm(enroll, test, cohort, list(zip(e_idx, t_idx)), method, k)
    np.testing.assert_allclose(got.scores, want, rtol=1e-5, atol=1e-5)  # float32 cohort matmul


def test_blocks_and_shared_table_do_not_change_results():
    enroll, _, cohort, e_idx, _, _ = _data(seed=1, n_e=30, n_c=50)
    rng = np.random.default_rng(5)
    t_idx = rng.integers(0, 30, e_idx.shape[0])
    raw = np.array([_cos(enroll[i], enroll[j]) for i, j in zip(e_idx, t_idx)])
    one = normalise(raw, e_idx, t_idx, enroll, enroll, cohort, "asnorm", 7, block_rows=4)
    two = normalise(raw, e_idx, t_idx, enroll, enroll.copy(), cohort, "asnorm", 7, block_rows=1000)
    np.testing.assert_allclose(one.scores, two.scores, rtol=1e-6, atol=1e-6)
    want = _loop_norm(enroll, enroll, cohort, list(zip(e_idx, t_idx)), "asnorm", 7)
    np.testing.assert_allclose(one.scores, want, rtol=1e-5, atol=1e-5)


def test_top_k_equal_to_cohort_is_snorm():
    enroll, test, cohort, e_idx, t_idx, raw = _data(seed=2)
    a = normalise(raw, e_idx, t_idx, enroll, test, cohort, "asnorm", cohort.shape[0])
    s = normalise(raw, e_idx, t_idx, enroll, test, cohort, "snorm", None)
    np.testing.assert_allclose(a.scores, s.scores, rtol=1e-10)


def test_population_std_stated():
    # cohort cosines of e = (1, 0) against (1, 0), (0, 1), (-1, 0): 1, 0, -1
    # mean 0, population std sqrt(2/3) (the unbiased one would be 1)
    stats = cohort_stats(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    assert stats.mean[0] == pytest.approx(0.0, abs=1e-12)
    assert stats.std[0] == pytest.approx(np.sqrt(2.0 / 3.0))
    # top-2 of the same: 1 and 0 -> mean 0.5, population std 0.5
    top = cohort_stats(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), 2)
    assert top.mean[0] == pytest.approx(0.5)
    assert top.std[0] == pytest.approx(0.5)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(100, 3000))
def test_topk_rows_exact(seed, k, n):
    rng = np.random.default_rng(seed)
    block = rng.standard_normal((5, n)).astype(np.float32)
    k = min(k, n)
    want = np.sort(block, axis=1)[:, n - k :]
    got = np.sort(_topk_rows(block.copy(), k), axis=1)
    np.testing.assert_array_equal(got, want)


def test_topk_rows_exact_with_ties():
    # 10 values 9.0, 40 values 0.5, then 0.000 .. 0.499: the top 20 are ten 9.0, ten 0.5
    block = np.zeros((3, 550), dtype=np.float32)
    block[:, :10] = 9.0
    block[:, 10:50] = 0.5
    block[:, 50:] = np.arange(500, dtype=np.float32) / 1000
    got = np.sort(_topk_rows(block.copy(), 20), axis=1)
    np.testing.assert_array_equal(got, np.repeat([[0.5] * 10 + [9.0] * 10], 3, axis=0).astype(np.float32))


def test_build_cohort_speaker_means_and_centring():
    emb = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0]])
    cohort = build_cohort(["u1", "u2", "u3"], emb, {"u1": "A", "u2": "A", "u3": "B"}, center=np.array([1.0, 1.0]))
    assert cohort.names == ["A", "B"]
    # A: mean((1,2),(3,4)) = (2,3), minus (1,1) = (1,2); B: (10,0) - (1,1) = (9,-1)
    np.testing.assert_allclose(cohort.matrix, [[1.0, 2.0], [9.0, -1.0]])


def test_bad_input():
    enroll, test, cohort, e_idx, t_idx, raw = _data()
    with pytest.raises(AsvbenchError, match="fewer than top-k = 300"):
        normalise(raw, e_idx, t_idx, enroll, test, cohort, "asnorm", 300)
    with pytest.raises(AsvbenchError, match="unknown score normalisation"):
        normalise(raw, e_idx, t_idx, enroll, test, cohort, "xnorm", 5)
    with pytest.raises(AsvbenchError, match="needs a cohort"):
        normalise(raw, e_idx, t_idx, enroll, test, None, "snorm", None)
    with pytest.raises(AsvbenchError, match="enroll_idx"):
        normalise(raw, e_idx + 100, t_idx, enroll, test, cohort, "asnorm", 5)
    with pytest.raises(AsvbenchError, match="dimension"):
        normalise(raw, e_idx, t_idx, enroll, test, cohort[:, :3], "asnorm", 5)
    zero = enroll.copy()
    zero[e_idx[0]] = 0.0
    with pytest.raises(AsvbenchError, match="zero norm"):
        normalise(raw, e_idx, t_idx, zero, test, cohort, "asnorm", 5)
    with pytest.raises(AsvbenchError, match="no speaker"):
        build_cohort(["u1", "u2"], np.ones((2, 2)), {"u1": "A"})
    none = normalise(raw, e_idx, t_idx, enroll, test, None, "none", None)
    np.testing.assert_array_equal(none.scores, raw)


def test_torch_topk_path_matches_numpy():
    # the optional GPU path, run here on the CPU device of torch
    pytest.importorskip("torch")
    from asvbench.scoring.norm import _topk_stats_numpy, _topk_stats_torch, _unit_rows

    rng = np.random.default_rng(7)
    e = _unit_rows(rng.standard_normal((50, 16)), "trial")
    c = _unit_rows(rng.standard_normal((200, 16)), "cohort")
    a = _topk_stats_torch(e, c, 20, 16, "cpu")
    b = _topk_stats_numpy(e.astype(np.float32), c.astype(np.float32), 20, 16)
    np.testing.assert_allclose(a.mean, b.mean, atol=1e-6)
    np.testing.assert_allclose(a.std, b.std, atol=1e-6)
