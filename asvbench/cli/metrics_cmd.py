"""``asvbench metrics SCORES``: EER, minDCF, actDCF, Cllr (and SASV EERs) of a score file; with
``--protocol``, a countermeasure's metrics (bona fide vs spoof) against a CM protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.cli import _ci
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json
from asvbench.cli._options import (
    ByOpt,
    CiOptions,
    JsonOpt,
    MetricOptions,
    RecordOptions,
    choice,
    with_option_blocks,
)
from asvbench.io.formats import CM_PROTOCOL_FORMATS, SCORE_FORMATS


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` came from the command line (not its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
@with_option_blocks
def metrics(
    ctx: typer.Context,
    scores: Annotated[Path, typer.Argument(
        help="Score file: 'enroll test score label', SASV 5-column, or CSV/TSV; with --protocol, CM scores "
             "('utt cm_logit cm_prob_bonafide' from asvbench extract, or 'utt score').")],
    *,  # the option blocks below take no default of their own (see with_option_blocks)
    fmt: Annotated[choice(SCORE_FORMATS), typer.Option("--format", help="Score-file format.")] = "auto",
    score_column: Annotated[str | None, typer.Option(help="Score column of a CSV/TSV.")] = None,
    label_column: Annotated[str | None, typer.Option(help="Label column of a CSV/TSV.")] = None,
    label_map: Annotated[str | None, typer.Option(
        help="Label values: VALUE=target|nontarget|spoof,... or a preset (asvspoof5-fusion).")] = None,
    protocol: Annotated[Path | None, typer.Option(
        "--protocol", help="CM protocol (ASVspoof 2019 cm.*.trl.txt, ASVspoof 5 Track 1 TSV, or a "
                           "'filename cm-label' key): evaluate SCORES as a countermeasure, bona fide vs spoof, "
                           "pooled and per attack. Defaults then: --eer-method nearest, --p-target 0.95 "
                           "(P(bona fide)), --c-miss 1, --c-fa 10 (ASVspoof 5 Track 1).")] = None,
    protocol_format: Annotated[choice(CM_PROTOCOL_FORMATS), typer.Option(
        "--protocol-format", help="CM protocol format.")] = "auto",
    allow_missing: Annotated[bool, typer.Option(
        "--allow-missing", help="With --protocol: evaluate the scored utterances only (the others are counted).")] = False,
    metric: MetricOptions,
    json_out: JsonOpt = False,
    record: RecordOptions,
    by: ByOpt = None,
    interval: CiOptions,
    enroll_map: Annotated[list[Path] | None, typer.Option(
        "--enroll-map", help="--by gender: enrolment lists whose file names say the gender of their models "
                             "(ASVspoof2019.LA.asv.eval.female.trn.txt, ...male.trn.txt); repeatable.")] = None,
) -> None:
    """Compute EER / minDCF / actDCF / Cllr / minCllr (+ SASV-EER, SV-EER, SPF-EER with spoof trials).

    With --protocol: the CM metrics of SCORES (bona fide = positive class) and a per-attack table.
    """
    from asvbench._outputs import claim_outputs
    from asvbench.cli import _validate

    _validate.metric_options(p_target=metric.p_target, c_miss=metric.c_miss, c_fa=metric.c_fa, bench=record.benchmark)
    claim_outputs({"--save-result": record.save_result}, {"SCORES": scores, "--protocol": protocol})
    from asvbench.report.save import parse_meta

    meta = parse_meta(record.meta)
    ci_set = interval.settings()
    if protocol is not None and ci_set is not None:
        from asvbench.errors import AsvbenchError

        raise AsvbenchError("--ci: not with --protocol (yet)", hint="drop --ci, or evaluate ASV / SASV scores")
    if protocol is not None and (by or enroll_map):
        from asvbench.errors import AsvbenchError

        raise AsvbenchError("--by / --enroll-map: not with --protocol (the CM evaluation has its own per-attack "
                            "table)", hint="drop them, or evaluate ASV / SASV scores without --protocol")
    if protocol is not None:
        # the CM definitions default to the ASVspoof 5 Track 1 package's, not to the ASV ones
        given = {name: getattr(metric, name) if _given(ctx, name) else None for name in ("eer_method", "c_miss", "c_fa")}
        _cm_metrics(scores, protocol, protocol_format=protocol_format, allow_missing=allow_missing,
                    p_target=metric.p_target, **given, json_out=json_out, record=record, meta=meta,
                    asv_options={"--format": fmt != "auto", "--score-column": score_column is not None,
                                 "--label-column": label_column is not None, "--label-map": label_map is not None})
        return
    _check_no_cm_options(protocol_format=protocol_format, allow_missing=allow_missing)
    from asvbench.stats.breakdown import check_by

    check_by(by)
    from asvbench.io.scores import read_scores_with
    from asvbench.metrics.summary import summarize
    from asvbench.types import parse_label_map

    definitions = {"eer_method": metric.eer_method, "p_targets": metric.p_targets, "c_miss": metric.c_miss,
                   "c_fa": metric.c_fa}
    # the metrics start while the reader's repeated-trial pass still runs (a second core's worth at 10 M)
    table, summary = read_scores_with(scores, lambda s, y: summarize(s, y, **definitions), fmt,
                                      score_column=score_column, label_column=label_column,
                                      label_map=parse_label_map(label_map) if label_map else None,
                                      with_ids=bool(by) or ci_set is not None)
    breakdowns = _breakdowns(by, table, scores, enroll_map, **definitions)
    intervals = _ci.summary_ci(ci_set, table.scores, table.labels, table.enroll, table.test, where=str(scores),
                               **definitions)
    if record.save_result is not None:
        from asvbench.report.save import save_summary_result

        saved = save_summary_result(record.save_result, summary, system=record.system, benchmark=record.benchmark,
                                    variant=record.variant, scores=table.scores, labels=table.labels,
                                    scores_path=scores, enroll=table.enroll, test=table.test,
                                    command="asvbench metrics", breakdowns=[b.to_dict() for b in breakdowns],
                                    meta=meta)
        _ci.add_to_record(record.save_result, saved, intervals)
    if json_out:
        payload = _ci.add_to_json(summary.to_dict(), intervals)
        if breakdowns:
            payload["breakdowns"] = [b.to_dict() for b in breakdowns]
        print_json(payload)
    else:
        from asvbench.cli._breakdown import print_breakdowns
        from asvbench.report.summary_table import metrics_table

        out_console().print(metrics_table(summary, title=str(scores)))
        from asvbench.results import flatten_metrics

        _ci.print_intervals(intervals, flatten_metrics(summary.to_dict()))
        print_breakdowns(breakdowns)


def _breakdowns(by: list[str] | None, table, scores: Path, enroll_map: list[Path] | None, **settings) -> list:
    """``--by``: the breakdowns of the score table (the source column of a SASV 5-column file)."""
    if not by:
        if enroll_map:
            from asvbench.errors import AsvbenchError

            raise AsvbenchError("--enroll-map: only with --by gender", hint="add --by gender, or drop it")
        return []
    from asvbench.cli._breakdown import compute_breakdowns
    from asvbench.stats.breakdown import summary_evaluator

    sources = None
    if "source" in by and table.fmt == "sasv":
        from asvbench.io.conditions import read_score_sources

        sources = read_score_sources(scores)
    return compute_breakdowns(by, table.scores, table.labels, evaluator=summary_evaluator(**settings),
                              enroll=table.enroll, test=table.test, sources=sources,
                              enroll_maps=[str(p) for p in enroll_map or ()], where=str(scores))


def _check_no_cm_options(*, protocol_format: str, allow_missing: bool) -> None:
    from asvbench.errors import AsvbenchError

    given = [flag for flag, on in (("--protocol-format", protocol_format != "auto"),
                                   ("--allow-missing", allow_missing)) if on]
    if given:
        raise AsvbenchError(f"{', '.join(given)}: only with --protocol (a CM evaluation)",
                            hint="add --protocol CM_PROTOCOL, or drop them")


def _cm_metrics(scores: Path, protocol: Path, *, protocol_format: str, allow_missing: bool, eer_method: str | None,
                p_target: list[float] | None, c_miss: float | None, c_fa: float | None, json_out: bool,
                record: RecordOptions, meta: dict, asv_options: dict[str, bool]) -> None:
    from asvbench.errors import AsvbenchError
    from asvbench.fusion.cm_eval import evaluate_cm
    from asvbench.metrics.cm import CM_C_FA, CM_C_MISS, CM_EER_METHOD, CM_P_BONA

    given = [flag for flag, on in asv_options.items() if on]
    if given:
        raise AsvbenchError(f"{', '.join(given)}: not used with --protocol (CM scores are read as "
                            "'utt cm_logit cm_prob_bonafide' or 'utt score')", hint="drop them")
    if p_target is not None and len(p_target) > 1:
        raise AsvbenchError("with --protocol, give one --p-target (the bona fide prior)")
    evaluation = evaluate_cm(
        scores, protocol, protocol_format=protocol_format, allow_missing=allow_missing,
        eer_method=eer_method or CM_EER_METHOD, p_bonafide=p_target[0] if p_target else CM_P_BONA,
        c_miss=CM_C_MISS if c_miss is None else c_miss, c_fa=CM_C_FA if c_fa is None else c_fa)
    for what, n in evaluation.counts.items():
        if n and what in ("utterances_without_score", "scores_not_in_protocol"):
            err_console.print(f"note: {n} {what.replace('_', ' ')}", highlight=False)
    if record.save_result is not None:
        from asvbench.report.cm import save_cm_result

        save_cm_result(record.save_result, evaluation, system=record.system, benchmark=record.benchmark,
                       variant=record.variant, meta=meta)
        err_console.print(f"wrote result record {record.save_result}", highlight=False)
    if json_out:
        print_json(evaluation.to_dict())
    else:
        from asvbench.report.cm import cm_tables

        out_console().print(cm_tables(evaluation, title=f"{scores} (CM, bona fide vs spoof)"))


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
