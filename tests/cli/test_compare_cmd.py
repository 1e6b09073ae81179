"""`asvbench compare`, and the project's CI regression check against reports/."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.results import ResultRecord, save_result
from asvbench.trials.fingerprint import TrialsFingerprint
from tests.conftest import REPO, shared_path

runner = CliRunner()
A5 = "models/reference_scores/asvspoof5_dev_scores_label.csv"
FP = TrialsFingerprint(sha256="x", content_sha256="c" * 64, n_lines=4)


def _save(tmp_path, name, eer):
    rec = ResultRecord(system="S", benchmark="custom:b", metrics={"eer": eer, "min_dcf": {"0.01": 0.1}}, trials=FP)
    return str(save_result(tmp_path / name, rec))


def test_exit_codes(tmp_path):
    base = _save(tmp_path, "base.json", 0.0100)
    same = runner.invoke(app, ["compare", base, _save(tmp_path, "same.json", 0.0100)])
    assert same.exit_code == 0, same.output
    worse = _save(tmp_path, "worse.json", 0.0120)  # +0.2 percentage points
    assert runner.invoke(app, ["compare", base, worse, "--tolerance", "eer=0.5"]).exit_code == 0
    result = runner.invoke(app, ["compare", base, worse, "--tolerance", "eer=0.1"])
    assert result.exit_code == 1
    assert "REGRESSION" in result.stdout
    assert runner.invoke(app, ["compare", base, worse, "--tolerance", "eer"]).exit_code == 2
    (tmp_path / "bad.json").write_text("{")
    assert runner.invoke(app, ["compare", base, str(tmp_path / "bad.json")]).exit_code == 2


def test_json_output(tmp_path):
    base = _save(tmp_path, "base.json", 0.01)
    result = runner.invoke(app, ["compare", base, _save(tmp_path, "n.json", 0.009), "--json"])
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["metrics"][0]["status"] == "better"


@pytest.mark.parametrize("column,baseline", [("asv_score", "asvspoof5_dev_asv.json"),
                                             ("cm_score", "asvspoof5_dev_cm.json")])
def test_asvspoof5_dev_baseline_has_not_regressed(shared_dir, tmp_path, column, baseline):
    """The project's CI check: recompute the ASVspoof5 dev record, compare with reports/."""
    new = tmp_path / "new.json"
    result = runner.invoke(app, ["metrics", str(shared_path(shared_dir, A5)), "--score-column", column,
                                 "--label-map", "asvspoof5-fusion", "--system", "recomputed",
                                 "--save-result", str(new), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(new.read_text())
    assert record["benchmark"] == "asvspoof5-sasv-dev-scores"
    assert record["trials"]["label_counts"] == {"target": 1484, "nontarget": 5768, "spoof": 22296}
    cmp = runner.invoke(app, ["compare", str(REPO / "reports" / baseline), str(new),
                              "--tolerance", "eer=0.01,min_dcf=0.005"])
    assert cmp.exit_code == 0, cmp.output
