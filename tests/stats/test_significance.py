"""Paired difference and McNemar (asvbench.metrics.significance), intervals of summaries
(asvbench.stats.ci) and the paired comparison of two score files (asvbench.stats.paired)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.metrics import summarize
from asvbench.metrics.significance import mcnemar, paired_difference
from asvbench.stats.ci import CiSettings, format_interval, summary_intervals
from asvbench.stats.units import derive_units
from asvbench.types import Label


def test_paired_difference_by_hand():
    # d = b - a = [1, 2, 3, -1]: 1 replicate <= 0, 3 >= 0 -> p = 2 * (1 + 1) / (4 + 1) = 0.8
    d = paired_difference(0.5, 0.7, [0, 0, 0, 1], [1, 2, 3, 0], level=50)
    assert d.difference == pytest.approx(0.2)
    assert d.p_value == pytest.approx(0.8)
    # 25th / 75th percentiles of sorted [-1, 1, 2, 3] (positions 0.75 and 2.25): -1 + 0.75 * 2 = 0.5, 2.25
    assert d.interval == pytest.approx((0.5, 2.25))
    # all 9 differences > 0: p = 2 * (0 + 1) / 10 = 0.2, never 0
    assert paired_difference(0, 1, np.zeros(9), np.ones(9), 95).p_value == pytest.approx(0.2)


def test_mcnemar_exact_binomial_by_hand():
    # 0 trials only A gets right, 5 only B: two-sided exact binomial p = 2 * 0.5^5 = 0.0625
    a = np.array([False] * 5 + [True] * 10)
    b = np.array([True] * 5 + [True] * 10)
    m = mcnemar(a, b)
    assert (m.only_a_correct, m.only_b_correct, m.method) == (0, 5, "exact binomial")
    assert m.p_value == pytest.approx(0.0625)


def test_mcnemar_chi_square_by_hand():
    # 10 only A, 30 only B: chi2 = (|10 - 30| - 1)^2 / 40 = 9.025; p = erfc(sqrt(9.025 / 2)) (1 dof)
    a = np.r_[np.ones(10, bool), np.zeros(30, bool), np.ones(5, bool)]
    b = np.r_[np.zeros(10, bool), np.ones(30, bool), np.ones(5, bool)]
    m = mcnemar(a, b)
    assert m.method.startswith("chi-square")
    assert m.p_value == pytest.approx(math.erfc(math.sqrt(9.025 / 2)))


def test_format_interval():
    assert format_interval(0.0123, (0.0115, 0.0131), scale=100, decimals=2) == "1.23 [1.15, 1.31]"
    # pm: the larger half-width, 1.31 - 1.23 = 0.08 vs 1.23 - 1.20 = 0.03
    assert format_interval(0.0123, (0.0120, 0.0131), scale=100, decimals=2, style="pm") == "1.23 ± 0.08"
    with pytest.raises(AsvbenchError, match="unknown interval style"):
        format_interval(1, (0, 2), style="x")


def _speaker_set(seed=0, n_spk=20):
    rng = np.random.default_rng(seed)
    enroll, labels, scores = [], [], []
    for s in range(n_spk):
        for k in range(15):
            tgt = k < 5
            enroll.append(f"id{s:05d}/e.wav")
            labels.append(Label.TARGET if tgt else Label.NONTARGET)
            scores.append(rng.normal(2.0 if tgt else 0.0, 1.0))
    return np.array(scores), np.array(labels, np.int8), enroll


def test_summary_intervals_hold_the_point_estimates():
    scores, labels, enroll = _speaker_set()
    units = derive_units("speaker", enroll, None, len(enroll))
    got = summary_intervals(scores, labels, units, CiSettings(reps=200), p_targets=(0.01, 0.05))
    point = summarize(scores, labels, p_targets=(0.01, 0.05))
    assert set(got.intervals) == {"eer", "min_dcf@0.01", "min_dcf@0.05", "act_dcf@0.01", "act_dcf@0.05", "cllr",
                                  "min_cllr"}
    lo, hi = got.intervals["eer"]
    assert lo <= point.eer <= hi and lo < hi
    assert got.units_per_class == {"target": 20, "nontarget": 20}
    again = summary_intervals(scores, labels, units, CiSettings(reps=200), p_targets=(0.01, 0.05))
    assert again.intervals == got.intervals and again.pairing == got.pairing  # same seed, same resamples
    other = summary_intervals(scores, labels, units, CiSettings(reps=200, seed=1), p_targets=(0.01, 0.05))
    assert other.pairing != got.pairing


def _write(path, enroll, test, scores, labels):
    names = {Label.TARGET: "target", Label.NONTARGET: "nontarget"}
    path.write_text("".join(f"{e} {t} {float(s)!r} {names[int(v)]}\n" for e, t, s, v in zip(enroll, test, scores, labels)))


def test_paired_comparison_of_two_files(tmp_path):
    from asvbench.stats.paired import compare_systems

    scores, labels, enroll = _speaker_set(1)
    test = [f"t{i}" for i in range(len(enroll))]
    better = scores + np.where(labels == Label.TARGET, 1.5, 0.0)  # B separates the classes much better
    _write(tmp_path / "a.txt", enroll, test, scores, labels)
    order = np.random.default_rng(0).permutation(len(enroll))  # B's file lists the trials in another order
    _write(tmp_path / "b.txt", [enroll[i] for i in order], [test[i] for i in order], better[order], labels[order])
    got = compare_systems(tmp_path / "a.txt", tmp_path / "b.txt", CiSettings(reps=300))
    assert got.differences["eer"].a == pytest.approx(summarize(scores, labels).eer)
    assert got.differences["eer"].b == pytest.approx(summarize(better, labels).eer)
    assert got.significant("eer") and "B is better" in got.verdict("eer")
    assert got.mcnemar.only_b_correct > got.mcnemar.only_a_correct
    same = compare_systems(tmp_path / "a.txt", tmp_path / "a.txt", CiSettings(reps=100))
    assert same.differences["eer"].interval == (0.0, 0.0) and not same.significant("eer")
    assert "not significant" in same.verdict("eer")


def test_different_trial_lists_say_how_many_differ(tmp_path):
    from asvbench.stats.paired import compare_systems

    scores, labels, enroll = _speaker_set(2)
    test = [f"t{i}" for i in range(len(enroll))]
    _write(tmp_path / "a.txt", enroll, test, scores, labels)
    _write(tmp_path / "b.txt", enroll[3:], test[3:], scores[3:], labels[3:])
    with pytest.raises(AsvbenchError, match="3 of A's 300 trials are not in B, 0 of B's 297 not in A"):
        compare_systems(tmp_path / "a.txt", tmp_path / "b.txt", CiSettings(reps=10))


def test_min_cllr_of_large_lists_uses_the_first_replicates(monkeypatch):
    import asvbench.stats.ci as ci

    scores, labels, enroll = _speaker_set(3)
    units = derive_units("speaker", enroll, None, len(enroll))
    full = summary_intervals(scores, labels, units, CiSettings(reps=150))
    monkeypatch.setattr(ci, "MIN_CLLR_FULL_TRIALS", 100)  # 300 trials count as large now
    large = summary_intervals(scores, labels, units, CiSettings(reps=150))
    assert large.fewer_replicates() == {"min_cllr": ci.MIN_CLLR_REPS_LARGE}
    assert large.to_dict()["replicates_per_metric"] == {"min_cllr": 100}
    np.testing.assert_array_equal(large.replicates["min_cllr"], full.replicates["min_cllr"][:100])
    np.testing.assert_array_equal(large.replicates["eer"], full.replicates["eer"])
