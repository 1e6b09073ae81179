"""`asvbench det`: DET plots and histograms from score files."""

from __future__ import annotations

from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

runner = CliRunner()
A5 = "models/reference_scores/asvspoof5_dev_scores_label.csv"


def _scores(tmp_path):
    path = tmp_path / "s.txt"
    rows = ["e1 t1 2.0 target", "e1 t2 1.0 target", "e1 t3 0.5 nontarget", "e1 t4 -1.0 nontarget",
            "e1 t5 1.5 spoof"]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_det_and_hist(tmp_path):
    s = _scores(tmp_path)
    out, hist = tmp_path / "d.svg", tmp_path / "h.png"
    result = runner.invoke(app, ["det", str(s), str(s), "--label", "one", "--label", "two", "--out", str(out),
                                 "--hist", str(hist), "--negatives", "nontarget"])
    assert result.exit_code == 0, result.output
    assert "one" in out.read_text()
    assert (tmp_path / "h-1.png").exists() and (tmp_path / "h-2.png").exists()


def test_det_real_sasv_scores(shared_dir, tmp_path):
    path = shared_path(shared_dir, A5)
    out = tmp_path / "d.png"
    result = runner.invoke(app, ["det", str(path), "--score-column", "cm_score", "--label-map", "asvspoof5-fusion",
                                 "--negatives", "spoof", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_det_bad_input(tmp_path):
    s = _scores(tmp_path)
    r = runner.invoke(app, ["det", str(s), "--out", str(tmp_path / "d.gif")])
    assert r.exit_code == 2 and "unknown plot format" in " ".join(r.stderr.split())
    r = runner.invoke(app, ["det", str(s), "--negatives", "bogus", "--out", str(tmp_path / "d.png")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["det", str(s), "--label", "a", "--label", "b", "--out", str(tmp_path / "d.png")])
    assert r.exit_code == 2 and "--label" in " ".join(r.stderr.split())
