"""``asvbench det SCORES... --out det.png``: DET curves (and score histograms) from score files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.cli._common import err_console, handle_user_errors
from asvbench.cli._options import choice
from asvbench.io.formats import SCORE_FORMATS

NEGATIVES = ("all", "nontarget", "spoof")


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
def det(
    scores: Annotated[list[Path], typer.Argument(help="Score files (any format `asvbench metrics` reads).")],
    out: Annotated[Path, typer.Option("--out", help="DET plot file: .png, .pdf or .svg.")],
    label: Annotated[list[str] | None, typer.Option("--label", help="Legend name per score file (repeatable; "
                                                    "default: file names).")] = None,
    negatives: Annotated[choice(NEGATIVES), typer.Option("--negatives", help="Negative trials: all (SASV-EER curve), "
                                           "nontarget (SV-EER), spoof (SPF-EER).")] = "all",
    fmt: Annotated[choice(SCORE_FORMATS), typer.Option("--format", help="Score-file format (auto: detected).")] = "auto",
    score_column: Annotated[str | None, typer.Option(help="Score column of a CSV/TSV.")] = None,
    label_column: Annotated[str | None, typer.Option(help="Label column of a CSV/TSV.")] = None,
    label_map: Annotated[str | None, typer.Option(help="Label values, as for `asvbench metrics`.")] = None,
    p_target: Annotated[float, typer.Option("--p-target", help="P_target of the marked minDCF point.")] = 0.01,
    hist: Annotated[Path | None, typer.Option("--hist", help="Also write score histograms (target / nontarget / "
                                              "spoof) to FILE; one file per score file when there are several.")] = None,
    title: Annotated[str, typer.Option("--title", help="Plot title.")] = "",
    by: Annotated[str | None, typer.Option(
        "--by", help="One curve per condition of each score file: source (per attack, SASV 5-column score files; "
                     "every attack's curve has all bona fide trials) or a map FILE of 'KEY CONDITION' lines.")] = None,
) -> None:
    """Draw DET curves (probit axes, 0.01 % to 50 %) with EER and minDCF points marked."""
    import numpy as np

    from asvbench._outputs import claim_outputs
    from asvbench.cli import _validate
    from asvbench.errors import AsvbenchError
    from asvbench.io.scores import read_scores
    from asvbench.report.plots import DetSeries, plot_det, plot_histograms
    from asvbench.results import det_data_from_scores
    from asvbench.types import Label, parse_label_map

    _validate.probability("--p-target", p_target)
    hists = [] if hist is None else [hist] if len(scores) == 1 else [
        hist.with_name(f"{hist.stem}-{k + 1}{hist.suffix}") for k in range(len(scores))]
    claim_outputs({"--out": out, "--hist": hists}, {"SCORES": scores})
    labels = list(label or [])
    if labels and len(labels) != len(scores):
        raise AsvbenchError(f"{len(labels)} --label names for {len(scores)} score files",
                            hint="give one --label per score file, in order")
    mapping = parse_label_map(label_map) if label_map else None
    if by is not None:
        from asvbench.stats.breakdown import check_by

        check_by([by])
    series = []
    for k, path in enumerate(scores):
        table = read_scores(path, fmt, score_column=score_column, label_column=label_column, label_map=mapping)
        lab = table.labels
        keep = np.ones(len(lab), bool) if negatives == "all" else (
            (lab == Label.TARGET) | (lab == (Label.NONTARGET if negatives == "nontarget" else Label.SPOOF)))
        is_tar = lab[keep] == Label.TARGET
        if is_tar.all() or not is_tar.any():
            raise AsvbenchError(f"need both target and {negatives} trials for a DET curve", where=path)
        name = labels[k] if labels else path.stem
        if by is None:
            series.append(DetSeries(name, det_data_from_scores(table.scores[keep], is_tar, p_target=p_target)))
        else:
            series.extend(_condition_series(by, table, path, name, keep, negatives, p_target))
        if hist is not None:
            hpath = hist if len(scores) == 1 else hist.with_name(f"{hist.stem}-{k + 1}{hist.suffix}")
            groups = {n: table.scores[lab == c] for n, c in
                      (("target", Label.TARGET), ("nontarget", Label.NONTARGET), ("spoof", Label.SPOOF))}
            plot_histograms(groups, hpath, title=f"{title + ': ' if title else ''}{name}")
            err_console.print(f"wrote histogram {hpath}", highlight=False)
    plot_det(series, out, title=title or "DET")
    err_console.print(f"wrote DET plot {out}", highlight=False)


def _condition_series(by: str, table, path: Path, name: str, keep, negatives: str, p_target: float) -> list:
    """``--by``: one DET series per condition of one score file (conditions lacking a class are skipped,
    with a note)."""

    from asvbench.report.plots import DetSeries
    from asvbench.results import det_data_from_scores
    from asvbench.stats.breakdown import BONAFIDE, trial_conditions
    from asvbench.types import Label

    if by == "gender":
        from asvbench.errors import AsvbenchError

        raise AsvbenchError("det --by gender: det reads no enrolment lists", hint="give --by FILE with "
                            "'model gender' lines (one per enrolment model)")
    sources = None
    if by == "source" and table.fmt == "sasv":
        from asvbench.io.conditions import read_score_sources

        sources = read_score_sources(path)
    cond = trial_conditions(by, labels=table.labels, enroll=table.enroll, test=table.test, sources=sources,
                            where=str(path))
    shared = by == "source"
    names = sorted(set(cond[cond != BONAFIDE].tolist()) if shared else set(cond.tolist()))
    out = []
    for condition in names:
        group = keep & (((cond == BONAFIDE) | (cond == condition)) if shared else (cond == condition))
        is_tar = table.labels[group] == Label.TARGET
        if is_tar.all() or not is_tar.any():
            missing = "target" if not is_tar.any() else negatives if negatives != "all" else "non-target or spoof"
            err_console.print(f"note: {path}: condition {condition!r} has no {missing} trials; no curve",
                              highlight=False)
            continue
        out.append(DetSeries(f"{name}: {condition}", det_data_from_scores(table.scores[group], is_tar,
                                                                          p_target=p_target)))
    if not out:
        from asvbench.errors import AsvbenchError

        raise AsvbenchError(f"--by {by}: no condition has both target and {negatives} trials", where=path)
    return out


def register(app: typer.Typer) -> None:
    app.command("det")(det)
