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
