"""Countermeasure (CM) metrics: bona fide (the positive class) against spoofed utterances.

The metrics are the asvbench binary metrics (:func:`~asvbench.metrics.eer.eer_from_points`,
:func:`~asvbench.metrics.dcf.min_dcf_from_points`, :func:`~asvbench.metrics.dcf.act_dcf`,
:func:`~asvbench.metrics.cllr.cllr`, :func:`~asvbench.metrics.cllr.min_cllr_from_points`)
applied with bona fide as the target class, as the ASVspoof 5 evaluation package
(``calculate_metrics.calculate_minDCF_EER_CLLR_actDCF``) does for Track 1:

* cost model (ASVspoof 5 Track 1): ``P_spoof = 0.05`` (so ``P(bona fide) = 0.95``),
  ``C_miss = 1`` (a bona fide utterance rejected), ``C_fa = 10`` (a spoof accepted);
  DCFs normalised by ``min(C_miss P_bona, C_fa P_spoof)``;
* actDCF and Cllr take the scores as log-likelihood ratios (only meaningful for calibrated CMs);
* the per-attack breakdown (``calculate_metrics_full``): every bona fide utterance against the
  spoofs of one attack, plus the pooled row (all spoofs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from asvbench.metrics._curve import operating_points
from asvbench.metrics.cllr import cllr, min_cllr_from_points
from asvbench.metrics.dcf import act_dcf, min_dcf_from_points
from asvbench.metrics.eer import compute_eer, eer_from_points

#: ASVspoof 5 Track 1 CM cost model: P(bona fide) = 1 - P_spoof = 0.95, C_miss = 1, C_fa = 10.
CM_P_BONA, CM_C_MISS, CM_C_FA = 0.95, 1.0, 10.0
#: EER definition of the ASVspoof 2019 and ASVspoof 5 evaluation packages (``compute_eer``).
CM_EER_METHOD = "nearest"
POOLED = "pooled"


@dataclass(frozen=True)
class CmMetrics:
    """Metrics of bona fide against one set of spoofs. Rates are fractions."""

    n_bonafide: int
    n_spoof: int
    eer: float
    eer_threshold: float
    min_dcf: float
    act_dcf: float
    cllr: float
    min_cllr: float


@dataclass(frozen=True)
class CmSummary:
    """Pooled metrics, the per-attack breakdown (attack name -> metrics, ``None`` for an attack
    without scored spoofs) and the definitions used."""

    pooled: CmMetrics
    per_attack: dict[str, CmMetrics | None]
    eer_method: str
    p_bonafide: float
    c_miss: float
    c_fa: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        empty = {**{k: None for k in asdict(self.pooled)}, "n_bonafide": self.pooled.n_bonafide, "n_spoof": 0}
        rows = [{"attack": name, **(asdict(m) if m is not None else empty)} for name, m in self.per_attack.items()]
        return {**asdict(self.pooled), "eer_method": self.eer_method,
                "costs": {"p_bonafide": self.p_bonafide, "c_miss": self.c_miss, "c_fa": self.c_fa},
                "per_attack": rows, **self.extra}


@dataclass
class CmEvaluation:
    """A CM score file evaluated on a protocol: the summary, the joined per-utterance arrays, and what
    was joined how (made by :func:`asvbench.fusion.cm_eval.evaluate_cm`, shown by :mod:`asvbench.report.cm`)."""

    summary: CmSummary
    utt: np.ndarray
    scores: np.ndarray
    is_bonafide: np.ndarray
    attack: np.ndarray
    scores_path: str
    protocol_path: str
    protocol_format: str
    score_column: str
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"scores": self.scores_path, "protocol": self.protocol_path, "protocol_format": self.protocol_format,
                "score_column": self.score_column, **self.summary.to_dict(), "counts": self.counts}


def cm_metrics(scores, is_bonafide, *, eer_method: str = CM_EER_METHOD, p_bonafide: float = CM_P_BONA,
               c_miss: float = CM_C_MISS, c_fa: float = CM_C_FA) -> CmMetrics:
    """EER, minDCF, actDCF, Cllr and minCllr of ``scores`` with bona fide as the positive class."""
    s = np.asarray(scores, dtype=np.float64)
    bona = np.asarray(is_bonafide, dtype=bool)
    points = operating_points(s, bona)
    eer = compute_eer(s, bona, eer_method) if eer_method == "kaldi" else eer_from_points(points, eer_method)
    return CmMetrics(
        n_bonafide=points.n_target, n_spoof=points.n_nontarget, eer=eer.eer, eer_threshold=eer.threshold,
        min_dcf=min_dcf_from_points(points, p_bonafide, c_miss, c_fa).value,
        act_dcf=act_dcf(s, bona, p_bonafide, c_miss, c_fa).value,
        cllr=cllr(s, bona), min_cllr=min_cllr_from_points(points),
    )


def cm_summary(scores, is_bonafide, attacks, *, attack_names=None, eer_method: str = CM_EER_METHOD,
               p_bonafide: float = CM_P_BONA, c_miss: float = CM_C_MISS, c_fa: float = CM_C_FA) -> CmSummary:
    """Pooled metrics and one row per attack (bona fide vs that attack's spoofs).

    ``attacks`` names the attack of each utterance (ignored for bona fide ones).
    ``attack_names``: the rows to report, in order (default: the attacks of the scored spoofs,
    sorted); an attack without scored spoofs gets ``None``.
    """
    s = np.asarray(scores, dtype=np.float64)
    bona = np.asarray(is_bonafide, dtype=bool)
    att = np.asarray(attacks, dtype=object)
    kwargs = {"eer_method": eer_method, "p_bonafide": p_bonafide, "c_miss": c_miss, "c_fa": c_fa}
    pooled = cm_metrics(s, bona, **kwargs)
    names = sorted(set(att[~bona].tolist())) if attack_names is None else list(attack_names)
    per_attack: dict[str, CmMetrics | None] = {}
    for name in names:
        keep = bona | (att == name)
        per_attack[name] = cm_metrics(s[keep], bona[keep], **kwargs) if (keep & ~bona).any() else None
    per_attack[POOLED] = pooled
    return CmSummary(pooled, per_attack, eer_method, p_bonafide, c_miss, c_fa)
