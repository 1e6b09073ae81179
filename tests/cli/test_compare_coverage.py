"""Records of one trial list that scored different shares of it (``score --allow-missing``):
``compare`` refuses them unless ``--allow-partial``; ``report`` marks partial values."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.errors import AsvbenchError
from asvbench.report.compare import compare_records
from asvbench.report.tables import PARTIAL_MARK, build_table, render_markdown
from asvbench.results import Coverage, ResultRecord, load_result, save_result
from asvbench.trials.fingerprint import TrialsFingerprint

runner = CliRunner()
FP = TrialsFingerprint(sha256="x", content_sha256="c" * 64, n_lines=10)


def _record(coverage, system="S", eer=0.01, trials=FP):
    return ResultRecord(system=system, benchmark="custom:b", metrics={"eer": eer}, trials=trials, coverage=coverage)


def _save(tmp_path, name, coverage):
    return str(save_result(tmp_path / name, _record(coverage)))


def test_compare_refuses_different_coverage_of_one_list(tmp_path):
    full, part = _save(tmp_path, "full.json", Coverage(10, 10)), _save(tmp_path, "part.json", Coverage(7, 10))
    refused = runner.invoke(app, ["compare", full, part])
    assert refused.exit_code == 2
    assert "baseline the whole list, new 7 of 10 trials scored (70.00 %)" in " ".join(refused.stderr.split())
    allowed = runner.invoke(app, ["compare", full, part, "--allow-partial", "--json"])
    assert allowed.exit_code == 0, allowed.output
    assert any("different shares" in n for n in json.loads(allowed.stdout)["notes"])


def test_equal_coverage_and_old_records_compare(tmp_path):
    assert runner.invoke(app, ["compare", _save(tmp_path, "a.json", Coverage(7, 10)),
                               _save(tmp_path, "b.json", Coverage(7, 10))]).exit_code == 0
    # no coverage field (a record from before it existed) counts as the whole list
    assert runner.invoke(app, ["compare", _save(tmp_path, "old.json", None),
                               _save(tmp_path, "new.json", Coverage(10, 10))]).exit_code == 0
    with pytest.raises(AsvbenchError, match="different shares"):
        compare_records(_record(None), _record(Coverage(9, 10)))


def test_another_list_is_a_regression_not_a_coverage_error():
    other = TrialsFingerprint(sha256="y", content_sha256="d" * 64, n_lines=10)
    cmp = compare_records(_record(Coverage(10, 10)), _record(Coverage(7, 10), trials=other))
    assert any("trial list changed" in r for r in cmp.regressions)


def test_coverage_round_trips_and_is_checked(tmp_path):
    path = tmp_path / "r.json"
    save_result(path, _record(Coverage(7, 10)))
    assert load_result(path).coverage == Coverage(7, 10)
    data = json.loads(path.read_text())
    del data["coverage"]
    path.write_text(json.dumps(data))
    assert load_result(path).coverage is None
    data["coverage"] = {"scored": 11, "listed": 10}
    path.write_text(json.dumps(data))
    with pytest.raises(AsvbenchError, match="11 of 10 trials scored"):
        load_result(path)


def test_report_marks_partial_values():
    table = build_table([_record(Coverage(10, 10), "Full", 0.01), _record(Coverage(7, 10), "Part", 0.02)],
                        metrics=["eer"])
    text = render_markdown(table)
    assert f"| Part | 2.00{PARTIAL_MARK} |" in text and "| Full | **1.00** |" in text  # EER in %: 0.02 -> 2.00
    assert f"- {PARTIAL_MARK} Part on custom:b: 7 of 10 trials scored (70.00 %), not the whole list" in text


def test_report_command_shows_the_footnote(tmp_path):
    part = _save(tmp_path, "part.json", Coverage(7, 10))
    result = runner.invoke(app, ["report", part, "--format", "markdown", "--metrics", "eer"])
    assert result.exit_code == 0, result.output
    assert f"1.00{PARTIAL_MARK}" in result.stdout and "7 of 10 trials scored" in result.stdout
