"""Tables a paper can print: metadata columns, merged repeats, transposed and grouped layouts,
decimals and scale per metric, a provenance footnote per table, and refusal of mixed columns.

:func:`build_paper_tables` arranges records into :class:`PaperTable` objects (cells as data);
:func:`render_paper_markdown` / :func:`render_paper_latex` turn them into text (markdown: a
repeated value is a blank cell, as the seed READMEs print it; LaTeX: ``\\multirow``, the
provenance as the ``\\caption``). The numbers come from :func:`asvbench.report.tables.build_table`,
so its checks (one record per cell, missing metrics, best value on the shown precision) hold here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from asvbench.errors import AsvbenchError
from asvbench.metrics.declarations import declaration
from asvbench.report.tables import LATEX_SPECIAL, ResultTable, build_table, column_groups, metric_spec, tex_escape
from asvbench.results import ResultRecord

PAPER_FORMATS: tuple[str, ...] = ("markdown", "latex")
#: where ``--columns`` puts the metric columns (default: after the metadata columns)
METRICS_MARK = "metrics"
#: marks a cell whose record uses another definition / trial list than the column's first record
MIXED_MARK = "†"

#: header of a metadata field when ``--columns`` gives none (``field:Header`` overrides)
FIELD_HEADERS: dict[str, str] = {
    "system": "System", "variant": "Variant", "model": "Model", "params": "Params", "flops": "FLOPs",
    "pretraining": "Pretraining data", "training": "Training data", "lm": "LM", "score_norm": "Score norm",
    "pool_norm": "Pooling norm", "frontend": "Front-end", "benchmark": "Benchmark",
}


@dataclass(frozen=True)
class FieldColumn:
    """One metadata column: the record field it shows and its header."""

    name: str
    header: str


@dataclass(frozen=True)
class PaperOptions:
    """What ``report`` options beyond the plain table ask for (see :func:`parse_columns`)."""

    columns: tuple[FieldColumn, ...] = ()
    metrics_at: int | None = None  # index in ``columns`` before which the metric columns go
    merge: tuple[str, ...] = ("system",)
    layout: str = "systems"
    group_by: str | None = None
    decimals: Mapping[str, int] = field(default_factory=dict)
    scale: str | None = None
    allow_mixed: bool = False
    provenance: bool = True
    highlight: bool = True


@dataclass(frozen=True)
class Cell:
    """``value``: text, a number (already formatted metrics are text) or a boolean (√ / ×);
    ``span``: rows a merged cell covers (1 = not merged, 0 = covered by the cell above)."""

    value: Any
    bold: bool = False
    span: int = 1


@dataclass(frozen=True)
class PaperTable:
    title: str
    headers: tuple[str, ...]
    #: column groups above the headers ((title, width), "" for none); empty: one header row
    groups: tuple[tuple[str, int], ...]
    n_text: int  # leading text columns (left-aligned); the rest are numbers
    body: tuple[tuple[Cell, ...], ...]
    footnotes: tuple[str, ...] = ()
    trailing_text: int = 0  # text columns after the numbers (e.g. a model folder)
    #: headers under the group row (LaTeX): the metric labels without their benchmark
    short_headers: tuple[str, ...] = ()


# --------------------------------------------------------------------------- options

def parse_columns(text: str | None) -> tuple[tuple[FieldColumn, ...], int | None]:
    """``system:Model,params,metrics,folder:Model folder`` -> columns and where the metrics go."""
    columns: list[FieldColumn] = []
    metrics_at = None
    for item in (t.strip() for t in (text or "").split(",")):
        if not item:
            continue
        name, _, header = item.partition(":")
        if name == METRICS_MARK:
            metrics_at = len(columns)
            continue
        columns.append(FieldColumn(name, header or FIELD_HEADERS.get(name, name)))
    return tuple(columns), metrics_at


def parse_decimals(text: str | None) -> dict[str, int]:
    """``eer=3,min_dcf=4`` -> ``{"eer": 3, "min_dcf": 4}`` (a base key covers ``min_dcf@0.01``)."""
    out: dict[str, int] = {}
    for item in (t.strip() for t in (text or "").split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or declaration(key.strip()) is None and "@" not in key:
            raise AsvbenchError(f"--decimals {item!r}: expected METRIC=N with a known metric",
                                hint="e.g. --decimals eer=3,min_dcf=4")
        out[key.strip()] = int(value)
    return out


def record_field(record: ResultRecord, name: str) -> Any:
    """A metadata value of ``record``: its ``meta``, else what the record says itself (system,
    variant, benchmark, model names, score and pooling normalisation, EER definition)."""
    if name in record.meta:
        return record.meta[name]
    norm = record.normalization or {}
    derived = {
        "system": record.system, "variant": record.variant, "benchmark": record.benchmark,
        "model": ", ".join(m.name for m in record.model) or None,
        "score_norm": norm.get("norm"), "pool_norm": norm.get("pool_norm"),
        "eer_method": record.definitions.get("eer_method"),
    }
    if name == "frontend":
        return _frontend(record)
    return derived.get(name)


def _frontend(record: ResultRecord) -> str | None:
    """The registered front-end of the record's (first) model, e.g. ``kaldi-fbank-80``."""
    from asvbench.models.registry import MODELS

    names = [m.name for m in record.model if m.name in MODELS]
    return MODELS.get(names[0]).frontend if names else None


# --------------------------------------------------------------------------- building

def build_paper_tables(records: Sequence[ResultRecord], options: PaperOptions, *, metrics=None, benchmarks=None,
                       allow_missing: bool = False, sources: Sequence[str] | None = None, title: str = "",
                       ci_style: str | None = "bracket") -> list[PaperTable]:
    """One table, or one per value of ``options.group_by`` (in order of first appearance)."""
    sources = list(sources) if sources is not None else [f"record #{i + 1}" for i in range(len(records))]
    groups = _group(records, sources, options.group_by)
    tables = []
    for value, (recs, srcs) in groups.items():
        group_title = title if options.group_by is None else " ".join(t for t in (title, _plain(value)) if t)
        result = build_table(recs, metrics=metrics, benchmarks=benchmarks, allow_missing=allow_missing, sources=srcs,
                             title=group_title, ci_style=ci_style, mixed_lists=options.allow_mixed,
                             specs=lambda key: metric_spec(key, options.scale, _decimals_of(key, options.decimals)))
        if allow_missing:
            result = _without_empty_columns(result)
        marks, mixed_notes = _mixed_cells(result, recs, srcs, options.allow_mixed)
        layout = _transposed if options.layout == "transposed" else _systems
        table = layout(result, recs, options, marks)
        notes = [*_provenance(result, recs), *mixed_notes, *result.notes] if options.provenance else list(result.notes)
        tables.append(replace(table, footnotes=tuple(notes)))
    return tables


def _without_empty_columns(table: ResultTable) -> ResultTable:
    """Leave out a metric column no record has (with ``--allow-missing``: the open-speaker-verification
    table has minDCF on Vox1-O only), and the notes about its cells."""
    keep = [j for j in range(len(table.columns)) if any(r.values[j] is not None for r in table.rows)]
    if len(keep) == len(table.columns):
        return table
    gone = [table.columns[j] for j in range(len(table.columns)) if j not in keep]
    rows = tuple(replace(r, values=tuple(r.values[j] for j in keep),
                         intervals=tuple(r.intervals[j] for j in keep) if r.intervals else ()) for r in table.rows)
    notes = tuple(n for n in table.notes if not any(n.endswith(f" has no {c.metric.label} on {c.title}") for c in gone))
    return replace(table, columns=tuple(table.columns[j] for j in keep), rows=rows,
                   best=tuple(table.best[j] for j in keep), notes=notes)


def _decimals_of(key: str, decimals: Mapping[str, int]) -> int | None:
    return decimals.get(key, decimals.get(key.partition("@")[0]))


def _group(records, sources, by: str | None) -> dict[Any, tuple[list[ResultRecord], list[str]]]:
    out: dict[Any, tuple[list[ResultRecord], list[str]]] = {}
    for rec, src in zip(records, sources):
        value = record_field(rec, by) if by else None
        if by and value is None:
            raise AsvbenchError(f"--group-by {by}: the record has no {by!r}", where=src,
                                hint=f"save it with --meta {by}=VALUE")
        recs, srcs = out.setdefault(value, ([], []))
        recs.append(rec)
        srcs.append(src)
    return out


def _row_records(records: Sequence[ResultRecord]) -> dict[tuple[str, str], list[ResultRecord]]:
    rows: dict[tuple[str, str], list[ResultRecord]] = {}
    for rec in records:
        rows.setdefault((rec.system, rec.variant), []).append(rec)
    return rows


def _row_field(recs: Sequence[ResultRecord], name: str) -> Any:
    return next((v for v in (record_field(r, name) for r in recs) if v is not None), None)


def _metric_cell(table: ResultTable, i: int, j: int, marks: set[tuple[int, int]], highlight: bool) -> Cell:
    text = table.cell(i, j) + (MIXED_MARK if (i, j) in marks else "")
    return Cell(text, bold=highlight and table.is_best(i, j))


def _systems(table: ResultTable, records, options: PaperOptions, marks) -> PaperTable:
    columns = options.columns or (FieldColumn("system", "System"),)
    at = len(columns) if options.metrics_at is None else options.metrics_at
    before, after = columns[:at], columns[at:]
    by_row = _row_records(records)
    body = []
    for i, row in enumerate(table.rows):
        recs = by_row[(row.system, row.variant)]
        lead = [Cell(row.label if not options.columns and c.name == "system" else _row_field(recs, c.name))
                for c in before]
        values = [_metric_cell(table, i, j, marks, options.highlight) for j in range(len(table.columns))]
        body.append([*lead, *values, *(Cell(_row_field(recs, c.name)) for c in after)])
    merged = _merge(body, [k for k, c in enumerate(before) if c.name in options.merge])
    one_bench = len({c.benchmark for c in table.columns}) == 1
    headers = [c.header for c in before] + [c.metric.label if one_bench else f"{c.title} {c.metric.label}"
                                            for c in table.columns] + [c.header for c in after]
    groups = () if one_bench else (("", len(before)), *column_groups(table), ("", len(after)))
    short = [c.header for c in before] + [c.metric.label for c in table.columns] + [c.header for c in after]
    return PaperTable(table.title, tuple(headers), tuple(g for g in groups if g[1]), len(before),
                      tuple(tuple(r) for r in merged), trailing_text=len(after), short_headers=tuple(short))


def _transposed(table: ResultTable, records, options: PaperOptions, marks) -> PaperTable:
    """Rows = metrics (per system when there are several), columns = benchmarks."""
    benches = list(dict.fromkeys(c.benchmark for c in table.columns))
    titles = {c.benchmark: c.title for c in table.columns}
    keys = list(dict.fromkeys(c.metric.key for c in table.columns))
    index = {(c.benchmark, c.metric.key): j for j, c in enumerate(table.columns)}
    several = len(table.rows) > 1
    body = []
    for i, row in enumerate(table.rows):
        for key in keys:
            spec = next(c.metric for c in table.columns if c.metric.key == key)
            cells = [_metric_cell(table, i, index[(b, key)], marks, options.highlight) if (b, key) in index
                     else Cell("–") for b in benches]
            body.append(([Cell(row.label)] if several else []) + [Cell(spec.label), *cells])
    merged = _merge(body, [0] if several else [])
    headers = (["System"] if several else []) + ["Metric"] + [titles[b] for b in benches]
    return PaperTable(table.title, tuple(headers), (), 2 if several else 1, tuple(tuple(r) for r in merged))


def _merge(body: list[list[Cell]], merge_cols: Sequence[int]) -> list[list[Cell]]:
    """Merge a value repeated in consecutive rows, column by column from the left: a cell merges
    into the one above only if every merged column left of it merged too (a new model starts
    a new run of its pretraining data)."""
    out = [list(r) for r in body]
    starts: dict[int, int] = {}
    for i in range(len(out)):
        left_merged = True
        for k in merge_cols:
            same = i > 0 and left_merged and out[i][k].value == body[i - 1][k].value
            if same:
                first = starts[k]
                out[first][k] = replace(out[first][k], span=out[first][k].span + 1)
                out[i][k] = Cell("", span=0)
            else:
                starts[k] = i
            left_merged = same
    return out


# --------------------------------------------------------------------------- provenance and mixing

def _column_records(table: ResultTable, records, sources):
    by_cell = {(r.system, r.variant, r.benchmark): (r, s) for r, s in zip(records, sources)}
    for j, col in enumerate(table.columns):
        found = [(i, *by_cell[(row.system, row.variant, col.benchmark)]) for i, row in enumerate(table.rows)
                 if (row.system, row.variant, col.benchmark) in by_cell and row.values[j] is not None]
        yield j, col, found


def _definition(record: ResultRecord, key: str) -> tuple:
    """What must agree within one column for ``key``: the trial list and the metric's definition."""
    known = declaration(key)
    defs = record.definitions
    trials = record.trials.content_sha256 if record.trials else None
    if known is not None and known.definition == "eer_method":
        return trials, ("eer_method", defs.get("eer_method"))
    if known is not None and known.definition == "dcf":
        return trials, ("c_miss", defs.get("c_miss")), ("c_fa", defs.get("c_fa"))
    return (trials,)


def _mixed_cells(table: ResultTable, records, sources, allow: bool) -> tuple[set[tuple[int, int]], list[str]]:
    marks: set[tuple[int, int]] = set()
    notes: list[str] = []
    for j, col, found in _column_records(table, records, sources):
        if not found:
            continue
        first = _definition(found[0][1], col.metric.key)
        odd = [(i, rec, src) for i, rec, src in found if _definition(rec, col.metric.key) != first]
        if not odd:
            continue
        what = f"{col.title} {col.metric.label}"
        differs = "; ".join(f"{src} ({_describe(_definition(rec, col.metric.key))})" for _, rec, src in odd)
        if not allow:
            raise AsvbenchError(f"column {what!r} mixes definitions or trial lists: {found[0][2]} "
                                f"({_describe(first)}) vs {differs}",
                                hint="report records computed alike, or --allow-mixed to mark the cells with †")
        marks.update((i, j) for i, _, _ in odd)
        notes.append(f"{MIXED_MARK} {what}: {differs} differ from {found[0][2]} ({_describe(first)})")
    return marks, notes


def refuse_mixed(table: ResultTable, records: Sequence[ResultRecord], sources: Sequence[str]) -> None:
    """The plain ``report`` table too: a column mixing EER definitions or DCF costs is an error."""
    _mixed_cells(table, records, sources, allow=False)


def _describe(definition: tuple) -> str:
    trials, *rest = definition
    parts = [f"trials {trials[:12]}" if trials else "trials unknown"]
    return ", ".join(parts + [f"{k}={v}" for k, v in rest])


def _provenance(table: ResultTable, records: Sequence[ResultRecord]) -> list[str]:
    """One line per benchmark (trial list, fingerprint, coverage) and one for the definitions."""
    lines = []
    for bench in dict.fromkeys(c.benchmark for c in table.columns):
        recs = [r for r in records if r.benchmark == bench]
        title = next(c.title for c in table.columns if c.benchmark == bench)
        prints = list(dict.fromkeys(_trials_text(r) for r in recs))
        coverage = list(dict.fromkeys(_coverage_text(r) for r in recs))
        lines.append(f"{title}: {'; '.join(prints)}; coverage {', '.join(coverage)}")
    keys = {c.metric.key.partition("@")[0] for c in table.columns}
    defs = [r.definitions for r in records]
    if keys & {"eer", "sasv_eer", "sv_eer", "spf_eer"}:
        methods = ", ".join(dict.fromkeys(str(d.get("eer_method", "not recorded")) for d in defs))
        lines.append(f"EER: {methods}")
    dcf_keys = sorted({c.metric.key for c in table.columns if c.metric.key.partition("@")[0] in ("min_dcf", "act_dcf")})
    if dcf_keys:
        priors = ", ".join(dict.fromkeys(k.partition("@")[2] for k in dcf_keys if "@" in k))
        costs = ", ".join(dict.fromkeys(f"C_miss={_num(d.get('c_miss'))}, C_fa={_num(d.get('c_fa'))}" for d in defs))
        lines.append(f"minDCF: P_target={priors}; {costs}")
    return lines


def _num(value: Any) -> str:
    return "?" if value is None else f"{float(value):g}"


def _trials_text(record: ResultRecord) -> str:
    fp = record.trials
    if fp is None:
        return "trial list not recorded"
    name = fp.source.rsplit("/", 1)[-1] if fp.source else record.benchmark
    return f"{name} (sha256 {fp.content_sha256[:12]}, {fp.n_lines:,} lines)"


def _coverage_text(record: ResultRecord) -> str:
    coverage = getattr(record, "coverage", None)  # results.Coverage (score records), else the counts
    if coverage is not None and getattr(coverage, "listed", 0):
        return f"{coverage.scored:,}/{coverage.listed:,} trials ({100 * coverage.scored / coverage.listed:.1f}%)"
    counts = (record.trials.label_counts if record.trials else {}) or {}
    scored = sum(int(record.metrics.get(k, 0) or 0) for k in ("n_target", "n_nontarget", "n_spoof"))
    total = sum(counts.values())
    if scored and total:
        return f"{scored:,}/{total:,} trials ({100 * scored / total:.1f}%)"
    return "not recorded"


# --------------------------------------------------------------------------- rendering

def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "√" if value else "×"
    if value is None:
        return "–"
    return str(value)


def _shown(value: Any, name: str = "") -> Any:
    """Counts in records are whole numbers: ``params`` in millions, ``flops`` in giga."""
    if isinstance(value, int) and not isinstance(value, bool):
        if name == "params":
            return f"{value / 1e6:.2f}M"
        if name == "flops":
            return f"{value / 1e9:.2f}G"
    return value


def _field_names(table: PaperTable, options: PaperOptions | None) -> list[str]:
    cols = (options.columns if options and options.columns else ())
    names = [c.name for c in cols]
    return names[:table.n_text] + [""] * (len(table.headers) - table.n_text - table.trailing_text) + \
        names[table.n_text:]


def render_paper_markdown(tables: Sequence[PaperTable], options: PaperOptions | None = None) -> str:
    return "\n".join(_markdown(t, options) for t in tables)


def _markdown(table: PaperTable, options: PaperOptions | None) -> str:
    names = _field_names(table, options)
    lines = [f"**{table.title}**", ""] if table.title else []
    headers = list(table.headers)  # markdown has no spanning row: headers name the benchmark
    lines.append("| " + " | ".join(headers) + " |")
    numeric = range(table.n_text, len(headers) - table.trailing_text)
    lines.append("|" + "|".join("---:" if k in numeric else "---" for k in range(len(headers))) + "|")
    for row in table.body:
        cells = []
        for k, cell in enumerate(row):
            text = "" if cell.span == 0 else _plain(_shown(cell.value, names[k] if k < len(names) else ""))
            cells.append(f"**{text}**" if cell.bold else text)
        lines.append("| " + " | ".join(cells) + " |")
    if table.footnotes:
        lines += [""] + [f"- {n}" for n in table.footnotes]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {**LATEX_SPECIAL, "–": "--", "±": r"$\pm$", MIXED_MARK: r"$^\dagger$"}


def _tex(value: Any) -> str:
    if isinstance(value, bool):
        return r"$\surd$" if value else r"$\times$"
    return tex_escape(_plain(value), _LATEX_SPECIAL)


def render_paper_latex(tables: Sequence[PaperTable], options: PaperOptions | None = None) -> str:
    return "\n".join(_latex(t, options) for t in tables)


def _latex(table: PaperTable, options: PaperOptions | None) -> str:
    names = _field_names(table, options)
    n = len(table.headers)
    trailing = table.trailing_text
    spec = "l" * table.n_text + "r" * (n - table.n_text - trailing) + "l" * trailing
    out = [r"% needs \usepackage{booktabs,multirow}", r"\begin{table}[t]", r"\centering"]
    caption = ". ".join(t for t in (table.title, *table.footnotes) if t)
    if caption:
        out.append(r"\caption{" + _tex(caption) + ".}")
    out += [r"\begin{tabular}{" + spec + "}", r"\toprule"]
    if table.groups:
        out.append(" & ".join(rf"\multicolumn{{{k}}}{{c}}{{{_tex(t)}}}" if t else " & ".join([""] * k)
                              for t, k in table.groups) + r" \\")
        start, rules = 1, []
        for t, k in table.groups:
            if t:
                rules.append(rf"\cmidrule(lr){{{start}-{start + k - 1}}}")
            start += k
        out.append(" ".join(rules))
        headers = [_tex(h) for h in table.short_headers]
    else:
        headers = [_tex(h) for h in table.headers]
    out.append(" & ".join(headers) + r" \\")
    out.append(r"\midrule")
    for row in table.body:
        cells = []
        for k, cell in enumerate(row):
            text = "" if cell.span == 0 else _tex(_shown(cell.value, names[k] if k < len(names) else ""))
            text = rf"\textbf{{{text}}}" if cell.bold else text
            cells.append(rf"\multirow{{{cell.span}}}{{*}}{{{text}}}" if cell.span > 1 else text)
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out) + "\n"


def render_paper(tables: Sequence[PaperTable], fmt: str, options: PaperOptions | None = None) -> str:
    if fmt == "latex":
        return render_paper_latex(tables, options)
    return render_paper_markdown(tables, options)


def render_paper_png(table: PaperTable, path, options: PaperOptions | None = None) -> None:
    """Draw one table with matplotlib (for looking at it; the text formats are what papers use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asvbench._atomic import atomic_path

    names = _field_names(table, options)
    cells = [["" if c.span == 0 else _plain(_shown(c.value, names[k] if k < len(names) else ""))
              for k, c in enumerate(row)] for row in table.body]
    fig, ax = plt.subplots(figsize=(8.0, 0.3 * (len(cells) + 1)))
    ax.axis("off")
    drawn = ax.table(cellText=cells, colLabels=list(table.headers), loc="center", cellLoc="center")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(8)
    drawn.auto_set_column_width(list(range(len(table.headers))))
    for (r, k), cell in drawn.get_celld().items():  # a merged run: no rule between its rows
        if r > 0 and table.body[r - 1][k].span == 0:
            cell.visible_edges = "LR" + ("B" if r == len(cells) or table.body[r][k].span != 0 else "")
        elif r > 0 and table.body[r - 1][k].span > 1:
            cell.visible_edges = "LRT"
    for (r, k), cell in drawn.get_celld().items():
        if r > 0 and table.body[r - 1][k].bold:
            cell.get_text().set_fontweight("bold")
    if table.title:
        ax.set_title(table.title, fontsize=10)
    if table.footnotes:
        ax.text(0.0, -0.02, "\n".join(table.footnotes), transform=ax.transAxes, fontsize=6, va="top")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
