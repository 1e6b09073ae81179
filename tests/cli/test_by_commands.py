"""``--by`` on ``score``, ``fuse`` and ``det``, ``report --breakdown``, and records with and without
breakdowns (hand-made embeddings whose cosine scores are known exactly)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.results import load_result
from asvbench.testing import write_store, write_trials
from tests.cli.test_by_metrics import nearest_eer

runner = CliRunner()

# enrolment: LA_0001 (female) = [1, 0], LA_0002 (male) = [0, 1]; cosine scores of each trial in the comment
VECTORS = {"E1": [1.0, 0.0], "E2": [0.0, 1.0], "X": [1.0, 0.0], "Y": [0.0, 1.0], "S7": [0.6, 0.8], "S8": [0.0, 1.0]}
TRIALS = """LA_0001 X bonafide target
LA_0001 Y bonafide nontarget
LA_0001 S7 A07 spoof
LA_0002 Y bonafide target
LA_0002 X bonafide nontarget
LA_0002 S8 A08 spoof
"""  # scores: 1, 0, 0.6 | 1, 0, 1


def _sasv_case(tmp_path: Path) -> dict[str, Path]:
    write_store(tmp_path / "emb", VECTORS)
    (tmp_path / "trials.txt").write_text(TRIALS)
    (tmp_path / "la.female.trn.txt").write_text("LA_0001 E1\n")
    (tmp_path / "la.male.trn.txt").write_text("LA_0002 E2\n")
    return {name: tmp_path / name for name in ("emb", "trials.txt", "la.female.trn.txt", "la.male.trn.txt")}


def _score(tmp_path: Path, *extra: str):
    f = _sasv_case(tmp_path)
    return runner.invoke(app, ["score", "--trials", str(f["trials.txt"]), "--embeddings", str(f["emb"]),
                               "--enroll-map", str(f["la.female.trn.txt"]), "--enroll-map", str(f["la.male.trn.txt"]),
                               "--out", str(tmp_path / "s.tsv"), *extra])


def test_score_by_source_and_gender_by_hand(tmp_path):
    result = _score(tmp_path, "--by", "source", "--by", "gender", "--json")
    assert result.exit_code == 0, result.output
    source, gender = json.loads(result.stdout)["breakdowns"]
    rows = {r["condition"]: r for r in source["conditions"]}
    # A07: targets 1 1 vs spoof 0.6: separated, SPF-EER 0
    assert rows["A07"]["metrics"]["spf_eer"] == 0.0
    # A08: spoof 1 tied with both targets: operating points (0, 1) and (1, 0) only: SPF-EER 0.5
    assert rows["A08"]["metrics"]["spf_eer"] == pytest.approx(0.5)
    assert [(r["n_target"], r["n_nontarget"], r["n_spoof"]) for r in source["conditions"]] == [(2, 2, 1)] * 2
    g = {r["condition"]: r for r in gender["conditions"]}
    assert [(g[k]["n_target"], g[k]["n_nontarget"], g[k]["n_spoof"]) for k in ("female", "male")] == [(1, 1, 1)] * 2
    # female: target 1 above non-target 0 and spoof 0.6: every EER 0; male: spoof 1 ties the target
    assert g["female"]["metrics"]["sasv_eer"] == 0.0 and g["male"]["metrics"]["spf_eer"] == pytest.approx(0.5)


def test_score_table_and_a_failed_breakdown_leaves_no_scores(tmp_path):
    result = _score(tmp_path, "--by", "source")
    assert result.exit_code == 0, result.output
    assert "A08" in result.stdout and "pooled" in result.stdout
    (tmp_path / "s.tsv").unlink()
    (tmp_path / "codec.map").write_text("X a\nY a\nS7 b\nS8 b\nZZ c\n")  # ZZ is in no trial
    result = _score(tmp_path, "--by", str(tmp_path / "codec.map"))
    assert result.exit_code == 2 and f"{tmp_path / 'codec.map'}:5: key 'ZZ'" in result.stderr
    assert not (tmp_path / "s.tsv").exists()


def test_score_gender_and_attack_columns_of_an_asvspoof5_list(tmp_path):
    write_store(tmp_path / "emb", {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [0.6, 0.8], "m": [1.0, 0.0]})
    write_trials(tmp_path / "t.tsv", ["m", "m", "m"], ["a", "b", "c"], [1, 0, 2], fmt="asvspoof5")
    result = runner.invoke(app, ["score", "--trials", str(tmp_path / "t.tsv"), "--embeddings", str(tmp_path / "emb"),
                                 "--out", str(tmp_path / "s.tsv"), "--by", "source", "--by", "gender", "--json"])
    assert result.exit_code == 0, result.output
    source, gender = json.loads(result.stdout)["breakdowns"]
    assert [r["condition"] for r in source["conditions"]] == ["A07"]  # write_trials: spoofs are A07
    assert [r["condition"] for r in gender["conditions"]] == ["F"]


def _fuse_case(tmp_path: Path, n: int = 40, seed: int = 3, by_block: bool = False):
    """A SASV set of 4 models; trial i is on model S{i % 4} (one class per model), or with ``by_block``
    on S{(i // 4) % 4} (every class on every model)."""
    rng = np.random.default_rng(seed)
    lab = np.array([1, 0, 2, 2] * n)
    utts = [f"U{i:04d}" for i in range(lab.size)]
    spks = [f"S{(i // 4 if by_block else i) % 4}" for i in range(lab.size)]
    attack = np.where(lab != 2, "bonafide", np.where(np.arange(lab.size) % 8 < 4, "A07", "A08"))
    words = {1: "target", 0: "nontarget", 2: "spoof"}
    (tmp_path / "proto.txt").write_text("".join(f"{s} {u} {a} {words[v]}\n"
                                                for s, u, a, v in zip(spks, utts, attack, lab)))
    asv = rng.normal(np.where(lab == 0, -0.1, 0.6), 0.2)
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\n" + "".join(
        f"{s}\t{u}\t{a!r}\t{words[v]}\n" for s, u, a, v in zip(spks, utts, asv.tolist(), lab)))
    logit = rng.normal(np.where(lab == 2, np.where(attack == "A07", -3.0, 1.0), 3.0), 1.5)
    prob = 1 / (1 + np.exp(-logit))
    (tmp_path / "cm.tsv").write_text("utt\tcm_logit\tcm_prob_bonafide\n" + "".join(
        f"{u}\t{g!r}\t{p!r}\n" for u, g, p in zip(utts, logit.tolist(), prob.tolist())))
    return lab, attack, prob * (asv + 1) / 2  # product fusion (DoubleRoc): P(bona fide) x (cos + 1) / 2


def test_fuse_by_source_against_an_independent_eer_and_report(tmp_path):
    lab, attack, fused = _fuse_case(tmp_path)
    record = tmp_path / "r.json"
    result = runner.invoke(app, ["fuse", "--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.tsv"),
                                 "--trials", str(tmp_path / "proto.txt"), "--method", "product", "--eer-method",
                                 "nearest", "--by", "source", "--json", "--save-result", str(record)])
    assert result.exit_code == 0, result.output
    (by,) = json.loads(result.stdout)["breakdowns"]
    assert by["scores"] == "fused"
    for row in by["conditions"]:
        spf = fused[attack == row["condition"]]
        assert row["metrics"]["spf_eer"] == pytest.approx(nearest_eer(fused[lab == 1], spf), abs=1e-9)
    saved = load_result(record)
    assert "breakdowns" not in (saved.fusion or {}) and saved.breakdowns[0]["by"] == "source"
    report = runner.invoke(app, ["report", str(record), "--breakdown", "--format", "json"])
    assert report.exit_code == 0, report.output
    tables = json.loads(report.stdout)
    assert [r["system"] for r in tables["breakdowns"][0]["rows"]] == ["pooled", "A07", "A08"]
    rich = runner.invoke(app, ["report", str(record), "--breakdown"])
    assert rich.exit_code == 0 and "A08" in rich.stdout


def test_old_records_load_and_report_breakdown_needs_one(tmp_path):
    lab, _attack, _fused = _fuse_case(tmp_path)
    record = tmp_path / "old.json"
    result = runner.invoke(app, ["fuse", "--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.tsv"),
                                 "--trials", str(tmp_path / "proto.txt"), "--method", "product",
                                 "--save-result", str(record)])
    assert result.exit_code == 0, result.output
    assert "breakdowns" not in json.loads(record.read_text())  # records without --by are as before
    assert load_result(record).breakdowns == ()
    report = runner.invoke(app, ["report", str(record), "--breakdown"])
    assert report.exit_code == 2 and "no record carries a per-condition breakdown" in report.stderr
    data = json.loads(record.read_text())
    data["breakdowns"] = {"by": "source"}
    record.write_text(json.dumps(data))
    bad = runner.invoke(app, ["report", str(record)])
    assert bad.exit_code == 2 and "malformed 'breakdowns'" in bad.stderr


def test_det_one_curve_per_condition(tmp_path):
    rows = TRIALS.splitlines()
    scores = [1.0, 0.0, 0.6, 1.0, 0.0, 1.0]
    path = tmp_path / "s.txt"
    path.write_text("".join(f"{r} {s!r}\n" for r, s in zip(rows, scores)))  # SASV 5-column
    result = runner.invoke(app, ["det", str(path), "--by", "source", "--out", str(tmp_path / "d.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d.png").stat().st_size > 0
    # a map whose condition "b" holds spoofs only: noted, no curve; "a" is drawn
    (tmp_path / "m.map").write_text("X a\nY a\nS7 b\nS8 b\n")
    result = runner.invoke(app, ["det", str(path), "--by", str(tmp_path / "m.map"), "--out", str(tmp_path / "e.png")])
    assert result.exit_code == 0, result.output
    assert "condition 'b' has no target trials" in result.stderr and (tmp_path / "e.png").exists()
    bad = runner.invoke(app, ["det", str(path), "--by", "nosuch.map", "--out", str(tmp_path / "f.png")])
    assert bad.exit_code == 2 and not (tmp_path / "f.png").exists()
    gender = runner.invoke(app, ["det", str(path), "--by", "gender", "--out", str(tmp_path / "g.png")])
    assert gender.exit_code == 2 and "'model gender' lines" in gender.stderr


def test_score_by_with_no_metrics_is_refused(tmp_path):
    result = _score(tmp_path, "--by", "source", "--no-metrics")
    assert result.exit_code == 2 and "--no-metrics computes none" in result.stderr
    assert not (tmp_path / "s.tsv").exists()


def test_fuse_by_gender_from_enrolment_lists_and_its_errors(tmp_path):
    lab, _attack, fused = _fuse_case(tmp_path, by_block=True)
    (tmp_path / "x.female.trn.txt").write_text("S0 a\nS1 b\n")
    (tmp_path / "x.male.trn.txt").write_text("S2 c\nS3 d\n")
    base = ["fuse", "--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.tsv"), "--trials",
            str(tmp_path / "proto.txt"), "--method", "product", "--eer-method", "nearest"]
    lists = ["--enroll-map", str(tmp_path / "x.female.trn.txt"), "--enroll-map", str(tmp_path / "x.male.trn.txt")]
    result = runner.invoke(app, [*base, "--by", "gender", *lists, "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["condition"]: r for r in json.loads(result.stdout)["breakdowns"][0]["conditions"]}
    female = np.array([(i // 4) % 4 < 2 for i in range(lab.size)])  # models S0, S1
    for name, side in (("female", female), ("male", ~female)):
        tar, non = fused[side & (lab == 1)], fused[side & (lab == 0)]
        assert rows[name]["n_target"] == tar.size and rows[name]["n_spoof"] == int((side & (lab == 2)).sum())
        assert rows[name]["metrics"]["sv_eer"] == pytest.approx(nearest_eer(tar, non), abs=1e-9)
    refused = runner.invoke(app, [*base, *lists])
    assert refused.exit_code == 2 and "--enroll-map: only with --by gender" in refused.stderr
    no_lists = runner.invoke(app, [*base, "--by", "gender"])
    assert no_lists.exit_code == 2 and "--by gender needs the gender" in no_lists.stderr
