"""Tie-grouped operating points of a binary score set: the shared core of EER, DCF and DET."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.metrics._checks import check_binary


@dataclass(frozen=True)
class OperatingPoints:
    """Error rates at every distinct decision threshold, ties grouped.

    Point ``k`` rejects every trial whose score is ``<= thresholds[k]`` and accepts the rest.
    Point 0 is accept-all (``thresholds[0] = -inf``, ``fnr = 0``, ``fpr = 1``); the last point
    rejects all (``fnr = 1``, ``fpr = 0``). Tied scores move together, so the points never
    depend on the order of the input. ``fnr`` is non-decreasing and ``fpr`` non-increasing.
    """

    thresholds: np.ndarray
    fnr: np.ndarray
    fpr: np.ndarray
    n_target: int
    n_nontarget: int
    #: per distinct score (ascending): number of targets and of non-targets with that score
    target_counts: np.ndarray
    nontarget_counts: np.ndarray


def operating_points(scores, is_target) -> OperatingPoints:
    """Tie-grouped operating points of ``scores`` (see :class:`OperatingPoints`)."""
    s, y = check_binary(scores, is_target)
    return points_of_split(s, s[y])


def points_of_split(s: np.ndarray, tar: np.ndarray) -> OperatingPoints:
    """:func:`operating_points` of checked float64 scores ``s`` whose target scores are ``tar``
    (``s[is_target]``), for a caller that has the target scores already (:func:`~asvbench.metrics.summary.summarize`)."""
    # Sorting the scores alone and placing the (few) target scores among the distinct ones by
    # binary search is several times faster than a stable argsort of the whole array at
    # millions of trials; the arrays are filled in place (no concatenated copies).
    s_sorted = np.sort(s)
    tar_sorted = np.sort(tar)
    new_run = np.empty(s_sorted.shape[0], dtype=bool)
    new_run[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_run[1:])
    run_starts = np.flatnonzero(new_run)
    n_points = run_starts.shape[0]
    thresholds = np.empty(n_points + 1)
    thresholds[0] = -np.inf
    np.take(s_sorted, run_starts, out=thresholds[1:])
    unique_scores = thresholds[1:]
    tar_counts = np.bincount(np.searchsorted(unique_scores, tar_sorted), minlength=n_points).astype(np.intp)
    tar_le = np.cumsum(tar_counts)
    all_le = np.append(run_starts[1:], s_sorted.shape[0])  # trials with score <= unique
    non_le = all_le - tar_le
    non_counts = _steps(all_le) - tar_counts
    n_tar = tar_sorted.shape[0]
    n_non = s.shape[0] - n_tar
    fnr = _rates(tar_le, n_tar, first=0.0)
    fpr = _rates(non_le, n_non, first=1.0)
    np.subtract(1.0, fpr[1:], out=fpr[1:])
    return OperatingPoints(thresholds, fnr, fpr, n_tar, n_non, tar_counts, non_counts)


def _rates(counts: np.ndarray, total: int, *, first: float) -> np.ndarray:
    """``[first, *counts / total]`` written into one array."""
    out = np.empty(counts.shape[0] + 1)
    out[0] = first
    np.divide(counts, total, out=out[1:])
    return out


def _steps(cumulative: np.ndarray) -> np.ndarray:
    """``np.diff(cumulative, prepend=0)`` without the prepended copy (millions of points)."""
    out = np.empty_like(cumulative)
    if out.shape[0]:
        out[0] = cumulative[0]
        np.subtract(cumulative[1:], cumulative[:-1], out=out[1:])
    return out
