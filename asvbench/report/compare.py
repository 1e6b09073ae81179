"""Regression check of one result record against a baseline record (``asvbench compare``).

A regression is: a metric that got worse by more than its tolerance, a metric of the
baseline missing from the new record, or a changed trial list (content sha256, i.e. the
trials themselves; a CRLF/LF-only difference is reported but is not a regression).

Two records of one list that scored different shares of it (``coverage``: a record made with
``--allow-missing``) are not compared: that is an :class:`AsvbenchError` unless ``allow_partial``
(then it is a note).

Tolerances are absolute and in the units the tables show: EER-type metrics in percentage
points (``eer=0.01`` allows the EER to rise by 0.01 %), DCF and Cllr in their own units
(``min_dcf=0.005``). A key names a metric exactly (``min_dcf@0.01``) or every metric of a
family (``min_dcf``); metrics without a tolerance get :data:`DEFAULT_TOLERANCE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asvbench.errors import AsvbenchError
from asvbench.report.tables import NOT_METRICS, metric_spec
from asvbench.results import ResultRecord, is_partial

#: Tolerance of metrics not named in ``--tolerance`` (display units): exact, up to float noise.
DEFAULT_TOLERANCE = 1e-9
#: Exit code of ``asvbench compare`` when a regression is found (user errors exit 2).
REGRESSION_EXIT_CODE = 1


def parse_tolerance(text: str | None) -> dict[str, float]:
    """``"eer=0.01,min_dcf=0.005"`` -> ``{"eer": 0.01, "min_dcf": 0.005}``."""
    out: dict[str, float] = {}
    if not text:
        return out
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            tol = float(value)
        except ValueError:
            tol = -1.0
        if not sep or not key.strip() or not tol >= 0:
            raise AsvbenchError(f"bad --tolerance item {item!r}",
                                hint="use METRIC=VALUE pairs, e.g. eer=0.01,min_dcf=0.005 (non-negative numbers)")
        out[key.strip()] = tol
    return out


@dataclass(frozen=True)
class MetricDiff:
    key: str
    label: str
    baseline: float | None
    new: float | None
    tolerance: float
    status: str  # same | better | worse-within-tolerance | worse-not-significant | REGRESSION | missing | added
    scale: float = 1.0

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.new is None:
            return None
        return (self.new - self.baseline) * self.scale


@dataclass(frozen=True)
class Comparison:
    baseline: ResultRecord
    new: ResultRecord
    diffs: tuple[MetricDiff, ...]
    problems: tuple[str, ...] = field(default=())  # non-metric regressions (trial list changed, ...)
    notes: tuple[str, ...] = field(default=())

    @property
    def regressions(self) -> list[str]:
        out = list(self.problems)
        for d in self.diffs:
            if d.status == "REGRESSION":
                out.append(f"{d.label} got worse by {d.delta:.6g} (tolerance {d.tolerance:g})")
            elif d.status == "missing":
                out.append(f"{d.label} is missing from the new record")
        return out

    @property
    def ok(self) -> bool:
        return not self.regressions


def _tolerance_for(key: str, tolerances: dict[str, float]) -> float:
    if key in tolerances:
        return tolerances[key]
    base = key.partition("@")[0]
    return tolerances.get(base, DEFAULT_TOLERANCE)


def compare_records(baseline: ResultRecord, new: ResultRecord, tolerances: dict[str, float] | None = None,
                    *, significant_only: bool = False, allow_partial: bool = False) -> Comparison:
    """Compare ``new`` with ``baseline``; see the module docstring.

    ``significant_only``: a worsening beyond tolerance is a regression only when it is also significant
    in the paired bootstrap of the two records (:func:`paired_worsening`); otherwise its status is
    ``worse-not-significant``. ``allow_partial``: compare records of different coverage of the list.
    """
    coverage_note = check_coverage(baseline, new, allow_partial=allow_partial)
    tolerances = dict(tolerances or {})
    pairing = _check_paired(baseline, new) if significant_only else None
    base_flat = {k: v for k, v in baseline.flat_metrics().items() if k not in NOT_METRICS}
    new_flat = {k: v for k, v in new.flat_metrics().items() if k not in NOT_METRICS}
    unknown = [k for k in tolerances if k not in base_flat and not any(m.partition("@")[0] == k for m in base_flat)]
    if unknown:
        raise AsvbenchError(f"--tolerance names metrics the baseline does not have: {', '.join(unknown)}",
                            hint="baseline metrics: " + ", ".join(base_flat))
    diffs = []
    for key, b in base_flat.items():
        spec = metric_spec(key)
        tol = _tolerance_for(key, tolerances)
        n = new_flat.get(key)
        if key not in new_flat or (n is None and b is not None):
            status = "missing"
        elif b is None or n is None:
            status = "same"
        else:
            delta = (n - b) * spec.scale * (1 if spec.lower_better else -1)
            if abs(delta) <= 1e-12:
                status = "same"
            elif delta < 0:
                status = "better"
            elif delta <= tol + 1e-12:
                status = "worse-within-tolerance"
            elif pairing is not None and not paired_worsening(baseline, new, key, spec.lower_better):
                status = "worse-not-significant"
            else:
                status = "REGRESSION"
        diffs.append(MetricDiff(key, spec.label, b, n, tol, status, spec.scale))
    for key in new_flat:
        if key not in base_flat:
            spec = metric_spec(key)
            diffs.append(MetricDiff(key, spec.label, None, new_flat[key], 0.0, "added", spec.scale))

    problems: list[str] = []
    notes: list[str] = [coverage_note] if coverage_note else []
    if baseline.benchmark != new.benchmark:
        problems.append(f"benchmark changed: {baseline.benchmark!r} -> {new.benchmark!r}")
    bt, nt = baseline.trials, new.trials
    if bt is not None and nt is None:
        problems.append("the new record has no trial-list fingerprint; the baseline has one")
    elif bt is not None and nt is not None:
        if not bt.same_trials(nt):
            problems.append(f"trial list changed: baseline {bt.describe()}, new {nt.describe()}")
        elif bt.sha256 and nt.sha256 and bt.sha256 != nt.sha256:
            notes.append(f"same trials, different file formatting ({bt.line_endings} vs {nt.line_endings} line "
                         "endings)")
    if baseline.definitions and new.definitions and baseline.definitions != new.definitions:
        problems.append(f"metric definitions changed: {baseline.definitions} -> {new.definitions}")
    return Comparison(baseline, new, tuple(diffs), tuple(problems), tuple(notes))


def _coverage_key(record: ResultRecord) -> tuple[int, int] | None:
    """None for a record of the whole list, else (scored, listed)."""
    return (record.coverage.scored, record.coverage.listed) if is_partial(record) and record.coverage else None


def coverage_text(record: ResultRecord) -> str:
    return record.coverage.describe() if is_partial(record) and record.coverage else "the whole list"


def check_coverage(baseline: ResultRecord, new: ResultRecord, *, allow_partial: bool = False) -> str | None:
    """Refuse two records of one list that scored different shares of it; with ``allow_partial``,
    the sentence saying so (a note). None when the coverages agree or the lists differ."""
    if _coverage_key(baseline) == _coverage_key(new):
        return None
    bt, nt = baseline.trials, new.trials
    if bt is not None and nt is not None and not bt.same_trials(nt):
        return None  # another list: reported as a regression of its own
    message = (f"the records cover different shares of the trial list: baseline {coverage_text(baseline)}, "
               f"new {coverage_text(new)}")
    if not allow_partial:
        raise AsvbenchError(message, hint="their metrics are not on the same trials; score both without "
                                          "--allow-missing (or on the same embeddings), or pass --allow-partial "
                                          "to compare them anyway")
    return message


def _check_paired(baseline: ResultRecord, new: ResultRecord) -> str:
    """The shared resampling of two records bootstrapped on the same resamples; anything else is an error."""
    hint = ("save both records with --ci LEVEL and the same --ci-unit, --ci-reps and --seed, on the same trial "
            "list (e.g. asvbench metrics SCORES --ci 95 --save-result R.json), or run asvbench significance "
            "A_SCORES B_SCORES")
    for name, rec in (("baseline", baseline), ("new", new)):
        if not rec.ci or not rec.ci.get("replicates"):
            raise AsvbenchError(f"--significant-only: the {name} record has no bootstrap replicates", hint=hint)
    if baseline.ci["pairing"] != new.ci["pairing"]:
        raise AsvbenchError("--significant-only: the two records were not bootstrapped on the same resamples "
                            f"(units / seed / replicates differ: {baseline.ci.get('n_units')} {baseline.ci.get('unit')}s, "
                            f"seed {baseline.ci.get('seed')}, {baseline.ci.get('reps')} reps vs "
                            f"{new.ci.get('n_units')} {new.ci.get('unit')}s, seed {new.ci.get('seed')}, "
                            f"{new.ci.get('reps')} reps)", hint=hint)
    return str(baseline.ci["pairing"])


def paired_worsening(baseline: ResultRecord, new: ResultRecord, key: str, lower_better: bool = True) -> bool:
    """Whether metric ``key`` got significantly worse: the percentile interval (at the records' level) of
    the paired replicate differences new - baseline lies wholly on the worse side of 0. A metric without
    replicates in either record counts as significant (the check cannot clear it)."""
    import numpy as np

    from asvbench.metrics.bootstrap import percentile_interval

    rep_b, rep_n = baseline.ci["replicates"].get(key), new.ci["replicates"].get(key)
    if rep_b is None or rep_n is None:
        return True
    diff = np.asarray(rep_n, dtype=np.float64) - np.asarray(rep_b, dtype=np.float64)
    lo, hi = percentile_interval(diff, float(new.ci.get("level", 95.0)))
    return bool(lo > 0) if lower_better else bool(hi < 0)


def comparison_table(cmp: Comparison):
    """A :class:`rich.table.Table` of the metric differences."""
    from rich.table import Table

    partial = "; ".join(f"{name}: {coverage_text(rec)}" for name, rec in (("baseline", cmp.baseline), ("new", cmp.new))
                        if is_partial(rec))
    title = f"{cmp.new.label} on {cmp.new.benchmark}" + (f" (partial coverage, {partial})" if partial else "")
    table = Table(title=f"{title}: new vs baseline", header_style="bold")
    for name, justify in (("metric", "left"), ("baseline", "right"), ("new", "right"), ("change", "right"),
                          ("tolerance", "right"), ("status", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    style = {"REGRESSION": "bold red", "missing": "bold red", "better": "green", "same": "dim",
             "worse-within-tolerance": "yellow", "worse-not-significant": "yellow", "added": "cyan"}
    for d in cmp.diffs:
        spec = metric_spec(d.key)
        delta = "" if d.delta is None else f"{d.delta:+.{spec.decimals + 2}f}"
        table.add_row(d.label, spec.display(d.baseline, spec.decimals + 2), spec.display(d.new, spec.decimals + 2),
                      delta, f"{d.tolerance:g}", f"[{style.get(d.status, '')}]{d.status}[/]")
    return table
