"""Score-level fusion of an ASV system and a spoofing countermeasure (CM) into one SASV score.

Definitions followed (``/shared/docs/seeds-and-sasv.md``):

* ``product`` -- DoubleRoc SASV 2022 system (Zhang, Hu & Zhang, Interspeech 2022;
  ``ASV/test_asv_cm.py``): ``s = P_bona * (cos + 1) / 2``, ``P_bona`` the CM's softmax bona fide
  probability of the test utterance, ``cos`` the ASV cosine;
* ``sum`` -- SASV 2022 Baseline1 (evaluation plan sec. 6.3): ``s = cos + CM score`` (the plan's
  CM score is the "DNN softmax output"; the logit can be chosen instead);
* ``llr-sum`` -- sum of calibrated log-likelihood ratios, ``s = llr_asv + llr_cm``
  (ASVspoof 5 ``Tool-score-fusion`` ``--use_linear_fusion``);
* ``nonlinear`` -- ASVspoof 5 non-linear fusion (Wang, Kinnunen, Lee, Noe & Yamagishi,
  "Revisiting and improving scoring fusion for spoofing-aware speaker verification using
  compositional data analysis", Interspeech 2024): ``s = -log((1 - rho) e^{-llr_asv} + rho e^{-llr_cm})``
  with ``rho`` (spoof prevalence) chosen on a development set by SASV-EER.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.errors import AsvbenchError

FUSION_METHODS: tuple[str, ...] = ("product", "sum", "llr-sum", "nonlinear")
LLR_METHODS: tuple[str, ...] = ("llr-sum", "nonlinear")


def _finite(x, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise AsvbenchError(f"{int(bad.sum())} {what} values are NaN or infinite (first at trial {int(np.flatnonzero(bad)[0])})")
    return arr


def fuse_product(cos, p_bona) -> np.ndarray:
    """DoubleRoc: ``P_bona * (cos + 1) / 2`` -- a product of two numbers in [0, 1]."""
    p = np.asarray(p_bona, dtype=np.float64)
    if np.isnan(p).any():
        raise AsvbenchError(f"product fusion needs the CM bona fide probability; {int(np.isnan(p).sum())} trials "
                            "have none", hint="give a CM score store with cm_prob_bonafide (asvbench extract --cm)")
    p = _finite(p, "CM probability")
    if (p < 0).any() or (p > 1).any():
        raise AsvbenchError("CM bona fide probabilities must lie in [0, 1]")
    return p * (_finite(cos, "ASV score") + 1.0) / 2.0


def fuse_sum(cos, cm_score) -> np.ndarray:
    """SASV 2022 Baseline1: ``cos + CM score``."""
    return _finite(cos, "ASV score") + _finite(cm_score, "CM score")


def fuse_llr_sum(llr_asv, llr_cm) -> np.ndarray:
    """Linear fusion of calibrated LLRs: ``llr_asv + llr_cm``."""
    return _finite(llr_asv, "ASV LLR") + _finite(llr_cm, "CM LLR")


def fuse_nonlinear(llr_asv, llr_cm, rho: float) -> np.ndarray:
    """``-log((1 - rho) exp(-llr_asv) + rho exp(-llr_cm))``, evaluated stably with logaddexp.

    ``rho = 0`` gives ``llr_asv``, ``rho = 1`` gives ``llr_cm``.
    """
    if not 0.0 <= rho <= 1.0:
        raise AsvbenchError(f"rho must lie in [0, 1], got {rho}")
    a = _finite(llr_asv, "ASV LLR")
    c = _finite(llr_cm, "CM LLR")
    with np.errstate(divide="ignore"):
        return -np.logaddexp(np.log1p(-rho) - a, np.log(rho) - c)


@dataclass(frozen=True)
class RhoSearch:
    """The chosen ``rho`` and the development SASV-EER of every grid value."""

    rho: float
    sasv_eer: float
    grid: tuple[float, ...]
    eers: tuple[float, ...]


def parse_rho_grid(text: str) -> np.ndarray:
    """``start:stop:num`` (inclusive linspace) or a comma-separated list of values in [0, 1]."""
    try:
        if ":" in text:
            start, stop, num = text.split(":")
            grid = np.linspace(float(start), float(stop), int(num))
        else:
            grid = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise AsvbenchError(f"cannot parse rho grid {text!r}", hint="use START:STOP:NUM (e.g. 0:1:101) or 0.1,0.5,0.9") from None
    return grid


def select_rho(llr_asv, llr_cm, labels, grid, eer_method: str = "roc") -> RhoSearch:
    """Grid search of ``rho`` minimising the SASV-EER of :func:`fuse_nonlinear` (first best on ties)."""
    from asvbench.metrics import sasv_eers

    g = np.asarray(grid, dtype=np.float64).ravel()
    if g.size == 0:
        raise AsvbenchError("the rho grid is empty", hint="give --rho-grid START:STOP:NUM with NUM >= 1, or --rho")
    if (g < 0).any() or (g > 1).any() or not np.isfinite(g).all():
        raise AsvbenchError(f"rho grid values must lie in [0, 1], got {g.min()}..{g.max()}")
    eers = [sasv_eers(fuse_nonlinear(llr_asv, llr_cm, float(r)), labels, eer_method).sasv_eer for r in g]
    k = int(np.argmin(eers))
    return RhoSearch(float(g[k]), float(eers[k]), tuple(map(float, g)), tuple(map(float, eers)))
