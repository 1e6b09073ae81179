"""``--ci`` in the metric commands (metrics / score / fuse): compute, print, record the intervals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from asvbench.cli._common import err_console, out_console


def summary_ci(settings, scores, labels, enroll, test, *, where: str, eer_method: str, p_targets,
               c_miss: float, c_fa: float):
    """Intervals of the :func:`~asvbench.metrics.summary.summarize` metrics, or ``None`` without ``--ci``."""
    if settings is None:
        return None
    from asvbench.stats.ci import summary_intervals, units_for

    units = units_for(settings, enroll, test, len(scores), where=where)
    return summary_intervals(scores, labels, units, settings, eer_method=eer_method, p_targets=tuple(p_targets),
                             c_miss=c_miss, c_fa=c_fa)


def add_to_record(path: Path | None, record, intervals) -> None:
    """Rewrite the record just saved at ``path`` with the intervals (and their replicates, so that
    ``compare --significant-only`` can pair two records bootstrapped on the same resamples)."""
    if path is None or intervals is None or record is None:
        return
    from asvbench.results import save_result

    save_result(path, replace(record, ci=intervals.to_dict(with_replicates=True)))


def add_to_saved_record(path: Path | None, intervals) -> None:
    """As :func:`add_to_record`, for a record that another function wrote (``fuse``): the ``ci`` entry
    of the fusion settings moves to the record's own ``ci``."""
    if path is None or intervals is None:
        return
    from asvbench._atomic import staged_view
    from asvbench.results import load_result

    record = load_result(staged_view(path))  # fuse is staged: the record is not renamed into place yet
    fusion = {k: v for k, v in (record.fusion or {}).items() if k != "ci"} or None
    add_to_record(path, replace(record, fusion=fusion), intervals)


def add_to_json(payload: dict[str, Any], intervals) -> dict[str, Any]:
    if intervals is not None:
        payload["ci"] = intervals.to_dict()
    return payload


def print_intervals(intervals, values: dict[str, float | None], title: str = "") -> None:
    """A table: metric, value, interval, then a line saying what was resampled."""
    if intervals is None:
        return
    from rich.table import Table

    from asvbench.report.tables import metric_spec
    from asvbench.stats.ci import format_interval

    table = Table(title=title or f"{intervals.level:g} % confidence intervals", header_style="bold")
    for name in ("metric", "value [interval]"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for key, interval in intervals.intervals.items():
        value = values.get(key)
        if value is None:
            continue
        spec = metric_spec(key)
        table.add_row(spec.label, format_interval(value, interval, scale=spec.scale, decimals=spec.decimals + 2))
    out_console().print(table)
    per_class = ", ".join(f"{n:,} with {c} trials" for c, n in intervals.units_per_class.items())
    err_console.print(f"note: percentile bootstrap, {intervals.reps:,} replicates (seed {intervals.seed}) over "
                      f"{intervals.units.n_units:,} {intervals.units.kind}s ({per_class}; from "
                      f"{intervals.units.source})", highlight=False)
    for key, n in intervals.fewer_replicates().items():
        err_console.print(f"note: {key}: {n} replicates only (its PAV per replicate is costly on large lists)",
                          highlight=False)
    for key, n in intervals.dropped().items():
        err_console.print(f"note: {key}: {n} replicates drew no trial of a class and were left out", highlight=False)
