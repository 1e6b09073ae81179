"""``--meta KEY=VALUE`` on every command that writes a result record (metrics, metrics --protocol, fuse):
the record carries the metadata and ``report --columns`` prints it (issue 17)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from asvbench.cli.main import app

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _asv_scores(tmp_path):
    # targets 0.9, 0.8 above non-targets 0.2, 0.1: EER 0 and minDCF 0 whatever the definition
    path = tmp_path / "s.txt"
    path.write_text("e1 t1 0.9 target\ne1 t2 0.8 target\ne1 t3 0.1 nontarget\ne1 t4 0.2 nontarget\n")
    return path


def _sasv_case(tmp_path) -> list[str]:
    """3 trials: target, non-target, spoof. The ASV scores put the target first (0.8 > 0.7 > 0.1) and the
    CM logits put the spoof last (-4 < 2 < 3), so every fused / single-system SASV EER is 0."""
    (tmp_path / "proto.txt").write_text("S1 T1 bonafide target\nS1 T2 bonafide nontarget\nS1 T3 A07 spoof\n")
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\nS1\tT1\t0.8\ttarget\nS1\tT2\t0.1\tnontarget\n"
                                      "S1\tT3\t0.7\tspoof\n")
    (tmp_path / "cm.tsv").write_text("utt\tcm_logit\tcm_prob_bonafide\nT1\t3.0\t0.95\nT2\t2.0\t0.88\n"
                                     "T3\t-4.0\t0.018\n")
    return ["--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.tsv"), "--trials", str(tmp_path / "proto.txt")]


def _report(record, columns: str) -> str:
    result = runner.invoke(app, ["report", str(record), "--format", "markdown", "--columns", columns, "--no-bold"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_metrics_record_carries_meta_and_report_shows_it(tmp_path):
    record = tmp_path / "r.json"
    result = runner.invoke(app, ["metrics", str(_asv_scores(tmp_path)), "--save-result", str(record), "--system", "mine",
                                 "--benchmark", "custom:toy", "--meta", "pretraining=VoxCeleb2", "--meta", "lm=false",
                                 "--meta", "params=6200000"])
    assert result.exit_code == 0, result.output
    assert json.loads(record.read_text())["meta"] == {"pretraining": "VoxCeleb2", "lm": False, "params": 6_200_000}
    table = _report(record, "system,params,pretraining:Pretraining,lm:LM")
    assert "| System | Params | Pretraining | LM | EER (%) | minDCF (p=0.01) |" in table
    assert "| mine | 6.20M | VoxCeleb2 | × | 0.00 | 0.000 |" in table  # 6,200,000 = 6.20 M; false prints ×


def test_fuse_record_carries_meta_and_report_shows_it(tmp_path):
    record = tmp_path / "f.json"
    result = runner.invoke(app, ["fuse", *_sasv_case(tmp_path), "--method", "sum", "--save-result", str(record),
                                 "--system", "fused-toy", "--meta", "frontend=fbank80", "--meta", "lm=true"])
    assert result.exit_code == 0, result.output
    assert json.loads(record.read_text())["meta"] == {"frontend": "fbank80", "lm": True}
    table = _report(record, "system,frontend:Front-end,lm:LM")
    assert "| System | Front-end | LM | SASV-EER (%) | SV-EER (%) | SPF-EER (%) |" in table
    assert "| fused-toy | fbank80 | √ | 0.00 | 0.00 | 0.00 |" in table


def test_cm_metrics_record_carries_meta(tmp_path):
    (tmp_path / "proto.txt").write_text("LA_0001 B1 - - bonafide\nLA_0001 S1 - A01 spoof\n")
    (tmp_path / "cm.txt").write_text("B1 2.5\nS1 -1.5\n")
    record = tmp_path / "cm.json"
    result = runner.invoke(app, ["metrics", str(tmp_path / "cm.txt"), "--protocol", str(tmp_path / "proto.txt"),
                                 "--save-result", str(record), "--meta", "frontend=lfcc"])
    assert result.exit_code == 0, result.output
    assert json.loads(record.read_text())["meta"] == {"frontend": "lfcc"}


def test_meta_auto_is_score_only_and_a_failed_run_leaves_no_record(tmp_path):
    record = tmp_path / "r.json"
    result = runner.invoke(app, ["metrics", str(_asv_scores(tmp_path)), "--save-result", str(record),
                                 "--meta", "params=auto"])
    assert result.exit_code == 2, result.output
    assert "--meta params=auto: only with `asvbench score`" in _flat(result.output)
    assert not record.exists()
    result = runner.invoke(app, ["fuse", *_sasv_case(tmp_path), "--method", "sum", "--save-result", str(record),
                                 "--meta", "lm"])
    assert result.exit_code == 2, result.output
    assert "--meta 'lm': expected KEY=VALUE" in _flat(result.output)
    assert not record.exists()


def test_help_of_every_record_command_lists_meta():
    for command in ("metrics", "score", "fuse"):
        result = runner.invoke(app, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "--meta" in result.output, command


def test_meta_without_a_record_is_a_user_error_not_silently_dropped(tmp_path):
    for command in (["metrics", str(_asv_scores(tmp_path))], ["fuse", *_sasv_case(tmp_path), "--method", "sum"]):
        result = runner.invoke(app, [*command, "--meta", "lm=true"])
        assert result.exit_code == 2, result.output
        assert "--meta lm=true goes into the result record" in _flat(result.stderr)
        assert "--save-result" in _flat(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asv.tsv", "cm.tsv", "proto.txt", "s.txt"]  # nothing new
