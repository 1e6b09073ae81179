"""Paired significance of the difference between two systems scored on the same trials.

* :func:`paired_difference`: the paired bootstrap (Bolle et al. 2004; Ferrer & Riera 2022, sec. on
  comparing systems): both systems' metric on the *same* resamples (same units drawn), the
  difference B - A per replicate, its percentile interval, and a two-sided p-value
  ``2 min(P(d <= 0), P(d >= 0))`` over the replicates, with the ``(count + 1) / (R + 1)`` correction
  so that a p-value is never 0 from finitely many replicates (Davison & Hinkley 1997, eq. 4.11).
* :func:`mcnemar`: McNemar's test on the paired accept/reject decisions (each system at its own
  threshold): of the trials where exactly one system decides correctly, is either system right more
  often? Exact two-sided binomial test when the discordant count is below :data:`EXACT_BELOW`,
  else the chi-square statistic with continuity correction (Edwards 1948), 1 degree of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.metrics.bootstrap import percentile_interval

#: discordant-pair count below which McNemar's test is the exact binomial one
EXACT_BELOW = 25


@dataclass(frozen=True)
class PairedDifference:
    a: float
    b: float
    difference: float  # b - a
    interval: tuple[float, float]  # of b - a
    p_value: float
    n_replicates: int  # replicates where both systems' metric is defined


def paired_difference(a: float, b: float, replicates_a, replicates_b, level: float) -> PairedDifference:
    """Difference ``b - a`` of one metric, its bootstrap interval and two-sided p-value (see module doc)."""
    ra, rb = np.asarray(replicates_a, np.float64), np.asarray(replicates_b, np.float64)
    if ra.shape != rb.shape:
        raise AsvbenchError(f"paired replicates differ in number: {ra.shape[0]} vs {rb.shape[0]}")
    d = rb - ra
    d = d[~np.isnan(d)]
    n = int(d.shape[0])
    if n == 0:
        return PairedDifference(a, b, b - a, (math.nan, math.nan), math.nan, 0)
    below, above = int((d <= 0).sum()), int((d >= 0).sum())
    p = min(1.0, 2.0 * (min(below, above) + 1) / (n + 1))
    return PairedDifference(a, b, b - a, percentile_interval(d, level), p, n)


@dataclass(frozen=True)
class McNemar:
    n_trials: int
    only_a_correct: int
    only_b_correct: int
    p_value: float
    method: str  # "exact binomial" | "chi-square (continuity corrected)"


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's test of two systems' per-trial correctness (boolean arrays of one length)."""
    ca, cb = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if ca.shape != cb.shape:
        raise AsvbenchError(f"McNemar: decision arrays differ in length: {ca.shape[0]} vs {cb.shape[0]}")
    only_a = int((ca & ~cb).sum())
    only_b = int((cb & ~ca).sum())
    n = only_a + only_b
    if n == 0:
        return McNemar(int(ca.shape[0]), 0, 0, 1.0, "exact binomial")
    if n < EXACT_BELOW:
        from scipy.stats import binomtest

        return McNemar(int(ca.shape[0]), only_a, only_b, float(binomtest(only_a, n, 0.5).pvalue), "exact binomial")
    from scipy.stats import chi2

    stat = (abs(only_a - only_b) - 1.0) ** 2 / n
    return McNemar(int(ca.shape[0]), only_a, only_b, float(chi2.sf(stat, 1)), "chi-square (continuity corrected)")
