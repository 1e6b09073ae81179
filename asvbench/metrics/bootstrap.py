"""Bootstrap replicates of the headline metrics: trial-level or unit-level (speaker) resampling.

Method: the *subset bootstrap* of Bolle, Ratha & Pankanti, "Error analysis of pattern recognition
systems: the subsets bootstrap", CVIU 93 (2004): trials that share a unit (a speaker) are not
independent, so whole units are drawn with replacement and every trial of a drawn unit enters the
replicate as often as its unit was drawn. Poh & Bengio, "Estimating the confidence interval of
expected performance curve in biometric authentication using joint bootstrap", ICASSP 2007, argue
the same for verification scores; Ferrer & Riera, "Confidence intervals for evaluation in machine
learning" (2022, toolkit luferrer/ConfidenceIntervals), give the percentile interval used here
(the ``alpha/2`` and ``1 - alpha/2`` quantiles of the replicate values, linear interpolation).

Replicates are vectors of integer trial weights: ``w[trial] = multiplicity[unit[trial]]``. The scores
are sorted once; every replicate's operating points are weighted cumulative sums over that fixed order
(no re-sort), computed for a block of replicates at a time to bound memory. From those sums:

* exactly as :mod:`asvbench.metrics.eer` / :mod:`~asvbench.metrics.dcf` on the resampled trials
  (vectorised): EER ``interp`` and ``nearest``, minDCF per prior, min a-DCF;
* linear statistics, as sums over units (``multiplicity @ per-unit sums``): actDCF, Cllr;
* per replicate, from the weighted operating points through the existing functions: EER ``rocch``
  and ``roc``, and minCllr (its PAV is a convex hull per replicate: the costliest metric here);
  EER ``kaldi`` repeats each score by its weight and runs :func:`~asvbench.metrics.eer.compute_eer`.

Replicate ``r`` draws its units with ``numpy.random.default_rng([seed, r])``: the same seed and
number of units give the same resamples whatever the block size, in every run. That pairs two
systems scored on the same trial list (paired bootstrap) even from separately saved records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.metrics._checks import check_binary, check_prior
from asvbench.metrics._curve import OperatingPoints
from asvbench.metrics.cllr import min_cllr_from_points
from asvbench.metrics.dcf import bayes_threshold
from asvbench.metrics.eer import EER_METHODS, compute_eer, eer_from_points

#: Default number of bootstrap replicates.
DEFAULT_REPS = 1000
#: Replicates per block: bounds memory to a few (block x n_trials) arrays.
DEFAULT_BLOCK_ELEMENTS = 4_000_000
_VECTOR_EER = ("interp", "nearest")
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- resamples

def check_level(level: float) -> None:
    if not 0.0 < level < 100.0:
        raise AsvbenchError(f"confidence level must lie strictly between 0 and 100 (a percentage), got {level:g}",
                            hint="e.g. --ci 95")


def check_reps(reps: int) -> None:
    if reps < 2:
        raise AsvbenchError(f"the bootstrap needs at least 2 replicates, got {reps}", hint="e.g. --ci-reps 1000")


def multiplicities(n_units: int, reps: Sequence[int] | range, seed: int) -> np.ndarray:
    """``(len(reps), n_units)`` int32: how often each unit is drawn in each replicate ``r`` in ``reps``."""
    out = np.empty((len(reps), n_units), dtype=np.int32)
    for row, r in enumerate(reps):
        drawn = np.random.default_rng([seed, r]).integers(0, n_units, size=n_units)
        out[row] = np.bincount(drawn, minlength=n_units)
    return out


def _blocks(reps: int, n_trials: int, block_elements: int) -> Iterator[range]:
    size = max(1, min(reps, block_elements // max(n_trials, 1)))
    for start in range(0, reps, size):
        yield range(start, min(start + size, reps))


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of replicate values (NaN replicates, if any, left out)."""
    check_level(level)
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.shape[0] == 0:
        return (math.nan, math.nan)
    alpha = (100.0 - level) / 2.0
    lo, hi = np.percentile(v, [alpha, 100.0 - alpha])
    return (float(lo), float(hi))


# --------------------------------------------------------------------------- the sorted trials

@dataclass(frozen=True)
class SortedTrials:
    """Trials sorted once by score, with their unit and class, and the tie groups of the order."""

    scores: np.ndarray  # ascending
    unit: np.ndarray  # int64 unit index per sorted trial
    is_target: np.ndarray  # bool per sorted trial
    group_last: np.ndarray | None  # index of the last trial of each tie group; None: no ties
    thresholds: np.ndarray  # the distinct scores, ascending

    @classmethod
    def build(cls, scores, is_target, unit) -> SortedTrials:
        s, y = check_binary(scores, is_target)
        u = np.asarray(unit, dtype=np.int64)
        if u.shape != s.shape:
            raise AsvbenchError(f"unit index and scores differ in length: {u.shape[0]} vs {s.shape[0]}")
        order = np.argsort(s, kind="stable")
        s_sorted = s[order]
        last = np.flatnonzero(s_sorted[1:] != s_sorted[:-1])
        if last.shape[0] == s.shape[0] - 1:
            return cls(s_sorted, u[order], y[order], None, s_sorted)
        group_last = np.append(last, s.shape[0] - 1)
        return cls(s_sorted, u[order], y[order], group_last, s_sorted[group_last])

    def cumulative_counts(self, mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted (targets, non-targets) at or below each operating point, point 0 (accept all) = 0:
        ``(block, n_groups + 1)`` int64 each."""
        w = mult[:, self.unit]
        tar = np.where(self.is_target, w, 0)
        return _cumulative(tar, self.group_last), _cumulative(w - tar, self.group_last)


@dataclass(frozen=True)
class CellGrid:
    """A coarse grid over the operating points, for metrics that need only a few points exactly.

    Grid point ``c`` is operating point ``points[c]``; cell ``c`` holds the sorted trials between grid
    points ``c`` and ``c + 1``. Per-unit class counts per cell turn every replicate's cumulative counts
    at the grid points into one matrix product (``multiplicity @ counts``); a metric then refines the
    one cell (EER crossing) or the few cells (DCF minimum) that can hold its answer, from the
    weights of their trials only. The result equals the full cumulative-sum computation.
    """

    points: np.ndarray  # (G + 1,) operating-point indices, 0 .. n_points - 1
    trial_start: np.ndarray  # (G + 1,) sorted-trial position where each grid point's cell begins
    tar_counts: Any  # (n_units, G) float64: targets of each unit per cell; large: sparse (G, n_units)
    non_counts: Any
    is_point_end: np.ndarray  # (n_trials,) bool: the trial ends a tie group (an operating point follows it)

    @classmethod
    def build(cls, trials: SortedTrials, n_units: int, n_cells: int = 2048) -> CellGrid:
        n = trials.scores.shape[0]
        ends = np.arange(n) if trials.group_last is None else trials.group_last
        n_points = ends.shape[0] + 1
        points = np.unique(np.linspace(0, n_points - 1, min(n_cells, n_points - 1) + 1).round().astype(np.int64))
        trial_start = np.concatenate(([0], ends[points[1:] - 1] + 1))
        cell = np.searchsorted(trial_start, np.arange(n), side="right") - 1
        shape = (n_units, points.shape[0] - 1)
        tar = _unit_cell_counts(trials.unit[trials.is_target], cell[trials.is_target], shape)
        non = _unit_cell_counts(trials.unit[~trials.is_target], cell[~trials.is_target], shape)
        is_end = np.zeros(n, dtype=bool)
        is_end[ends] = True
        return cls(points, trial_start, tar, non, is_end)

    def at_points(self, mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative (targets, non-targets) at the grid points: ``(block, G + 1)`` int64 each."""
        m = mult.astype(np.float64)
        out = []
        for counts in (self.tar_counts, self.non_counts):
            cum = np.zeros((m.shape[0], self.points.shape[0]), dtype=np.int64)
            per_cell = m @ counts if isinstance(counts, np.ndarray) else (counts @ m.T).T  # sparse: (G, n_units)
            cum[:, 1:] = np.cumsum(np.rint(per_cell).astype(np.int64), axis=1)
            out.append(cum)
        return out[0], out[1]

    def inside(self, trials: SortedTrials, mult: np.ndarray, rows: np.ndarray, cells: np.ndarray,
               cum_tar: np.ndarray, cum_non: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact cumulative counts after each trial of cell ``cells[k]`` in replicate ``rows[k]``:
        ``(k, L)`` targets, non-targets, and whether that position is an operating point."""
        start = self.trial_start[cells]
        length = self.trial_start[cells + 1] - start
        offsets = np.arange(int(length.max()))
        pos = start[:, None] + offsets
        inside = offsets < length[:, None]
        pos = np.where(inside, pos, start[:, None])
        w = np.where(inside, mult[rows[:, None], trials.unit[pos]], 0).astype(np.int64)
        tar = np.where(trials.is_target[pos], w, 0)
        c_tar = cum_tar[rows, cells][:, None] + np.cumsum(tar, axis=1)
        c_non = cum_non[rows, cells][:, None] + np.cumsum(w - tar, axis=1)
        return c_tar, c_non, inside & self.is_point_end[pos]


#: Above this many (unit, cell) entries the per-cell counts are a sparse matrix (e.g. trial-level units).
_DENSE_CELL_COUNTS = 8_000_000


def _unit_cell_counts(unit: np.ndarray, cell: np.ndarray, shape: tuple[int, int]):
    """Trials per (unit, cell): a dense array, or a scipy CSR matrix when that would be large."""
    if shape[0] * shape[1] <= _DENSE_CELL_COUNTS:
        out = np.zeros(shape)
        np.add.at(out, (unit, cell), 1.0)
        return out
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(unit.shape[0]), (unit, cell)), shape=shape).T.tocsr()


def _grid_eer(grid: CellGrid, trials: SortedTrials, mult, g_tar, g_non, method: str) -> np.ndarray:
    """EER ``interp`` / ``nearest`` of each replicate: the first point with FNR >= FPR lies in one cell."""
    n_tar, n_non = g_tar[:, -1:], g_non[:, -1:]
    # FNR >= FPR in the floats eer._interp_eer compares (both sides are monotone along the points, so
    # the first crossing is in the cell before the first grid point that crosses)
    crossed = g_tar / n_tar >= 1.0 - g_non / n_non
    rows = np.arange(mult.shape[0])
    cells = np.argmax(crossed, axis=1) - 1  # point 0 (accept all) never crosses
    c_tar, c_non, is_point = grid.inside(trials, mult, rows, cells, g_tar, g_non)
    crossed_in = is_point & (c_tar / n_tar >= 1.0 - c_non / n_non)
    j = np.argmax(crossed_in, axis=1)
    # the point before the crossing: the cell's last operating point before j, else the cell's start
    position = np.arange(is_point.shape[1])
    jb = np.where(is_point & (position < j[:, None]), position, -1).max(axis=1)
    t1, n1 = c_tar[rows, j], c_non[rows, j]
    t0 = np.where(jb >= 0, c_tar[rows, jb], g_tar[rows, cells])
    n0 = np.where(jb >= 0, c_non[rows, jb], g_non[rows, cells])
    n_tar, n_non = n_tar[:, 0], n_non[:, 0]
    fnr0, fnr1 = t0 / n_tar, t1 / n_tar
    fpr0, fpr1 = 1.0 - n0 / n_non, 1.0 - n1 / n_non
    if method == "interp":
        return _interp(fnr0, fnr1, fpr0, fpr1)
    second = np.abs(t1 * n_non - (n_non - n1) * n_tar) < np.abs(t0 * n_non - (n_non - n0) * n_tar)
    return np.where(second, (fnr1 + fpr1) / 2.0, (fnr0 + fpr0) / 2.0)


def _grid_min_dcf(grid: CellGrid, trials: SortedTrials, mult, g_tar, g_non, p_target: float, c_miss: float,
                  c_fa: float, max_pairs: int = 20_000) -> np.ndarray:
    """minDCF of each replicate: the grid points' minimum, lowered by the cells whose lower bound
    (misses at the cell's start, false alarms at its end) is below it."""
    n_tar, n_non = g_tar[:, -1:].astype(np.float64), g_non[:, -1:].astype(np.float64)
    a, b = c_miss * p_target, c_fa * (1.0 - p_target)
    cost = a * (g_tar / n_tar) + b * (1.0 - g_non / n_non)
    bound = a * (g_tar[:, :-1] / n_tar) + b * (1.0 - g_non[:, 1:] / n_non)
    best = cost.min(axis=1)
    rows, cells = np.nonzero(bound < best[:, None])
    for k in range(0, rows.shape[0], max_pairs):
        r, c = rows[k:k + max_pairs], cells[k:k + max_pairs]
        c_tar, c_non, is_point = grid.inside(trials, mult, r, c, g_tar, g_non)
        inner = a * (c_tar / n_tar[r]) + b * (1.0 - c_non / n_non[r])
        np.minimum.at(best, r, np.where(is_point, inner, np.inf).min(axis=1))
    return best / min(a, b)


def _cumulative(weights: np.ndarray, group_last: np.ndarray | None) -> np.ndarray:
    n_groups = weights.shape[1] if group_last is None else group_last.shape[0]
    out = np.zeros((weights.shape[0], n_groups + 1), dtype=np.int64)
    if group_last is None:
        np.cumsum(weights, axis=1, dtype=np.int64, out=out[:, 1:])
    else:
        out[:, 1:] = np.cumsum(weights, axis=1, dtype=np.int64)[:, group_last]
    return out


# --------------------------------------------------------------------------- metrics from cumulative sums

def _rates(cum_tar: np.ndarray, cum_non: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        fnr = cum_tar / cum_tar[:, -1:]
        fpr = 1.0 - cum_non / cum_non[:, -1:]
    return fnr, fpr


def _interp(f0, f1, p0, p1):
    """The EER of ``interp`` from the points just before (0) and at (1) the crossing, as eer._interp_eer."""
    d0, d1 = f0 - p0, f1 - p1
    with np.errstate(divide="ignore", invalid="ignore"):
        return f0 + (-d0 / (d1 - d0)) * (f1 - f0)


def _interp_eer_rows(fnr: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    rows = np.arange(fnr.shape[0])
    i = np.argmax(fnr >= fpr, axis=1)
    return _interp(fnr[rows, i - 1], fnr[rows, i], fpr[rows, i - 1], fpr[rows, i])


def _nearest_eer_rows(cum_tar, cum_non, fnr, fpr) -> np.ndarray:
    n_tar, n_non = cum_tar[:, -1:], cum_non[:, -1:]
    gap = np.abs(cum_tar * n_non - (n_non - cum_non) * n_tar)  # exact integers, as eer._nearest_eer
    k = np.argmin(gap, axis=1)
    rows = np.arange(fnr.shape[0])
    return (fnr[rows, k] + fpr[rows, k]) / 2.0


def _min_dcf_rows(fnr, fpr, p_target: float, c_miss: float, c_fa: float) -> np.ndarray:
    cost = c_miss * p_target * fnr + c_fa * (1.0 - p_target) * fpr
    return np.min(cost, axis=1) / min(c_miss * p_target, c_fa * (1.0 - p_target))


def _weighted_points(thresholds, cum_tar_row: np.ndarray, cum_non_row: np.ndarray) -> OperatingPoints:
    """The operating points of one replicate (tie groups of weight 0 dropped)."""
    tar_counts, non_counts = np.diff(cum_tar_row), np.diff(cum_non_row)
    keep = (tar_counts + non_counts) > 0
    tar_counts, non_counts = tar_counts[keep], non_counts[keep]
    n_tar, n_non = int(cum_tar_row[-1]), int(cum_non_row[-1])
    fnr = np.concatenate(([0.0], np.cumsum(tar_counts) / n_tar))
    fpr = np.concatenate(([1.0], 1.0 - np.cumsum(non_counts) / n_non))
    return OperatingPoints(np.concatenate(([-np.inf], thresholds[keep])), fnr, fpr, n_tar, n_non,
                           tar_counts, non_counts)


def _valid(cum_tar, cum_non) -> np.ndarray:
    return (cum_tar[:, -1] > 0) & (cum_non[:, -1] > 0)


def _fill(valid: np.ndarray, ok: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(valid.shape[0], np.nan)
    out[ok] = values
    return out


def _per_replicate(values_of: Callable[[int], float], valid: np.ndarray) -> np.ndarray:
    return np.array([values_of(r) if valid[r] else np.nan for r in range(valid.shape[0])])


# --------------------------------------------------------------------------- public: binary metrics

@dataclass(frozen=True)
class BinaryRequest:
    """Which metrics of a target-vs-rest score set to replicate."""

    eer_method: str = "interp"
    p_targets: tuple[float, ...] = (0.01,)
    c_miss: float = 1.0
    c_fa: float = 1.0
    eer: bool = True
    min_dcf: bool = True
    act_dcf: bool = True
    cllr: bool = True
    min_cllr: bool = True

    def check(self) -> None:
        check_choice(self.eer_method, EER_METHODS, "EER method")
        for p in self.p_targets:
            check_prior(p, self.c_miss, self.c_fa)


def binary_replicates(scores, is_target, unit, n_units: int, *, reps: int = DEFAULT_REPS, seed: int = 0,
                      request: BinaryRequest = BinaryRequest(), prefix: str = "",
                      block_elements: int = DEFAULT_BLOCK_ELEMENTS, use_grid: bool = True) -> dict[str, np.ndarray]:
    """Replicate values of the requested metrics: ``{"eer": (reps,), "min_dcf@0.01": ..., ...}``.

    ``unit[i]`` in ``0 .. n_units - 1`` is the resampling unit of trial ``i`` (``unit = arange(n)``
    for the trial-level bootstrap). Keys are those of result records (``prefix`` prepended); rates
    are fractions. A replicate that draws no target or no non-target trial is NaN.
    """
    request.check()
    check_reps(reps)
    trials = SortedTrials.build(scores, is_target, unit)
    out: dict[str, list[np.ndarray]] = {}
    linear = _linear_stats(trials, n_units, request) if request.act_dcf or request.cllr else None
    full = _needs_full_curve(request) or not use_grid
    grid = None if full else CellGrid.build(trials, n_units, _cells_for(trials.scores.shape[0], n_units))
    # the grid path holds (block x n_units) multiplicities and (block x cell) arrays, not (block x n_trials)
    width = trials.scores.shape[0] if full else max(n_units, 4096)
    for block in _blocks(reps, width, block_elements):
        mult = multiplicities(n_units, block, seed)
        values_of = _binary_block(trials, mult, request, linear) if full else \
            _grid_block(trials, grid, mult, request, linear)
        for key, values in values_of.items():
            out.setdefault(prefix + key, []).append(values)
    return {key: np.concatenate(parts) for key, parts in out.items()}


def _cells_for(n_trials: int, n_units: int) -> int:
    """Grid cells: the (units x cells) product per replicate should cost about what a few passes over
    the trials would; many units per trial (trial-level) get few, large cells."""
    if n_units * 2048 > _DENSE_CELL_COUNTS:  # sparse counts: the product costs the trials, not the cells
        return 2048
    return int(np.clip(4 * n_trials // max(n_units, 1), 16, 2048))


def _needs_full_curve(request: BinaryRequest) -> bool:
    return request.min_cllr or (request.eer and request.eer_method not in _VECTOR_EER)


def _grid_block(trials: SortedTrials, grid: CellGrid, mult: np.ndarray, request: BinaryRequest,
                linear) -> dict[str, np.ndarray]:
    g_tar, g_non = grid.at_points(mult)
    valid = _valid(g_tar, g_non)
    ok = np.flatnonzero(valid)
    m, t, n = mult[ok], g_tar[ok], g_non[ok]
    out: dict[str, np.ndarray] = {}
    if request.eer:
        out["eer"] = _fill(valid, ok, _grid_eer(grid, trials, m, t, n, request.eer_method))
    if request.min_dcf:
        for p in request.p_targets:
            out[f"min_dcf@{p:g}"] = _fill(valid, ok, _grid_min_dcf(grid, trials, m, t, n, p, request.c_miss,
                                                                   request.c_fa))
    if linear is not None:
        out.update(_linear_metrics(mult, linear, request, valid))
    return out


def _binary_block(trials: SortedTrials, mult: np.ndarray, request: BinaryRequest, linear) -> dict[str, np.ndarray]:
    cum_tar, cum_non = trials.cumulative_counts(mult)
    valid = _valid(cum_tar, cum_non)
    fnr, fpr = _rates(cum_tar, cum_non) if request.eer or request.min_dcf else (None, None)
    out: dict[str, np.ndarray] = {}
    if request.eer:
        out["eer"] = _eer_rows(trials, mult, cum_tar, cum_non, fnr, fpr, valid, request.eer_method)
    if request.min_dcf:
        for p in request.p_targets:
            out[f"min_dcf@{p:g}"] = np.where(valid, _min_dcf_rows(fnr, fpr, p, request.c_miss, request.c_fa), np.nan)
    if linear is not None:
        out.update(_linear_metrics(mult, linear, request, valid))
    if request.min_cllr:
        out["min_cllr"] = _per_replicate(
            lambda r: min_cllr_from_points(_weighted_points(trials.thresholds, cum_tar[r], cum_non[r])), valid)
    return out


def _eer_rows(trials: SortedTrials, mult, cum_tar, cum_non, fnr, fpr, valid, method: str) -> np.ndarray:
    if method == "interp":
        values = _interp_eer_rows(fnr, fpr)
    elif method == "nearest":
        values = _nearest_eer_rows(cum_tar, cum_non, fnr, fpr)
    elif method == "kaldi":
        def kaldi(r: int) -> float:
            w = mult[r, trials.unit]
            return compute_eer(np.repeat(trials.scores, w), np.repeat(trials.is_target, w), "kaldi").eer
        return _per_replicate(kaldi, valid)
    else:
        return _per_replicate(
            lambda r: eer_from_points(_weighted_points(trials.thresholds, cum_tar[r], cum_non[r]), method).eer, valid)
    return np.where(valid, values, np.nan)


@dataclass(frozen=True)
class _LinearStats:
    """Per-unit sums of the per-trial terms of actDCF and Cllr (a replicate's sum is ``mult @ sums``)."""

    n_tar: np.ndarray
    n_non: np.ndarray
    misses: dict[float, np.ndarray]  # per prior: targets below the Bayes threshold
    false_alarms: dict[float, np.ndarray]
    cllr_tar: np.ndarray
    cllr_non: np.ndarray


def _unit_sum(unit: np.ndarray, values: np.ndarray, n_units: int) -> np.ndarray:
    return np.bincount(unit, weights=values, minlength=n_units)


def _linear_stats(trials: SortedTrials, n_units: int, request: BinaryRequest) -> _LinearStats:
    s, y, u = trials.scores, trials.is_target, trials.unit
    tar, non = y.astype(np.float64), (~y).astype(np.float64)
    misses, fas = {}, {}
    for p in request.p_targets:
        thr = bayes_threshold(p, request.c_miss, request.c_fa)
        misses[p] = _unit_sum(u, tar * (s < thr), n_units)
        fas[p] = _unit_sum(u, non * (s >= thr), n_units)
    return _LinearStats(
        n_tar=_unit_sum(u, tar, n_units), n_non=_unit_sum(u, non, n_units), misses=misses, false_alarms=fas,
        cllr_tar=_unit_sum(u, tar * np.logaddexp(0.0, -s) / _LN2, n_units),
        cllr_non=_unit_sum(u, non * np.logaddexp(0.0, s) / _LN2, n_units))


def _linear_metrics(mult: np.ndarray, st: _LinearStats, request: BinaryRequest, valid) -> dict[str, np.ndarray]:
    m = mult.astype(np.float64)
    n_tar, n_non = m @ st.n_tar, m @ st.n_non
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        if request.act_dcf:
            for p in request.p_targets:
                cost = (request.c_miss * p * (m @ st.misses[p]) / n_tar
                        + request.c_fa * (1.0 - p) * (m @ st.false_alarms[p]) / n_non)
                norm = min(request.c_miss * p, request.c_fa * (1.0 - p))
                out[f"act_dcf@{p:g}"] = np.where(valid, cost / norm, np.nan)
        if request.cllr:
            out["cllr"] = np.where(valid, 0.5 * ((m @ st.cllr_tar) / n_tar + (m @ st.cllr_non) / n_non), np.nan)
    return out


# --------------------------------------------------------------------------- public: SASV

def sasv_replicates(scores, labels, unit, n_units: int, *, reps: int = DEFAULT_REPS, seed: int = 0,
                    eer_method: str = "interp", block_elements: int = DEFAULT_BLOCK_ELEMENTS) -> dict[str, np.ndarray]:
    """Replicates of SASV-EER (target vs rest), SV-EER (spoof left out), SPF-EER (non-targets left out)
    of :class:`~asvbench.types.Label` codes, on the same resamples (the same ``seed`` and units)."""
    from asvbench.types import Label

    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    u = np.asarray(unit, dtype=np.int64)
    only_eer = BinaryRequest(eer_method=eer_method, min_dcf=False, act_dcf=False, cllr=False, min_cllr=False)
    out = {}
    for key, keep in (("sasv_eer", np.ones(s.shape[0], dtype=bool)), ("sv_eer", lab != Label.SPOOF),
                      ("spf_eer", lab != Label.NONTARGET)):
        values = binary_replicates(s[keep], lab[keep] == Label.TARGET, u[keep], n_units, reps=reps, seed=seed,
                                   request=only_eer, block_elements=block_elements)
        out[key] = values["eer"]
    return out


def min_adcf_replicates(scores, labels, unit, n_units: int, costs, *, reps: int = DEFAULT_REPS, seed: int = 0,
                        block_elements: int = DEFAULT_BLOCK_ELEMENTS) -> np.ndarray:
    """Replicates of the min a-DCF (:mod:`asvbench.metrics.adcf`) with :class:`AdcfCosts` ``costs``.

    Cumulative weighted counts of the three classes over the once-sorted order, as the EER."""
    from asvbench.types import Label

    costs.check()
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    trials = SortedTrials.build(s, lab == Label.TARGET, unit)
    order = np.argsort(s, kind="stable")
    spoof_sorted = lab[order] == Label.SPOOF
    parts = []
    for block in _blocks(reps, s.shape[0], block_elements):
        mult = multiplicities(n_units, block, seed)
        w = mult[:, trials.unit]
        tar = np.where(trials.is_target, w, 0)
        spf = np.where(spoof_sorted, w, 0)
        c_tar, c_spf = _cumulative(tar, trials.group_last), _cumulative(spf, trials.group_last)
        c_non = _cumulative(w - tar - spf, trials.group_last)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_miss = c_tar / c_tar[:, -1:]
            fa_non = 1.0 - c_non / c_non[:, -1:]
            fa_spf = 1.0 - c_spf / c_spf[:, -1:]
            cost = (costs.c_miss * costs.p_target * p_miss + costs.c_fa_asv * costs.p_nontarget * fa_non
                    + costs.c_fa_cm * costs.p_spoof * fa_spf)
        valid = (c_tar[:, -1] > 0) & (c_non[:, -1] > 0) & (c_spf[:, -1] > 0)
        parts.append(np.where(valid, np.min(cost, axis=1) / costs.normaliser, np.nan))
    return np.concatenate(parts)
