"""run_scoring: trial list + stores -> canonical score file + metrics, notes, atomic output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.io.scores import read_scores
from asvbench.scoring.pipeline import ScoreSettings, run_scoring
from asvbench.testing import write_geometry_case, write_store, write_trials
from asvbench.types import Label

T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF


def test_geometry_case_end_to_end(tmp_path):
    case = write_geometry_case(tmp_path)
    out = tmp_path / "out" / "scores.tsv"
    run = run_scoring(case.trials, case.store, out=out)
    assert run.out == out
    back = read_scores(out)
    got = {(e, t): s for e, t, s in zip(back.enroll, back.test, back.scores)}
    assert got == pytest.approx(case.expected, abs=1e-7)
    assert [case.labels[(e, t)] for e, t in zip(back.enroll, back.test)] == list(back.labels)
    # targets (angle < 50 deg) all score >= cos 45 = 0.707 > every non-target (<= cos 60 = 0.5): separated
    assert run.summary.eer == 0.0 and run.summary.min_dcf["0.01"] == 0.0
    assert (run.summary.n_target, run.summary.n_nontarget) == (5, 5)
    assert run.notes == []


def test_settings_flow_through(tmp_path):
    case = write_geometry_case(tmp_path)
    settings = ScoreSettings(eer_method="kaldi", p_targets=(0.05, 0.5), c_miss=2.0, c_fa=3.0)
    run = run_scoring(case.trials, case.store, out=None, settings=settings)
    assert run.out is None
    s = run.summary
    assert s.eer_method == "kaldi" and list(s.min_dcf) == ["0.05", "0.5"] and (s.c_miss, s.c_fa) == (2.0, 3.0)


def test_sasv_trials_with_enrolment_map_and_centre(tmp_path):
    # model M1 enrolled from e1 (1,0) and e2 (0,1); centre (0, 0) -> M1 = (0.5, 0.5)
    write_store(tmp_path / "store", {"e1": [1.0, 0.0], "e2": [0.0, 1.0], "t1": [1.0, 1.0], "t2": [1.0, -1.0],
                                     "t3": [2.0, 2.1]})
    write_trials(tmp_path / "trl.txt", ["M1", "M1", "M1"], ["t1", "t2", "t3"], [T, N, S], "asvspoof")
    (tmp_path / "enr.txt").write_text("M1 e1,e2\n")
    np.save(tmp_path / "c.npy", np.zeros(2))
    run = run_scoring(tmp_path / "trl.txt", tmp_path / "store", out=tmp_path / "s.tsv",
                      enroll_maps=[tmp_path / "enr.txt"], center=tmp_path / "c.npy")
    # cos((.5,.5),(1,1)) = 1; cos((.5,.5),(1,-1)) = 0; cos((.5,.5),(2,2.1)) = 4.1/(sqrt2 * sqrt(8.41))
    want = [1.0, 0.0, 4.1 / (math.sqrt(2) * math.sqrt(8.41))]
    np.testing.assert_allclose(run.scores, want, atol=1e-7)
    assert (run.summary.n_target, run.summary.n_nontarget, run.summary.n_spoof) == (1, 1, 1)
    assert run.summary.sv_eer == 0.0 and run.summary.spf_eer == 0.0  # 1 > 0.9995 > 0
    assert list(read_scores(tmp_path / "s.tsv").labels) == [T, N, S]


def test_missing_allowed_notes_and_one_class(tmp_path):
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 1.0]})
    write_trials(tmp_path / "trl.txt", ["a", "a", "a", "a"], ["b", "x", "y", "c"], [T, N, N, N], "voxceleb")
    with pytest.raises(AsvbenchError, match="2 test keys"):
        run_scoring(tmp_path / "trl.txt", tmp_path / "store", out=tmp_path / "s.tsv")
    assert not (tmp_path / "s.tsv").exists()
    run = run_scoring(tmp_path / "trl.txt", tmp_path / "store", out=tmp_path / "s.tsv",
                      settings=ScoreSettings(allow_missing=True))
    assert run.notes == ["skipped 2 of 4 trials whose embeddings are missing (2 test keys)"]
    assert (run.summary.n_target, run.summary.n_nontarget) == (1, 1)
    assert len(read_scores(tmp_path / "s.tsv")) == 2


def test_one_class_lists(tmp_path):
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [0.0, 1.0]})
    write_trials(tmp_path / "one.txt", ["a", "a"], ["b", "a"], [T, T], "voxceleb")
    with pytest.raises(AsvbenchError, match=r"only target trials \(2\)"):
        run_scoring(tmp_path / "one.txt", tmp_path / "store", out=tmp_path / "s.tsv")
    assert not (tmp_path / "s.tsv").exists()
    run = run_scoring(tmp_path / "one.txt", tmp_path / "store", out=tmp_path / "s.tsv",
                      settings=ScoreSettings(compute_metrics=False))
    assert run.summary is None and len(read_scores(tmp_path / "s.tsv")) == 2
    # both classes listed, but the only non-target is missing: one class is left after skipping
    write_trials(tmp_path / "two.txt", ["a", "a"], ["b", "x"], [T, N], "voxceleb")
    with pytest.raises(AsvbenchError, match="only one class is left"):
        run_scoring(tmp_path / "two.txt", tmp_path / "store", out=tmp_path / "two.tsv",
                    settings=ScoreSettings(allow_missing=True))
    assert not (tmp_path / "two.tsv").exists()  # a failed run writes no score file


def test_normalise_hook(tmp_path):
    case = write_geometry_case(tmp_path)
    run = run_scoring(case.trials, case.store, out=tmp_path / "s.tsv", normalise=lambda scored: 2 * scored.scores)
    np.testing.assert_allclose(read_scores(tmp_path / "s.tsv").scores, 2 * run.scored.scores)


def test_failed_scoring_leaves_existing_output_untouched(tmp_path):
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [0.0, 1.0], "z": [0.0, 0.0]})
    write_trials(tmp_path / "trl.txt", ["a", "a"], ["b", "z"], [T, N], "voxceleb")
    out = tmp_path / "s.tsv"
    out.write_text("previous\n")
    with pytest.raises(AsvbenchError, match="zero norm"):
        run_scoring(tmp_path / "trl.txt", tmp_path / "store", out=out)
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.tsv", "store", "trl.txt"]
