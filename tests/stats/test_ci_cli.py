"""``--ci`` of metrics / score / fuse, intervals in records, ``report --ci-style`` and
``compare --significant-only``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.metrics import bootstrap as bs
from asvbench.metrics import compute_eer
from asvbench.results import load_result
from asvbench.testing import write_store, write_trials
from tests.stats._cases import write_pair, write_sasv_case

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [*map(str, args)])


def _said(result) -> str:
    return " ".join(result.output.split())


def test_metrics_ci_json_equals_the_bootstrap_engine(tmp_path):
    scores, labels = write_pair(tmp_path)
    r = _run("metrics", tmp_path / "a.tsv", "--ci", 90, "--ci-reps", 200, "--seed", 4, "--json")
    assert r.exit_code == 0, r.output
    ci = json.loads(r.stdout)["ci"]
    assert (ci["level"], ci["unit"], ci["n_units"], ci["reps"], ci["seed"]) == (90, "speaker", 16, 200, 4)
    # the same speakers (sorted ids: speaker s is unit s) through the engine directly
    unit = np.repeat(np.arange(16), 12)
    want = bs.binary_replicates(scores, labels, unit, 16, reps=200, seed=4)
    assert ci["intervals"]["eer"] == pytest.approx(list(bs.percentile_interval(want["eer"], 90)))
    assert ci["intervals"]["min_dcf@0.01"] == pytest.approx(list(bs.percentile_interval(want["min_dcf@0.01"], 90)))
    lo, hi = ci["intervals"]["eer"]
    assert lo <= compute_eer(scores, labels).eer <= hi


def test_metrics_ci_table_states_the_units(tmp_path):
    write_pair(tmp_path)
    r = _run("metrics", tmp_path / "a.tsv", "--ci", 95, "--ci-reps", 50)
    assert r.exit_code == 0, r.output
    assert "95 % confidence intervals" in _said(r) and "16 speakers" in _said(r)
    trial = _run("metrics", tmp_path / "a.tsv", "--ci", 95, "--ci-reps", 50, "--ci-unit", "trial")
    assert trial.exit_code == 0 and "192 trials" in _said(trial)


@pytest.mark.parametrize("args, message", [
    (["--ci", "0"], "between 0 and 100"),
    (["--ci", "100"], "between 0 and 100"),
    (["--ci", "95", "--ci-reps", "1"], "at least 2 replicates"),
    (["--seed", "3"], "--seed: only with --ci"),
    (["--ci-unit", "trial"], "--ci-unit: only with --ci"),
    (["--ci", "95", "--ci-unit", "nosuchfile"], "neither trial, speaker nor a map file"),
])
def test_metrics_ci_bad_options(tmp_path, args, message):
    write_pair(tmp_path)
    r = _run("metrics", tmp_path / "a.tsv", *args)
    assert r.exit_code == 2 and message in _said(r)


def test_one_speaker_of_a_class_is_an_error(tmp_path):
    (tmp_path / "s.tsv").write_text("id1/a id1/b 0.9 target\nid1/a id2/b 0.1 nontarget\n"
                                    "id2/a id3/b 0.2 nontarget\n")
    r = _run("metrics", tmp_path / "s.tsv", "--ci", 95)
    assert r.exit_code == 2 and "at least 2 speakers with target trials; found 1" in _said(r)


def test_csv_without_ids_needs_ci_unit_trial(tmp_path):
    (tmp_path / "s.csv").write_text("score,label\n0.9,target\n0.1,nontarget\n0.8,target\n0.3,nontarget\n")
    r = _run("metrics", tmp_path / "s.csv", "--ci", 95)
    assert r.exit_code == 2 and "--ci-unit trial" in _said(r)
    assert _run("metrics", tmp_path / "s.csv", "--ci", 95, "--ci-unit", "trial", "--ci-reps", 20).exit_code == 0


def test_record_intervals_report_and_significant_only(tmp_path):
    write_pair(tmp_path, gain=0.05)  # B barely differs from A
    for name in ("a", "b"):
        r = _run("metrics", tmp_path / f"{name}.tsv", "--ci", 95, "--ci-reps", 200, "--system", name.upper(),
                 "--benchmark", "custom:pair", "--save-result", tmp_path / f"{name}.json")
        assert r.exit_code == 0, r.output
    rec = load_result(tmp_path / "a.json")
    assert rec.ci["unit"] == "speaker" and len(rec.ci["replicates"]["eer"]) == 200
    lo, hi = rec.ci["intervals"]["eer"]
    md = _run("report", tmp_path / "a.json", "--format", "markdown")
    assert f"[{100 * lo:.2f}, {100 * hi:.2f}]" in md.stdout
    pm = _run("report", tmp_path / "a.json", "--format", "markdown", "--ci-style", "pm")
    assert " ± " in pm.stdout
    assert "[" not in _run("report", tmp_path / "a.json", "--format", "csv", "--ci-style", "none").stdout
    # B is the baseline, A the new system: A is worse (its targets lack the 0.05) but not significantly
    plain = _run("compare", tmp_path / "b.json", tmp_path / "a.json")
    assert plain.exit_code == 1 and "REGRESSION" in plain.stdout
    sig = _run("compare", tmp_path / "b.json", tmp_path / "a.json", "--significant-only", "--json")
    statuses = {m["metric"]: m["status"] for m in json.loads(sig.stdout)["metrics"]}
    plain_statuses = {m["metric"]: m["status"] for m in
                      json.loads(_run("compare", tmp_path / "b.json", tmp_path / "a.json", "--json").stdout)["metrics"]}
    # minDCF moves by one target trial (+0.0156): a regression at zero tolerance, not a significant one;
    # Cllr moves the same way on every replicate (each target score shifts by 0.05): significant
    assert plain_statuses["min_dcf@0.01"] == "REGRESSION" and statuses["min_dcf@0.01"] == "worse-not-significant"
    assert statuses["cllr"] == "REGRESSION" and sig.exit_code == 1


def test_significant_only_needs_paired_records(tmp_path):
    write_pair(tmp_path)
    _run("metrics", tmp_path / "a.tsv", "--benchmark", "custom:pair", "--save-result", tmp_path / "a.json")
    _run("metrics", tmp_path / "b.tsv", "--benchmark", "custom:pair", "--ci", 95, "--ci-reps", 20, "--save-result",
         tmp_path / "b.json")
    r = _run("compare", tmp_path / "b.json", tmp_path / "a.json", "--significant-only")
    assert r.exit_code == 2 and "has no bootstrap replicates" in _said(r)
    _run("metrics", tmp_path / "a.tsv", "--benchmark", "custom:pair", "--ci", 95, "--ci-reps", 20, "--seed", 1,
         "--save-result", tmp_path / "a.json")
    r = _run("compare", tmp_path / "b.json", tmp_path / "a.json", "--significant-only")
    assert r.exit_code == 2 and "not bootstrapped on the same resamples" in _said(r)


def test_score_ci(tmp_path):
    rng = np.random.default_rng(0)
    speakers = [f"id1{n:04d}" for n in range(6)]
    vectors = {}
    for s in speakers:
        centre = rng.standard_normal(16)
        for i in range(4):
            vectors[f"{s}/v{i}/1.wav"] = centre + 0.8 * rng.standard_normal(16)
    write_store(tmp_path / "emb", vectors)
    keys = sorted(vectors)
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    write_trials(tmp_path / "trials.txt", [a for a, _ in pairs], [b for _, b in pairs],
                 [int(a.split("/")[0] == b.split("/")[0]) for a, b in pairs], fmt="voxceleb")
    r = _run("score", "--trials", tmp_path / "trials.txt", "--embeddings", tmp_path / "emb", "--out",
             tmp_path / "s.tsv", "--ci", 95, "--ci-reps", 100, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    # every key but the last is an enrolment side: all 6 speakers
    assert got["ci"]["unit"] == "speaker" and got["ci"]["n_units"] == 6
    lo, hi = got["ci"]["intervals"]["eer"]
    assert lo <= got["eer"] <= hi


def test_fuse_ci_json_and_record(tmp_path):
    write_sasv_case(tmp_path)
    r = _run("fuse", "--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
             "--method", "sum", "--ci", 95, "--ci-reps", 100, "--json", "--save-result", tmp_path / "f.json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["ci"]["n_units"] == 6 and got["ci"]["units_per_class"] == {"target": 6, "nontarget": 6, "spoof": 6}
    fused = got["eval"]["fused"]
    for key, value in (("sasv_eer", fused["sasv_eer"]), ("spf_eer", fused["spf_eer"]),
                       ("min_a_dcf", fused["min_adcf"])):
        lo, hi = got["ci"]["intervals"][key]
        assert lo <= value <= hi
    rec = load_result(tmp_path / "f.json")
    assert "ci" not in (rec.fusion or {}) and len(rec.ci["replicates"]["sasv_eer"]) == 100
