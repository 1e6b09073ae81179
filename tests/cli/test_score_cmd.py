"""`asvbench score`: cosine scoring through the CLI, score file and metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.io.scores import read_scores
from asvbench.testing import write_geometry_case, write_store, write_trials
from asvbench.types import Label

runner = CliRunner()
T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_json_and_score_file(tmp_path):
    case = write_geometry_case(tmp_path)
    out = tmp_path / "res" / "scores.tsv"
    result = _ok(runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                     "--out", str(out), "--json"]))
    payload = json.loads(result.stdout)
    for key in ("n_target", "n_nontarget", "n_spoof", "eer", "eer_threshold", "min_dcf", "act_dcf", "cllr",
                "min_cllr", "n_trials", "n_scored", "n_missing", "scores_file"):
        assert key in payload, key
    assert (payload["n_trials"], payload["n_scored"], payload["n_missing"]) == (10, 10, 0)
    assert payload["scores_file"] == str(out)
    assert payload["eer"] == 0.0  # targets >= cos 45 > 0.5 >= non-targets
    back = read_scores(out)
    got = {(e, t): s for e, t, s in zip(back.enroll, back.test, back.scores)}
    assert got == pytest.approx(case.expected, abs=1e-7)
    assert out.read_text().startswith("enroll\ttest\tscore\tlabel\n")
    assert "wrote 10 scores" in result.stderr


def test_table_output(tmp_path):
    case = write_geometry_case(tmp_path)
    result = _ok(runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                     "--out", str(tmp_path / "s.tsv")]))
    assert "EER (interp)" in result.stdout and "0.0000 %" in result.stdout and "5 / 5 / 0" in result.stdout


def test_pool_norm_enroll_map_center_and_format(tmp_path):
    # M = rows (3,0), (0,1) of x and (0,4) of z; test y = (1,0) (target), w = (0,1) (nontarget)
    write_store(tmp_path / "store", {"x": [[3.0, 0.0], [0.0, 1.0]], "z": [[0.0, 4.0]], "y": [[1.0, 0.0]],
                                     "w": [[0.0, 1.0]]})
    write_trials(tmp_path / "trl.txt", ["M", "M"], ["y", "w"], [T, N], "cnceleb")
    (tmp_path / "enroll.map").write_text("M x z\n")
    base = ["score", "--trials", str(tmp_path / "trl.txt"), "--trials-format", "cnceleb", "--embeddings",
            str(tmp_path / "store"), "--enroll-map", str(tmp_path / "enroll.map"), "--out", str(tmp_path / "s.tsv")]
    _ok(runner.invoke(app, base + ["--pool-norm", "none"]))
    # none: (1, 5/3): cos with (1,0) = 3/sqrt(34); with (0,1) = 5/sqrt(34)
    np.testing.assert_allclose(read_scores(tmp_path / "s.tsv").scores, [3 / math.sqrt(34), 5 / math.sqrt(34)])
    _ok(runner.invoke(app, base + ["--pool-norm", "l2"]))
    # l2: (1/3, 2/3): 1/sqrt5 and 2/sqrt5
    np.testing.assert_allclose(read_scores(tmp_path / "s.tsv").scores, [1 / math.sqrt(5), 2 / math.sqrt(5)])
    np.save(tmp_path / "c.npy", np.array([1.0, 5 / 3 - 1.0]))
    _ok(runner.invoke(app, base + ["--center", str(tmp_path / "c.npy")]))
    # centred M = (1, 5/3) - (1, 2/3) = (0, 1); y - c = (0, -2/3) -> -1; w - c = (-1, 1/3) -> (1/3)/sqrt(10/9)
    np.testing.assert_allclose(read_scores(tmp_path / "s.tsv").scores, [-1.0, (1 / 3) / math.sqrt(10 / 9)])


def test_separate_enroll_store(tmp_path):
    write_store(tmp_path / "enr", {"e": [1.0, 1.0]})
    write_store(tmp_path / "tst", {"t1": [2.0, 2.0], "t2": [1.0, -1.0]})
    write_trials(tmp_path / "trl.txt", ["e", "e"], ["t1", "t2"], [T, N], "kaldi")
    result = _ok(runner.invoke(app, ["score", "--trials", str(tmp_path / "trl.txt"), "--embeddings",
                                     str(tmp_path / "tst"), "--enroll-embeddings", str(tmp_path / "enr"),
                                     "--out", str(tmp_path / "s.tsv"), "--json"]))
    assert json.loads(result.stdout)["eer"] == 0.0
    np.testing.assert_allclose(read_scores(tmp_path / "s.tsv").scores, [1.0, 0.0], atol=1e-12)


def test_allow_missing_reports_count(tmp_path):
    case = write_geometry_case(tmp_path)
    extra = case.trials.read_text() + "0 a000 lost1.wav\n1 lost2.wav b030\n"
    case.trials.write_text(extra)
    args = ["score", "--trials", str(case.trials), "--embeddings", str(case.store), "--out", str(tmp_path / "s.tsv")]
    fail = runner.invoke(app, args)
    assert fail.exit_code == 2
    message = " ".join(fail.stderr.split())
    assert "1 enrolment keys (first: 'lost2.wav')" in message and "1 test keys (first: 'lost1.wav')" in message
    result = _ok(runner.invoke(app, args + ["--allow-missing", "--json"]))
    payload = json.loads(result.stdout)
    assert (payload["n_trials"], payload["n_scored"], payload["n_missing"]) == (12, 10, 2)
    assert "skipped 2 of 12 trials" in " ".join(result.stderr.split())


def test_no_metrics_for_one_class_lists(tmp_path):
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [1.0, 1.0]})
    write_trials(tmp_path / "trl.txt", ["a"], ["b"], [T], "voxceleb")
    args = ["score", "--trials", str(tmp_path / "trl.txt"), "--embeddings", str(tmp_path / "store"),
            "--out", str(tmp_path / "s.tsv")]
    fail = runner.invoke(app, args)
    assert fail.exit_code == 2 and "only target trials" in fail.stderr
    _ok(runner.invoke(app, args + ["--no-metrics"]))
    assert read_scores(tmp_path / "s.tsv").scores[0] == pytest.approx(1 / math.sqrt(2))
