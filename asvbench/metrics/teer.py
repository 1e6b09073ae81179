"""Concurrent tandem equal error rate (t-EER) of an ASV system and a countermeasure.

Definition followed: Kinnunen, Lee, Tak et al., "t-EER: parameter-free tandem evaluation of
countermeasures and biometric comparators", IEEE TPAMI 2023 (arXiv:2309.12237), as computed by
``compute_teer`` of the ASVspoof 5 evaluation package. With an ASV threshold ``ta`` and a CM
threshold ``tc`` (a trial passes a subsystem when its score is above the threshold), the tandem
error rates at spoof prevalence ``rho`` are::

    Pmiss_tdm(ta, tc)    = Pmiss_cm(tc) + (1 - Pmiss_cm(tc)) Pmiss_asv(ta)
    Pfa_tdm(ta, tc; rho) = (1 - rho) (1 - Pmiss_cm(tc)) Pfa_non_asv(ta) + rho Pfa_cm(tc) Pfa_spf_asv(ta)

The concurrent t-EER is the error rate at the point where ``Pmiss_tdm = Pfa_tdm`` for every ``rho``
at once, i.e. where also ``(1 - Pmiss_cm) Pfa_non_asv = Pfa_cm Pfa_spf_asv``; there
``t-EER = Pfa_spf_asv(ta) Pfa_cm(tc)``.

Search (as the reference, on the discrete curves): for every ASV operating point with
``Pmiss_asv < Pfa_non_asv`` the CM operating point nearest to ``Pmiss_tdm = Pfa_tdm(rho = 0)``
is taken (``Pmiss_tdm - Pfa_tdm`` is monotone in ``Pmiss_cm``, so a binary search replaces
the reference's scan); among those pairs the one closest to the concurrency condition
``|Pfa_non_asv / Pfa_spf_asv - Pfa_cm / (1 - Pmiss_cm)|`` gives the t-EER. Operating points are
tie-grouped. CM bona fide scores are those of target and non-target trials; CM spoof scores those
of spoof trials; the ASV curves use all three classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.metrics._curve import operating_points
from asvbench.metrics.adcf import three_class_points
from asvbench.types import Label


@dataclass(frozen=True)
class TeerResult:
    """t-EER (a fraction) and the ASV/CM thresholds of the concurrency point (reject ``<=``)."""

    teer: float
    asv_threshold: float
    cm_threshold: float
    p_miss_tandem: float
    p_fa_tandem: float


def _first_index_of_value(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """For a non-decreasing ``values``: the first index holding ``values[idx]``."""
    return np.searchsorted(values, values[idx], side="left")


def compute_teer(asv_scores, cm_scores, labels) -> TeerResult:
    """Concurrent t-EER of per-trial ASV and CM scores with :class:`~asvbench.types.Label` codes."""
    asv = three_class_points(asv_scores, labels)
    lab = np.asarray(labels)
    cm = operating_points(cm_scores, lab != Label.SPOOF)
    p_miss_cm, p_fa_cm = cm.fnr, cm.fpr  # nondecreasing / nonincreasing in the CM index
    allowed = np.flatnonzero(asv.p_miss < asv.p_fa_nontarget)
    if allowed.size == 0:
        raise AsvbenchError("t-EER undefined: no ASV operating point has Pmiss < Pfa(non-target)")
    d = asv.p_miss[allowed] - asv.p_fa_nontarget[allowed]  # in [-1, 0)
    root = -d / (1.0 - d)  # the Pmiss_cm that zeroes Pmiss_tdm - Pfa_tdm(rho = 0)
    hi = np.clip(np.searchsorted(p_miss_cm, root, side="left"), 0, p_miss_cm.size - 1)
    lo = np.clip(hi - 1, 0, None)
    lo = _first_index_of_value(p_miss_cm, lo)
    hi = _first_index_of_value(p_miss_cm, hi)
    pm_asv, pfa_non = asv.p_miss[allowed], asv.p_fa_nontarget[allowed]

    def gap(jj: np.ndarray) -> np.ndarray:  # |Pmiss_tdm - Pfa_tdm(rho = 0)|, the reference's expression
        return np.abs(p_miss_cm[jj] + (1.0 - p_miss_cm[jj]) * pm_asv - (1.0 - p_miss_cm[jj]) * pfa_non)

    h_lo, h_hi = gap(lo), gap(hi)
    j = np.where(h_lo <= h_hi, lo, hi)  # the first index on ties, as argmin in the reference
    with np.errstate(divide="ignore", invalid="ignore"):
        lhs = asv.p_fa_nontarget[allowed] / asv.p_fa_spoof[allowed]
        rhs = p_fa_cm[j] / (1.0 - p_miss_cm[j])
        crit = np.abs(lhs - rhs)
    crit = np.where(np.isnan(crit), np.inf, crit)
    best = int(np.argmin(crit))
    if not np.isfinite(crit[best]):
        raise AsvbenchError("t-EER undefined: the concurrency condition cannot be evaluated on these scores")
    i, jj = int(allowed[best]), int(j[best])
    p_miss_tdm = p_miss_cm[jj] + (1.0 - p_miss_cm[jj]) * asv.p_miss[i]
    p_fa_tdm = (1.0 - p_miss_cm[jj]) * asv.p_fa_nontarget[i]
    return TeerResult(float(asv.p_fa_spoof[i] * p_fa_cm[jj]), float(asv.thresholds[i]), float(cm.thresholds[jj]),
                      float(p_miss_tdm), float(p_fa_tdm))
