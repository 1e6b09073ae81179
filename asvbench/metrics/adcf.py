"""Architecture-agnostic detection cost function (a-DCF) of SASV scores.

Definition followed: Shim, Jung, Kinnunen et al., "a-DCF: an architecture agnostic metric with
application to spoofing-robust speaker verification", Odyssey 2024 (arXiv:2403.01355), eq. (2)-(3),
as implemented in the ``a_dcf`` package (shimhz/a_DCF) and the ASVspoof 5 evaluation package.
For a threshold ``tau`` (a trial is accepted when its score is above ``tau``)::

    a-DCF(tau) = Cmiss Ptar Pmiss(tau) + Cfa_asv Pnon Pfa_non(tau) + Cfa_cm Pspf Pfa_spf(tau)

normalised by the better of the two trivial systems, ``min(Cfa_asv Pnon + Cfa_cm Pspf, Cmiss Ptar)``
(accept all / reject all). The reported value is the minimum over thresholds, the accept-all and
reject-all points included.

Ties: tied scores are grouped (they move together), so the result never depends on the input
order. The reference code steps through sorted scores one by one, which puts intermediate points
inside runs of tied scores; on tie-free scores both give the same minimum.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.types import Label


@dataclass(frozen=True)
class AdcfCosts:
    """Priors and costs of the a-DCF. Defaults: the paper's "a-DCF1" and the package's ``CostModel()``."""

    p_target: float = 0.9
    p_nontarget: float = 0.05
    p_spoof: float = 0.05
    c_miss: float = 1.0
    c_fa_asv: float = 10.0
    c_fa_cm: float = 20.0

    def check(self) -> None:
        priors = (self.p_target, self.p_nontarget, self.p_spoof)
        if min(priors) < 0 or not math.isclose(sum(priors), 1.0, abs_tol=1e-9):
            raise AsvbenchError(f"a-DCF priors must be non-negative and sum to 1, got {priors}")
        if min(self.c_miss, self.c_fa_asv, self.c_fa_cm) <= 0:
            raise AsvbenchError(f"a-DCF costs must be positive, got {asdict(self)}")

    @property
    def normaliser(self) -> float:
        return min(self.c_fa_asv * self.p_nontarget + self.c_fa_cm * self.p_spoof, self.c_miss * self.p_target)


#: Named cost settings: ``default`` (Shim et al. a-DCF1) and ``asvspoof5`` (Track 2,
#: ``calculate_metrics.py``: Ptar 0.95 x 0.99, Pnon 0.95 x 0.01, Pspf 0.05, Cfa_cm 10).
ADCF_COSTS: dict[str, AdcfCosts] = {
    "default": AdcfCosts(),
    "asvspoof5": AdcfCosts(p_target=0.95 * 0.99, p_nontarget=0.95 * 0.01, p_spoof=0.05, c_miss=1.0,
                           c_fa_asv=10.0, c_fa_cm=10.0),
}


@dataclass(frozen=True)
class AdcfResult:
    """Minimum normalised a-DCF and the operating point where it is reached.

    ``threshold``: trials scoring at or below it are rejected (``-inf`` = accept all).
    """

    min_adcf: float
    threshold: float
    p_miss: float
    p_fa_nontarget: float
    p_fa_spoof: float
    costs: AdcfCosts


@dataclass(frozen=True)
class ThreeClassPoints:
    """Tie-grouped operating points of three-way labelled scores (reject ``<= thresholds[k]``).

    Point 0 is accept-all (``-inf``); the last point rejects everything.
    """

    thresholds: np.ndarray
    p_miss: np.ndarray
    p_fa_nontarget: np.ndarray
    p_fa_spoof: np.ndarray
    counts: tuple[int, int, int]  # target, nontarget, spoof


def three_class_points(scores, labels) -> ThreeClassPoints:
    """Pmiss (targets rejected) and Pfa of non-targets and spoofs at every distinct threshold."""
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    if s.ndim != 1 or lab.shape != s.shape:
        raise AsvbenchError(f"scores and labels must be 1-D of equal length, got {s.shape} and {lab.shape}")
    if not np.isfinite(s).all():
        bad = ~np.isfinite(s)
        raise AsvbenchError(f"{int(bad.sum())} scores are NaN or infinite (first at trial {int(np.flatnonzero(bad)[0])})")
    n = [int((lab == code).sum()) for code in (Label.TARGET, Label.NONTARGET, Label.SPOOF)]
    if n[0] + n[1] + n[2] != s.shape[0]:
        raise AsvbenchError("labels must be Label codes 0 (nontarget), 1 (target) or 2 (spoof)")
    missing = [name for name, c in zip(("target", "nontarget", "spoof"), n) if c == 0]
    if missing:
        raise AsvbenchError(f"three-class metrics need target, nontarget and spoof trials; none of: "
                            f"{', '.join(missing)} (counts {dict(zip(('target', 'nontarget', 'spoof'), n))})")
    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    lab_sorted = lab[order]
    last_of_run = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    cum = [np.cumsum(lab_sorted == code)[last_of_run] for code in (Label.TARGET, Label.NONTARGET, Label.SPOOF)]
    p_miss = np.r_[0.0, cum[0] / n[0]]
    p_fa_non = np.r_[1.0, 1.0 - cum[1] / n[1]]
    p_fa_spf = np.r_[1.0, 1.0 - cum[2] / n[2]]
    thresholds = np.r_[-np.inf, s_sorted[last_of_run]]
    return ThreeClassPoints(thresholds, p_miss, p_fa_non, p_fa_spf, (n[0], n[1], n[2]))


def min_adcf(scores, labels, costs: AdcfCosts | str = "default") -> AdcfResult:
    """Minimum normalised a-DCF of SASV scores with :class:`~asvbench.types.Label` codes.

    Parameters
    ----------
    scores : (n,) array-like of float
        One score per trial, higher = more likely a bona fide target.
    labels : (n,) array-like of int
        0 nontarget, 1 target, 2 spoof; all three must be present.
    costs : AdcfCosts or str
        A cost model, or a name in :data:`ADCF_COSTS` (``default``, ``asvspoof5``).
    """
    if isinstance(costs, str):
        costs = ADCF_COSTS[check_choice(costs, ADCF_COSTS, "a-DCF cost setting")]
    costs.check()
    pts = three_class_points(scores, labels)
    curve = (costs.c_miss * costs.p_target * pts.p_miss + costs.c_fa_asv * costs.p_nontarget * pts.p_fa_nontarget
             + costs.c_fa_cm * costs.p_spoof * pts.p_fa_spoof) / costs.normaliser
    k = int(np.argmin(curve))
    return AdcfResult(float(curve[k]), float(pts.thresholds[k]), float(pts.p_miss[k]),
                      float(pts.p_fa_nontarget[k]), float(pts.p_fa_spoof[k]), costs)
