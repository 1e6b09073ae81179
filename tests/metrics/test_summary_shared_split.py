"""summarize() splits the scores by class once and computes minCllr's costs per PAV bin; its values
must equal, bit for bit, the earlier algorithm written plainly here (each metric splitting the
scores itself, the costs of every distinct score computed from the repeated LLRs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.metrics import pav_llrs
from asvbench.metrics._curve import operating_points
from asvbench.metrics.dcf import bayes_threshold, min_dcf_from_points
from asvbench.metrics.eer import eer_from_points
from asvbench.metrics.summary import summarize
from asvbench.types import Label

LN2 = math.log(2.0)


def _plain_cllr(tar_llr, non_llr, tar_w=None, non_w=None) -> float:
    c_tar = np.logaddexp(0.0, -tar_llr) / LN2
    c_non = np.logaddexp(0.0, non_llr) / LN2
    return 0.5 * (float(np.average(c_tar, weights=tar_w)) + float(np.average(c_non, weights=non_w)))


def _plain_summary(s: np.ndarray, labels: np.ndarray, p_targets, c_miss: float, c_fa: float) -> dict:
    y = labels == Label.TARGET
    points = operating_points(s, y)
    eer = eer_from_points(points, "interp")
    act = {}
    for p in p_targets:
        thr = bayes_threshold(p, c_miss, c_fa)
        p_miss, p_fa = float(np.mean(s[y] < thr)), float(np.mean(s[~y] >= thr))
        act[f"{p:g}"] = (c_miss * p * p_miss + c_fa * (1.0 - p) * p_fa) / min(c_miss * p, c_fa * (1.0 - p))
    _, llr, tar_counts, non_counts = pav_llrs(s, y)
    has_tar, has_non = tar_counts > 0, non_counts > 0
    return {"eer": eer.eer, "eer_threshold": eer.threshold,
            "min_dcf": {f"{p:g}": min_dcf_from_points(points, p, c_miss, c_fa).value for p in p_targets},
            "act_dcf": act, "cllr": _plain_cllr(s[y], s[~y]),
            "min_cllr": _plain_cllr(llr[has_tar], llr[has_non], tar_counts[has_tar], non_counts[has_non]),
            "n_target": int(y.sum()), "n_nontarget": int((~y).sum())}


def _same(a, b) -> bool:
    return repr(a) == repr(b)  # float repr: equal bits (and -0.0 apart from 0.0, inf and nan spelled out)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.tuples(st.sampled_from([-4.6, -1.5, 0.0, 0.1, 0.3, 2.0, 4.6]) | st.floats(-8, 8),
                                 st.booleans()), min_size=2, max_size=120),
       p_targets=st.sampled_from([(0.01,), (0.01, 0.05), (0.5,), (0.001, 0.3)]),
       costs=st.sampled_from([(1.0, 1.0), (2.0, 1.0), (1.0, 10.0)]))
def test_equal_to_the_plain_algorithm(values, p_targets, costs):
    s = np.array([v for v, _ in values], dtype=np.float64)
    labels = np.array([Label.TARGET if t else Label.NONTARGET for _, t in values], dtype=np.int8)
    if (labels == Label.TARGET).all() or not (labels == Label.TARGET).any():
        labels[0], labels[-1] = Label.TARGET, Label.NONTARGET
    got = summarize(s, labels, p_targets=p_targets, c_miss=costs[0], c_fa=costs[1]).to_dict()
    want = _plain_summary(s, labels, p_targets, *costs)
    for name, value in want.items():
        assert _same(got[name], value), name


@pytest.mark.parametrize("threaded_from", [10**9, 100], ids=["inline", "threaded"])
def test_many_scores_with_ties_equal_to_the_plain_algorithm(monkeypatch, threaded_from):
    # from THREADED_SUMMARY_MIN trials on, actDCF and Cllr run on a second thread: the same values
    import asvbench.metrics.summary as summary

    monkeypatch.setattr(summary, "THREADED_SUMMARY_MIN", threaded_from)
    rng = np.random.default_rng(7)
    labels = (rng.random(20_000) < 0.3).astype(np.int8)
    s = np.round(np.where(labels == 1, rng.normal(1.0, 1.0, labels.shape), rng.normal(-1.0, 1.0, labels.shape)), 2)
    got = summarize(s, labels, p_targets=(0.01, 0.05)).to_dict()
    want = _plain_summary(s, labels, (0.01, 0.05), 1.0, 1.0)
    assert all(_same(got[name], value) for name, value in want.items())
    assert 0.0 < got["min_cllr"] <= got["cllr"]  # calibration can only lower the cost (a sanity check, not the reference)


def test_threaded_summary_passes_an_error_of_the_thread_on(monkeypatch):
    import asvbench.metrics.summary as summary

    def broken(*args):
        raise RuntimeError("cllr failed")

    monkeypatch.setattr(summary, "THREADED_SUMMARY_MIN", 1)
    monkeypatch.setattr(summary, "cllr_of_split", broken)
    with pytest.raises(RuntimeError, match="cllr failed"):
        summarize(np.array([0.0, 1.0, 2.0]), np.array([0, 1, 1], dtype=np.int8))
