"""Affine (linear logistic regression) calibration of detection scores to LLRs.

Definition followed: Brümmer & du Preez, "Application-independent evaluation of speaker detection",
CSL 20 (2006), and BOSARIS ``train_linear_calibration`` / PYLLR: the calibrated LLR is

    llr = a * score + b  (+ w . q with optional quality measures q, as in QMF calibration),

with ``a``, ``b`` (and ``w``) minimising the prior-weighted cross-entropy, i.e. Cllr at the
training prior ``P`` (``logit P`` shifts the LLR to a posterior log-odds)::

    C(a, b) = P / N_tar * sum_tar log(1 + exp(-(llr + logit P)))
            + (1 - P) / N_non * sum_non log(1 + exp(llr + logit P))

``P = 0.5`` is Cllr itself (up to the factor 1/log 2). The minimiser is found with
``scipy.optimize.minimize`` (L-BFGS-B, analytic gradient); features are standardised for the
optimisation and the parameters mapped back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asvbench.errors import AsvbenchError


@dataclass(frozen=True)
class LinearCalibration:
    """``llr = scale * score + offset + quality @ quality_weights``."""

    scale: float
    offset: float
    quality_weights: tuple[float, ...] = ()
    p_target: float = 0.5
    converged: bool = True

    def apply(self, scores, quality=None) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        llr = self.scale * s + self.offset
        if self.quality_weights:
            q = _quality_matrix(quality, s.shape[0], len(self.quality_weights))
            llr = llr + q @ np.asarray(self.quality_weights)
        elif quality is not None and np.size(quality):
            raise AsvbenchError("quality measures given, but the calibration was trained without them")
        return llr


def _quality_matrix(quality, n: int, n_q: int | None = None) -> np.ndarray:
    if quality is None:
        if n_q:
            raise AsvbenchError(f"the calibration uses {n_q} quality measures; none were given")
        return np.zeros((n, 0))
    q = np.asarray(quality, dtype=np.float64)
    if q.ndim == 1:
        q = q[:, None]
    if q.shape[0] != n or (n_q is not None and q.shape[1] != n_q):
        raise AsvbenchError(f"quality measures have shape {q.shape}, expected ({n}, {n_q or 'k'})")
    if not np.isfinite(q).all():
        raise AsvbenchError("quality measures contain NaN or infinite values")
    return q


def check_two_classes(scores, is_target, what: str = "calibration") -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(is_target).astype(bool)
    if s.ndim != 1 or y.shape != s.shape:
        raise AsvbenchError(f"scores and labels must be 1-D of equal length, got {s.shape} and {y.shape}")
    n_tar = int(y.sum())
    if n_tar == 0 or n_tar == y.shape[0]:
        only = "target" if n_tar else "non-target"
        raise AsvbenchError(
            f"the {what} set holds only {only} trials ({y.shape[0]}); calibration needs both classes",
            hint="give a development set with target and non-target trials",
        )
    if not np.isfinite(s).all():
        raise AsvbenchError(f"{int((~np.isfinite(s)).sum())} {what} scores are NaN or infinite")
    return s, y


def fit_linear(scores, is_target, p_target: float = 0.5, quality=None) -> LinearCalibration:
    """Fit an affine score-to-LLR map by minimising prior-weighted Cllr (see module docstring).

    Parameters
    ----------
    scores : (n,) array
    is_target : (n,) bool array; both classes must be present.
    p_target : float in (0, 1)
        Training prior ``P``; 0.5 minimises Cllr.
    quality : (n, k) array, optional
        Quality measures (log durations, embedding norms, ...) added linearly to the LLR.
    """
    from scipy.optimize import minimize

    s, y = check_two_classes(scores, is_target)
    if not 0.0 < p_target < 1.0:
        raise AsvbenchError(f"p_target must lie strictly between 0 and 1, got {p_target}")
    q = _quality_matrix(quality, s.shape[0])
    feats = np.column_stack([s, q])
    mu = feats.mean(axis=0)
    sd = feats.std(axis=0)
    sd[sd == 0] = 1.0
    x = (feats - mu) / sd
    logit_p = math.log(p_target / (1.0 - p_target))
    weight = np.where(y, p_target / y.sum(), (1.0 - p_target) / (~y).sum())
    sign = np.where(y, -1.0, 1.0)  # loss = log(1 + exp(sign * (llr + logit P)))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = sign * (x @ theta[1:] + theta[0] + logit_p)
        value = float(np.sum(weight * np.logaddexp(0.0, z)))
        g = weight * sign * _sigmoid(z)
        return value, np.r_[g.sum(), x.T @ g]

    res = minimize(loss, np.zeros(feats.shape[1] + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-14})
    w = res.x[1:] / sd
    b = float(res.x[0] - np.sum(w * mu))
    return LinearCalibration(scale=float(w[0]), offset=b, quality_weights=tuple(float(v) for v in w[1:]),
                             p_target=p_target, converged=bool(res.success))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))
