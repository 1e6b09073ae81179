"""Result tables: rows = systems (and variants), columns = benchmarks x metrics.

:func:`build_table` turns result records into a :class:`ResultTable` (pure data, with
the best value of each column found on the *displayed* (rounded) values, so ties at the
shown precision are all highlighted). The ``render_*`` functions turn it into text:
markdown and LaTeX (best in bold), HTML (``<b>``), CSV (no highlighting), JSON, and a
:class:`rich.table.Table` (best in bold green).

Layouts follow what the field publishes: the WeSpeaker CN-Celeb and VoxCeleb tables
(EER %, minDCF p=0.01 per trial list) and the SASV 2022 DEV/EVAL table (SASV-EER,
SV-EER, SPF-EER).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.metrics.declarations import declaration
from asvbench.report.formats import FORMATS
from asvbench.results import ResultRecord, is_partial
from asvbench.trials.registry import FREE_PREFIXES

SIMULATED_BANNER = "SIMULATED DATA (not a real system)"
#: after a value from a record that scored only part of its trial list (``score --allow-missing``)
PARTIAL_MARK = "‡"


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is shown: header label, scale (100 for rates shown in %), decimals."""

    key: str
    label: str
    scale: float = 1.0
    decimals: int = 3
    lower_better: bool = True

    def display(self, value: float | None, decimals: int | None = None) -> str:
        if value is None:
            return "–"
        return f"{value * self.scale:.{self.decimals if decimals is None else decimals}f}"



#: Default columns per benchmark kind.
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "asv": ("eer", "min_dcf@0.01"),
    "sasv": ("sasv_eer", "sv_eer", "spf_eer"),
    "cm": ("eer", "min_dcf@0.01"),
}

#: Counts and bookkeeping values in MetricsSummary that are not table metrics.
NOT_METRICS = {"n_target", "n_nontarget", "n_spoof", "eer_threshold", "c_miss", "c_fa"}


def metric_spec(key: str, scale: str | None = None, decimals: int | None = None) -> MetricSpec:
    """Display spec of a flattened metric key such as ``min_dcf@0.01``; ``scale`` (``percent`` or
    ``fraction``) and ``decimals`` override the declaration's."""
    base, _, sub = key.partition("@")
    known = declaration(base)
    label, factor, shown = (known.header(scale), known.factor(scale), known.decimals) if known else (base, 1.0, 3)
    if sub:
        label = f"{label} (p={sub})" if base in ("min_dcf", "act_dcf") else f"{label} ({sub})"
    return MetricSpec(key=key, label=label, scale=factor, decimals=shown if decimals is None else decimals,
                      lower_better=known.lower_better if known else True)


@dataclass(frozen=True)
class Column:
    benchmark: str
    title: str
    metric: MetricSpec


@dataclass(frozen=True)
class Row:
    label: str
    system: str
    variant: str
    values: tuple[float | None, ...]
    #: per column: the record's confidence interval of the value (``--ci``), or None
    intervals: tuple[tuple[float, float] | None, ...] = ()
    #: per column: the record scored only part of the list (shown with :data:`PARTIAL_MARK`)
    partial: tuple[bool, ...] = ()


@dataclass(frozen=True)
class ResultTable:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    best: tuple[frozenset[int], ...]  # per column: indices of the rows holding the best displayed value
    title: str = ""
    simulated: bool = False
    notes: tuple[str, ...] = field(default=())
    #: how intervals are shown: "bracket" (1.23 [1.15, 1.31]), "pm" (1.23 ± 0.08), None (not shown)
    ci_style: str | None = None

    def cell(self, row: int, col: int) -> str:
        spec, r = self.columns[col].metric, self.rows[row]
        shown = spec.display(r.values[col])
        if col < len(r.partial) and r.partial[col] and r.values[col] is not None:
            shown += PARTIAL_MARK
        interval = r.intervals[col] if self.ci_style and col < len(r.intervals) else None
        if interval is None or r.values[col] is None:
            return shown
        lo, hi = (spec.display(x) if x is not None else "?" for x in interval)
        if self.ci_style == "pm":
            half = max(abs(interval[1] - r.values[col]), abs(r.values[col] - interval[0])) * spec.scale
            return f"{shown} ± {half:.{spec.decimals}f}"
        return f"{shown} [{lo}, {hi}]"

    def is_best(self, row: int, col: int) -> bool:
        return row in self.best[col]


def _benchmark_info(name: str, records: Sequence[ResultRecord]) -> tuple[str, str]:
    """(title, kind) of a benchmark name; unknown, unprefixed names are errors."""
    if name.startswith(FREE_PREFIXES):
        kind = "sasv" if any(r.flat_metrics().get("sasv_eer") is not None for r in records) else "asv"
        return name.split(":", 1)[1], kind
    from asvbench.trials.registry import get_benchmark

    try:
        bench = get_benchmark(name)
    except AsvbenchError as exc:
        raise AsvbenchError(f"record for {records[0].label!r}: {exc.what}", hint=exc.hint) from None
    return bench.title, bench.kind


def _check_one_list(name: str, records: Sequence[ResultRecord], sources: Sequence[str]) -> None:
    """Every record in one benchmark column must have been scored on the same trial list."""
    first = None
    for rec, src in zip(records, sources):
        if rec.trials is None:
            continue
        if first is None:
            first = (rec, src)
            continue
        if not rec.trials.same_trials(first[0].trials):
            raise AsvbenchError(
                f"records of benchmark {name!r} come from different trial lists: {first[1]} "
                f"({first[0].trials.describe()}) vs {src} ({rec.trials.describe()})",
                hint="a column must compare systems on one list; fix the --benchmark name of one of them",
            )


def build_table(records: Sequence[ResultRecord], *, metrics: Sequence[str] | None = None,
                benchmarks: Sequence[str] | None = None, allow_missing: bool = False,
                sources: Sequence[str] | None = None, title: str = "", ci_style: str | None = "bracket",
                specs: Callable[[str], MetricSpec] | None = None, mixed_lists: bool = False) -> ResultTable:
    """Arrange records into a table.

    ``metrics``: flattened metric keys for every benchmark (default: per benchmark kind,
    :data:`DEFAULT_METRICS`). ``benchmarks``: which benchmarks, in which order (default:
    order of first appearance). A record lacking a requested metric is an error unless
    ``allow_missing`` (then the cell shows ``–``). ``sources`` names each record (its
    file) in error messages. ``ci_style``: how the confidence intervals of records saved with
    ``--ci`` are shown (``bracket``, ``pm``), or None to leave them out. ``specs``: the display
    spec of a metric key (default :func:`metric_spec`). ``mixed_lists``: let one benchmark column
    hold records of different trial lists (``report --allow-mixed``; the caller marks them).
    """
    if not records:
        raise AsvbenchError("no result records given")
    sources = list(sources) if sources is not None else [f"record #{i + 1}" for i in range(len(records))]
    by_bench: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        by_bench.setdefault(rec.benchmark, []).append(i)
    if benchmarks:
        from asvbench.trials.registry import find_benchmark

        order = []
        for name in benchmarks:
            canon = name if name in by_bench else (getattr(find_benchmark(name), "name", None) or name)
            if canon not in by_bench:
                raise AsvbenchError(f"no record is for benchmark {name!r}",
                                    hint="the records are for: " + ", ".join(by_bench))
            order.append(canon)
    else:
        order = list(by_bench)

    columns: list[Column] = []
    for name in order:
        recs = [records[i] for i in by_bench[name]]
        if not mixed_lists:
            _check_one_list(name, recs, [sources[i] for i in by_bench[name]])
        title_b, kind = _benchmark_info(name, recs)
        keys = list(metrics) if metrics else list(DEFAULT_METRICS.get(kind, DEFAULT_METRICS["asv"]))
        columns.extend(Column(name, title_b, (specs or metric_spec)(k)) for k in keys)

    row_keys: list[tuple[str, str]] = []
    cells: dict[tuple[str, str, str], tuple[ResultRecord, str]] = {}
    for rec, src in zip(records, sources):
        key = (rec.system, rec.variant)
        if key not in row_keys:
            row_keys.append(key)
        cell = (rec.system, rec.variant, rec.benchmark)
        if cell in cells:
            raise AsvbenchError(f"two records for {rec.label!r} on {rec.benchmark!r}: {cells[cell][1]} and {src}",
                                hint="give one of them another --variant, or drop one")
        cells[cell] = (rec, src)

    rows: list[Row] = []
    notes: list[str] = []
    for system, variant in row_keys:
        values: list[float | None] = []
        intervals: list[tuple[float, float] | None] = []
        partial: list[bool] = []
        for col in columns:
            found = cells.get((system, variant, col.benchmark))
            intervals.append(_interval(found[0], col.metric.key) if found else None)
            partial.append(found is not None and is_partial(found[0]))
            if found is None:
                values.append(None)
                continue
            rec, src = found
            flat = rec.flat_metrics()
            if col.metric.key not in flat:
                have = ", ".join(k for k in flat if k not in NOT_METRICS)
                if not allow_missing:
                    raise AsvbenchError(f"record for {rec.label!r} on {rec.benchmark!r} has no metric "
                                        f"{col.metric.key!r}", where=src,
                                        hint=f"it has: {have}; choose --metrics, or --allow-missing to show '–'")
                notes.append(f"{rec.label} has no {col.metric.label} on {col.title}")
            values.append(flat.get(col.metric.key))
        label = f"{system} ({variant})" if variant else system
        rows.append(Row(label, system, variant, tuple(values), tuple(intervals), tuple(partial)))
    notes += [f"{PARTIAL_MARK} {rec.label} on {rec.benchmark}: {rec.coverage.describe()}, not the whole list"
              for rec in records if is_partial(rec) and rec.coverage]

    best = []
    for j, col in enumerate(columns):
        shown = {i: round(r.values[j] * col.metric.scale, col.metric.decimals)
                 for i, r in enumerate(rows) if r.values[j] is not None}
        if len(shown) < 2:
            best.append(frozenset())
            continue
        target = min(shown.values()) if col.metric.lower_better else max(shown.values())
        best.append(frozenset(i for i, v in shown.items() if v == target))
    simulated = any(r.simulated for r in records)
    if simulated and SIMULATED_BANNER not in title:
        title = f"{SIMULATED_BANNER}: {title}" if title else SIMULATED_BANNER
    return ResultTable(tuple(columns), tuple(rows), tuple(best), title, simulated, tuple(notes), ci_style)


def _interval(record: ResultRecord, key: str) -> tuple[float, float] | None:
    found = (record.ci or {}).get("intervals", {}).get(key)
    if not isinstance(found, (list, tuple)) or len(found) != 2:
        return None
    try:
        return (float(found[0]), float(found[1]))
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- renderers

def _header(col: Column) -> str:
    return f"{col.title} {col.metric.label}"


def render_markdown(table: ResultTable) -> str:
    lines = []
    if table.title:
        lines += [f"**{table.title}**", ""]
    lines.append("| System | " + " | ".join(_header(c) for c in table.columns) + " |")
    lines.append("|---|" + "|".join("---:" for _ in table.columns) + "|")
    for i, row in enumerate(table.rows):
        cells = [f"**{table.cell(i, j)}**" if table.is_best(i, j) else table.cell(i, j)
                 for j in range(len(table.columns))]
        lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- {n}" for n in table.notes] if table.notes else []
    return "\n".join(lines).rstrip() + "\n"


#: LaTeX's special characters and what stands for each in text
LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                 # a row starting with "[" after the previous row's \\ would be read as its optional argument
                 "[": "{[}", "]": "{]}"}


def tex_escape(text: str, special: dict[str, str] = LATEX_SPECIAL) -> str:
    """``text`` with each character of ``special`` replaced (``special`` extends :data:`LATEX_SPECIAL`)."""
    return "".join(special.get(ch, ch) for ch in text)


def column_groups(table: ResultTable) -> list[tuple[str, int]]:
    """Consecutive metric columns of one benchmark as (benchmark title, column count), for spanning headers."""
    groups: list[tuple[str, int]] = []
    for col in table.columns:
        if groups and groups[-1][0] == col.title:
            groups[-1] = (col.title, groups[-1][1] + 1)
        else:
            groups.append((col.title, 1))
    return groups


def render_latex(table: ResultTable) -> str:
    """A booktabs ``tabular`` with benchmark names spanning their metric columns."""
    n = len(table.columns)
    out = []
    if table.title:
        out.append(f"% {table.title}")
    out.append(r"\begin{tabular}{l" + "r" * n + "}")
    out.append(r"\toprule")
    groups = column_groups(table)
    out.append(" & ".join([""] + [rf"\multicolumn{{{k}}}{{c}}{{{tex_escape(t)}}}" for t, k in groups]) + r" \\")
    start = 2
    rules = []
    for _, k in groups:
        rules.append(rf"\cmidrule(lr){{{start}-{start + k - 1}}}")
        start += k
    out.append(" ".join(rules))
    out.append(" & ".join(["System"] + [tex_escape(c.metric.label) for c in table.columns]) + r" \\")
    out.append(r"\midrule")
    for i, row in enumerate(table.rows):
        cells = [rf"\textbf{{{table.cell(i, j)}}}" if table.is_best(i, j) else table.cell(i, j)
                 for j in range(n)]
        out.append(" & ".join([tex_escape(row.label)] + cells) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    return "\n".join(out) + "\n"


def render_csv(table: ResultTable) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["system", "variant"] + [_header(c) for c in table.columns])
    for i, row in enumerate(table.rows):
        writer.writerow([row.system, row.variant] + [table.cell(i, j) if row.values[j] is not None else ""
                                                     for j in range(len(table.columns))])
    return buf.getvalue()


def render_html(table: ResultTable) -> str:
    e = html.escape
    out = ["<table>"]
    if table.title:
        out.append(f"  <caption>{e(table.title)}</caption>")
    out.append("  <thead>")
    out.append("    <tr><th rowspan=\"2\">System</th>"
               + "".join(f"<th colspan=\"{k}\">{e(t)}</th>" for t, k in column_groups(table)) + "</tr>")
    out.append("    <tr>" + "".join(f"<th>{e(c.metric.label)}</th>" for c in table.columns) + "</tr>")
    out.append("  </thead>")
    out.append("  <tbody>")
    for i, row in enumerate(table.rows):
        cells = "".join(f"<td><b>{table.cell(i, j)}</b></td>" if table.is_best(i, j) else f"<td>{table.cell(i, j)}</td>"
                        for j in range(len(table.columns)))
        out.append(f"    <tr><th>{e(row.label)}</th>{cells}</tr>")
    out.append("  </tbody>")
    out.append("</table>")
    return "\n".join(out) + "\n"


def table_to_dict(table: ResultTable) -> dict:
    return {
        "title": table.title,
        "simulated": table.simulated,
        "columns": [{"benchmark": c.benchmark, "title": c.title, "metric": c.metric.key, "label": c.metric.label,
                     "scale": c.metric.scale, "decimals": c.metric.decimals} for c in table.columns],
        "rows": [{"system": r.system, "variant": r.variant,
                  "values": list(r.values), "shown": [table.cell(i, j) for j in range(len(table.columns))],
                  "best": [table.is_best(i, j) for j in range(len(table.columns))]}
                 for i, r in enumerate(table.rows)],
        "notes": list(table.notes),
    }


def render_json(table: ResultTable) -> str:
    return json.dumps(table_to_dict(table), indent=2) + "\n"


def render_rich(table: ResultTable):
    """A :class:`rich.table.Table`; best values in bold green."""
    from rich.table import Table

    out = Table(title=table.title or None, header_style="bold", title_style="bold red" if table.simulated else None)
    out.add_column("System")
    for col in table.columns:
        out.add_column(f"{col.title}\n{col.metric.label}", justify="right")
    for i, row in enumerate(table.rows):
        cells = [f"[bold green]{table.cell(i, j)}[/]" if table.is_best(i, j) else table.cell(i, j)
                 for j in range(len(table.columns))]
        out.add_row(row.label, *cells)
    if table.notes:
        out.caption = "; ".join(table.notes)
    return out


RENDERERS = {"markdown": render_markdown, "latex": render_latex, "csv": render_csv, "html": render_html,
             "json": render_json}


def render(table: ResultTable, fmt: str) -> str:
    """Render to text in ``fmt`` (``rich`` renders to plain text without colour)."""
    if fmt == "rich":
        from rich.console import Console

        console = Console(record=True, width=200, file=io.StringIO())
        console.print(render_rich(table))
        return console.export_text()
    return RENDERERS[check_choice(fmt, FORMATS, "table format")](table)


# --------------------------------------------------------------------------- per-condition breakdowns

_COUNT_SPECS = {"n_target": "target trials", "n_nontarget": "non-target trials", "n_spoof": "spoof trials"}


def breakdown_table(breakdown, *, title: str = "", simulated: bool = False) -> ResultTable:
    """A :class:`ResultTable` of one :class:`~asvbench.stats.breakdown.Breakdown`: a row per
    condition under the pooled row; columns: trial counts, then the metrics (flattened keys).
    No best-value highlighting (conditions are not competitors)."""
    from asvbench.results import flatten_metrics

    rows_in = (breakdown.pooled, *breakdown.rows)
    flat = [flatten_metrics(r.metrics or {}) for r in rows_in]
    keys: list[str] = []
    for f in flat:
        keys.extend(k for k in f if k not in keys and k not in NOT_METRICS)
    counts = [k for k in _COUNT_SPECS if any(getattr(r, k) for r in rows_in)]
    group = ""  # the table title names the condition; headers stay short
    columns = [Column(breakdown.by, group, MetricSpec(k, _COUNT_SPECS[k], 1.0, 0)) for k in counts]
    columns += [Column(breakdown.by, group, metric_spec(k)) for k in keys]
    rows = [Row(r.condition, r.condition, "", tuple([float(getattr(r, k)) for k in counts] + [f.get(k) for k in keys]))
            for r, f in zip(rows_in, flat)]
    notes = list(breakdown.not_computable())
    if breakdown.note:
        notes.append(breakdown.note)
    if simulated and SIMULATED_BANNER not in title:
        title = f"{SIMULATED_BANNER}: {title}" if title else SIMULATED_BANNER
    return ResultTable(tuple(columns), tuple(rows), tuple(frozenset() for _ in columns), title, simulated,
                       tuple(notes))


def record_breakdown_tables(records: Sequence[ResultRecord], sources: Sequence[str] | None = None) -> list[ResultTable]:
    """Every breakdown the records carry, one table each (titled with the system and benchmark)."""
    from asvbench.stats.breakdown import Breakdown

    sources = list(sources) if sources is not None else [f"record #{i + 1}" for i in range(len(records))]
    tables = []
    for rec, src in zip(records, sources):
        for data in rec.breakdowns:
            b = Breakdown.from_dict(data, src)
            what = f" ({b.scores} scores)" if b.scores else ""
            tables.append(breakdown_table(b, title=f"{rec.label} on {rec.benchmark}{what}: by {b.by}",
                                          simulated=rec.simulated))
    return tables


#: metrics the terminal breakdown table shows, when present (JSON and records keep them all)
TERMINAL_BREAKDOWN_METRICS = ("eer", "min_dcf", "sasv_eer", "sv_eer", "spf_eer", "min_a_dcf")


def render_breakdown_rich(breakdown, title: str = ""):
    """The terminal table of one breakdown (``--by`` of metrics / score / fuse): a row per
    condition under the pooled row, trial counts in one column, the headline rates."""
    from rich.table import Table

    from asvbench.results import flatten_metrics

    rows_in = (breakdown.pooled, *breakdown.rows)
    flat = [flatten_metrics(r.metrics or {}) for r in rows_in]
    keys = [k for base in TERMINAL_BREAKDOWN_METRICS for k in dict.fromkeys(k for f in flat for k in f)
            if k.partition("@")[0] == base]
    if "sasv_eer" in keys and "eer" in keys:  # with spoof trials, EER (target vs all others) is the SASV-EER
        keys.remove("eer")
    specs = [metric_spec(k) for k in keys]
    out = Table(title=title or f"by {breakdown.by} (rates in %)", header_style="bold")
    out.add_column(breakdown.by if breakdown.by in ("source", "gender") else "condition")
    out.add_column("trials tgt / non / spf", justify="right")
    for spec in specs:
        out.add_column(spec.label, justify="right")
    for r, f in zip(rows_in, flat):
        cells = [spec.display(f.get(spec.key)) for spec in specs]
        if r.metrics is None:
            cells = [f"not computable: {r.not_computable}"] + [""] * (len(specs) - 1)
        out.add_row(r.condition, f"{r.n_target:,} / {r.n_nontarget:,} / {r.n_spoof:,}", *cells,
                    end_section=r is breakdown.pooled)
    if breakdown.note:
        out.caption = breakdown.note
    return out
