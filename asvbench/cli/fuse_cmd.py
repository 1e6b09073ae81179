"""``asvbench fuse``: fuse ASV and CM scores into SASV scores; SASV metrics of fused, ASV and CM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.cli import _ci
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json, to_json
from asvbench.cli._options import (
    ByOpt,
    CiOptions,
    DeviceOpt,
    EerMethodOpt,
    JsonOpt,
    RecordOptions,
    choice,
    trial_format_names,
    trial_formats_help,
    with_option_blocks,
)
from asvbench.fusion.options import CM_SCORE_CHOICES, FUSION_METHODS, TDCF_ASV_SOURCES
from asvbench.io.formats import KEY_STYLES, SASV_OUT_FORMATS, SASV_TRIAL_FORMATS, TRIAL_FORMATS
from asvbench.types import ADCF_COST_NAMES


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
@with_option_blocks
def fuse(
    *,  # the option blocks below take no default of their own (see with_option_blocks)
    asv: Annotated[Path, typer.Option("--asv", help="ASV scores ('enroll test score label', from asvbench score).")],
    cm: Annotated[str, typer.Option(
        "--cm", help="CM scores (the store 'utt cm_logit cm_prob_bonafide' of asvbench extract, or 'utt score'), "
                     "or a CM model name (e.g. aasist) to run on the test utterances of --trials (with --audio).")],
    method: Annotated[choice(FUSION_METHODS), typer.Option(
        "--method", help="product (DoubleRoc), sum (SASV 2022 Baseline1), llr-sum, nonlinear (ASVspoof 5).")],
    trials: Annotated[Path | None, typer.Option("--trials", help=f"SASV protocol ({trial_format_names(SASV_TRIAL_FORMATS)}; see --trials-format).")] = None,
    trials_format: Annotated[choice(TRIAL_FORMATS), typer.Option(
        "--trials-format", help=f"Trial-list format (auto: detected): {trial_formats_help(SASV_TRIAL_FORMATS)}.")] = "auto",
    cm_model: Annotated[str | None, typer.Option(
        "--cm-model", help="Name of the CM that produced a --cm score file (recorded; default aasist).")] = None,
    cm_score: Annotated[choice(CM_SCORE_CHOICES), typer.Option(
        "--cm-score", help="CM value fused. auto: the bona fide probability for product/sum, the logit for LLR "
                           "methods (a plain 'utt score' file: its score as is; product then needs prob or "
                           "sigmoid). sigmoid: 1/(1+exp(-score)) of a plain score that is a bona fide log-odds.")] = "auto",
    audio: Annotated[Path | None, typer.Option(
        "--audio", help="--cm MODEL: audio of the test utterances (directory, wav.scp or list file).")] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="--cm MODEL: checkpoint file (default: the one `models pull` cached).")] = None,
    key_style: Annotated[choice(KEY_STYLES) | None, typer.Option(
        "--key-style", help="--cm MODEL: utterance keys of --audio (default stem: file name, as ASVspoof).")] = None,
    cm_cache: Annotated[Path | None, typer.Option(
        "--cm-cache", help="--cm MODEL: CM score store reused across runs (default: <out stem>.cm-<model>.tsv "
                           "beside --out, else --report, else --asv).")] = None,
    device: Annotated[str | None, DeviceOpt("--device", help="--cm MODEL: cpu, cuda or cuda:K; default cpu.")] = None,
    dev_asv: Annotated[Path | None, typer.Option("--dev-asv", help="Development ASV scores (calibration, rho).")] = None,
    dev_cm: Annotated[Path | None, typer.Option("--dev-cm", help="Development CM scores (a file).")] = None,
    dev_trials: Annotated[Path | None, typer.Option("--dev-trials", help="Development SASV protocol.")] = None,
    rho: Annotated[float | None, typer.Option("--rho", help="Fixed rho for nonlinear fusion (skips the search).")] = None,
    rho_grid: Annotated[str, typer.Option("--rho-grid", help="rho values searched on dev: START:STOP:NUM or a,b,c.")] = "0:1:101",
    out: Annotated[Path | None, typer.Option("--out", help="Write fused scores here (atomically).")] = None,
    out_format: Annotated[choice(SASV_OUT_FORMATS), typer.Option(
        "--out-format", help="sasv (5-column submission), asvspoof5 (Track 2 TSV) or tsv.")] = "sasv",
    report: Annotated[Path | None, typer.Option("--report", help="Write the metrics as JSON here (atomically).")] = None,
    eer_method: EerMethodOpt = "roc",
    adcf_costs: Annotated[choice(ADCF_COST_NAMES), typer.Option(
        "--adcf-costs", help="a-DCF costs: default (Shim et al. a-DCF1) or asvspoof5 (Track 2).")] = "default",
    tdcf_asv: Annotated[choice(TDCF_ASV_SOURCES), typer.Option(
        "--tdcf-asv", help="t-DCF ASV operating point: eer (of --asv) or asvspoof5-organiser.")] = "eer",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Drop trials without ASV or CM score (counted).")] = False,
    json_out: JsonOpt = False,
    record: RecordOptions,
    by: ByOpt = None,
    enroll_map: Annotated[list[Path] | None, typer.Option(
        "--enroll-map", help="--by gender: enrolment lists whose file names say the gender of their models "
                             "(ASVspoof2019.LA.asv.eval.female.trn.txt, ...male.trn.txt); repeatable.")] = None,
    interval: CiOptions,
) -> None:
    """Fuse ASV and CM scores into SASV scores and report SASV metrics (fused, ASV only, CM only).

    --cm takes a CM score file, or a CM model name (asvbench models list): the model then scores
    the test utterances of --trials found in --audio, into a cache that the next run reuses.
    """
    from asvbench.stats.breakdown import check_by

    check_by(by)
    ci_set = interval.settings()
    if enroll_map and "gender" not in (by or ()):
        from asvbench.errors import AsvbenchError

        raise AsvbenchError("--enroll-map: only with --by gender", hint="add --by gender, or drop it")
    from asvbench._outputs import claim_outputs
    from asvbench.cli import _validate

    _validate.benchmark(record.benchmark)
    from asvbench.report.save import parse_meta

    meta = parse_meta(record.meta)
    _validate.unit_interval("--rho", rho)
    if method == "nonlinear" and rho is None:
        from asvbench.fusion.methods import parse_rho_grid

        parse_rho_grid(rho_grid)  # a bad grid is an error now, not after the CM run
    claim_outputs({"--out": out, "--report": report, "--save-result": record.save_result, "--cm-cache": cm_cache},
                  {"--asv": asv, "--cm": Path(cm), "--trials": trials, "--dev-asv": dev_asv, "--dev-cm": dev_cm,
                   "--dev-trials": dev_trials, "--audio": audio, "--checkpoint": checkpoint})
    from asvbench.fusion.run import FusionInputs, FusionSettings, run_fusion

    inputs = FusionInputs(asv=asv, cm=cm, trials=trials, trials_format=trials_format, cm_model=cm_model, audio=audio,
                          checkpoint=checkpoint, key_style=key_style, cm_cache=cm_cache, device=device,
                          dev_asv=dev_asv, dev_cm=dev_cm, dev_trials=dev_trials, allow_missing=allow_missing,
                          out=out, report=report)
    settings = FusionSettings(method=method, cm_score=cm_score, rho=rho, rho_grid=rho_grid, eer_method=eer_method,
                              adcf_costs=adcf_costs, tdcf_asv=tdcf_asv, by=tuple(by or ()),
                              enroll_maps=tuple(enroll_map or ()), ci=ci_set)
    run = run_fusion(inputs, settings, notify=lambda message: err_console.print(message, highlight=False))
    _write_outputs(run, out_format=out_format, record=record, meta=meta)
    _ci.add_to_saved_record(record.save_result, run.intervals)
    _notes(run.result)
    if json_out:
        print_json(run.result)
    else:
        from asvbench.cli._breakdown import print_breakdowns

        out_console().print(_table(run.result))
        fused = run.result["eval"]["fused"]
        _ci.print_intervals(run.intervals, {**fused, "min_a_dcf": fused.get("min_adcf")},
                            title=f"fused: {run.intervals.level:g} % confidence intervals" if run.intervals else "")
        print_breakdowns(run.breakdowns)


def _write_outputs(run, *, out_format: str, record: RecordOptions, meta: dict) -> None:
    from asvbench._atomic import atomic_write_text

    data, out, report = run.data, run.inputs.out, run.inputs.report
    if out is not None:
        from asvbench.io.sasv_out import write_sasv_scores

        write_sasv_scores(out, out_format, enroll=data.enroll, test=data.test, labels=data.labels, fused=run.fused,
                          source=data.source, cm=data.cm_logit, asv=data.asv)
        err_console.print(f"wrote {len(run.fused):,} fused scores to {out} ({out_format})", highlight=False)
    if report is not None:
        atomic_write_text(report, to_json(run.result) + "\n")
        err_console.print(f"wrote metrics to {report}", highlight=False)
    if record.save_result is not None:
        from asvbench.report.save import save_fusion_result

        save_fusion_result(record.save_result, run.result, fused=run.fused, labels=data.labels, enroll=data.enroll,
                           test=data.test, system=record.system, benchmark=record.benchmark, variant=record.variant,
                           trials_path=run.inputs.trials, scores_path=run.inputs.asv, meta=meta)
        err_console.print(f"wrote result record {record.save_result}", highlight=False)


def _notes(result: dict) -> None:
    for what, n in result["counts"].items():
        if n and what != "trials_kept":
            err_console.print(f"note: {n} {what.replace('_', ' ')}", highlight=False)
    if "rho" in result:
        err_console.print(f"note: rho = {result['rho']['value']:.4g} ({result['rho']['chosen_on']})", highlight=False)
    if result["cm_score"] in ("score", "sigmoid"):
        what = "as is" if result["cm_score"] == "score" else "through 1 / (1 + exp(-score)), as a bona fide log-odds"
        err_console.print(f"note: the CM file's plain score is fused {what}", highlight=False)
    err_console.print(f"note: t-DCF ASV operating point: {result['eval']['tdcf']['asv_operating_point']['source']}",
                      highlight=False)
    for form in ("legacy", "2021"):
        why = result["eval"]["tdcf"].get(form, {}).get("undefined")
        if why:
            err_console.print(f"note: min t-DCF ({form}) is undefined, shown as nan: {why}", highlight=False)


def _table(result: dict):
    from rich.table import Table

    ev = result["eval"]
    table = Table(title=f"SASV ({result['method']} fusion, CM {result['cm_model']}); rates in %")
    for col in ("scores", "SASV-EER", "SV-EER", "SPF-EER", "min a-DCF"):
        table.add_column(col, justify="right" if col != "scores" else "left")
    rows = [("fused", ev["fused"]), ("ASV only", ev["asv_only"]), ("CM only", ev["cm_only"])]
    if "dev" in result:
        rows.append(("fused (dev)", result["dev"]["fused"]))
    for name, m in rows:
        table.add_row(name, f"{100 * m['sasv_eer']:.3f}", f"{100 * m['sv_eer']:.3f}", f"{100 * m['spf_eer']:.3f}",
                      f"{m['min_adcf']:.4f}")
    cmm, td = ev["cm"], ev["tdcf"]
    table.caption = (f"CM: EER {100 * cmm['eer']:.3f} %, minDCF {cmm['min_dcf']:.4f}, actDCF {cmm['act_dcf']:.4f}, "
                     f"Cllr {cmm['cllr']:.4f}; min t-DCF legacy {td['legacy']['min_tdcf']:.4f}, "
                     f"2021 {td['2021']['min_tdcf']:.4f}; t-EER {100 * ev['teer']['teer']:.3f} %")
    return table


def register(app: typer.Typer) -> None:
    app.command("fuse")(fuse)
