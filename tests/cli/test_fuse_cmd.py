"""``asvbench fuse`` end to end on small files, SASV 2022 protocol parsing, bad input."""

from __future__ import annotations

import json
import math
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
    import pandas as pd

    from asvbench.errors import AsvbenchError
    from asvbench.fusion import join_sasv
    from asvbench.io.scores import ScoreTable
    from asvbench.trials.read import read_trials

    trials = read_trials(proto)
    assert trials.counts() == {"target": 1484, "nontarget": 5768, "spoof": 22296}  # seeds-and-sasv.md §3
    table = ScoreTable(np.zeros(3), trials.labels[:3], trials.enroll[:3], trials.test[:3])
    cm = pd.DataFrame({"cm_logit": 0.0, "cm_prob_bonafide": 0.5}, index=pd.Index(trials.test[:3], name="utt"))
    with pytest.raises(AsvbenchError, match="29545 of 29548 protocol trials have no ASV score"):
        join_sasv(table, cm, trials)
    joined = join_sasv(table, cm, trials, allow_missing=True)
    assert joined.counts["trials_without_asv_score"] == 29545 and len(joined) == 3


# ----------------------------------------------------------------------------- a plain 'utt score' CM file

def _write_small(tmp_path, cm_lines: str, header: str = ""):
    """3 trials (target, nontarget, spoof) with ASV scores 0.8, 0.1, 0.7 and the CM file given."""
    (tmp_path / "proto.txt").write_text("S1 T1 bonafide target\nS1 T2 bonafide nontarget\nS1 T3 A07 spoof\n")
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\nS1\tT1\t0.8\ttarget\nS1\tT2\t0.1\tnontarget\n"
                                      "S1\tT3\t0.7\tspoof\n")
    (tmp_path / "cm.txt").write_text(header + cm_lines)
    return ["--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.txt", "--trials", tmp_path / "proto.txt"]


def _fused(tmp_path, r) -> list[float]:
    assert r.exit_code == 0, r.output
    return [float(line.split("\t")[2]) for line in (tmp_path / "fused.tsv").read_text().splitlines()[1:]]


SIG = [1 / (1 + math.exp(-s)) for s in (2.0, 1.0, -3.0)]  # 0.8808, 0.7311, 0.0474


@pytest.mark.parametrize("header", ["", "filename\tcm-score\n"])  # headerless, and the ASVspoof 5 submission
def test_sum_with_a_plain_score_file_adds_the_score_as_is(tmp_path, header):
    base = _write_small(tmp_path, "T1 2.0\nT2 1.0\nT3 -3.0\n".replace(" ", "\t" if header else " "), header)
    r = _run(*base, "--method", "sum", "--out", tmp_path / "fused.tsv", "--out-format", "tsv", "--json")
    # 0.8 + 2.0, 0.1 + 1.0, 0.7 - 3.0
    assert _fused(tmp_path, r) == pytest.approx([2.8, 1.1, -2.3])
    assert json.loads(r.stdout)["cm_score"] == "score"
    assert "plain score is fused as is" in _said(r)


def test_product_with_a_plain_score_file_needs_to_be_told_what_the_score_is(tmp_path):
    base = _write_small(tmp_path, "T1 2.0\nT2 1.0\nT3 -3.0\n")
    r = _run(*base, "--method", "product", "--out", tmp_path / "fused.tsv")
    assert r.exit_code == 2 and "Traceback" not in r.output
    said = _said(r)
    assert "does not say whether its score is one" in said
    assert "--cm-score prob" in said and "--cm-score sigmoid" in said and "asvbench extract" in said
    assert not (tmp_path / "fused.tsv").exists()
    # the score as a bona fide log-odds: P = 1 / (1 + exp(-s)); fused = P (cos + 1) / 2
    r = _run(*base, "--method", "product", "--cm-score", "sigmoid", "--out", tmp_path / "fused.tsv",
             "--out-format", "tsv", "--json")
    assert _fused(tmp_path, r) == pytest.approx([SIG[0] * 0.9, SIG[1] * 0.55, SIG[2] * 0.85])
    assert json.loads(r.stdout)["cm_score"] == "sigmoid"
    # a log-odds is not a probability
    r = _run(*base, "--method", "product", "--cm-score", "prob")
    assert r.exit_code == 2 and "run from -3 to 2, outside [0, 1]" in _said(r)
    r = _run(*base, "--method", "product", "--cm-score", "logit")
    assert r.exit_code == 2 and "not a logit" in _said(r) and "--cm-score sigmoid" in _said(r)


def test_plain_probabilities_with_product_and_sigmoid_with_sum(tmp_path):
    base = _write_small(tmp_path, "T1 0.9\nT2 0.6\nT3 0.1\n")
    r = _run(*base, "--method", "product", "--cm-score", "prob", "--out", tmp_path / "fused.tsv", "--out-format", "tsv")
    assert _fused(tmp_path, r) == pytest.approx([0.9 * 0.9, 0.6 * 0.55, 0.1 * 0.85])
    base = _write_small(tmp_path, "T1 2.0\nT2 1.0\nT3 -3.0\n")
    r = _run(*base, "--method", "sum", "--cm-score", "sigmoid", "--out", tmp_path / "fused.tsv", "--out-format", "tsv")
    assert _fused(tmp_path, r) == pytest.approx([0.8 + SIG[0], 0.1 + SIG[1], 0.7 + SIG[2]])


def test_llr_methods_calibrate_a_plain_score(tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    lab, _, logit, _ = _write_case(dev, seed=3)
    _write_case(tmp_path, seed=4)
    for folder in (dev, tmp_path):  # the same CM as a plain file: the bona fide logit only
        rows = (folder / "cm.tsv").read_text().splitlines()[1:]
        (folder / "plain.txt").write_text("".join(f"{r.split()[0]} {r.split()[1]}\n" for r in rows))
    r = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "plain.txt", "--trials", tmp_path / "proto.txt",
             "--method", "llr-sum", "--dev-asv", dev / "asv.tsv", "--dev-cm", dev / "plain.txt",
             "--dev-trials", dev / "proto.txt", "--json")
    assert r.exit_code == 0, r.output
    with_store = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt",
                      "--method", "llr-sum", "--dev-asv", dev / "asv.tsv", "--dev-cm", dev / "cm.tsv",
                      "--dev-trials", dev / "proto.txt", "--json")
    plain, store = json.loads(r.stdout), json.loads(with_store.stdout)
    assert plain["cm_score"] == "score" and store["cm_score"] == "logit"
    # the plain score is the store's logit: the same fusion
    assert plain["eval"]["fused"]["sasv_eer"] == pytest.approx(store["eval"]["fused"]["sasv_eer"])


def test_store_refuses_sigmoid_and_product_of_a_logit(tmp_path):
    _write_case(tmp_path)
    base = ["--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--trials", tmp_path / "proto.txt"]
    r = _run(*base, "--method", "product", "--cm-score", "sigmoid")
    assert r.exit_code == 2 and "holds the bona fide probability already" in _said(r)
    r = _run(*base, "--method", "product", "--cm-score", "logit")
    assert r.exit_code == 2 and "not a logit" in _said(r) and "--cm-score prob" in _said(r)


# ----------------------------------------------------------------------------- choices are parser choices

def _compact(result) -> str:
    """The output without rich's box drawing and without any whitespace (values never hold spaces)."""
    return "".join(ch for ch in result.output if ch not in "│╭╮╰╯─" and not ch.isspace())


@pytest.mark.parametrize("option,values", [
    ("--method", ("product", "sum", "llr-sum", "nonlinear")),
    ("--out-format", ("sasv", "asvspoof5", "tsv")),
    ("--cm-score", ("auto", "logit", "prob", "sigmoid")),
    ("--eer-method", ("interp", "rocch", "roc", "nearest", "kaldi")),
    ("--adcf-costs", ("default", "asvspoof5")),
    ("--tdcf-asv", ("eer", "asvspoof5-organiser")),
    ("--trials-format", ("auto", "voxceleb", "kaldi", "cnceleb", "asvspoof", "asvspoof5")),
    ("--key-style", ("stem", "relpath", "relpath-ext")),
])
def test_a_bad_choice_is_rejected_by_the_parser(tmp_path, option, values):
    _write_case(tmp_path)
    args = ["--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--method", "sum", "--out",
            tmp_path / "fused.txt"]
    r = _run(*args, option, "bogus")
    assert r.exit_code == 2 and "Traceback" not in r.output
    text = _compact(r)
    assert f"Invalidvaluefor'{option}':'bogus'isnotoneof" in text
    for value in values:  # the message lists every valid value
        assert f"'{value}'" in text
    assert not (tmp_path / "fused.txt").exists()


def test_help_lists_the_choices():
    r = CliRunner().invoke(app, ["fuse", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert "product|sum|llr-sum|nonlinear" in r.output and "sasv|asvspoof5|tsv" in r.output


# ----------------------------------------------------------------------------- --cm: a file or a model name

def test_cm_that_is_neither_a_file_nor_a_model(tmp_path):
    _write_case(tmp_path)
    out, report = tmp_path / "fused.txt", tmp_path / "report.json"
    base = ["--asv", tmp_path / "asv.tsv", "--trials", tmp_path / "proto.txt", "--method", "product", "--out", out,
            "--report", report]
    r = _run(*base, "--cm", "aasistt")
    said = _said(r)
    assert r.exit_code == 2 and "'aasistt' is neither a CM score file nor a registered CM model" in said
    assert "CM models: aasist, aasist-asvspoof5, aasist-l" in said
    r = _run(*base, "--cm", tmp_path / "missing_cm.tsv")
    assert r.exit_code == 2 and "CM score file not found" in _said(r) and "missing_cm.tsv" in _said(r)
    r = _run(*base, "--cm", tmp_path)
    assert r.exit_code == 2 and "--cm is a directory" in _said(r)
    r = _run(*base, "--cm", "campplus-3dspeaker-e192")
    assert r.exit_code == 2 and "is a speaker embedding model" in _said(r)
    assert not out.exists() and not report.exists() and "Traceback" not in r.output


def test_cm_model_needs_audio_and_trials_and_file_options_need_a_model(tmp_path):
    _write_case(tmp_path)
    out = tmp_path / "fused.txt"
    base = ["--asv", tmp_path / "asv.tsv", "--method", "product", "--out", out]
    r = _run(*base, "--cm", "aasist", "--trials", tmp_path / "proto.txt")
    assert r.exit_code == 2 and "needs their audio" in _said(r) and "--audio DIR" in _said(r)
    r = _run(*base, "--cm", "aasist", "--audio", tmp_path)
    assert r.exit_code == 2 and "needs --trials" in _said(r)
    r = _run(*base, "--cm", "aasist", "--audio", tmp_path / "nowhere", "--trials", tmp_path / "proto.txt")
    assert r.exit_code == 2 and "--audio: not found" in _said(r)
    r = _run(*base, "--cm", "aasist", "--audio", tmp_path, "--trials", tmp_path / "proto.txt",
             "--checkpoint", tmp_path / "none.pth")
    assert r.exit_code == 2 and "--checkpoint: not found" in _said(r)
    r = _run(*base, "--cm", "aasist", "--cm-model", "rawnet2", "--audio", tmp_path, "--trials", tmp_path / "proto.txt")
    assert r.exit_code == 2 and "--cm-model 'rawnet2' names the CM of a score file" in _said(r)
    r = _run(*base, "--cm", tmp_path / "cm.tsv", "--audio", tmp_path, "--key-style", "stem")
    assert r.exit_code == 2 and "--audio, --key-style: only for --cm MODEL" in _said(r)
    assert not out.exists() and not list(tmp_path.glob("*.cm-*"))


def test_cm_model_without_audio_for_the_test_utterances(tmp_path):
    _write_case(tmp_path)  # test utterances T0000 ... T0089
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("T0000", "T0001", "other"):  # listed, never decoded: the check comes first
        (audio / f"{name}.flac").write_bytes(b"")
    base = ["--asv", tmp_path / "asv.tsv", "--trials", tmp_path / "proto.txt", "--method", "product", "--cm", "aasist",
            "--audio", audio, "--out", tmp_path / "fused.txt"]
    r = _run(*base)
    said = _said(r)
    assert r.exit_code == 2 and "88 of 90 test utterances of the trial list have no audio in --audio" in said
    assert "--key-style (now 'stem')" in said and "--allow-missing" in said
    r = _run(*base, "--key-style", "relpath-ext")
    assert r.exit_code == 2 and "90 of 90" in _said(r) and "--allow-missing cannot help" in _said(r)
    assert not list(tmp_path.glob("fused*")) and not list(tmp_path.glob("*.cm-*"))


def test_dev_cm_must_be_a_file(tmp_path):
    _write_case(tmp_path)
    r = _run("--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--method", "llr-sum", "--dev-asv",
             tmp_path / "asv.tsv", "--dev-cm", "aasist")
    assert r.exit_code == 2 and "--dev-cm: CM score file not found" in _said(r)


def test_cm_model_without_a_checkpoint_or_with_a_bad_device(tmp_path, monkeypatch):
    _write_case(tmp_path, n=1)  # T0000 T0001 T0002
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("T0000", "T0001", "T0002"):
        (audio / f"{name}.flac").write_bytes(b"")
    monkeypatch.setenv("ASVBENCH_CACHE", str(tmp_path / "empty-cache"))  # nothing pulled
    base = ["--asv", tmp_path / "asv.tsv", "--trials", tmp_path / "proto.txt", "--method", "product", "--cm", "aasist",
            "--audio", audio, "--out", tmp_path / "fused.txt"]
    r = _run(*base)
    said = _said(r)
    assert r.exit_code == 2 and "no --checkpoint given and model 'aasist' is not in the cache" in said
    assert "asvbench models pull aasist" in said
    r = _run(*base, "--device", "gpu0")
    assert r.exit_code == 2 and "Invalid value for '--device'" in r.output
    assert not list(tmp_path.glob("fused*"))
