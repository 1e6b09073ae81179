"""`asvbench report`: formats, --out, --det, bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.results import ResultRecord, det_data_from_scores, save_result
from asvbench.trials.fingerprint import TrialsFingerprint

runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def _records(tmp_path, det=False):
    import numpy as np

    fp = TrialsFingerprint(sha256="a", content_sha256="a" * 64, n_lines=6)
    d = None
    if det:
        s = np.array([3.0, 2.0, 1.5, 0.0, 1.0, -1.0])
        d = det_data_from_scores(s, np.array([1, 1, 1, 0, 0, 0], bool))
    paths = []
    for name, eer in (("A", 0.02), ("B", 0.01)):
        rec = ResultRecord(system=name, benchmark="custom:toy", metrics={"eer": eer, "min_dcf": {"0.01": eer * 10}},
                           trials=fp, det=d)
        paths.append(str(save_result(tmp_path / f"{name}.json", rec)))
    return paths


def test_markdown_to_stdout(tmp_path):
    result = runner.invoke(app, ["report", *_records(tmp_path), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "| B | **1.00** | **0.100** |" in result.stdout


def test_out_file_format_from_suffix(tmp_path):
    out = tmp_path / "t.tex"
    result = runner.invoke(app, ["report", *_records(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert r"\textbf{1.00}" in out.read_text()
    js = tmp_path / "t.json"
    assert runner.invoke(app, ["report", *_records(tmp_path), "--out", str(js)]).exit_code == 0
    assert json.loads(js.read_text())["rows"][1]["best"] == [True, True]


def test_rich_default(tmp_path):
    result = runner.invoke(app, ["report", *_records(tmp_path)])
    assert result.exit_code == 0 and "toy" in result.stdout


def test_det_from_records(tmp_path):
    out = tmp_path / "det.png"
    result = runner.invoke(app, ["report", *_records(tmp_path, det=True), "--det", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_det_without_curve_is_user_error(tmp_path):
    result = runner.invoke(app, ["report", *_records(tmp_path), "--det", str(tmp_path / "d.png")])
    assert result.exit_code == 2 and "has no DET curve" in flat(result.stderr)


def test_bad_inputs(tmp_path):
    good = _records(tmp_path)
    (tmp_path / "corrupt.json").write_text('{"schema": "asvbench.result/1", "system": ')
    r = runner.invoke(app, ["report", good[0], str(tmp_path / "corrupt.json")])
    assert r.exit_code == 2 and "not valid JSON" in flat(r.stderr)
    r = runner.invoke(app, ["report", *good, "--format", "docx"])
    # a parser choice since issue 10: refused before any record is read, the valid formats named
    assert r.exit_code == 2 and "'docx' is not one of 'rich', 'markdown'" in flat(r.stderr).replace("│ ", "")
    r = runner.invoke(app, ["report", *good, "--metrics", "eer,cllr"])
    assert r.exit_code == 2 and "has no metric 'cllr'" in flat(r.stderr)
    r = runner.invoke(app, ["report", str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and "not found" in flat(r.stderr)
