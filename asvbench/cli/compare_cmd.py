"""``asvbench compare BASELINE NEW``: CI regression check of result records.

Exit codes: 0 no regression; 1 a regression (a metric worse than its tolerance, a
baseline metric missing, or a changed trial list / benchmark / metric definitions);
2 a user error (unreadable record, bad --tolerance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json


@handle_user_errors
def compare(
    baseline: Annotated[Path, typer.Argument(help="Baseline result record (JSON).")],
    new: Annotated[Path, typer.Argument(help="New result record (JSON).")],
    tolerance: Annotated[str | None, typer.Option(
        "--tolerance", help="Allowed worsening per metric, in table units (EER in % points): "
                            "e.g. eer=0.01,min_dcf=0.005. Unnamed metrics must not get worse.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    significant_only: Annotated[bool, typer.Option(
        "--significant-only", help="Fail only on a worsening beyond tolerance that is also significant in the paired "
                                   "bootstrap of the two records (both saved with --ci and the same --ci-unit, "
                                   "--ci-reps, --seed).")] = False,
    allow_partial: Annotated[bool, typer.Option(
        "--allow-partial", help="Compare records that scored different shares of the trial list (--allow-missing); "
                                "refused otherwise.")] = False,
) -> None:
    """Compare NEW with BASELINE; exit 1 if a metric got worse beyond tolerance or the trial list changed."""
    from asvbench.report.compare import REGRESSION_EXIT_CODE, compare_records, comparison_table, parse_tolerance
    from asvbench.results import load_result

    tol = parse_tolerance(tolerance)
    result = compare_records(load_result(baseline), load_result(new), tol, significant_only=significant_only,
                             allow_partial=allow_partial)
    if json_out:
        print_json({"ok": result.ok, "regressions": result.regressions, "notes": list(result.notes),
                    "metrics": [{"metric": d.key, "baseline": d.baseline, "new": d.new, "change": d.delta,
                                 "tolerance": d.tolerance, "status": d.status} for d in result.diffs]})
    else:
        out_console().print(comparison_table(result))
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False)
    if not result.ok:
        for item in result.regressions:
            err_console.print(f"[bold red]regression:[/] {item}", highlight=False)
        raise typer.Exit(REGRESSION_EXIT_CODE)
    err_console.print("[green]no regression[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
