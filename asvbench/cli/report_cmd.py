"""``asvbench report RESULTS...``: result tables (and DET plots) from result records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.cli._common import err_console, handle_user_errors, out_console
from asvbench.cli._options import choice
from asvbench.report.formats import FORMATS

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
    ci_style: Annotated[choice(("bracket", "pm", "none")), typer.Option(
        "--ci-style", help="Confidence intervals of records saved with --ci: bracket (1.23 [1.15, 1.31]), "
                           "pm (1.23 ± 0.08: the larger half-width) or none.")] = "bracket",
) -> None:
    """Render result records as a table: rows = systems, columns = benchmarks x metrics, best in bold."""
    from asvbench.report.tables import build_table, render_rich
    from asvbench.results import load_result

    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(out.suffix.lower(), "rich") if out else "rich"
    from asvbench._outputs import claim_outputs

    claim_outputs({"--out": out, "--det": det}, {"RESULTS": results})
    records = [load_result(p) for p in results]
    table = build_table(records, metrics=_split(metrics), benchmarks=_split(benchmarks),
                        allow_missing=allow_missing, sources=[str(p) for p in results], title=title,
                        ci_style=None if ci_style == "none" else ci_style)
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
