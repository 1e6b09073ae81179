"""``--by`` glue shared by metrics / score / fuse: compute the breakdowns, say what is not
computable (stderr), print their tables (stdout, after the command's own table)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asvbench.cli._common import err_console, out_console


def compute_breakdowns(by: Sequence[str] | None, scores, labels, *, evaluator, **ids: Any) -> list:
    """The breakdowns of every ``--by`` value (none when ``by`` is empty); notes on stderr."""
    if not by:
        return []
    from asvbench.stats.breakdown import breakdowns_for

    found = breakdowns_for(list(by), scores, labels, evaluator=evaluator, **ids)
    for b in found:
        for message in b.not_computable():
            err_console.print(f"note: {message}", highlight=False)
    return found


def print_breakdowns(breakdowns: Sequence) -> None:
    from asvbench.report.tables import render_breakdown_rich

    for b in breakdowns:
        what = f"{b.scores} scores " if b.scores else ""
        out_console().print(render_breakdown_rich(b, title=f"{what}by {b.by} (rates in %)"))
