"""``asvbench metrics SCORES``: EER, minDCF, actDCF, Cllr (and SASV EERs) of a score file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import handle_user_errors, out_console, print_json
from asvbench.cli._options import CFaOpt, CMissOpt, EerMethodOpt, JsonOpt, PTargetOpt
from asvbench.report.save import BenchmarkOpt, SaveResultOpt, SystemOpt, VariantOpt


@handle_user_errors
def metrics(
    scores: Annotated[Path, typer.Argument(help="Score file: 'enroll test score label', SASV 5-column, or CSV/TSV.")],
    fmt: Annotated[str, typer.Option("--format", help="auto|wespeaker|sasv|table")] = "auto",
    score_column: Annotated[str | None, typer.Option(help="Score column of a CSV/TSV.")] = None,
    label_column: Annotated[str | None, typer.Option(help="Label column of a CSV/TSV.")] = None,
    label_map: Annotated[str | None, typer.Option(
        help="Label values: VALUE=target|nontarget|spoof,... or a preset (asvspoof5-fusion).")] = None,
    eer_method: EerMethodOpt = "interp",
    p_target: PTargetOpt = None,
    c_miss: CMissOpt = 1.0,
    c_fa: CFaOpt = 1.0,
    json_out: JsonOpt = False,
    save_result: SaveResultOpt = None,
    system: SystemOpt = None,
    benchmark: BenchmarkOpt = None,
    variant: VariantOpt = "",
) -> None:
    """Compute EER / minDCF / actDCF / Cllr / minCllr (+ SASV-EER, SV-EER, SPF-EER with spoof trials)."""
    from asvbench.io.scores import read_scores
    from asvbench.metrics.summary import summarize

    from asvbench.types import parse_label_map

    table = read_scores(scores, fmt, score_column=score_column, label_column=label_column,
                        label_map=parse_label_map(label_map) if label_map else None, with_ids=False)
    summary = summarize(table.scores, table.labels, eer_method=eer_method,
                        p_targets=tuple(p_target or (0.01,)), c_miss=c_miss, c_fa=c_fa)
    if save_result is not None:
        from asvbench.report.save import save_summary_result

        save_summary_result(save_result, summary, system=system, benchmark=benchmark, variant=variant,
                            scores=table.scores, labels=table.labels, scores_path=scores, enroll=table.enroll,
                            test=table.test, command="asvbench metrics")
    if json_out:
        print_json(summary.to_dict())
    else:
        from asvbench.report.summary_table import metrics_table

        out_console().print(metrics_table(summary, title=str(scores)))


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
