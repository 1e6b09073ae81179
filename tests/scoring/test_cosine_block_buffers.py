"""cosine_pairs' float32 path gathers each block into per-thread buffers reused from block to block;
its scores must equal, bit for bit, the earlier algorithm written plainly here (fresh fancy-indexed
rows per block, their float32 ``vecdot`` widened, times both inverse norms), over several blocks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.scoring.cosine import _BLOCK, EmbeddedSide, cosine_pairs


def _plain(matrix, rows_a, rows_b, inv_a, inv_b, a_idx, b_idx) -> np.ndarray:
    out = np.empty(a_idx.shape[0])
    for lo in range(0, a_idx.shape[0], _BLOCK):
        hi = min(a_idx.shape[0], lo + _BLOCK)
        out[lo:hi] = np.vecdot(matrix[rows_a[a_idx[lo:hi]]], matrix[rows_b[b_idx[lo:hi]]])
        out[lo:hi] *= inv_a[a_idx[lo:hi]] * inv_b[b_idx[lo:hi]]
    return out


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dim=st.sampled_from([1, 3, 16, 33, 256]),
       n_trials=st.sampled_from([1, 7, _BLOCK, 2 * _BLOCK + 5]), scale=st.sampled_from([1e-3, 1.0, 1e4]))
def test_equal_to_fresh_gathers(seed, dim, n_trials, scale):
    rng = np.random.default_rng(seed)
    matrix = (rng.standard_normal((300, dim)) * scale).astype(np.float32)
    rows_a = rng.permutation(300)[:120]  # ids -> store rows, as EmbeddedSide.rows
    rows_b = rng.permutation(300)[:150]
    inv_a, inv_b = rng.random(120) + 0.5, rng.random(150) + 0.5
    a_idx, b_idx = rng.integers(0, 120, n_trials), rng.integers(0, 150, n_trials)
    got = cosine_pairs(EmbeddedSide(matrix, rows_a, inv_a, None), EmbeddedSide(matrix, rows_b, inv_b, None),
                       a_idx, b_idx, "float32")
    want = _plain(matrix, rows_a, rows_b, inv_a, inv_b, a_idx, b_idx)
    assert got.dtype == np.float64
    assert got.tobytes() == want.tobytes()


def test_a_memory_mapped_store(tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "m.npy", rng.standard_normal((50, 8)).astype(np.float32))
    matrix = np.load(tmp_path / "m.npy", mmap_mode="r")
    rows, inv = np.arange(50), np.ones(50)
    a_idx, b_idx = rng.integers(0, 50, _BLOCK + 3), rng.integers(0, 50, _BLOCK + 3)
    got = cosine_pairs(EmbeddedSide(matrix, rows, inv, None), EmbeddedSide(matrix, rows, inv, None), a_idx, b_idx,
                       "float32")
    assert got.tobytes() == _plain(np.asarray(matrix), rows, rows, inv, inv, a_idx, b_idx).tobytes()
