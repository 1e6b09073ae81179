"""``asvbench significance A B``: paired bootstrap and McNemar through the CLI, and its bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.metrics import compute_eer
from tests.stats._cases import write_pair


def _run(*args):
    return CliRunner().invoke(app, ["significance", *map(str, args)])


def _said(result) -> str:
    return " ".join(result.output.split())


def test_significance_json_and_sentence(tmp_path):
    scores, labels = write_pair(tmp_path)
    r = _run(tmp_path / "a.tsv", tmp_path / "b.tsv", "--ci-reps", 300, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    eer = got["metrics"]["eer"]
    assert eer["a"] == pytest.approx(compute_eer(scores, labels).eer)
    assert eer["b"] == pytest.approx(compute_eer(scores + 1.5 * labels, labels).eer)
    assert eer["significant"] and eer["interval"][1] < 0
    assert got["bootstrap"]["unit"] == "speaker" and got["bootstrap"]["n_units"] == 16
    assert "significant at the 5 % level; B is better" in got["verdict"]
    assert got["mcnemar"]["only_b_correct"] > got["mcnemar"]["only_a_correct"]
    table = _run(tmp_path / "a.tsv", tmp_path / "b.tsv", "--ci-reps", 300)
    assert "B is better" in _said(table) and "McNemar at each system's EER threshold" in _said(table)


def test_significance_table_of_a_system_with_itself(tmp_path):
    write_pair(tmp_path)
    r = _run(tmp_path / "a.tsv", tmp_path / "a.tsv", "--ci-reps", 50)
    assert r.exit_code == 0, r.output
    assert "not significant at the 5 % level" in _said(r)
    assert "16 speakers" in _said(r)


def test_different_trial_lists_are_an_error_with_counts(tmp_path):
    write_pair(tmp_path)
    lines = (tmp_path / "b.tsv").read_text().splitlines(keepends=True)
    (tmp_path / "c.tsv").write_text("".join(lines[:-7]))
    r = _run(tmp_path / "a.tsv", tmp_path / "c.tsv")
    assert r.exit_code == 2
    assert "7 of A's 192 trials are not in B, 0 of B's 185 not in A" in _said(r)


@pytest.mark.parametrize("level", ["0", "100"])
def test_level_outside_0_100(tmp_path, level):
    write_pair(tmp_path)
    r = _run(tmp_path / "a.tsv", tmp_path / "b.tsv", "--ci", level)
    assert r.exit_code == 2 and "between 0 and 100" in _said(r)


def test_underivable_speakers_name_utt2spk(tmp_path):
    (tmp_path / "a.tsv").write_text("M1 T1 0.9 target\nM1 T2 0.1 nontarget\nM2 T3 0.8 target\nM2 T4 0.3 nontarget\n")
    r = _run(tmp_path / "a.tsv", tmp_path / "a.tsv")
    assert r.exit_code == 2 and "--utt2spk" in _said(r)
    (tmp_path / "spk").write_text("M1 s1\nM2 s2\n")
    r = _run(tmp_path / "a.tsv", tmp_path / "a.tsv", "--utt2spk", tmp_path / "spk", "--ci-reps", 20)
    assert r.exit_code == 0, r.output
