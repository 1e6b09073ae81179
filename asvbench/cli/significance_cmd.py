"""``asvbench significance A_SCORES B_SCORES``: is the difference between two systems significant?

Paired speaker-level bootstrap of every metric's difference (B - A) and McNemar's test on the
decisions at each system's EER threshold; see :mod:`asvbench.stats.paired`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json
from asvbench.cli._options import (
    CFaOpt,
    CiRepsOpt,
    CiUnitOpt,
    CMissOpt,
    EerMethodOpt,
    JsonOpt,
    PTargetOpt,
    SeedOpt,
    Utt2spkOpt,
    choice,
)
from asvbench.io.formats import SCORE_FORMATS


@handle_user_errors
def significance(
    a_scores: Annotated[Path, typer.Argument(help="System A's score file ('enroll test score label').")],
    b_scores: Annotated[Path, typer.Argument(help="System B's score file, on the same trials.")],
    level: Annotated[float, typer.Option("--ci", help="Confidence level in % of the difference intervals; the "
                                                      "test's significance level is 100 - LEVEL.")] = 95.0,
    ci_unit: CiUnitOpt = "speaker",
    ci_reps: CiRepsOpt = 1000,
    seed: SeedOpt = 0,
    utt2spk: Utt2spkOpt = None,
    fmt: Annotated[choice(SCORE_FORMATS), typer.Option("--format", help="Score-file format (both files).")] = "auto",
    eer_method: EerMethodOpt = "interp",
    p_target: PTargetOpt = None,
    c_miss: CMissOpt = 1.0,
    c_fa: CFaOpt = 1.0,
    json_out: JsonOpt = False,
) -> None:
    """Paired bootstrap (same resampled speakers for A and B) of each metric's difference B - A, with its
    interval and two-sided p-value, and McNemar's test at each system's EER threshold."""
    from asvbench.stats.ci import CiSettings
    from asvbench.stats.paired import compare_systems

    settings = CiSettings(level=level, unit=ci_unit, reps=ci_reps, seed=seed, utt2spk=utt2spk)
    result = compare_systems(a_scores, b_scores, settings, eer_method=eer_method, p_targets=tuple(p_target or (0.01,)),
                             c_miss=c_miss, c_fa=c_fa, fmt=fmt)
    err_console.print(f"note: A = {a_scores}, B = {b_scores}; {result.n_trials:,} trials; paired percentile "
                      f"bootstrap over {result.units.n_units:,} {result.units.kind}s ({result.units.source}), "
                      f"{settings.reps:,} replicates, seed {settings.seed}", highlight=False)
    if json_out:  # the sentences are in the object ("verdict")
        print_json(result.to_dict())
        return
    out = out_console()
    out.print(_table(result))
    out.print(result.verdict("eer"), highlight=False)
    out.print(result.mcnemar_sentence(), highlight=False)


def _table(result):
    from rich.table import Table

    from asvbench.report.tables import metric_spec

    table = Table(title=f"B - A, {result.settings.level:g} % paired bootstrap intervals", header_style="bold")
    for name in ("metric", "A", "B", "B - A", "interval", "p", "significant"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for key, d in result.differences.items():
        spec = metric_spec(key)
        dec = spec.decimals + 2
        lo, hi = d.interval
        table.add_row(spec.label, spec.display(d.a, dec), spec.display(d.b, dec),
                      f"{d.difference * spec.scale:+.{dec}f}", f"[{lo * spec.scale:+.{dec}f}, {hi * spec.scale:+.{dec}f}]",
                      f"{d.p_value:.3g}", "yes" if result.significant(key) else "no")
    return table


def register(app: typer.Typer) -> None:
    app.command("significance")(significance)
