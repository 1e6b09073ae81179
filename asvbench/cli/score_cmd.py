"""``asvbench score``: cosine scoring of a trial list, writing a score file and the metrics."""

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
    DeviceOpt,
    JsonOpt,
    MetricOptions,
    RecordOptions,
    choice,
    trial_format_names,
    trial_formats_help,
    with_option_blocks,
)
from asvbench.errors import AsvbenchError
from asvbench.io.formats import POOL_NORMS, TRIAL_FORMATS
from asvbench.scoring.options import NORM_METHODS, PRECISIONS


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
@with_option_blocks
def score(
    *,  # the option blocks below take no default of their own (see with_option_blocks)
    trials: Annotated[Path, typer.Option("--trials", help=f"Trial list ({trial_format_names()}; see --trials-format).")],
    embeddings: Annotated[Path, typer.Option("--embeddings", help="Embedding store of the test side (and enrolment).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the score TSV (atomically).")],
    trials_format: Annotated[choice(TRIAL_FORMATS), typer.Option("--trials-format", help=f"Trial-list format (auto: detected): {trial_formats_help()}.")] = "auto",
    enroll_embeddings: Annotated[Path | None, typer.Option("--enroll-embeddings", help="Separate enrolment store.")] = None,
    enroll_map: Annotated[list[Path] | None, typer.Option("--enroll-map", help="Enrolment map 'model utt1,utt2,...'; repeatable.")] = None,
    center: Annotated[Path | None, typer.Option("--center", help="Store (or .npy vector) whose mean is subtracted before cosine.")] = None,
    pool_norm: Annotated[choice(POOL_NORMS), typer.Option("--pool-norm", help="Multi-row pooling: none (raw mean) or l2 (normalise rows first).")] = "none",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Skip trials whose embeddings are missing (and report how many).")] = False,
    allow_duplicates: Annotated[bool, typer.Option("--allow-duplicates", help="Keep trials listed twice (each line counts; noted) instead of refusing the list.")] = False,
    trust_pickle: Annotated[bool, typer.Option("--trust-pickle", help="Allow reading pickled (.pk) embedding dicts.")] = False,
    precision: Annotated[choice(PRECISIONS), typer.Option("--precision", help="Dot products of float32 unit vectors (as the peers) or float64.")] = "float32",
    no_metrics: Annotated[bool, typer.Option("--no-metrics", help="Only write scores (e.g. one-class lists).")] = False,
    norm: Annotated[choice(NORM_METHODS), typer.Option("--norm", help="Score normalisation (cohort-based).")] = "none",
    cohort: Annotated[Path | None, typer.Option("--cohort", help="Embedding store of the normalisation cohort.")] = None,
    cohort_utt2spk: Annotated[Path | None, typer.Option("--cohort-utt2spk", help="utt2spk map: average the cohort per speaker.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Cohort entries per side for asnorm (and z/t-norm); snorm uses all.")] = 300,
    norm_device: Annotated[str, DeviceOpt("--norm-device", help="cpu, or a torch device (cuda, cuda:K) for the cohort top-k.")] = "cpu",
    metric: MetricOptions,
    json_out: JsonOpt = False,
    record: RecordOptions,
    by: ByOpt = None,
    interval: CiOptions,
) -> None:
    """Cosine-score TRIALS with EMBEDDINGS; write OUT and print the metrics."""
    eer_method, p_target, c_miss, c_fa = metric.eer_method, metric.p_target, metric.c_miss, metric.c_fa
    save_result, system, benchmark, variant = record.save_result, record.system, record.benchmark, record.variant
    meta = record.meta
    from asvbench._outputs import claim_outputs
    from asvbench.cli import _validate

    _validate.metric_options(p_target=p_target, c_miss=c_miss, c_fa=c_fa, bench=benchmark)
    claim_outputs({"--out": out, "--save-result": save_result},
                  {"--trials": trials, "--embeddings": embeddings, "--enroll-embeddings": enroll_embeddings,
                   "--enroll-map": enroll_map, "--center": center, "--cohort": cohort,
                   "--cohort-utt2spk": cohort_utt2spk})
    from asvbench.scoring.pipeline import ScoreSettings, run_scoring
    from asvbench.stats.breakdown import check_by

    check_by(by)
    if by and no_metrics:
        raise AsvbenchError("--by breaks the metrics down, and --no-metrics computes none", hint="drop one of them")
    ci_set = interval.settings()

    settings = ScoreSettings(eer_method=eer_method, p_targets=tuple(p_target or (0.01,)), c_miss=c_miss, c_fa=c_fa,
                             pool_norm=pool_norm, allow_missing=allow_missing, trust_pickle=trust_pickle,
                             compute_metrics=not no_metrics, precision=precision, allow_duplicates=allow_duplicates,
                             fingerprint=save_result is not None and not no_metrics, benchmark=benchmark)
    from asvbench.scoring.cohort import make_normaliser

    normaliser = make_normaliser(norm, cohort, top_k, cohort_utt2spk, pool_norm, trust_pickle, norm_device)
    run = run_scoring(trials, embeddings, out=out, trials_format=trials_format, enroll_embeddings=enroll_embeddings,
                      enroll_maps=enroll_map or (), center=center, settings=settings, normalise=normaliser)
    for note in [*(normaliser.notes if normaliser else []), *run.notes]:
        err_console.print(f"note: {note}", highlight=False)
    err_console.print(f"wrote {len(run.scores):,} scores to {run.out}", highlight=False)
    # staged (see @staged_command): if these fail, --out keeps its old content, or stays absent
    breakdowns = _breakdowns(by, run, enroll_map, settings) if run.summary is not None else []
    intervals = _intervals(ci_set, run, settings) if run.summary is not None else None
    if save_result is not None and run.summary is not None:
        from asvbench.report.save import parse_meta, save_summary_result
        from asvbench.results import Coverage, is_partial, models_in_stores

        record = save_summary_result(save_result, run.summary, system=system, benchmark=run.benchmark, variant=variant,
                            scores=run.scores, labels=run.labels, trials_path=trials, scores_path=run.out,
                            trials_fingerprint=run.fingerprint,
                            normalization={"center": str(center) if center else None, "pool_norm": pool_norm,
                                           **(normaliser.settings() if normaliser else {"norm": "none"})},
                            model=models_in_stores(embeddings, enroll_embeddings), command="asvbench score",
                            breakdowns=[b.to_dict() for b in breakdowns], meta=parse_meta(meta, embeddings),
                            coverage=Coverage(scored=int(len(run.scores)), listed=len(run.trials)))
        _ci.add_to_record(save_result, record, intervals)
        partial = f" (partial coverage of {record.benchmark}: {record.coverage.describe()})" if is_partial(record) else ""
        err_console.print(f"wrote result record {save_result}{partial}", highlight=False)
    if json_out:
        payload = run.summary.to_dict() if run.summary else {}
        payload.update({"n_trials": len(run.trials), "n_scored": int(len(run.scores)),
                        "n_missing": run.scored.n_missing_trials, "scores_file": str(run.out)})
        if breakdowns:
            payload["breakdowns"] = [b.to_dict() for b in breakdowns]
        print_json(_ci.add_to_json(payload, intervals))
    elif run.summary is not None:
        from asvbench.cli._breakdown import print_breakdowns
        from asvbench.report.summary_table import metrics_table

        out_console().print(metrics_table(run.summary, title=str(trials)))
        _ci.print_intervals(intervals, _flat(run.summary))
        print_breakdowns(breakdowns)


def _breakdowns(by: list[str] | None, run, enroll_maps: list[Path] | None, settings) -> list:
    """``--by``: breakdowns of the scored trials (source / gender columns of the list, --enroll-map lists)."""
    if not by:
        return []
    from asvbench.cli._breakdown import compute_breakdowns
    from asvbench.stats.breakdown import summary_evaluator, trial_columns

    kept = run.scored.kept
    evaluator = summary_evaluator(eer_method=settings.eer_method, p_targets=settings.p_targets,
                                  c_miss=settings.c_miss, c_fa=settings.c_fa)
    return compute_breakdowns(by, run.scores, run.labels, evaluator=evaluator, enroll=run.trials.enroll[kept],
                              test=run.trials.test[kept], enroll_maps=[str(p) for p in enroll_maps or ()],
                              where=str(run.trials.source), **trial_columns(run.trials.extra, kept))


def _intervals(ci_set, run, settings):
    """``--ci``: intervals of the scored trials' metrics (speakers from the list's enrolment ids)."""
    if ci_set is None:
        return None
    kept = run.scored.kept
    return _ci.summary_ci(ci_set, run.scores, run.labels, run.trials.enroll[kept], run.trials.test[kept],
                          where=str(run.trials.source), eer_method=settings.eer_method, p_targets=settings.p_targets,
                          c_miss=settings.c_miss, c_fa=settings.c_fa)


def _flat(summary) -> dict:
    from asvbench.results import flatten_metrics

    return flatten_metrics(summary.to_dict())


def register(app: typer.Typer) -> None:
    app.command("score")(score)
