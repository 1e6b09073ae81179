"""``asvbench fuse`` end to end on small files, SASV 2022 protocol parsing, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.metrics import sasv_eers
from tests.conftest import shared_path

LABELS = {1: "target", 0: "nontarget", 2: "spoof"}


def _write_case(tmp_path, n=30, seed=0, drop_cm=0):
    """A small SASV set: protocol (spk utt source key), ASV scores, CM store."""
    rng = np.random.default_rng(seed)
    lab = np.array([1, 0, 2] * n)
    utts = [f"T{i:04d}" for i in range(lab.shape[0])]
    spks = [f"S{i % 5}" for i in range(lab.shape[0])]
    source = ["bonafide" if v != 2 else "A07" for v in lab]
    (tmp_path / "proto.txt").write_text("".join(f"{s} {u} {src} {LABELS[v]}\n" for s, u, src, v in zip(spks, utts, source, lab)))
    asv = rng.normal(np.where(lab == 0, -0.1, 0.6), 0.15)
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\n" + "".join(
        f"{s}\t{u}\t{a!r}\t{LABELS[v]}\n" for s, u, a, v in zip(spks, utts, asv.tolist(), lab)))
    logit = rng.normal(np.where(lab == 2, -3.0, 3.0), 1.5)
    prob = 1 / (1 + np.exp(-logit))
    rows = list(zip(utts, logit.tolist(), prob.tolist()))[: len(utts) - drop_cm]
    (tmp_path / "cm.tsv").write_text("utt\tcm_logit\tcm_prob_bonafide\n" + "".join(f"{u}\t{lg!r}\t{p!r}\n" for u, lg, p in rows))
    return lab, asv, logit, prob


def _run(*args):
    return CliRunner().invoke(app, ["fuse", *map(str, args)])


def _said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_product_fusion_json_and_sasv_output(tmp_path):
    lab, asv, logit, prob = _write_case(tmp_path)
    r = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
             "--method", "product", "--out", tmp_path / "sasv.txt", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    want = prob * (asv + 1) / 2  # DoubleRoc formula, independently
    assert result["eval"]["fused"]["sasv_eer"] == pytest.approx(sasv_eers(want, lab, "roc").sasv_eer)
    assert result["eval"]["asv_only"]["sv_eer"] == pytest.approx(sasv_eers(asv, lab, "roc").sv_eer)
    lines = (tmp_path / "sasv.txt").read_text().splitlines()
    assert len(lines) == lab.shape[0]
    spk, utt, src, key, score = lines[2].split()  # third trial: a spoof
    assert (spk, utt, src, key) == ("S2", "T0002", "A07", "spoof")
    assert float(score) == pytest.approx(want[2])
    assert "EER threshold" in result["eval"]["tdcf"]["asv_operating_point"]["source"]


def test_nonlinear_with_dev_and_asvspoof5_output(tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    _write_case(dev, seed=1)
    _write_case(tmp_path, seed=2)
    r = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
             "--method", "nonlinear", "--dev-asv", dev / "asv.tsv", "--dev-cm", dev / "cm.tsv",
             "--dev-trials", dev / "proto.txt", "--rho-grid", "0:1:11", "--out", tmp_path / "fused.tsv",
             "--out-format", "asvspoof5", "--report", tmp_path / "report.json", "--adcf-costs", "asvspoof5")
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert 0.0 <= report["rho"]["value"] <= 1.0 and report["rho"]["grid_size"] == 11
    assert "dev" in report and "calibration" in report
    head = (tmp_path / "fused.tsv").read_text().splitlines()[0]
    assert head == "spk\tfilename\tcm-score\tasv-score\tsasv-score"


def test_missing_cm_scores_error_or_counted(tmp_path):
    _write_case(tmp_path, drop_cm=4)
    base = ["--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
            "--method", "sum"]
    r = _run(*base)
    assert r.exit_code == 2
    assert "4 test utterances (4 trials) have no CM score" in _said(r)
    r = _run(*base, "--allow-missing", "--json")
    assert r.exit_code == 0, r.output
    counts = json.loads(r.stdout)["counts"]
    assert counts["trials_without_cm_score"] == 4 and counts["trials_kept"] == 86


def test_trials_without_asv_score(tmp_path):
    # a protocol trial whose enrolment speaker was never scored (e.g. no enrolment list)
    _write_case(tmp_path)
    with open(tmp_path / "proto.txt", "a") as handle:
        handle.write("S9 T0001 bonafide nontarget\n")
    r = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
             "--method", "sum")
    assert r.exit_code == 2
    assert "1 of 91 protocol trials have no ASV score" in _said(r)
    assert "'S9 T0001'" in _said(r)


def test_llr_method_needs_dev_and_empty_grid(tmp_path):
    _write_case(tmp_path)
    base = ["--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt"]
    r = _run(*base, "--method", "nonlinear")
    assert r.exit_code == 2 and "development set" in _said(r)
    r = _run(*base, "--method", "nonlinear", "--dev-asv", tmp_path / "asv.tsv", "--dev-cm", tmp_path / "cm.tsv",
             "--rho-grid", "0:1:0")
    assert r.exit_code == 2 and "rho grid is empty" in _said(r)
    r = _run(*base, "--method", "max")
    assert r.exit_code == 2 and "unknown fusion method" in _said(r)


def test_fuse_does_not_import_torch(tmp_path):
    _write_case(tmp_path)
    code = ("import sys; from typer.testing import CliRunner; from asvbench.cli.main import app; "
            f"r = CliRunner().invoke(app, ['fuse', '--asv', r'{tmp_path / 'asv.tsv'}', '--cm', r'{tmp_path / 'cm.tsv'}', "
            "'--method', 'sum', '--json']); assert r.exit_code == 0, r.output; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_real_sasv2022_protocol_is_read(shared_dir):
    # the real ASVspoof 2019 LA dev SASV protocol: every trial needs an ASV score
    proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.asv.dev.gi.trl.txt")
    from asvbench.errors import AsvbenchError
    from asvbench.fusion import join_sasv
    from asvbench.io.scores import ScoreTable
    from asvbench.io.trials import read_trials
    import pandas as pd

    trials = read_trials(proto)
    assert trials.counts() == {"target": 1484, "nontarget": 5768, "spoof": 22296}  # seeds-and-sasv.md §3
    table = ScoreTable(np.zeros(3), trials.labels[:3], trials.enroll[:3], trials.test[:3])
    cm = pd.DataFrame({"cm_logit": 0.0, "cm_prob_bonafide": 0.5}, index=pd.Index(trials.test[:3], name="utt"))
    with pytest.raises(AsvbenchError, match="29545 of 29548 protocol trials have no ASV score"):
        join_sasv(table, cm, trials)
    joined = join_sasv(table, cm, trials, allow_missing=True)
    assert joined.counts["trials_without_asv_score"] == 29545 and len(joined) == 3
