"""One comparison of two embedding stores, for the reader tests (a fast reader against its reference)."""

from __future__ import annotations

import numpy as np


def assert_same_store(ours, ref) -> None:
    """Same keys, float32 rows equal bit for bit, same offsets (or both single-row)."""
    assert ours.keys == ref.keys
    assert ours.matrix.dtype == np.float32
    np.testing.assert_array_equal(ours.matrix, ref.matrix)
    if ref.offsets is None:
        assert ours.offsets is None
    else:
        np.testing.assert_array_equal(ours.offsets, ref.offsets)
