"""metrics._curve.operating_points, filled in place with the targets counted per distinct score,
against the earlier algorithm written plainly here (sort, searchsorted of every distinct score
among the target scores, concatenated arrays): every array equal bit for bit, dtypes too."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.metrics._curve import operating_points


def _plain(s: np.ndarray, y: np.ndarray) -> dict:
    s_sorted = np.sort(s)
    tar_sorted = np.sort(s[y])
    unique = s_sorted[np.concatenate(([True], s_sorted[1:] != s_sorted[:-1]))]  # first of each run (-0.0 or 0.0)
    all_le = np.searchsorted(s_sorted, unique, side="right")
    tar_le = np.searchsorted(tar_sorted, unique, side="right")
    non_le = all_le - tar_le
    n_tar, n_non = len(tar_sorted), len(s) - len(tar_sorted)
    return {"thresholds": np.concatenate(([-np.inf], unique)),
            "fnr": np.concatenate(([0.0], tar_le / n_tar)),
            "fpr": np.concatenate(([1.0], 1.0 - non_le / n_non)),
            "target_counts": np.diff(tar_le, prepend=0), "nontarget_counts": np.diff(non_le, prepend=0),
            "n_target": n_tar, "n_nontarget": n_non}


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.tuples(st.sampled_from([-1.5, 0.0, 0.1, 0.3, 2.0]) | st.floats(-3, 3), st.booleans()),
                       min_size=2, max_size=80))
def test_equal_to_the_plain_algorithm(values):
    s = np.array([v for v, _ in values], dtype=np.float64)
    y = np.array([t for _, t in values])
    if y.all() or not y.any():
        y[0], y[-1] = True, False
    got = operating_points(s, y)
    for name, want in _plain(s, y).items():
        value = getattr(got, name)
        if isinstance(want, np.ndarray):
            assert value.dtype == want.dtype, name
            assert value.tobytes() == want.tobytes(), name
        else:
            assert value == want, name


def test_many_scores_and_ties_bit_for_bit():
    rng = np.random.default_rng(3)
    s = np.round(rng.normal(size=200_000), 3)  # about 6,000 distinct values: long runs of ties
    y = rng.random(200_000) < 0.02
    got, want = operating_points(s, y), _plain(s, y)
    for name in ("thresholds", "fnr", "fpr", "target_counts", "nontarget_counts"):
        assert getattr(got, name).tobytes() == want[name].tobytes(), name
