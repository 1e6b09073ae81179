"""The pipelined top-k statistics (product of one block while the previous one is selected) and the
sort-free row positions (``scoring._rows``) give exactly what the plain algorithms give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asvbench.scoring.norm as norm
from asvbench.scoring._rows import unique_positions, used_positions
from asvbench.scoring.norm import normalise


def _serial_topk_stats(e_unit: np.ndarray, c_unit: np.ndarray, top_k: int, block_rows: int):
    """The pre-pipeline algorithm, written plainly: one block product after the other, each block's
    rows partitioned, float64 mean and population std of the top-k values."""
    perm = np.random.default_rng(0).permutation(c_unit.shape[0])  # the column order norm.py uses
    e32 = e_unit.astype(np.float32)
    c32t = np.ascontiguousarray(c_unit[perm].T.astype(np.float32))
    means, stds = [], []
    kth = c_unit.shape[0] - top_k
    for lo in range(0, e32.shape[0], block_rows):
        product = np.matmul(e32[lo : lo + block_rows], c32t)
        top = np.partition(product, kth, axis=1)[:, kth:].astype(np.float64)
        mu = top.mean(axis=1)
        means.append(mu)
        stds.append(np.sqrt(np.mean((top - mu[:, None]) ** 2, axis=1)))
    return np.concatenate(means), np.concatenate(stds)


def _unit(rng, n, dim, offset):
    x = rng.standard_normal((n, dim)) + offset
    return norm._unit_rows(x, "test", np.float32)


@pytest.mark.parametrize(("n", "block_rows", "threads"), [
    (1, 64, 2),  # one row
    (64, 64, 2),  # exactly one block: one buffer
    (200, 64, 2),  # three full blocks and a tail of 8
    (256, 64, 1),  # one selection thread
    (333, 50, 4),  # more threads than the machine may have, odd tail
])
def test_pipelined_stats_are_bit_identical_to_the_serial_loop(n, block_rows, threads):
    rng = np.random.default_rng(n)
    offset = rng.standard_normal(24)
    e_unit, c_unit = _unit(rng, n, 24, offset), _unit(rng, 150, 24, offset)
    got = norm._topk_stats_numpy(e_unit, c_unit, 20, block_rows, threads)
    mean, std = _serial_topk_stats(e_unit, c_unit, 20, block_rows)
    assert np.array_equal(got.mean, mean)
    assert np.array_equal(got.std, std)


def test_asnorm_with_several_blocks_equals_the_serial_statistics_applied_plainly():
    rng = np.random.default_rng(7)
    offset = rng.standard_normal(16)
    emb = rng.standard_normal((300, 16)) + offset
    cohort = rng.standard_normal((90, 16)) + offset
    e_idx, t_idx = rng.integers(0, 300, 500), rng.integers(0, 300, 500)
    scores = rng.uniform(-1, 1, 500)
    got = normalise(scores, e_idx, t_idx, emb, emb, cohort, "asnorm", 12, block_rows=32)
    used = np.unique(np.concatenate([e_idx, t_idx]))
    mean, std = _serial_topk_stats(norm._unit_rows(emb[used], "t", np.float32),
                                   norm._unit_rows(cohort, "c", np.float32), 12, 32)
    row_of = {int(u): i for i, u in enumerate(used)}
    expected = [0.5 * ((s - mean[row_of[e]]) / std[row_of[e]] + (s - mean[row_of[t]]) / std[row_of[t]])
                for s, e, t in zip(scores.tolist(), e_idx.tolist(), t_idx.tolist())]
    assert np.array_equal(got.scores, np.array(expected))


@settings(max_examples=60, deadline=None)
@given(n_rows=st.integers(1, 40), data=st.data())
def test_used_rows_equals_np_unique(n_rows, data):
    idx = np.array(data.draw(st.lists(st.integers(0, n_rows - 1), max_size=80)), dtype=np.int64)
    assert np.array_equal(used_positions(n_rows, idx), np.unique(idx))
    used, inverse = unique_positions(idx, n_rows)
    ref_used, ref_inverse = np.unique(idx, return_inverse=True)
    assert np.array_equal(used, ref_used)
    assert np.array_equal(inverse, ref_inverse.reshape(-1))
    assert np.array_equal(used[inverse], idx)


def test_used_rows_hand_example():
    # rows 0..5, indices 4, 1, 4, 5: distinct sorted 1, 4, 5; positions of 4, 1, 4, 5 in it: 1, 0, 1, 2
    used, inverse = unique_positions(np.array([4, 1, 4, 5]), 6)
    assert used.tolist() == [1, 4, 5]
    assert inverse.tolist() == [1, 0, 1, 2]
