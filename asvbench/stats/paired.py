"""``asvbench significance``: is system B's score file better than system A's on the same trials?

Both files are read with their trial ids and labels and aligned by (enrolment, test) id; both
systems' metrics are bootstrapped on the same resamples (:func:`asvbench.stats.ci.summary_replicates`
with one seed and one set of units), and McNemar's test compares their decisions, each system at its
own EER threshold (a trial is accepted when its score is above the threshold).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.metrics.significance import McNemar, PairedDifference, mcnemar, paired_difference
from asvbench.stats.ci import CiSettings, summary_replicates, units_for
from asvbench.stats.units import Units, check_units
from asvbench.types import Label


@dataclass(frozen=True)
class Significance:
    a: str
    b: str
    n_trials: int
    settings: CiSettings
    units: Units
    differences: dict[str, PairedDifference]
    mcnemar: McNemar
    thresholds: tuple[float, float]
    eer_method: str

    @property
    def alpha(self) -> float:
        return (100.0 - self.settings.level) / 100.0

    def significant(self, key: str) -> bool:
        lo, hi = self.differences[key].interval
        return bool(lo > 0 or hi < 0)

    def verdict(self, key: str = "eer") -> str:
        """One sentence on metric ``key`` (lower is better for every metric compared)."""
        d = self.differences[key]
        scale, unit = (100.0, " % points") if key.endswith("eer") else (1.0, "")
        lo, hi = d.interval
        what = (f"{_label(key)}: B - A = {d.difference * scale:+.4g}{unit}, {self.settings.level:g} % interval "
                f"[{lo * scale:+.4g}, {hi * scale:+.4g}], p = {d.p_value:.3g}")
        if not self.significant(key):
            return f"{what}: not significant at the {100 * self.alpha:g} % level (the interval contains 0)."
        better = "B" if d.difference < 0 else "A"
        return f"{what}: significant at the {100 * self.alpha:g} % level; {better} is better."

    def mcnemar_sentence(self) -> str:
        m = self.mcnemar
        level = f"{100 * self.alpha:g} %"
        outcome = "significant" if m.p_value < self.alpha else "not significant"
        return (f"McNemar at each system's EER threshold: {m.only_a_correct:,} trials only A decides correctly, "
                f"{m.only_b_correct:,} only B; p {_p_text(m.p_value)} ({m.method}): {outcome} at the {level} level.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "n_trials": self.n_trials, "eer_method": self.eer_method,
            "bootstrap": {"level": self.settings.level, "method": "paired percentile bootstrap",
                          **self.units.describe(), "reps": self.settings.reps, "seed": self.settings.seed},
            "metrics": {k: {"a": d.a, "b": d.b, "difference": d.difference, "interval": list(d.interval),
                            "p_value": d.p_value, "significant": self.significant(k), "replicates": d.n_replicates}
                        for k, d in self.differences.items()},
            "mcnemar": {"thresholds": {"a": self.thresholds[0], "b": self.thresholds[1]},
                        "only_a_correct": self.mcnemar.only_a_correct, "only_b_correct": self.mcnemar.only_b_correct,
                        "p_value": self.mcnemar.p_value, "method": self.mcnemar.method},
            "verdict": self.verdict("eer"), "mcnemar_verdict": self.mcnemar_sentence(),
        }


def _p_text(p: float) -> str:
    return "< 1e-300" if p == 0 else f"= {p:.3g}"  # the chi-square tail underflows for huge discordances


_LABELS = {"eer": "EER", "sasv_eer": "SASV-EER", "sv_eer": "SV-EER", "spf_eer": "SPF-EER", "min_dcf": "minDCF",
           "act_dcf": "actDCF", "cllr": "Cllr", "min_cllr": "minCllr"}


def _label(key: str) -> str:
    base, _, p = key.partition("@")
    return _LABELS.get(base, base) + (f" (p={p})" if p else "")


def align(table_a, table_b, where_a: str, where_b: str) -> np.ndarray:
    """Index into ``table_b`` of each trial of ``table_a``; different trial lists are an error saying
    how many trials differ."""
    import pandas as pd

    keys_a = pd.Index(_keys(table_a, where_a))
    keys_b = pd.Index(_keys(table_b, where_b))
    for keys, where in ((keys_a, where_a), (keys_b, where_b)):
        if keys.has_duplicates:
            first = keys[keys.duplicated()][0].replace("\t", " ")
            raise AsvbenchError(f"trial {first!r} is listed twice", where=where)
    order = keys_b.get_indexer(keys_a)
    only_a = int((order < 0).sum())
    only_b = int((~keys_b.isin(keys_a)).sum())
    if only_a or only_b:
        raise AsvbenchError(
            f"the two score files are not of the same trial list: {only_a:,} of A's {len(keys_a):,} trials are "
            f"not in B, {only_b:,} of B's {len(keys_b):,} not in A", where=f"{where_a} vs {where_b}",
            hint="score both systems on one trial list (the paired test compares the same trials)")
    mislabelled = int((table_a.labels != table_b.labels[order]).sum())
    if mislabelled:
        raise AsvbenchError(f"{mislabelled:,} trials have different labels in the two score files",
                            where=f"{where_a} vs {where_b}")
    return order


def _keys(table, where: str) -> list[str]:
    if table.enroll is None or table.test is None:
        raise AsvbenchError("the score file has no enrolment / test ids to align the two systems' trials by",
                            where=where, hint="use 'enroll test score label' score files (asvbench score writes them)")
    return [f"{e}\t{t}" for e, t in zip(table.enroll, table.test)]


def _correct(scores: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    return (scores > threshold) == (labels == Label.TARGET)


def compare_systems(path_a: Path, path_b: Path, settings: CiSettings, *, eer_method: str = "interp",
                    p_targets=(0.01,), c_miss: float = 1.0, c_fa: float = 1.0, fmt: str = "auto") -> Significance:
    from asvbench.io.scores import read_scores
    from asvbench.metrics.summary import summarize

    settings.check()
    a, b = read_scores(path_a, fmt), read_scores(path_b, fmt)
    order = align(a, b, str(path_a), str(path_b))
    scores_b = b.scores[order]
    labels = a.labels
    units = units_for(settings, a.enroll, a.test, len(a), where=str(path_a))
    check_units(units, np.where(labels == Label.TARGET, Label.TARGET, Label.NONTARGET), ("target", "nontarget"))
    definitions = {"eer_method": eer_method, "p_targets": tuple(p_targets), "c_miss": c_miss, "c_fa": c_fa}
    sum_a = summarize(a.scores, labels, **definitions)
    sum_b = summarize(scores_b, labels, **definitions)
    rep_a = summary_replicates(a.scores, labels, units, settings, **definitions)
    rep_b = summary_replicates(scores_b, labels, units, settings, **definitions)
    flat_a, flat_b = _flat(sum_a), _flat(sum_b)
    differences = {k: paired_difference(flat_a[k], flat_b[k], rep_a[k], rep_b[k], settings.level)
                   for k in rep_a if k in flat_a}
    test = mcnemar(_correct(a.scores, labels, sum_a.eer_threshold), _correct(scores_b, labels, sum_b.eer_threshold))
    return Significance(str(path_a), str(path_b), len(a), settings, units, differences, test,
                        (sum_a.eer_threshold, sum_b.eer_threshold), eer_method)


def _flat(summary) -> dict[str, float]:
    from asvbench.results import flatten_metrics

    return {k: v for k, v in flatten_metrics(summary.to_dict()).items() if v is not None}
