"""``asvbench report RESULTS...``: result tables (and DET plots) from result records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.cli._common import err_console, handle_user_errors, out_console
from asvbench.cli._options import choice
from asvbench.report.formats import FORMATS, PAPER_LAYOUTS, PAPER_SCALES
from asvbench.stats.options import CI_STYLES

_SUFFIX_FORMATS = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".csv": "csv", ".html": "html",
                   ".htm": "html", ".json": "json", ".txt": "rich"}


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
def report(
    results: Annotated[list[Path], typer.Argument(help="Result records (JSON) written by --save-result.")],
    fmt: Annotated[choice(FORMATS) | None, typer.Option("--format", help="Table format "
                                                            "(default: from --out's suffix, else rich).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the table to FILE (atomically).")] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="Metric columns for every benchmark, e.g. "
                                                "eer,min_dcf@0.01 (default: by benchmark kind).")] = None,
    benchmarks: Annotated[str | None, typer.Option("--benchmarks", help="Benchmark columns and their order, "
                                                   "comma-separated (default: as they appear).")] = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Show '–' for a metric a record "
                                                "lacks instead of failing.")] = False,
    title: Annotated[str, typer.Option("--title", help="Table title.")] = "",
    det: Annotated[Path | None, typer.Option("--det", help="Also draw DET curves of the records to FILE "
                                             "(.png/.pdf/.svg; one file per benchmark when there are several).")] = None,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="Also render the per-condition breakdowns the "
                                            "records carry (written with --by), one table each, after the "
                                            "results table (json: one object with 'results' and "
                                            "'breakdowns').")] = False,
    ci_style: Annotated[choice((*CI_STYLES, "none")), typer.Option(
        "--ci-style", help="Confidence intervals of records saved with --ci: bracket (1.23 [1.15, 1.31]), "
                           "pm (1.23 ± 0.08: the larger half-width) or none.")] = "bracket",
    columns: Annotated[str | None, typer.Option("--columns", help="Paper table: metadata columns, comma-separated "
                                                "FIELD or FIELD:Header (system, variant, model, params, flops, "
                                                "pretraining, lm, score_norm, pool_norm, frontend or any --meta "
                                                "key); 'metrics' marks where the metric columns go.")] = None,
    merge: Annotated[str, typer.Option("--merge", help="Paper table: columns whose repeated values in consecutive "
                                       "rows are merged (markdown: blank; LaTeX: \\multirow).")] = "system",
    layout: Annotated[choice(PAPER_LAYOUTS), typer.Option("--layout", help="systems: rows = systems, columns = "
                                                          "benchmarks x metrics; transposed: rows = metrics, "
                                                          "columns = benchmarks.")] = "systems",
    group_by: Annotated[str | None, typer.Option("--group-by", help="One table per value of this field "
                                                 "(e.g. pool_norm, or a --meta key).")] = None,
    decimals: Annotated[str | None, typer.Option("--decimals", help="Decimals per metric, e.g. eer=3,min_dcf=4.")
                        ] = None,
    scale: Annotated[choice(PAPER_SCALES) | None, typer.Option("--scale", help="Rates (EERs) in percent or as "
                                                               "fractions (default: percent).")] = None,
    allow_mixed: Annotated[bool, typer.Option("--allow-mixed", help="Let a column mix EER definitions, DCF costs "
                                              "or trial lists; the affected cells are marked †.")] = False,
    provenance: Annotated[bool, typer.Option("--provenance/--no-provenance", help="Paper table: a footnote "
                                             "(LaTeX: caption) with trial lists, fingerprints, coverage and "
                                             "metric definitions.")] = True,
    bold: Annotated[bool, typer.Option("--bold/--no-bold", help="Paper table: best value in bold.")] = True,
    png: Annotated[Path | None, typer.Option("--png", help="Also draw the (first) paper table to FILE.png "
                                             "with matplotlib.")] = None,
) -> None:
    """Render result records as a table: rows = systems, columns = benchmarks x metrics, best in bold.

    Paper tables with a provenance footnote (--columns, --layout, --group-by, ...): docs/paper-tables.md.
    """
    from asvbench.report.tables import build_table, render_rich
    from asvbench.results import load_result

    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(out.suffix.lower(), "rich") if out else "rich"
    from asvbench._outputs import claim_outputs

    claim_outputs({"--out": out, "--det": det, "--png": png}, {"RESULTS": results})
    records = [load_result(p) for p in results]
    paper = _paper_options(columns, merge, layout, group_by, decimals, scale, allow_mixed, provenance, bold, png)
    if paper is not None:
        _paper_report(records, results, paper, fmt if fmt != "rich" else "markdown", out, png,
                      metrics=_split(metrics), benchmarks=_split(benchmarks), allow_missing=allow_missing,
                      title=title, ci_style=None if ci_style == "none" else ci_style)
        return
    table = build_table(records, metrics=_split(metrics), benchmarks=_split(benchmarks),
                        allow_missing=allow_missing, sources=[str(p) for p in results], title=title,
                        ci_style=None if ci_style == "none" else ci_style)
    from asvbench.report.paper import refuse_mixed

    refuse_mixed(table, records, [str(p) for p in results])
    tables = [table, *_breakdown_tables(records, results)] if breakdown else [table]
    if out is not None:
        from asvbench._atomic import atomic_write_text

        atomic_write_text(out, _render_all(tables, fmt))
        err_console.print(f"wrote {fmt} table{'s' if len(tables) > 1 else ''} to {out}", highlight=False)
    elif fmt == "rich":
        for t in tables:
            out_console().print(render_rich(t))
    else:
        typer.echo(_render_all(tables, fmt), nl=False)
    if det is not None:
        from asvbench.report.records_det import plot_records_det

        for path in plot_records_det(records, det, sources=[str(p) for p in results], title=title):
            err_console.print(f"wrote DET plot {path}", highlight=False)


def _paper_options(columns, merge, layout, group_by, decimals, scale, allow_mixed, provenance, bold, png):
    """The paper-table options, or None when none of them is asked for (the plain table then)."""
    if not (columns or merge != "system" or layout != "systems" or group_by or decimals or scale or allow_mixed
            or not provenance or not bold or png):
        return None
    from asvbench.report.paper import PaperOptions, parse_columns, parse_decimals

    cols, metrics_at = parse_columns(columns)
    return PaperOptions(columns=cols, metrics_at=metrics_at, merge=tuple(_split(merge) or ()), layout=layout,
                        group_by=group_by, decimals=parse_decimals(decimals), scale=scale, allow_mixed=allow_mixed,
                        provenance=provenance, highlight=bold)


def _paper_report(records, paths: list[Path], options, fmt: str, out: Path | None, png: Path | None, **kw) -> None:
    from asvbench.errors import AsvbenchError
    from asvbench.report.paper import PAPER_FORMATS, build_paper_tables, render_paper, render_paper_png

    if fmt not in PAPER_FORMATS:
        raise AsvbenchError(f"--format {fmt}: paper tables (--columns, --layout, --group-by, --decimals, ...) "
                            f"render as {' or '.join(PAPER_FORMATS)}", hint="use --format markdown or latex")
    tables = build_paper_tables(records, options, sources=[str(p) for p in paths], **kw)
    text = render_paper(tables, fmt, options)
    if out is not None:
        from asvbench._atomic import atomic_write_text

        atomic_write_text(out, text)
        err_console.print(f"wrote {fmt} table{'s' if len(tables) > 1 else ''} to {out}", highlight=False)
    else:
        typer.echo(text, nl=False)
    if png is not None:
        render_paper_png(tables[0], png, options)
        err_console.print(f"wrote table image {png}", highlight=False)


def _breakdown_tables(records, paths: list[Path]) -> list:
    from asvbench.errors import AsvbenchError
    from asvbench.report.tables import record_breakdown_tables

    tables = record_breakdown_tables(records, sources=[str(p) for p in paths])
    if not tables:
        raise AsvbenchError("--breakdown: no record carries a per-condition breakdown",
                            hint="write records with --save-result and --by (e.g. asvbench fuse ... --by source)")
    return tables


def _render_all(tables: list, fmt: str) -> str:
    """The results table, then each breakdown table (json: one object holding them all)."""
    from asvbench.report.tables import render, table_to_dict

    if len(tables) == 1:
        return render(tables[0], fmt)
    if fmt == "json":
        import json

        return json.dumps({"results": table_to_dict(tables[0]),
                           "breakdowns": [table_to_dict(t) for t in tables[1:]]}, indent=2) + "\n"
    return "\n".join(render(t, fmt) for t in tables)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
