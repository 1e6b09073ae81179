"""Per-condition breakdowns: the headline metrics of each condition (attack, gender, codec, ...)
beside the pooled ones (``--by`` of ``asvbench metrics|score|fuse``, ``report --breakdown``).

A breakdown groups the trials by one condition per trial and runs an *evaluator* (the existing
summaries: :func:`asvbench.metrics.summary.summarize`, or SASV-EERs + min a-DCF) on each group.

``--by source`` (SASV / ASVspoof lists) follows the ASVspoof evaluation packages' per-attack
tables: the condition of a spoof trial is its attack (A07 ... A19), and every attack's group
holds *all* bona fide trials (targets and non-targets) plus that attack's spoofs, so SPF-EER per
attack is target vs the spoofs of that attack. SV-EER (target vs non-target) does not depend on
the attack and is given pooled only.

Any other condition (gender, a user map) partitions the trials. A condition whose trials lack a
class the evaluator needs (e.g. no target trials) is kept as a row marked *not computable*,
naming the missing class; its metrics are ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.types import Label

#: ``--by`` values that are not map files
BY_BUILTINS = ("source", "gender")
#: the condition of bona fide trials under ``--by source``
BONAFIDE = "bonafide"
_CLASS_NAMES = {Label.TARGET: "target", Label.NONTARGET: "non-target", Label.SPOOF: "spoof"}
_SOURCE_NOTE = ("every attack's row holds all bona fide trials (targets and non-targets) and that attack's spoofs; "
                "SV-EER does not depend on the attack (pooled only)")


@dataclass(frozen=True)
class Evaluator:
    """Metrics of one group of trials: ``compute(scores, labels) -> {metric: value or {key: value}}``;
    ``needs``: the class sets a group must hold (each tuple: at least one of those classes)."""

    name: str
    compute: Callable[[np.ndarray, np.ndarray], dict[str, Any]]
    needs: tuple[tuple[int, ...], ...]


def summary_evaluator(*, eer_method: str = "interp", p_targets: Sequence[float] = (0.01,), c_miss: float = 1.0,
                      c_fa: float = 1.0) -> Evaluator:
    """EER, minDCF / actDCF per P_target, Cllr, minCllr (and the SASV EERs with spoofs), as
    ``asvbench metrics`` / ``score`` report them."""
    from asvbench.metrics.summary import summarize

    skip = {"n_target", "n_nontarget", "n_spoof", "eer_threshold", "eer_method", "c_miss", "c_fa", "extra"}

    def compute(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
        summary = summarize(scores, labels, eer_method=eer_method, p_targets=tuple(p_targets), c_miss=c_miss,
                            c_fa=c_fa)
        return {k: v for k, v in summary.to_dict().items() if k not in skip and v is not None}

    return Evaluator("summary", compute, ((Label.TARGET,), (Label.NONTARGET, Label.SPOOF)))


def sasv_evaluator(*, eer_method: str = "roc", adcf_costs: str = "default") -> Evaluator:
    """SASV-EER, SV-EER, SPF-EER and min a-DCF (``asvbench fuse``'s per-score-set bundle)."""
    from asvbench.metrics.adcf import min_adcf
    from asvbench.metrics.sasv import sasv_eers

    def compute(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
        eers = sasv_eers(scores, labels, eer_method)
        return {"sasv_eer": eers.sasv_eer, "sv_eer": eers.sv_eer, "spf_eer": eers.spf_eer,
                "min_a_dcf": min_adcf(scores, labels, adcf_costs).min_adcf}

    return Evaluator("sasv", compute, ((Label.TARGET,), (Label.NONTARGET,), (Label.SPOOF,)))


@dataclass(frozen=True)
class ConditionRow:
    """One condition (or ``pooled``): trial counts and metrics (``None`` when not computable)."""

    condition: str
    n_target: int
    n_nontarget: int
    n_spoof: int
    metrics: dict[str, Any] | None
    not_computable: str | None = None  # why, e.g. "no target trials"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"condition": self.condition, "n_target": self.n_target,
                               "n_nontarget": self.n_nontarget, "n_spoof": self.n_spoof, "metrics": self.metrics}
        if self.not_computable:
            out["not_computable"] = self.not_computable
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ConditionRow:
        try:
            metrics = data.get("metrics")
            if metrics is not None and not isinstance(metrics, dict):
                raise TypeError("metrics is not an object")
            return cls(str(data["condition"]), int(data["n_target"]), int(data["n_nontarget"]),
                       int(data["n_spoof"]), metrics, data.get("not_computable"))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AsvbenchError(f"malformed breakdown row in the record ({exc})", where=where) from None


@dataclass(frozen=True)
class Breakdown:
    """The metrics per condition of ``by`` (``source``, ``gender`` or a map file) and pooled."""

    by: str
    pooled: ConditionRow
    rows: tuple[ConditionRow, ...]
    shared_bonafide: bool = False
    note: str = ""
    scores: str = ""  # which score set (e.g. "fused"), when a command evaluates several

    def metric_keys(self) -> list[str]:
        """The top-level metric names, pooled first, in order of appearance."""
        keys: list[str] = []
        for row in (self.pooled, *self.rows):
            keys.extend(k for k in (row.metrics or {}) if k not in keys)
        return keys

    def not_computable(self) -> list[str]:
        """One message per condition without metrics."""
        return [f"condition {r.condition!r} (by {self.by}): not computable, {r.not_computable}"
                for r in self.rows if r.metrics is None]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "pooled": self.pooled.to_dict(),
                               "conditions": [r.to_dict() for r in self.rows]}
        if self.shared_bonafide:
            out["shared_bonafide"] = True
        if self.note:
            out["note"] = self.note
        if self.scores:
            out["scores"] = self.scores
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Breakdown:
        if not isinstance(data, Mapping) or not isinstance(data.get("conditions"), list) or "pooled" not in data:
            raise AsvbenchError("malformed breakdown in the record (needs 'by', 'pooled' and a 'conditions' list)",
                                where=where)
        return cls(str(data.get("by", "")), ConditionRow.from_dict(data["pooled"], where),
                   tuple(ConditionRow.from_dict(r, where) for r in data["conditions"]),
                   bool(data.get("shared_bonafide", False)), str(data.get("note", "")), str(data.get("scores", "")))


def attack_conditions(sources: Sequence[str], labels: np.ndarray, where: str = "") -> np.ndarray:
    """``--by source``: each trial's source (``bonafide`` or the attack id) as its condition."""
    cond = np.array([str(s) for s in sources], dtype=object)
    lab = np.asarray(labels)
    if cond.shape[0] != lab.shape[0]:
        raise AsvbenchError(f"{cond.shape[0]} sources for {lab.shape[0]} trials", where=where or None)
    is_spoof = lab == Label.SPOOF
    if not is_spoof.any():
        raise AsvbenchError("--by source breaks SASV trials down by attack, and there are no spoof trials",
                            where=where or None, hint="use --by source with SASV / ASVspoof lists (key spoof)")
    unnamed = np.isin(np.char.lower(cond[is_spoof].astype(str)), ["-", "", BONAFIDE])
    if unnamed.any():
        raise AsvbenchError(f"{int(unnamed.sum()):,} spoof trials name no attack (source "
                            f"{cond[is_spoof][unnamed][0]!r})", where=where or None,
                            hint="the source of a spoof trial is its attack id (A07 ... A19)")
    cond[~is_spoof] = BONAFIDE
    return cond


def _counts(labels: np.ndarray) -> tuple[int, int, int]:
    return (int((labels == Label.TARGET).sum()), int((labels == Label.NONTARGET).sum()),
            int((labels == Label.SPOOF).sum()))


def _missing_class(labels: np.ndarray, evaluator: Evaluator) -> str | None:
    for classes in evaluator.needs:
        if not np.isin(labels, classes).any():
            return "no " + " or ".join(_CLASS_NAMES[c] for c in classes) + " trials"
    return None


def _row(condition: str, scores: np.ndarray, labels: np.ndarray, evaluator: Evaluator,
         drop: Sequence[str] = ()) -> ConditionRow:
    n_tar, n_non, n_spf = _counts(labels)
    missing = _missing_class(labels, evaluator)
    if missing:
        return ConditionRow(condition, n_tar, n_non, n_spf, None, missing)
    metrics = {k: v for k, v in evaluator.compute(scores, labels).items() if k not in drop}
    return ConditionRow(condition, n_tar, n_non, n_spf, metrics)


def breakdown(scores, labels, conditions, *, by: str, evaluator: Evaluator,
              shared_bonafide: bool | None = None, scores_name: str = "") -> Breakdown:
    """Metrics of every condition of ``conditions`` (one per trial) and of all trials pooled.

    ``shared_bonafide`` (default: ``by == "source"``): the conditions are attacks of the spoof
    trials, bona fide trials have condition :data:`BONAFIDE` and belong to every attack's group
    (see the module docstring). Conditions are sorted by name.
    """
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    cond = np.asarray(conditions, dtype=object)
    if not (s.shape[0] == lab.shape[0] == cond.shape[0]):
        raise AsvbenchError(f"breakdown: {s.shape[0]} scores, {lab.shape[0]} labels, {cond.shape[0]} conditions")
    shared = by == "source" if shared_bonafide is None else shared_bonafide
    pooled = _row("pooled", s, lab, evaluator)
    if pooled.metrics is None:
        raise AsvbenchError(f"the pooled trials have {pooled.not_computable}; no metric is computable")
    rows = []
    if shared:
        bona = cond == BONAFIDE
        for name in sorted(set(cond[~bona].tolist())):
            group = bona | (cond == name)
            rows.append(_row(str(name), s[group], lab[group], evaluator, drop=("sv_eer",)))
    else:
        for name in sorted(set(cond.tolist())):
            group = cond == name
            rows.append(_row(str(name), s[group], lab[group], evaluator))
    if not rows:
        raise AsvbenchError(f"--by {by}: no condition to break down")
    return Breakdown(by, pooled, tuple(rows), shared, _SOURCE_NOTE if shared else "", scores_name)


#: trial-list columns (``Trials.extra``, lower-cased) that give the source / the gender of each trial
SOURCE_COLUMNS = ("source", "attack", "attack_label", "attack_tag", "attack_id", "system_id")
GENDER_COLUMNS = ("gender", "sex")


def trial_columns(extra: Mapping[str, Any], kept=None) -> dict[str, Any]:
    """``sources`` / ``genders`` keywords of :func:`trial_conditions` from a trial list's extra
    columns (rows ``kept`` only, when given)."""
    lowered = {str(k).lower(): v for k, v in extra.items()}
    out: dict[str, Any] = {}
    for name, columns in (("sources", SOURCE_COLUMNS), ("genders", GENDER_COLUMNS)):
        column = next((lowered[c] for c in columns if c in lowered), None)
        if column is not None:
            column = np.asarray(column, dtype=object)
            out[name] = column if kept is None else column[kept]
    return out


def trial_conditions(by: str, *, labels: np.ndarray, enroll: Sequence[str] | None = None,
                     test: Sequence[str] | None = None, sources: Sequence[str] | None = None,
                     genders: Sequence[str] | None = None, enroll_maps: Sequence[str] = (),
                     where: str = "") -> np.ndarray:
    """One condition per trial for ``--by by``.

    * ``source``: ``sources`` (the SASV list's or score file's source column);
    * ``gender``: ``genders`` (a gender column of the trial list) or else the enrolment lists
      ``enroll_maps`` named by gender (:func:`asvbench.io.conditions.gender_map_from_enroll_lists`);
    * anything else: a condition map file (:func:`asvbench.io.conditions.read_condition_map`).
    """
    from asvbench.io.conditions import gender_map_from_enroll_lists, read_condition_map

    if by == "source":
        if sources is None:
            raise AsvbenchError("--by source needs the source (bonafide or attack) of each trial", where=where or None,
                                hint="give a SASV list with a source column (spk utt source key: --trials, or a "
                                     "5-column SASV score file), or --by MAP with 'utt attack' lines")
        return attack_conditions(sources, labels, where)
    if by == "gender" and genders is not None:
        return np.array([str(g) for g in genders], dtype=object)
    if by != "gender":
        check_by([by])
    if enroll is None or test is None:
        raise AsvbenchError(f"--by {by}: the scores carry no enrolment / test ids to look up", where=where or None,
                            hint="use a score file with ids ('enroll test score label' or SASV 5-column)")
    cmap = gender_map_from_enroll_lists(enroll_maps) if by == "gender" else read_condition_map(by)
    return cmap.for_trials(enroll, test)


def check_by(bys: Sequence[str] | None) -> None:
    """Up-front checks of ``--by`` values (before any work): no repeats; map files exist and parse."""
    from pathlib import Path

    from asvbench.io.conditions import read_condition_map

    bys = list(bys or ())
    for k, by in enumerate(bys):
        if by in bys[:k]:
            raise AsvbenchError(f"--by {by} is given twice", hint="give each --by once")
        if by in BY_BUILTINS:
            continue
        if not Path(by).is_file():
            raise AsvbenchError(f"--by {by!r}: not {' or '.join(BY_BUILTINS)}, and no such map file",
                                where=by if Path(by).exists() else None,
                                hint="--by source (attacks), --by gender (enrolment lists named female/male), or "
                                     "--by FILE with 'KEY CONDITION' lines (see asvbench/io/conditions.py)")
        read_condition_map(by)


def breakdowns_for(bys: Sequence[str], scores, labels, *, evaluator: Evaluator, scores_name: str = "",
                   **ids: Any) -> list[Breakdown]:
    """One :class:`Breakdown` per ``--by`` value (``ids``: :func:`trial_conditions`' keywords)."""
    check_by(bys)
    return [breakdown(scores, labels, trial_conditions(by, labels=np.asarray(labels), **ids), by=by,
                      evaluator=evaluator, scores_name=scores_name) for by in bys]
