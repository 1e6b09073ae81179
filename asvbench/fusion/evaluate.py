"""The SASV metric bundle reported by ``asvbench fuse`` for fused, ASV-only and CM-only scores.

* per score set: SASV-EER / SV-EER / SPF-EER (:func:`asvbench.metrics.sasv_eers`) and min a-DCF
  (:func:`asvbench.metrics.adcf.min_adcf`);
* the CM alone, per unique test utterance (bona fide = utterances of target/non-target trials):
  EER, minDCF / actDCF with the ASVspoof 5 Track 1 costs (Pspoof 0.05, Cmiss 1, Cfa 10, i.e.
  P(bona fide) 0.95), and Cllr (CM scores taken as LLRs: only meaningful for calibrated CMs);
* min t-DCF of the CM (legacy and 2021 forms) with the ASV operating point stated;
* concurrent t-EER of the ASV and CM scores per trial.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.fusion.options import TDCF_ASV_SOURCES
from asvbench.metrics import act_dcf, cllr, compute_eer, min_dcf, sasv_eers
from asvbench.metrics.adcf import min_adcf
from asvbench.metrics.cm import CM_C_FA, CM_C_MISS, CM_P_BONA
from asvbench.metrics.tdcf import ASVSPOOF5_ORGANISER_ASV, asv_error_rates, min_tdcf
from asvbench.metrics.teer import compute_teer
from asvbench.types import Label


def score_set_metrics(scores, labels, eer_method: str, adcf_costs: str) -> dict:
    eers = sasv_eers(scores, labels, eer_method)
    adcf = min_adcf(scores, labels, adcf_costs)
    return {"sasv_eer": eers.sasv_eer, "sv_eer": eers.sv_eer, "spf_eer": eers.spf_eer,
            "min_adcf": adcf.min_adcf, "min_adcf_threshold": adcf.threshold}


def cm_metrics(test_ids, cm_scores, labels, eer_method: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """CM metrics per unique test utterance; returns them with the utterance scores and bona fide mask."""
    import pandas as pd

    frame = pd.DataFrame({"utt": np.asarray(test_ids, dtype=object), "cm": cm_scores,
                          "bona": np.asarray(labels) != Label.SPOOF})
    per_utt = frame.groupby("utt", sort=False).agg(cm=("cm", "first"), bona=("bona", "first"),
                                                  mixed=("bona", "nunique"))
    if (per_utt["mixed"] > 1).any():
        utt = per_utt.index[per_utt["mixed"] > 1][0]
        raise AsvbenchError(f"test utterance {utt!r} is in spoof and bona fide trials", hint="check the protocol")
    s = per_utt["cm"].to_numpy(np.float64)
    bona = per_utt["bona"].to_numpy(bool)
    out = {
        "n_bonafide": int(bona.sum()), "n_spoof": int((~bona).sum()),
        "eer": compute_eer(s, bona, eer_method).eer,
        "min_dcf": min_dcf(s, bona, CM_P_BONA, CM_C_MISS, CM_C_FA).value,
        "act_dcf": act_dcf(s, bona, CM_P_BONA, CM_C_MISS, CM_C_FA).value,
        "cllr": cllr(s, bona),
        "costs": {"p_bonafide": CM_P_BONA, "c_miss": CM_C_MISS, "c_fa": CM_C_FA},
    }
    return out, s, bona


def _min_tdcf_or_undefined(utt_scores, utt_bona, rates, form: str) -> dict:
    """The min t-DCF of ``form``; NaN with the reason where the ASV operating point makes the t-DCF
    weights non-positive (an ASV that misses every target or accepts no spoof): the t-DCF is then
    undefined, but the SASV EERs are not, so fuse reports them."""
    try:
        r = min_tdcf(utt_scores, utt_bona, rates, form)
    except AsvbenchError as err:
        nan = float("nan")
        return {"min_tdcf": nan, "cm_threshold": nan, "c0": nan, "c1": nan, "c2": nan, "undefined": err.what}
    return {"min_tdcf": r.min_tdcf, "cm_threshold": r.threshold, "c0": r.c0, "c1": r.c1, "c2": r.c2}


def sasv_report(fused, asv, cm, labels, test_ids, *, eer_method: str = "roc", adcf_costs: str = "default",
                tdcf_asv: str = "eer") -> dict:
    """Every metric of the module docstring, as a JSON-ready dict."""
    check_choice(tdcf_asv, TDCF_ASV_SOURCES, "t-DCF ASV operating point")
    report: dict = {
        "definitions": {"eer_method": eer_method, "adcf_costs": adcf_costs},
        "fused": score_set_metrics(fused, labels, eer_method, adcf_costs),
        "asv_only": score_set_metrics(asv, labels, eer_method, adcf_costs),
        "cm_only": score_set_metrics(cm, labels, eer_method, adcf_costs),
    }
    cm_out, utt_scores, utt_bona = cm_metrics(test_ids, cm, labels, eer_method)
    report["cm"] = cm_out
    rates = asv_error_rates(asv, labels) if tdcf_asv == "eer" else ASVSPOOF5_ORGANISER_ASV
    report["tdcf"] = {"asv_operating_point": asdict(rates)}
    for form in ("legacy", "2021"):
        report["tdcf"][form] = _min_tdcf_or_undefined(utt_scores, utt_bona, rates, form)
    t = compute_teer(asv, cm, labels)
    report["teer"] = {"teer": t.teer, "asv_threshold": t.asv_threshold, "cm_threshold": t.cm_threshold}
    return report
