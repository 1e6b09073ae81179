"""--save-result on `score`, `metrics` and `fuse`: the records they write."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

runner = CliRunner()


def test_score_save_result_names_registered_benchmark(shared_dir, tmp_path):
    """Vox1-O cleaned trials scored with random embeddings: the record names the benchmark."""
    trials = shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt")
    utts = sorted({tok for line in trials.read_text().splitlines() for tok in line.split()[1:]})
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "emb.npz", **{u: rng.normal(size=8).astype(np.float32) for u in utts})
    rec_path = tmp_path / "rec.json"
    result = runner.invoke(app, ["score", "--trials", str(trials), "--embeddings", str(tmp_path / "emb.npz"),
                                 "--out", str(tmp_path / "s.tsv"), "--save-result", str(rec_path),
                                 "--system", "random", "--variant", "test"])
    assert result.exit_code == 0, result.output
    rec = json.loads(rec_path.read_text())
    assert rec["benchmark"] == "vox1-o-cleaned"
    assert rec["system"] == "random" and rec["variant"] == "test"
    assert rec["trials"]["label_counts"] == {"target": 18802, "nontarget": 18809}
    assert 0.4 < rec["metrics"]["eer"] < 0.6  # random embeddings: chance level
    assert 2 <= len(rec["det"]["fpr"]) <= 2000


def test_metrics_save_result_rejects_wrong_benchmark(tmp_path):
    scores = tmp_path / "s.txt"
    scores.write_text("a b 0.9 target\na c 0.1 nontarget\nb c 0.2 nontarget\n")
    # the SASV dev list has 1,484 targets; this file has 1
    result = runner.invoke(app, ["metrics", str(scores), "--save-result", str(tmp_path / "r.json"),
                                 "--benchmark", "asvspoof2019-la-sasv-dev"])
    assert result.exit_code == 2
    assert "does not match benchmark" in " ".join(result.stderr.split())
    ok = runner.invoke(app, ["metrics", str(scores), "--save-result", str(tmp_path / "r.json")])
    assert ok.exit_code == 0
    assert json.loads((tmp_path / "r.json").read_text())["benchmark"] == "custom:s"


def test_fuse_save_result(tmp_path):
    asv = tmp_path / "asv.txt"
    # 2 target, 2 nontarget, 2 spoof trials of model m
    asv.write_text("m t1 0.9 target\nm t2 0.8 target\nm n1 0.1 nontarget\nm n2 0.3 nontarget\n"
                   "m s1 0.85 spoof\nm s2 0.7 spoof\n")
    cm = tmp_path / "cm.txt"
    cm.write_text("t1 3.0\nt2 2.5\nn1 2.0\nn2 2.2\ns1 -3.0\ns2 -2.0\n")
    rec_path = tmp_path / "fused.json"
    result = runner.invoke(app, ["fuse", "--asv", str(asv), "--cm", str(cm), "--method", "sum",
                                 "--cm-score", "logit", "--save-result", str(rec_path), "--benchmark", "custom:toy"])
    assert result.exit_code == 0, result.output
    rec = json.loads(rec_path.read_text())
    assert rec["benchmark"] == "custom:toy" and rec["fusion"]["method"] == "sum"
    # fused = asv + cm: targets 3.9, 3.3; nontargets 2.1, 2.5; spoofs -2.15, -1.3: perfectly separated
    assert rec["metrics"]["sasv_eer"] == 0.0
    table = runner.invoke(app, ["report", str(rec_path), "--format", "markdown"])
    assert table.exit_code == 0 and "0.00" in table.stdout
