"""``fusion.run_fusion`` called directly (no CLI): fused scores, calibration and rho against values
computed in the test from the published formulas (see ``asvbench/fusion/methods.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.fusion.run import FusionInputs, FusionSettings, run_fusion
from asvbench.metrics import sasv_eers

NAMES = {1: "target", 0: "nontarget", 2: "spoof"}

# six trials of one enrolment model: (test utterance, label, ASV cosine, CM bona fide probability)
SMALL = [("T1", 1, 0.8, 0.9), ("T2", 1, 0.6, 0.8), ("N1", 0, -0.2, 0.95), ("N2", 0, 0.5, 0.9),
         ("P1", 2, 0.7, 0.1), ("P2", 2, 0.5, 0.2)]


def _write(tmp_path, name, rows):
    """ASV scores ``name.asv.tsv`` and the CM store ``name.cm.tsv`` of rows (test, label, cos, prob)."""
    asv = tmp_path / f"{name}.asv.tsv"
    asv.write_text("enroll\ttest\tscore\tlabel\n" + "".join(f"S1\t{u}\t{c!r}\t{NAMES[v]}\n" for u, v, c, _ in rows))
    cm = tmp_path / f"{name}.cm.tsv"
    cm.write_text("utt\tcm_logit\tcm_prob_bonafide\n" + "".join(
        f"{u}\t{math.log(p / (1 - p))!r}\t{p!r}\n" for u, _, _, p in rows))
    return asv, cm


def test_product_fusion_of_a_hand_sized_set(tmp_path):
    asv, cm = _write(tmp_path, "eval", SMALL)
    run = run_fusion(FusionInputs(asv=asv, cm=str(cm)), FusionSettings(method="product"))
    # DoubleRoc: P_bona * (cos + 1) / 2, trial by trial
    want = [0.9 * 0.9, 0.8 * 0.8, 0.95 * 0.4, 0.9 * 0.75, 0.1 * 0.85, 0.2 * 0.75]  # .81 .64 .38 .675 .085 .15
    np.testing.assert_allclose(run.fused, want, rtol=0, atol=1e-12)
    fused = run.result["eval"]["fused"]
    # target vs non-target: targets {.81, .64}, non-targets {.38, .675}: between .64 and .675 one target is
    # rejected and one non-target accepted, FNR = FPR = 1/2; targets vs spoof {.085, .15}: separated
    assert fused["sv_eer"] == pytest.approx(0.5)
    assert fused["spf_eer"] == pytest.approx(0.0)
    assert fused["sasv_eer"] == pytest.approx(sasv_eers(np.array(want), run.data.labels, "roc").sasv_eer)
    assert run.result["method"] == "product" and run.result["cm_score"] == "prob"
    assert run.result["cm_model"] == "aasist"  # a CM score file: the recorded default name
    assert run.dev is None and run.dev_fused is None and run.cm_run is None


def test_sum_fusion_with_the_logit(tmp_path):
    asv, cm = _write(tmp_path, "eval", SMALL)
    run = run_fusion(FusionInputs(asv=asv, cm=str(cm)), FusionSettings(method="sum", cm_score="logit"))
    want = [c + math.log(p / (1 - p)) for _, _, c, p in SMALL]  # SASV 2022 Baseline1: cos + CM score
    np.testing.assert_allclose(run.fused, want, rtol=1e-12)
    assert run.result["cm_score"] == "logit"


def _logistic_regression(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the unweighted maximum-likelihood logistic regression (Newton's method)."""
    theta = np.zeros(2)
    design = np.column_stack([x, np.ones_like(x)])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        step = np.linalg.solve(design.T @ (design * (p * (1 - p))[:, None]), design.T @ (y - p))
        theta += step
        if np.abs(step).max() < 1e-13:
            break
    return float(theta[0]), float(theta[1])


def _calibration(rows) -> tuple[tuple[float, float], tuple[float, float]]:
    """ASV (target vs non-target, bona fide trials) and CM (bona fide vs spoof, CM logit) affine maps to
    LLRs. At the empirical prior P the prior-weighted loss of fit_linear is the plain logistic loss of
    a * s + b + logit(P), so LLR = a * s + (intercept - logit P)."""
    lab = np.array([v for _, v, _, _ in rows])
    cos = np.array([c for _, _, c, _ in rows])
    logit = np.array([math.log(p / (1 - p)) for _, _, _, p in rows])
    bona = lab != 2
    y_asv = lab[bona] == 1
    a, i = _logistic_regression(cos[bona], y_asv.astype(float))
    asv = (a, i - math.log(y_asv.mean() / (1 - y_asv.mean())))
    a, i = _logistic_regression(logit, bona.astype(float))
    cm = (a, i - math.log(bona.mean() / (1 - bona.mean())))
    return asv, cm


def _overlapping(n: int, seed: int):
    """Rows whose classes overlap (a logistic regression has a finite optimum)."""
    rng = np.random.default_rng(seed)
    lab = np.array([1, 0, 2] * n)
    cos = rng.normal(np.where(lab == 0, 0.0, 0.5), 0.3)
    prob = 1.0 / (1.0 + np.exp(-rng.normal(np.where(lab == 2, -1.0, 1.0), 1.5)))
    return [(f"U{k:03d}", int(v), float(c), float(p)) for k, (v, c, p) in enumerate(zip(lab, cos, prob))]


def test_llr_sum_calibrates_on_dev(tmp_path):
    dev_rows, eval_rows = _overlapping(40, seed=1), _overlapping(20, seed=2)
    dev_asv, dev_cm = _write(tmp_path, "dev", dev_rows)
    asv, cm = _write(tmp_path, "eval", eval_rows)
    run = run_fusion(FusionInputs(asv=asv, cm=str(cm), dev_asv=dev_asv, dev_cm=dev_cm), FusionSettings(method="llr-sum"))
    (a_asv, b_asv), (a_cm, b_cm) = _calibration(dev_rows)
    cal = run.result["calibration"]
    assert cal["asv"]["scale"] == pytest.approx(a_asv, rel=1e-5) and cal["asv"]["offset"] == pytest.approx(b_asv, abs=1e-5)
    assert cal["cm"]["scale"] == pytest.approx(a_cm, rel=1e-5) and cal["cm"]["offset"] == pytest.approx(b_cm, abs=1e-5)
    assert cal["fitted_on"] == str(dev_asv)
    want = [a_asv * c + b_asv + a_cm * math.log(p / (1 - p)) + b_cm for _, _, c, p in eval_rows]
    np.testing.assert_allclose(run.fused, want, rtol=1e-5, atol=1e-5)
    assert run.dev_fused is not None and len(run.dev_fused) == len(dev_rows)
    assert set(run.result["dev"]["fused"]) >= {"sasv_eer", "sv_eer", "spf_eer"}


def test_nonlinear_fusion_with_fixed_rho_and_searched_rho(tmp_path):
    dev_rows, eval_rows = _overlapping(40, seed=3), _overlapping(20, seed=4)
    dev_asv, dev_cm = _write(tmp_path, "dev", dev_rows)
    asv, cm = _write(tmp_path, "eval", eval_rows)
    inputs = FusionInputs(asv=asv, cm=str(cm), dev_asv=dev_asv, dev_cm=dev_cm)
    (a_asv, b_asv), (a_cm, b_cm) = _calibration(dev_rows)

    def fused(rows, rho):  # -log((1 - rho) exp(-llr_asv) + rho exp(-llr_cm))
        return np.array([-math.log((1 - rho) * math.exp(-(a_asv * c + b_asv))
                                   + rho * math.exp(-(a_cm * math.log(p / (1 - p)) + b_cm))) for _, _, c, p in rows])

    fixed = run_fusion(inputs, FusionSettings(method="nonlinear", rho=0.3))
    np.testing.assert_allclose(fixed.fused, fused(eval_rows, 0.3), rtol=1e-5, atol=1e-5)
    assert fixed.result["rho"] == {"value": 0.3, "chosen_on": "--rho"}

    grid = [0.0, 0.25, 0.5, 0.75, 1.0]
    searched = run_fusion(inputs, FusionSettings(method="nonlinear", rho_grid=",".join(map(str, grid))))
    dev_labels = np.array([v for _, v, _, _ in dev_rows])
    eers = [sasv_eers(fused(dev_rows, r), dev_labels, "roc").sasv_eer for r in grid]
    assert searched.result["rho"]["value"] == grid[int(np.argmin(eers))]
    assert searched.result["rho"]["grid_size"] == len(grid)


def test_llr_method_without_dev_is_an_error(tmp_path):
    asv, cm = _write(tmp_path, "eval", SMALL)
    with pytest.raises(AsvbenchError, match="calibrates ASV and CM scores on a development set"):
        run_fusion(FusionInputs(asv=asv, cm=str(cm)), FusionSettings(method="llr-sum"))


def test_model_options_with_a_score_file_are_an_error(tmp_path):
    asv, cm = _write(tmp_path, "eval", SMALL)
    with pytest.raises(AsvbenchError, match="--device: only for --cm MODEL"):
        run_fusion(FusionInputs(asv=asv, cm=str(cm), device="cpu"), FusionSettings(method="product"))


def test_breakdown_by_source_and_its_notes(tmp_path):
    asv, cm = _write(tmp_path, "eval", SMALL)
    trials = tmp_path / "protocol.txt"  # ASVspoof 2019 ASV protocol: spk utt source key
    sources = {"P1": "A07", "P2": "A08"}
    trials.write_text("".join(f"S1 {u} {sources.get(u, 'bonafide')} {NAMES[v]}\n" for u, v, _, _ in SMALL))
    said: list[str] = []
    run = run_fusion(FusionInputs(asv=asv, cm=str(cm), trials=trials),
                     FusionSettings(method="product", by=("source",)), notify=said.append)
    assert [b.by for b in run.breakdowns] == ["source"]
    assert run.result["breakdowns"] == [b.to_dict() for b in run.breakdowns]
    assert said == [f"note: {m}" for b in run.breakdowns for m in b.not_computable()]
    assert list(run.data.source) == [sources.get(u, "bonafide") for u, _, _, _ in SMALL]
