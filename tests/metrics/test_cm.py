"""CM metrics (bona fide = positive class) against an independent re-statement of the ASVspoof 5
evaluation package's Track 1 definitions (calculate_modules.py: compute_det_curve / compute_eer,
compute_mindcf, compute_actDCF, calculate_CLLR), on tie-free random scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.metrics.cm import CM_C_FA, CM_C_MISS, CM_P_BONA, cm_metrics, cm_summary


def _package_track1(bona: np.ndarray, spoof: np.ndarray) -> dict:
    """The package's formulas, written out: the DET curve over the sorted scores (reject the first
    k), EER at the first k minimising |FRR - FAR|, minDCF over the same points, actDCF at the
    threshold -log(beta), beta = Cmiss (1 - Pspoof) / (Cfa Pspoof), Cllr in bits."""
    p_spoof = 1 - CM_P_BONA
    scores = np.concatenate([bona, spoof])
    is_bona = np.concatenate([np.ones(len(bona)), np.zeros(len(spoof))])[np.argsort(scores, kind="mergesort")]
    frr = np.concatenate([[0.0], np.cumsum(is_bona) / len(bona)])
    far = np.concatenate([[1.0], 1 - np.cumsum(1 - is_bona) / len(spoof)])
    k = int(np.argmin(np.abs(frr - far)))
    cost = CM_C_MISS * frr * CM_P_BONA + CM_C_FA * far * p_spoof
    norm = min(CM_C_MISS * CM_P_BONA, CM_C_FA * p_spoof)
    thr = -math.log(CM_C_MISS * CM_P_BONA / (CM_C_FA * p_spoof))
    act = CM_C_MISS * CM_P_BONA * np.mean(bona < thr) + CM_C_FA * p_spoof * np.mean(spoof >= thr)
    cllr = 0.5 * (np.mean(np.log1p(np.exp(-bona))) + np.mean(np.log1p(np.exp(spoof)))) / math.log(2)
    return {"eer": (frr[k] + far[k]) / 2, "min_dcf": cost.min() / norm, "act_dcf": act / norm, "cllr": cllr}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_asvspoof5_track1_definitions(seed):
    rng = np.random.default_rng(seed)
    bona, spoof = rng.normal(2.0, 1.5, 300), rng.normal(-1.0, 2.0, 900)
    got = cm_metrics(np.concatenate([bona, spoof]), np.r_[np.ones(300, bool), np.zeros(900, bool)])
    want = _package_track1(bona, spoof)
    assert (got.n_bonafide, got.n_spoof) == (300, 900)
    for name, value in want.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-12, abs=1e-15), name
    assert 0 <= got.min_cllr <= got.cllr


def test_per_attack_rows_are_bona_fide_against_one_attack():
    rng = np.random.default_rng(5)
    bona = rng.normal(2, 1, 50)
    spoofs = {"A01": rng.normal(-2, 1, 40), "A02": rng.normal(1, 1, 30)}
    scores = np.concatenate([bona, *spoofs.values()])
    is_bona = np.r_[np.ones(50, bool), np.zeros(70, bool)]
    attacks = np.array(["-"] * 50 + ["A01"] * 40 + ["A02"] * 30, dtype=object)
    summary = cm_summary(scores, is_bona, attacks, attack_names=["A01", "A02", "A03"])
    assert list(summary.per_attack) == ["A01", "A02", "A03", "pooled"]
    for name, spoof in spoofs.items():
        assert summary.per_attack[name].eer == pytest.approx(_package_track1(bona, spoof)["eer"])
        assert summary.per_attack[name].n_spoof == len(spoof)
    assert summary.per_attack["A03"] is None  # no scored spoof of that attack
    assert summary.per_attack["pooled"] == summary.pooled
    rows = {r["attack"]: r for r in summary.to_dict()["per_attack"]}
    assert rows["A03"] == {"attack": "A03", "n_bonafide": 50, "n_spoof": 0, "eer": None, "eer_threshold": None,
                           "min_dcf": None, "act_dcf": None, "cllr": None, "min_cllr": None}
