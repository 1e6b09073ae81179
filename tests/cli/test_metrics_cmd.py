"""`asvbench metrics`: table and JSON output, options, and the real ASVspoof5 dev scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import brentq
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.testing import write_score_lines
from tests.conftest import shared_path

runner = CliRunner()
A5 = "models/reference_scores/asvspoof5_dev_scores_label.csv"
JSON_KEYS = {"n_target", "n_nontarget", "n_spoof", "eer", "eer_threshold", "min_dcf", "act_dcf", "cllr", "min_cllr"}
SASV_KEYS = {"sasv_eer", "sv_eer", "spf_eer"}


def _case_b(tmp_path):
    # targets 0.2 0.5 0.8 0.9, non-targets 0.1 0.3 0.6 (the hand-computed case of tests/metrics/test_eer.py)
    rows = [("e", f"t{i}", s, "target") for i, s in enumerate([0.2, 0.5, 0.8, 0.9])]
    rows += [("e", f"n{i}", s, "nontarget") for i, s in enumerate([0.1, 0.3, 0.6])]
    return write_score_lines(tmp_path / "b.txt", rows)


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_by_hand(tmp_path):
    out = _json(runner.invoke(app, ["metrics", str(_case_b(tmp_path)), "--json", "--p-target", "0.25",
                                    "--p-target", "0.5"]))
    assert JSON_KEYS <= set(out) and not SASV_KEYS & set(out)
    assert (out["n_target"], out["n_nontarget"], out["n_spoof"]) == (4, 3, 0)
    assert out["eer"] == pytest.approx(1 / 3)  # interp, see test_eer.CASE_B_EXPECTED
    assert out["eer_threshold"] == 0.5
    # minDCF p=0.25: 0.125 / 0.25 = 0.5; p=0.5: 0.25 / 0.5 = 0.5 (test_dcf.test_min_dcf_case_b)
    assert out["min_dcf"] == {"0.25": pytest.approx(0.5), "0.5": pytest.approx(0.5)}
    # actDCF p=0.5, threshold 0: every score is >= 0 -> no miss, every non-target a false alarm:
    # 0.5 * 0 + 0.5 * 1 = 0.5, / 0.5 -> 1.0; p=0.25: threshold log 3 = 1.0986 > every score:
    # every target missed -> 0.25 * 1 / 0.25 = 1.0
    assert out["act_dcf"] == {"0.25": pytest.approx(1.0), "0.5": pytest.approx(1.0)}
    # Cllr of the raw scores as LLRs (independent formula)
    tar, non = np.array([0.2, 0.5, 0.8, 0.9]), np.array([0.1, 0.3, 0.6])
    want = 0.5 * (np.mean(np.log2(1 + np.exp(-tar))) + np.mean(np.log2(1 + np.exp(non))))
    assert out["cllr"] == pytest.approx(want)
    assert 0 <= out["min_cllr"] <= out["cllr"]


@pytest.mark.parametrize("method,want", [("interp", 1 / 3), ("rocch", 2 / 7), ("roc", 1 / 3), ("nearest", 7 / 24),
                                         ("kaldi", 0.5)])
def test_eer_method_option(tmp_path, method, want):
    out = _json(runner.invoke(app, ["metrics", str(_case_b(tmp_path)), "--eer-method", method, "--json"]))
    assert out["eer"] == pytest.approx(want) and out["eer_method"] == method


def test_costs(tmp_path):
    # c_miss 10, p 0.5: minDCF 2/3 (test_dcf.test_min_dcf_case_b)
    out = _json(runner.invoke(app, ["metrics", str(_case_b(tmp_path)), "--p-target", "0.5", "--c-miss", "10",
                                    "--json"]))
    assert out["min_dcf"]["0.5"] == pytest.approx(2 / 3) and (out["c_miss"], out["c_fa"]) == (10.0, 1.0)


def test_default_prior_and_table(tmp_path):
    path = _case_b(tmp_path)
    out = _json(runner.invoke(app, ["metrics", str(path), "--json"]))
    assert list(out["min_dcf"]) == ["0.01"]
    result = runner.invoke(app, ["metrics", str(path)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "EER (interp)" in text and "33.3333 %" in text  # tables show rates in %
    assert "4 / 3 / 0" in text and "minDCF (p=0.01" in text and "Cllr" in text
    assert "SASV-EER" not in text


def test_sasv_file(tmp_path):
    rows = [("s", "t1", "bonafide", "target", 0.9), ("s", "t2", "bonafide", "target", 0.8),
            ("s", "n1", "bonafide", "nontarget", 0.1), ("s", "n2", "bonafide", "nontarget", 0.2),
            ("s", "p1", "A07", "spoof", 0.85), ("s", "p2", "A08", "spoof", 0.3)]
    path = write_score_lines(tmp_path / "sasv.txt", rows)
    out = _json(runner.invoke(app, ["metrics", str(path), "--json"]))
    # hand values from tests/metrics/test_sasv.py: SASV 1/4, SV 0, SPF 1/2
    assert (out["sasv_eer"], out["sv_eer"], out["spf_eer"]) == (pytest.approx(0.25), 0.0, pytest.approx(0.5))
    assert out["n_spoof"] == 2
    table = runner.invoke(app, ["metrics", str(path)]).stdout
    assert "SASV-EER" in table and "25.0000 %" in table


def test_csv_options(tmp_path):
    path = write_score_lines(tmp_path / "s.csv", [(0.9, 0.1, 1), (0.2, 0.8, 2), (0.5, 0.6, 0)],
                             header="asv,cm,lab", sep=",")
    out = _json(runner.invoke(app, ["metrics", str(path), "--score-column", "asv", "--label-column", "lab",
                                    "--label-map", "asvspoof5-fusion", "--json"]))
    assert (out["n_target"], out["n_nontarget"], out["n_spoof"]) == (1, 1, 1)
    assert out["sv_eer"] == 0.0  # target 0.9 > nontarget 0.2


def roc_curve(scores, is_target):
    """sklearn.metrics.roc_curve as the SASV 2022 baseline calls it: FPR, TPR at each distinct score, descending."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], is_target[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.shape[0] - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    return np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]]


def baseline_eer(scores, is_target) -> float:
    """SASV 2022 baseline metrics.compute_eer: brentq(1 - x - TPR(x), 0, 1) on the interpolated ROC."""
    fpr, tpr = roc_curve(scores, is_target)
    return brentq(lambda x: 1.0 - x - np.interp(x, fpr, tpr), 0.0, 1.0)


@pytest.mark.parametrize("method", ["roc", "interp"])
def test_real_asvspoof5_dev_scores(shared_dir, method):
    path = shared_path(shared_dir, A5)
    out = _json(runner.invoke(app, ["metrics", str(path), "--score-column", "asv_score", "--label-map",
                                    "asvspoof5-fusion", "--eer-method", method, "--json"]))
    assert (out["n_target"], out["n_nontarget"], out["n_spoof"]) == (1_484, 5_768, 22_296)
    # independent: parse the CSV here, labels 1 target / 2 nontarget / 0 spoof
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    asv, lab = data[:, 0], data[:, 2]
    tar = lab == 1
    keep_sv, keep_spf = lab != 0, lab != 2
    want = {
        "sasv_eer": baseline_eer(asv, tar),
        "sv_eer": baseline_eer(asv[keep_sv], tar[keep_sv]),
        "spf_eer": baseline_eer(asv[keep_spf], tar[keep_spf]),
    }
    for key, value in want.items():
        assert out[key] == pytest.approx(value, abs=1e-9), key
    assert out["eer"] == pytest.approx(want["sasv_eer"], abs=1e-9)
    # plausibility of the real system: ASV separates bona fide speakers well, spoofs poorly
    assert out["sv_eer"] < out["sasv_eer"] < out["spf_eer"]


# ----------------------------------------------------------------------------- CM evaluation (--protocol)

# bona fide 4, 3, 2, 1; attack A01: 0, -1 (below every bona fide); A02: 3.5, 0.5
CM_ROWS = [("B1", 4.0, "-", "bonafide"), ("B2", 3.0, "-", "bonafide"), ("B3", 2.0, "-", "bonafide"),
           ("B4", 1.0, "-", "bonafide"), ("S1", 0.0, "A01", "spoof"), ("S2", -1.0, "A01", "spoof"),
           ("S3", 3.5, "A02", "spoof"), ("S4", 0.5, "A02", "spoof")]


def _cm_case(tmp_path, fmt="asvspoof2019", store=True):
    """Scores (an extract store, or a plain 'utt score' file) and a CM protocol in the format asked for."""
    if store:  # the logit is evaluated; the probability column is not used
        text = "utt\tcm_logit\tcm_prob_bonafide\n" + "".join(f"{u}\t{s!r}\t0.5\n" for u, s, _, _ in CM_ROWS)
    else:
        text = "".join(f"{u} {s!r}\n" for u, s, _, _ in CM_ROWS)
    (tmp_path / "cm.tsv").write_text(text)
    line = {
        "asvspoof2019": lambda u, a, k: f"LA_0001 {u} - {a} {k}\n",
        "asvspoof5": lambda u, a, k: f"E_0001 {u} F - - - {'-' if a == '-' else 'AC1'} "
                                     f"{'bonafide' if a == '-' else a} {k} -\n",
        "asvspoof5-v0": lambda u, a, k: f"E_0001 {u} F - {'bonafide' if a == '-' else a} {k}\n",
    }
    if fmt == "table":
        proto = "filename\tcm-label\n" + "".join(f"{u}\t{k}\n" for u, _, _, k in CM_ROWS)
    else:
        proto = "".join(line[fmt](u, a, k) for u, _, a, k in CM_ROWS)
    (tmp_path / "proto.txt").write_text(proto)
    return ["metrics", str(tmp_path / "cm.tsv"), "--protocol", str(tmp_path / "proto.txt")]


def _rows(out) -> dict:
    return {row["attack"]: row for row in out["per_attack"]}


def test_cm_metrics_by_hand(tmp_path):
    out = _json(runner.invoke(app, [*_cm_case(tmp_path), "--json"]))
    assert (out["n_bonafide"], out["n_spoof"], out["protocol_format"], out["score_column"]) == (4, 4, "asvspoof2019",
                                                                                              "cm_logit")
    assert out["eer_method"] == "nearest" and out["costs"] == {"p_bonafide": 0.95, "c_miss": 1.0, "c_fa": 10.0}
    # pooled, sorted: -1 s, 0 s, .5 s, 1 b, 2 b, 3 b, 3.5 s, 4 b. Rejecting <= 1: FNR 1/4, FPR 1/4 -> EER 0.25.
    assert out["eer"] == pytest.approx(0.25) and out["eer_threshold"] == 1.0
    # minDCF: cost = 0.95 FNR + 0.5 FPR (Cmiss 1 x 0.95, Cfa 10 x 0.05); best: reject <= 0.5 (FNR 0,
    # FPR 1/4) = 0.125; / min(0.95, 0.5) -> 0.25
    assert out["min_dcf"] == pytest.approx(0.25)
    # actDCF: threshold log(0.05 x 10 / 0.95) = -0.642: no bona fide missed, spoofs 0, 3.5, 0.5
    # accepted: 0.5 x 3/4 / 0.5 = 0.75
    assert out["act_dcf"] == pytest.approx(0.75)
    bona, spoof = np.array([4.0, 3.0, 2.0, 1.0]), np.array([0.0, -1.0, 3.5, 0.5])
    want_cllr = 0.5 * (np.mean(np.log2(1 + np.exp(-bona))) + np.mean(np.log2(1 + np.exp(spoof))))
    assert out["cllr"] == pytest.approx(want_cllr) and 0 <= out["min_cllr"] <= out["cllr"]
    rows = _rows(out)
    assert list(rows) == ["A01", "A02", "pooled"]
    # A01 (0, -1) lies below every bona fide: EER 0, minDCF 0; actDCF: spoof 0 >= -0.642 -> 0.5 x 1/2 / 0.5
    assert (rows["A01"]["n_spoof"], rows["A01"]["eer"], rows["A01"]["min_dcf"]) == (2, 0.0, 0.0)
    assert rows["A01"]["act_dcf"] == pytest.approx(0.5) and rows["A01"]["min_cllr"] == pytest.approx(0.0)
    # A02, sorted: .5 s, 1 b, 2 b, 3 b, 3.5 s, 4 b. Rejecting <= 2: FNR 2/4, FPR 1/2 -> EER 0.5;
    # minDCF: reject <= 0.5 (FNR 0, FPR 1/2) = 0.25 / 0.5 = 0.5; actDCF: both spoofs accepted -> 1.0
    assert rows["A02"]["eer"] == pytest.approx(0.5) and rows["A02"]["eer_threshold"] == 2.0
    assert rows["A02"]["min_dcf"] == pytest.approx(0.5) and rows["A02"]["act_dcf"] == pytest.approx(1.0)
    assert rows["pooled"]["eer"] == out["eer"] and rows["pooled"]["n_spoof"] == 4
    assert out["counts"] == {"protocol_utterances": 8, "utterances_without_score": 0, "scores_not_in_protocol": 0,
                             "utterances_scored": 8}


@pytest.mark.parametrize("fmt", ["asvspoof5", "asvspoof5-v0", "table"])
def test_cm_protocol_formats(tmp_path, fmt):
    out = _json(runner.invoke(app, [*_cm_case(tmp_path, fmt, store=False), "--json"]))
    assert out["eer"] == pytest.approx(0.25) and out["score_column"] == "score"  # as test_cm_metrics_by_hand
    assert out["protocol_format"] == ("table" if fmt == "table" else "asvspoof5")
    if fmt == "table":  # the evaluation package's key has no attack column: the pooled row only
        assert list(_rows(out)) == ["pooled"]
    else:
        assert _rows(out)["A02"]["eer"] == pytest.approx(0.5)


def test_cm_definitions_can_be_changed(tmp_path):
    # interp EER of the pooled case: FNR - FPR goes from -0.25 (reject <= .5: 0, .25) to 0 at reject <= 1
    out = _json(runner.invoke(app, [*_cm_case(tmp_path), "--eer-method", "interp", "--p-target", "0.5",
                                    "--c-fa", "1", "--json"]))
    assert out["eer_method"] == "interp" and out["costs"] == {"p_bonafide": 0.5, "c_miss": 1.0, "c_fa": 1.0}
    # minDCF p 0.5, costs 1: 0.5 FNR + 0.5 FPR, best at reject <= .5 or <= 1: 0.125 / 0.5 = 0.25
    assert out["min_dcf"] == pytest.approx(0.25) and out["eer"] == pytest.approx(0.25)


def test_cm_table_output(tmp_path):
    result = runner.invoke(app, _cm_case(tmp_path), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "EER (nearest)" in text and "25.0000 %" in text and "4 / 4" in text
    assert "bona fide vs each attack" in text and "A02" in text and "50.0000" in text and "pooled" in text


def test_cm_missing_scores_and_extra_scores(tmp_path):
    args = _cm_case(tmp_path)
    with open(tmp_path / "proto.txt", "a") as handle:
        handle.write("LA_0001 X1 - A02 spoof\nLA_0001 X2 - - bonafide\n")
    with open(tmp_path / "cm.tsv", "a") as handle:
        handle.write("EXTRA\t1.0\t0.5\n")
    r = runner.invoke(app, [*args, "--json"])
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "2 of 10 protocol utterances have no CM score (e.g. 'X1', 'X2')" in said
    assert "--allow-missing" in said and "Traceback" not in r.output
    out = _json(runner.invoke(app, [*args, "--allow-missing", "--json"]))
    assert out["counts"] == {"protocol_utterances": 10, "utterances_without_score": 2, "scores_not_in_protocol": 1,
                             "utterances_scored": 8}
    assert out["eer"] == pytest.approx(0.25)  # the 8 scored ones, as by hand


def test_cm_protocol_bad_input(tmp_path):
    args = _cm_case(tmp_path)
    proto = tmp_path / "proto.txt"
    good = proto.read_text()
    cases = [
        (good + "LA_0001 B1 - - bonafide\n", "proto.txt:9: utterance 'B1' is listed twice"),
        (good + "LA_0001 Z1 - A03 fake\n", "proto.txt:9: unknown label 'fake'"),
        (good + "LA_0001 Z1 - - spoof\n", "proto.txt:9: a spoofed utterance names no attack"),
        (good + "LA_0001 Z1 A03 spoof\n", "proto.txt:9: expected 5 columns, found fewer"),
        ("utt key\n" + good, "proto.txt:2: expected 2 columns, found 5"),
        ("foo bar baz\n" + good, "proto.txt:1: cannot tell the CM protocol format from its first line"),
    ]
    for text, message in cases:
        proto.write_text(text)
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and message in " ".join(r.output.split()), (message, r.output)
    proto.write_text(good)
    (tmp_path / "cm.tsv").write_text("utt\tcm_logit\tcm_prob_bonafide\nB1\tnan\t0.5\n")
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and "cm.tsv:2: cm_logit is not finite" in " ".join(r.output.split())


def test_cm_evaluation_needs_both_classes_and_matching_names(tmp_path):
    args = _cm_case(tmp_path)
    (tmp_path / "cm.tsv").write_text("B1 1.0\nB2 2.0\n")
    r = runner.invoke(app, [*args, "--allow-missing"])
    assert r.exit_code == 2 and "scored utterances of the protocol are all bona fide" in " ".join(r.output.split())
    (tmp_path / "cm.tsv").write_text("LA_E_1 1.0\n")
    r = runner.invoke(app, [*args, "--allow-missing"])
    assert r.exit_code == 2 and "no utterance of the protocol (8) has a CM score" in " ".join(r.output.split())


def test_options_that_do_not_fit_the_mode(tmp_path):
    args = _cm_case(tmp_path)
    r = runner.invoke(app, [*args, "--label-map", "asvspoof5-fusion"])
    assert r.exit_code == 2 and "--label-map: not used with --protocol" in " ".join(r.output.split())
    r = runner.invoke(app, [*args, "--p-target", "0.9", "--p-target", "0.5"])
    assert r.exit_code == 2 and "give one --p-target" in " ".join(r.output.split())
    r = runner.invoke(app, ["metrics", str(_case_b(tmp_path)), "--allow-missing"])
    assert r.exit_code == 2 and "--allow-missing: only with --protocol" in " ".join(r.output.split())


def test_cm_save_result(tmp_path):
    record_path = tmp_path / "rec.json"
    _json(runner.invoke(app, [*_cm_case(tmp_path), "--save-result", record_path, "--system", "toy-cm", "--json"]))
    record = json.loads(record_path.read_text())
    assert record["system"] == "toy-cm" and record["benchmark"] == "custom:proto"
    assert record["metrics"]["eer"] == pytest.approx(0.25)
    assert record["metrics"]["min_dcf"] == {"0.95": pytest.approx(0.25)}
    assert record["metrics"]["eer_per_attack"] == {"A01": 0.0, "A02": pytest.approx(0.5)}
    assert record["definitions"]["positive_class"] == "bonafide"
    # a failed run writes no record
    (tmp_path / "cm.tsv").write_text("B1 1.0\n")
    r = runner.invoke(app, ["metrics", str(tmp_path / "cm.tsv"), "--protocol", str(tmp_path / "proto.txt"),
                            "--allow-missing", "--save-result", str(tmp_path / "rec2.json")])
    assert r.exit_code == 2 and not (tmp_path / "rec2.json").exists()


def _compact(result) -> str:
    return "".join(ch for ch in result.output if ch not in "│╭╮╰╯─" and not ch.isspace())


@pytest.mark.parametrize("option,values", [
    ("--format", ("auto", "wespeaker", "sasv", "table")),
    ("--eer-method", ("interp", "rocch", "roc", "nearest", "kaldi")),
    ("--protocol-format", ("auto", "asvspoof2019", "asvspoof5", "table")),
])
def test_a_bad_choice_is_rejected_by_the_parser(tmp_path, option, values):
    r = runner.invoke(app, ["metrics", str(_case_b(tmp_path)), option, "bogus"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    text = _compact(r)
    assert f"Invalidvaluefor'{option}':'bogus'isnotoneof" in text
    for value in values:
        assert f"'{value}'" in text


# the published AASIST.pth bona fide logits of the 5 eval files (../shared/docs/checkpoint-keys/
# reference_outputs_aasist.tsv); LA_E_8411845 is the spoof (attack A10)
AASIST_LOGITS = {"LA_E_4311043": 3.846, "LA_E_8411060": 5.066, "LA_E_8411845": -2.751,
                 "LA_E_9296375": 6.367, "LA_E_9297933": 5.616}


@pytest.mark.slow
def test_real_aasist_scores_on_the_asvspoof2019_la_protocols(shared_dir, tmp_path):
    audio = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    ckpt = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    eval_proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.cm.eval.trl.txt")
    dev_proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.cm.dev.trl.txt")
    cm = tmp_path / "cm.tsv"
    r = runner.invoke(app, ["extract", "--model", "aasist", "--checkpoint", str(ckpt), "--audio", str(audio),
                            "--out", str(cm), "--key-style", "stem", "--no-progress", "--num-workers", "0"])
    assert r.exit_code == 0, r.output
    logits = {ln.split("\t")[0]: float(ln.split("\t")[1]) for ln in cm.read_text().splitlines()[1:]}
    assert logits == {u: pytest.approx(v, abs=2e-3) for u, v in AASIST_LOGITS.items()}
    r = runner.invoke(app, ["metrics", str(cm), "--protocol", str(eval_proto)])
    assert r.exit_code == 2 and "71232 of 71237 protocol utterances have no CM score" in " ".join(r.output.split())
    out = _json(runner.invoke(app, ["metrics", str(cm), "--protocol", str(eval_proto), "--allow-missing", "--json",
                                    "--save-result", str(tmp_path / "rec.json")]))
    assert (out["n_bonafide"], out["n_spoof"]) == (4, 1)  # LA_E_8411845 is A10 in the protocol
    assert out["counts"]["protocol_utterances"] == 71_237 and out["counts"]["utterances_without_score"] == 71_232
    # every bona fide logit lies above the spoof's: EER 0, minDCF 0, minCllr 0; actDCF threshold
    # log(0.05 x 10 / 0.95) = -0.642: no bona fide below, the spoof (-2.751) below -> 0
    assert (out["eer"], out["min_dcf"], out["act_dcf"]) == (0.0, 0.0, 0.0)
    assert out["min_cllr"] == pytest.approx(0.0, abs=1e-12)
    bona = np.array([v for u, v in AASIST_LOGITS.items() if u != "LA_E_8411845"])
    want_cllr = 0.5 * (np.mean(np.log2(1 + np.exp(-bona))) + np.log2(1 + np.exp(-2.751)))
    assert out["cllr"] == pytest.approx(want_cllr, abs=1e-3)
    rows = _rows(out)
    assert list(rows) == [f"A{i:02d}" for i in range(7, 20)] + ["pooled"]  # eval attacks A07-A19
    assert rows["A10"]["n_spoof"] == 1 and rows["A10"]["eer"] == 0.0
    assert all(rows[a]["n_spoof"] == 0 and rows[a]["eer"] is None for a in rows if a not in ("A10", "pooled"))
    record = json.loads((tmp_path / "rec.json").read_text())
    assert record["benchmark"] == "asvspoof2019-la-cm-eval" and record["metrics"]["eer_per_attack"]["A10"] == 0.0
    # the eval files are not in the dev protocol (A01-A06)
    r = runner.invoke(app, ["metrics", str(cm), "--protocol", str(dev_proto), "--allow-missing"])
    assert r.exit_code == 2 and "no utterance of the protocol (24844) has a CM score" in " ".join(r.output.split())
