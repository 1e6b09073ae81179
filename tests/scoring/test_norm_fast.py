"""The fast paths of score normalisation against plain implementations written here."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import asvbench.scoring.norm as norm
from asvbench.scoring.norm import build_cohort, cohort_stats, normalise


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_spk=st.integers(1, 30), max_utts=st.integers(1, 9), block=st.integers(1, 20))
def test_speaker_means_equal_a_loop(seed, n_spk, max_utts, block):
    # speakers with 1..max_utts utterances, in shuffled order; small blocks split size classes
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_utts + 1, n_spk)
    speakers = np.repeat([f"s{i:03d}" for i in range(n_spk)], sizes)
    rng.shuffle(speakers)
    keys = [f"u{i}" for i in range(speakers.shape[0])]
    emb = rng.standard_normal((len(keys), 5)).astype(np.float32)
    center = rng.standard_normal(5)
    old = norm._GROUP_BLOCK_ROWS
    norm._GROUP_BLOCK_ROWS = block
    try:
        cohort = build_cohort(keys, emb, dict(zip(keys, speakers)), center=center)
    finally:
        norm._GROUP_BLOCK_ROWS = old
    names = sorted(set(speakers.tolist()))
    assert cohort.names == names and cohort.per_speaker
    want = np.array([emb[speakers == s].astype(np.float64).mean(axis=0) - center for s in names])
    np.testing.assert_allclose(cohort.matrix, want, rtol=0, atol=1e-12)


def _reference_stats(emb: np.ndarray, cohort: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Float64 cosines, a full sort per row, the k largest: mean and population std."""
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    c = cohort / np.linalg.norm(cohort, axis=1, keepdims=True)
    top = np.sort(e @ c.T, axis=1)[:, -k:]
    return top.mean(axis=1), top.std(axis=1)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), n_cohort=st.integers(3, 400), k=st.integers(2, 400),
       block=st.integers(1, 50))
def test_topk_stats_equal_a_full_sort(seed, n, n_cohort, k, block):
    rng = np.random.default_rng(seed)
    k = min(k, n_cohort - 1)  # k = n_cohort is the exact whole-cohort formula, tested elsewhere
    if k < 2:
        return
    emb = rng.standard_normal((n, 8)) + 0.3
    cohort = rng.standard_normal((n_cohort, 8)) + 0.3
    got = cohort_stats(emb, cohort, k, block_rows=block)
    mean, std = _reference_stats(emb, cohort, k)
    # float32 cosines (|error| <= ~1e-7) against float64 ones
    np.testing.assert_allclose(got.mean, mean, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.std, std, rtol=0, atol=1e-6)


def test_topk_stats_with_ties_are_exact():
    # cohort: 6 copies of e (cosine 1), 6 of -e (cosine -1), 20 orthogonal (0): top-8 = six 1s, two 0s
    e = np.array([[1.0, 0.0, 0.0]])
    cohort = np.vstack([np.tile([1.0, 0.0, 0.0], (6, 1)), np.tile([-1.0, 0.0, 0.0], (6, 1)),
                        np.tile([0.0, 1.0, 0.0], (20, 1))])
    got = cohort_stats(e, cohort, 8)
    # mean 6/8 = 0.75; population variance 6/8 - 0.75^2 = 0.1875
    assert got.mean[0] == 0.75
    np.testing.assert_allclose(got.std[0], np.sqrt(0.1875), rtol=1e-15)


def test_asnorm_equals_a_full_sort_reference():
    rng = np.random.default_rng(11)
    emb = rng.standard_normal((300, 16)) + 0.2
    cohort = rng.standard_normal((900, 16)) + 0.2
    e_idx, t_idx = rng.integers(0, 300, 2000), rng.integers(0, 300, 2000)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    raw = np.einsum("ij,ij->i", unit[e_idx], unit[t_idx])
    got = normalise(raw, e_idx, t_idx, emb, emb, cohort, "asnorm", 50, block_rows=64).scores
    mean, std = _reference_stats(emb, cohort, 50)
    want = 0.5 * ((raw - mean[e_idx]) / std[e_idx] + (raw - mean[t_idx]) / std[t_idx])
    # float32 cohort cosines: the bound the issue sets for a different GEMM
    assert np.abs(got - want).max() <= 1e-5


def test_asnorm_equals_the_same_float32_product_fully_sorted():
    # the reference takes the same float32 product as cohort_stats (unit rows, the cohort's
    # columns in the seeded order it uses, one block), then sorts each row in full: the top-k
    # selection by partition may only differ in the order of summation (bound 1e-12)
    rng = np.random.default_rng(12)
    emb = rng.standard_normal((200, 32)) + 0.2
    cohort = rng.standard_normal((700, 32)) + 0.2
    e_idx, t_idx = rng.integers(0, 200, 3000), rng.integers(0, 200, 3000)
    raw = rng.uniform(-1, 1, 3000)
    got = normalise(raw, e_idx, t_idx, emb, emb, cohort, "asnorm", 40, block_rows=4096)
    def unit32(x):  # as cohort_stats: float32 rows times float32 inverse norms (norms in float64)
        return x.astype(np.float32) * (1.0 / np.linalg.norm(x, axis=1)).astype(np.float32)[:, None]

    e32 = unit32(emb)
    c32t = np.ascontiguousarray(unit32(cohort)[np.random.default_rng(0).permutation(700)].T)
    top = np.sort(e32 @ c32t, axis=1)[:, -40:].astype(np.float64)
    mean, std = top.mean(axis=1), top.std(axis=1)
    np.testing.assert_allclose(got.enroll.mean, mean, rtol=0, atol=1e-15)
    np.testing.assert_allclose(got.enroll.std, std, rtol=0, atol=1e-15)
    want = 0.5 * ((raw - mean[e_idx]) / std[e_idx] + (raw - mean[t_idx]) / std[t_idx])
    assert np.abs(got.scores - want).max() <= 1e-12
