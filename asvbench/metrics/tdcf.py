"""Tandem detection cost function (t-DCF) of a countermeasure in front of a fixed ASV system.

Definitions followed (Kinnunen et al., "t-DCF: a detection cost function for the tandem
assessment of spoofing countermeasures and automatic speaker verification", Odyssey 2018, and
IEEE/ACM TASLP 28, 2020), as in the ASVspoof 2019 ``tDCF_python`` code and the ASVspoof 5
evaluation package (``calculate_modules.py``):

``legacy`` (ASVspoof 2019)::

    C1 = Ptar (Cmiss_cm - Cmiss_asv Pmiss_asv) - Pnon Cfa_asv Pfa_asv
    C2 = Cfa_cm Pspoof (1 - Pmiss_spoof_asv)
    t-DCF(s) = (C1 Pmiss_cm(s) + C2 Pfa_cm(s)) / min(C1, C2)

``2021`` (ASVspoof 2021 / ASVspoof 5 revised form)::

    C0 = Ptar Cmiss Pmiss_asv + Pnon Cfa Pfa_asv
    C1 = Ptar Cmiss - C0
    C2 = Pspoof Cfa_spoof Pfa_spoof_asv
    t-DCF(s) = (C0 + C1 Pmiss_cm(s) + C2 Pfa_cm(s)) / (C0 + min(C1, C2))

``s`` is the CM threshold; the minimum over every CM operating point (tie-grouped, accept-all and
reject-all included) is reported. The ASV error rates are taken at a fixed ASV operating point:
by default the EER threshold of the given ASV scores (target vs non-target, ``nearest`` EER as the
ASVspoof packages), or fixed rates (e.g. the ASVspoof 5 organisers' ASV,
:data:`ASVSPOOF5_ORGANISER_ASV`). Where they come from is recorded in :class:`AsvErrorRates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.metrics._curve import operating_points
from asvbench.metrics.adcf import three_class_points
from asvbench.metrics.eer import compute_eer
from asvbench.types import Label

TdcfForm = Literal["legacy", "2021"]
TDCF_FORMS: tuple[str, ...] = ("legacy", "2021")


@dataclass(frozen=True)
class TdcfCosts:
    """ASVspoof 2019 / 2021 / 5 cost model (the same numbers in both forms).

    In the 2021 form ``c_miss_asv``/``c_fa_asv`` are its ``Cmiss``/``Cfa`` and ``c_fa_cm`` its ``Cfa_spoof``.
    """

    p_spoof: float = 0.05
    p_target: float = 0.95 * 0.99
    p_nontarget: float = 0.95 * 0.01
    c_miss_asv: float = 1.0
    c_fa_asv: float = 10.0
    c_miss_cm: float = 1.0
    c_fa_cm: float = 10.0

    def check(self) -> None:
        priors = (self.p_target, self.p_nontarget, self.p_spoof)
        if min(priors) < 0 or abs(sum(priors) - 1.0) > 1e-10:
            raise AsvbenchError(f"t-DCF priors must be non-negative and sum to 1, got {priors}")
        if min(self.c_miss_asv, self.c_fa_asv, self.c_miss_cm, self.c_fa_cm) < 0:
            raise AsvbenchError("t-DCF costs must be non-negative")


@dataclass(frozen=True)
class AsvErrorRates:
    """ASV error rates at one operating point, and where they come from."""

    p_miss: float  # targets rejected
    p_fa_nontarget: float  # non-targets accepted
    p_fa_spoof: float  # spoofs accepted (1 - Pmiss_spoof_asv)
    threshold: float | None
    source: str


#: ASV error rates hard-coded in the ASVspoof 5 Track 2 evaluation (organisers' ASV system).
ASVSPOOF5_ORGANISER_ASV = AsvErrorRates(0.01880141010575793, 0.01881016557566423, 0.4607082907604729, None,
                                        "fixed: ASVspoof 5 organisers' ASV (calculate_metrics.py)")


def asv_error_rates(asv_scores, labels, threshold: float | None = None) -> AsvErrorRates:
    """ASV Pmiss, Pfa(non-target) and Pfa(spoof) at ``threshold`` (default: the ASV EER threshold).

    A trial is accepted when its score is above the threshold. The EER threshold is that of
    the ``nearest`` EER (ASVspoof convention) of target vs non-target scores.
    """
    three_class_points(asv_scores, labels)  # validates: finite scores, all three classes
    s = np.asarray(asv_scores, dtype=np.float64)
    lab = np.asarray(labels)
    if threshold is None:
        bona = lab != Label.SPOOF
        thr = compute_eer(s[bona], lab[bona] == Label.TARGET, "nearest").threshold
        source = "EER threshold of the given ASV scores (target vs nontarget, nearest-point EER)"
    else:
        thr = float(threshold)
        source = "given ASV threshold"
    return AsvErrorRates(
        p_miss=float(np.mean(s[lab == Label.TARGET] <= thr)),
        p_fa_nontarget=float(np.mean(s[lab == Label.NONTARGET] > thr)),
        p_fa_spoof=float(np.mean(s[lab == Label.SPOOF] > thr)),
        threshold=float(thr), source=source,
    )


@dataclass(frozen=True)
class TdcfResult:
    """Minimum normalised t-DCF, the CM threshold (reject ``<=``) and the weights used."""

    min_tdcf: float
    threshold: float
    p_miss_cm: float
    p_fa_cm: float
    form: str
    c0: float
    c1: float
    c2: float
    asv: AsvErrorRates


def min_tdcf(cm_scores, is_bonafide, asv: AsvErrorRates, form: str = "legacy",
             costs: TdcfCosts = TdcfCosts()) -> TdcfResult:
    """Minimum normalised t-DCF of CM scores (higher = more bona fide) given ASV error rates."""
    check_choice(form, TDCF_FORMS, "t-DCF form")
    costs.check()
    pts = operating_points(cm_scores, is_bonafide)
    p_miss_cm, p_fa_cm = pts.fnr, pts.fpr
    c = costs
    if form == "legacy":
        c0 = 0.0
        c1 = c.p_target * (c.c_miss_cm - c.c_miss_asv * asv.p_miss) - c.p_nontarget * c.c_fa_asv * asv.p_fa_nontarget
        c2 = c.c_fa_cm * c.p_spoof * asv.p_fa_spoof
        norm = min(c1, c2)
    else:
        c0 = c.p_target * c.c_miss_asv * asv.p_miss + c.p_nontarget * c.c_fa_asv * asv.p_fa_nontarget
        c1 = c.p_target * c.c_miss_asv - c0
        c2 = c.p_spoof * c.c_fa_cm * asv.p_fa_spoof
        norm = c0 + min(c1, c2)
    if c1 <= 0 or c2 <= 0:
        raise AsvbenchError(
            f"t-DCF weights are not positive (C1 = {c1:.6g}, C2 = {c2:.6g}) for ASV rates "
            f"Pmiss {asv.p_miss:.4g}, Pfa_non {asv.p_fa_nontarget:.4g}, Pfa_spoof {asv.p_fa_spoof:.4g}",
            hint="the ASV operating point is degenerate (does the ASV accept any spoof? are labels right?)",
        )
    curve = (c0 + c1 * p_miss_cm + c2 * p_fa_cm) / norm
    k = int(np.argmin(curve))
    return TdcfResult(float(curve[k]), float(pts.thresholds[k]), float(p_miss_cm[k]), float(p_fa_cm[k]), form,
                      float(c0), float(c1), float(c2), asv)
