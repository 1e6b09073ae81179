"""Confidence intervals of a score set's metrics (``--ci`` of metrics / score / fuse).

Method: the unit-level percentile bootstrap of :mod:`asvbench.metrics.bootstrap` (units from
:mod:`asvbench.stats.units`: the enrolment speaker by default). Intervals are keyed like the
metrics of result records (``eer``, ``min_dcf@0.01``, ``sasv_eer``, ``min_a_dcf``, ...); rates are
fractions, as the metrics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asvbench._choices import check_choice
from asvbench.metrics.bootstrap import (
    DEFAULT_REPS,
    BinaryRequest,
    binary_replicates,
    check_level,
    check_reps,
    min_adcf_replicates,
    percentile_interval,
    sasv_replicates,
)
from asvbench.stats.options import CI_STYLES
from asvbench.stats.units import Units, check_units, derive_units
from asvbench.types import Label

DEFAULT_LEVEL = 95.0
#: minCllr needs a PAV (a convex hull) per replicate: above this many trials it gets only the first
#: MIN_CLLR_REPS_LARGE replicates (same resamples as the others' first ones), stated in the output
MIN_CLLR_FULL_TRIALS = 100_000
MIN_CLLR_REPS_LARGE = 100


@dataclass(frozen=True)
class CiSettings:
    """``--ci LEVEL --ci-unit U --ci-reps R --seed S [--utt2spk MAP]``."""

    level: float = DEFAULT_LEVEL
    unit: str = "speaker"
    reps: int = DEFAULT_REPS
    seed: int = 0
    utt2spk: Path | None = None

    def check(self) -> None:
        check_level(self.level)
        check_reps(self.reps)


@dataclass(frozen=True)
class Intervals:
    """Percentile intervals of the metrics, with what was resampled and the replicate values."""

    level: float
    units: Units
    units_per_class: dict[str, int]
    reps: int
    seed: int
    intervals: dict[str, tuple[float, float]]
    replicates: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def pairing(self) -> str:
        """Same value = same resamples (same units, seed and number of replicates): paired records."""
        text = "\n".join([self.units.kind, str(self.seed), str(self.reps), *self.units.names])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def fewer_replicates(self) -> dict[str, int]:
        """Metrics bootstrapped on fewer than ``reps`` replicates (minCllr of large lists)."""
        return {k: int(v.shape[0]) for k, v in self.replicates.items() if v.shape[0] != self.reps}

    def dropped(self) -> dict[str, int]:
        """Replicates left out per metric (they drew no trial of a class the metric needs)."""
        return {k: int(np.isnan(v).sum()) for k, v in self.replicates.items() if np.isnan(v).any()}

    def to_dict(self, *, with_replicates: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "level": self.level, "method": "percentile bootstrap", **self.units.describe(),
            "units_per_class": self.units_per_class, "reps": self.reps, "seed": self.seed,
            "pairing": self.pairing, "intervals": {k: list(v) for k, v in self.intervals.items()},
        }
        fewer = self.fewer_replicates()
        if fewer:
            out["replicates_per_metric"] = fewer
        if self.dropped():
            out["replicates_dropped"] = self.dropped()
        if with_replicates:
            out["replicates"] = {k: [round(float(x), 9) for x in v] for k, v in self.replicates.items()}
        return out


def units_for(settings: CiSettings, enroll, test, n_trials: int, where: str = "") -> Units:
    settings.check()
    return derive_units(settings.unit, enroll, test, n_trials, utt2spk=settings.utt2spk, where=where)


def intervals_from(replicates: dict[str, np.ndarray], units: Units, per_class: dict[str, int],
                   settings: CiSettings) -> Intervals:
    intervals = {k: percentile_interval(v, settings.level) for k, v in replicates.items()}
    return Intervals(settings.level, units, per_class, settings.reps, settings.seed, intervals, replicates)


def summary_replicates(scores, labels, units: Units, settings: CiSettings, *, eer_method: str = "interp",
                       p_targets=(0.01,), c_miss: float = 1.0, c_fa: float = 1.0) -> dict[str, np.ndarray]:
    """Replicates of every metric of :func:`asvbench.metrics.summary.summarize`, keyed as its record."""
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    large = s.shape[0] > MIN_CLLR_FULL_TRIALS and settings.reps > MIN_CLLR_REPS_LARGE
    request = BinaryRequest(eer_method=eer_method, p_targets=tuple(p_targets), c_miss=c_miss, c_fa=c_fa,
                            min_cllr=not large)
    out = binary_replicates(s, lab == Label.TARGET, units.index, units.n_units, reps=settings.reps,
                            seed=settings.seed, request=request)
    if large:
        only = BinaryRequest(eer=False, min_dcf=False, act_dcf=False, cllr=False, min_cllr=True)
        out.update(binary_replicates(s, lab == Label.TARGET, units.index, units.n_units, reps=MIN_CLLR_REPS_LARGE,
                                     seed=settings.seed, request=only))
    if (lab == Label.SPOOF).any() and (lab == Label.NONTARGET).any():
        out.update(sasv_replicates(s, lab, units.index, units.n_units, reps=settings.reps, seed=settings.seed,
                                   eer_method=eer_method))
    return out


def summary_intervals(scores, labels, units: Units, settings: CiSettings, **definitions: Any) -> Intervals:
    """Intervals of the :func:`~asvbench.metrics.summary.summarize` metrics (``definitions``: its options)."""
    lab = np.asarray(labels)
    rest = np.where(lab == Label.TARGET, Label.TARGET, Label.NONTARGET)  # the binary metrics: target vs rest
    check_units(units, rest, ("target", "nontarget"))
    if (lab == Label.SPOOF).any() and (lab == Label.NONTARGET).any():
        check_units(units, lab, ("nontarget", "spoof"))
    per_class = units.per_class(lab)
    return intervals_from(summary_replicates(scores, lab, units, settings, **definitions), units, per_class,
                          settings)


def fusion_intervals(fused, labels, units: Units, settings: CiSettings, *, eer_method: str, adcf_costs) -> Intervals:
    """Intervals of the fused system's record metrics: SASV-EER, SV-EER, SPF-EER, min a-DCF."""
    lab = np.asarray(labels)
    per_class = check_units(units, lab, ("target", "nontarget", "spoof"))
    s = np.asarray(fused, dtype=np.float64)
    replicates = sasv_replicates(s, lab, units.index, units.n_units, reps=settings.reps, seed=settings.seed,
                                 eer_method=eer_method)
    replicates["min_a_dcf"] = min_adcf_replicates(s, lab, units.index, units.n_units, adcf_costs,
                                                  reps=settings.reps, seed=settings.seed)
    return intervals_from(replicates, units, per_class, settings)


def format_interval(value: float, interval, *, scale: float = 1.0, decimals: int = 3, style: str = "bracket") -> str:
    """``1.23 [1.15, 1.31]`` (bracket) or ``1.23 ± 0.08`` (pm: the larger half-width, so never too narrow)."""
    check_choice(style, CI_STYLES, "interval style")
    lo, hi = (float(x) * scale if x is not None else float("nan") for x in interval)
    v = value * scale
    if style == "pm":
        return f"{v:.{decimals}f} ± {max(hi - v, v - lo):.{decimals}f}"
    return f"{v:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"
