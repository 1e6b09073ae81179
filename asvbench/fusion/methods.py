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
from asvbench.fusion.options import CM_SCORE_CHOICES, FUSION_METHODS, LLR_METHODS  # noqa: F401 - re-exported

#: ``--cm-score`` for a plain ``utt score`` file whose score is a probability or a log-odds
_PLAIN_HINT = ("the file has one score column ('utt score'): pass --cm-score prob if that score is the bona fide "
               "probability, --cm-score sigmoid if it is a bona fide log-odds (a logit: the probability is "
               "then 1 / (1 + exp(-score))), or give the store 'utt cm_logit cm_prob_bonafide' that "
               "asvbench extract --model aasist writes")


def _finite(x, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise AsvbenchError(f"{int(bad.sum())} {what} values are NaN or infinite (first at trial {int(np.flatnonzero(bad)[0])})")
    return arr


def cm_input(method: str, choice: str, cm_logit, cm_prob, *, plain: bool) -> tuple[np.ndarray, str]:
    """The CM value that ``method`` fuses, and what it is (``logit``, ``prob``, ``sigmoid`` or ``score``).

    A store (``plain=False``) holds the bona fide logit and the softmax bona fide probability;
    a plain file one ``score`` (passed here as ``cm_logit``). ``choice``:

    * ``auto``: ``product`` the probability (of a store; a plain file does not say whether its
      score is one, so the error asks for ``prob`` or ``sigmoid``); ``sum`` the probability of a
      store, the score of a plain file as it is; the LLR methods the logit or the plain score
      (they calibrate it first);
    * ``logit`` / ``prob``: that column of a store; for a plain file, its score taken as a logit,
      or as a probability (it must then lie in [0, 1]);
    * ``sigmoid``: ``1 / (1 + exp(-score))`` of a plain file's score, which must be a bona fide
      log-odds for this to be the probability. A store already holds the probability (the
      sigmoid of its bona fide logit alone is not it), so ``sigmoid`` is refused there.
    """
    score = np.asarray(cm_logit, dtype=np.float64)
    if choice == "auto":
        if plain and method == "product":
            raise AsvbenchError("product fusion multiplies the CM bona fide probability, and a plain 'utt score' "
                                "file does not say whether its score is one", hint=_PLAIN_HINT)
        if plain:
            return score, "score"
        choice = "prob" if method in ("product", "sum") else "logit"
    if choice == "logit":
        if method == "product":
            raise AsvbenchError("product fusion multiplies the CM bona fide probability, not a logit",
                                hint=_PLAIN_HINT if plain else "drop --cm-score or pass --cm-score prob")
        return score, "logit"
    if choice == "sigmoid":
        if not plain:
            raise AsvbenchError("--cm-score sigmoid is for a plain 'utt score' file; this CM store holds the bona "
                                "fide probability already (cm_prob_bonafide)", hint="pass --cm-score prob")
        return 0.5 * (1.0 + np.tanh(0.5 * _finite(score, "CM score"))), "sigmoid"
    if not plain:
        return np.asarray(cm_prob, dtype=np.float64), "prob"
    if score.size and not (score.min() >= 0.0 and score.max() <= 1.0):
        raise AsvbenchError(f"--cm-score prob: the CM file's scores run from {score.min():.4g} to "
                            f"{score.max():.4g}, outside [0, 1], so they are not probabilities", hint=_PLAIN_HINT)
    return score, "prob"


def fuse_product(cos, p_bona) -> np.ndarray:
    """DoubleRoc: ``P_bona * (cos + 1) / 2`` -- a product of two numbers in [0, 1]."""
    p = _finite(p_bona, "CM probability")
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
