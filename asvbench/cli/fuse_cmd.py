"""``asvbench fuse``: fuse ASV and CM scores into SASV scores; SASV metrics of fused, ASV and CM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command, unstaged
from asvbench.cli import _ci
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json, to_json
from asvbench.cli._options import (
    ByOpt,
    CiOpt,
    CiRepsOpt,
    CiUnitOpt,
    DeviceOpt,
    EerMethodOpt,
    JsonOpt,
    SeedOpt,
    Utt2spkOpt,
    choice,
    ci_settings,
)
from asvbench.fusion.options import CM_SCORE_CHOICES, FUSION_METHODS, SASV_OUT_FORMATS, TDCF_ASV_SOURCES
from asvbench.io.formats import KEY_STYLES, TRIAL_FORMATS
from asvbench.report.save import BenchmarkOpt, SaveResultOpt, SystemOpt, VariantOpt
from asvbench.types import ADCF_COST_NAMES


def _load(asv_path: Path, cm_path: Path, trials_path: Path | None, trials_format: str, allow_missing: bool):
    from asvbench.fusion.join import attach_cm
    from asvbench.io.scores import read_cm_scores

    joined = _join_asv(asv_path, trials_path, trials_format, allow_missing)
    return attach_cm(joined, read_cm_scores(cm_path), allow_missing=allow_missing, cm_where=str(cm_path))


def _join_asv(asv_path: Path, trials_path: Path | None, trials_format: str, allow_missing: bool):
    from asvbench.fusion.join import join_asv
    from asvbench.io.scores import read_scores
    from asvbench.io.trials import read_trials

    trials = read_trials(trials_path, trials_format) if trials_path is not None else None
    return join_asv(read_scores(asv_path), trials, allow_missing=allow_missing, asv_where=str(asv_path))


def _check_cm_options(source, *, cm_model: str | None, trials: Path | None, model_options: dict) -> str:
    """The recorded CM name; options that do not fit ``--cm`` (a file or a model) are errors."""
    from asvbench.errors import AsvbenchError

    given = [flag for flag, value in model_options.items() if value is not None]
    if isinstance(source, Path):
        if given:
            raise AsvbenchError(f"{', '.join(given)}: only for --cm MODEL (running a countermeasure); "
                                f"--cm {source} is a score file", hint="drop them, or name a CM model with --cm")
        return cm_model or "aasist"
    if cm_model is not None and cm_model != source.name:
        raise AsvbenchError(f"--cm-model {cm_model!r} names the CM of a score file; --cm {source.name!r} runs that "
                            "model", hint="drop --cm-model")
    if model_options["--audio"] is None:
        raise AsvbenchError(f"--cm {source.name} runs the countermeasure on the test utterances of --trials, and "
                            "needs their audio", hint="give --audio DIR (or a wav.scp or a list of files); "
                                                      "or give --cm a CM score file")
    if trials is None:
        raise AsvbenchError(f"--cm {source.name} needs --trials: the trial list says which test utterances to score",
                            hint="give --trials PROTOCOL (e.g. ASVspoof2019.LA.asv.eval.gi.trl.txt)")
    for flag in ("--audio", "--checkpoint"):
        path = model_options[flag]
        if path is not None and not path.exists():
            raise AsvbenchError(f"{flag}: not found", where=path)
    return source.name


def _check_dev(method: str, dev_asv: Path | None, dev_cm: Path | None) -> None:
    from asvbench.errors import AsvbenchError
    from asvbench.fusion.options import LLR_METHODS

    if method in LLR_METHODS and (dev_asv is None or dev_cm is None):
        raise AsvbenchError(f"{method} fusion calibrates ASV and CM scores on a development set",
                            hint="give --dev-asv and --dev-cm (and --dev-trials)")
    if dev_cm is not None and not dev_cm.is_file():
        raise AsvbenchError("--dev-cm: CM score file not found", where=dev_cm,
                            hint="--dev-cm takes a CM score file; score the development audio first, e.g. "
                                 "asvbench extract --model aasist --key-style stem --audio DEV_DIR --out dev_cm.tsv")


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
def fuse(
    asv: Annotated[Path, typer.Option("--asv", help="ASV scores ('enroll test score label', from asvbench score).")],
    cm: Annotated[str, typer.Option(
        "--cm", help="CM scores (the store 'utt cm_logit cm_prob_bonafide' of asvbench extract, or 'utt score'), "
                     "or a CM model name (e.g. aasist) to run on the test utterances of --trials (with --audio).")],
    method: Annotated[choice(FUSION_METHODS), typer.Option(
        "--method", help="product (DoubleRoc), sum (SASV 2022 Baseline1), llr-sum, nonlinear (ASVspoof 5).")],
    trials: Annotated[Path | None, typer.Option("--trials", help="SASV protocol (ASVspoof 2019 4-column, ASVspoof5 TSV).")] = None,
    trials_format: Annotated[choice(TRIAL_FORMATS), typer.Option("--trials-format", help="Trial-list format.")] = "auto",
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
    save_result: SaveResultOpt = None,
    system: SystemOpt = None,
    benchmark: BenchmarkOpt = None,
    variant: VariantOpt = "",
    by: ByOpt = None,
    enroll_map: Annotated[list[Path] | None, typer.Option(
        "--enroll-map", help="--by gender: enrolment lists whose file names say the gender of their models "
                             "(ASVspoof2019.LA.asv.eval.female.trn.txt, ...male.trn.txt); repeatable.")] = None,
    ci: CiOpt = None,
    ci_unit: CiUnitOpt = "speaker",
    ci_reps: CiRepsOpt = 1000,
    seed: SeedOpt = 0,
    utt2spk: Utt2spkOpt = None,
) -> None:
    """Fuse ASV and CM scores into SASV scores and report SASV metrics (fused, ASV only, CM only).

    --cm takes a CM score file, or a CM model name (asvbench models list): the model then scores
    the test utterances of --trials found in --audio, into a cache that the next run reuses.
    """
    from asvbench.fusion.cm_model import resolve_cm
    from asvbench.fusion.evaluate import sasv_report, score_set_metrics
    from asvbench.fusion.join import attach_cm
    from asvbench.fusion.options import LLR_METHODS
    from asvbench.fusion.run import fuse_trials
    from asvbench.stats.breakdown import check_by

    check_by(by)
    ci_set = ci_settings(ci, ci_unit, ci_reps, seed, utt2spk)
    if enroll_map and "gender" not in (by or ()):
        from asvbench.errors import AsvbenchError

        raise AsvbenchError("--enroll-map: only with --by gender", hint="add --by gender, or drop it")
    from asvbench._outputs import claim_outputs
    from asvbench.cli import _validate

    _validate.benchmark(benchmark)
    _validate.unit_interval("--rho", rho)
    if method == "nonlinear" and rho is None:
        from asvbench.fusion.methods import parse_rho_grid

        parse_rho_grid(rho_grid)  # a bad grid is an error now, not after the CM run
    claim_outputs({"--out": out, "--report": report, "--save-result": save_result, "--cm-cache": cm_cache},
                  {"--asv": asv, "--cm": Path(cm), "--trials": trials, "--dev-asv": dev_asv, "--dev-cm": dev_cm,
                   "--dev-trials": dev_trials, "--audio": audio, "--checkpoint": checkpoint})
    source = resolve_cm(cm)
    model_options = {"--audio": audio, "--checkpoint": checkpoint, "--key-style": key_style, "--cm-cache": cm_cache,
                     "--device": device}
    cm_name = _check_cm_options(source, cm_model=cm_model, trials=trials, model_options=model_options)
    _check_dev(method, dev_asv, dev_cm)
    if not isinstance(source, Path):
        from asvbench.fusion.cm_model import checked_entry

        source, how = checked_entry(cm, source, checkpoint)  # AASIST vs AASIST-L, ... from the file
        if how:
            err_console.print(f"notice: {how}", highlight=False)
        cm_name = source.name
    joined = _join_asv(asv, trials, trials_format, allow_missing)
    with unstaged():  # the CM cache is kept (and read back) even when fusing fails later
        cm_frame, cm_where, run = _cm_scores(source, joined.kept_tests(), audio=audio, checkpoint=checkpoint,
                                             key_style=key_style, device=device, allow_missing=allow_missing,
                                             cache=cm_cache, beside={"out": out, "report": report, "asv": asv})
    data = attach_cm(joined, cm_frame, allow_missing=allow_missing, cm_where=cm_where)
    dev = _load(dev_asv, dev_cm, dev_trials, trials_format, allow_missing) \
        if method in LLR_METHODS and dev_asv is not None and dev_cm is not None else None
    outcome = fuse_trials(data, method, cm_score=cm_score, dev=dev, rho=rho, rho_grid=rho_grid,
                          eer_method=eer_method, dev_name=str(dev_asv))
    info: dict = {"method": method, "cm_model": cm_name, "cm_score": outcome.info.pop("cm_score"),
                  "counts": data.counts}
    if run is not None:
        info["cm_run"] = run.as_dict()
    info.update(outcome.info)
    metrics = sasv_report(outcome.fused, data.asv, data.cm_logit, data.labels, data.test, eer_method=eer_method,
                          adcf_costs=adcf_costs, tdcf_asv=tdcf_asv)
    result = {**info, "eval": metrics}
    if outcome.dev_fused is not None and dev is not None:
        result["dev"] = {"fused": score_set_metrics(outcome.dev_fused, dev.labels, eer_method, adcf_costs)}
    breakdowns = _breakdowns(by, data, outcome.fused, enroll_map, eer_method=eer_method, adcf_costs=adcf_costs,
                             where=str(trials or asv))
    if breakdowns:
        result["breakdowns"] = [b.to_dict() for b in breakdowns]
    intervals = _ci.fusion_ci(ci_set, outcome.fused, data.labels, data.enroll, data.test, where=str(trials or asv),
                              eer_method=eer_method, adcf_costs=adcf_costs)
    _ci.add_to_json(result, intervals)
    _write_outputs(result, data, outcome.fused, out=out, out_format=out_format, report=report,
                   save_result=save_result, record={"system": system, "benchmark": benchmark, "variant": variant,
                                                    "trials_path": trials, "scores_path": asv})
    _ci.add_to_saved_record(save_result, intervals)
    _notes(result, metrics)
    if json_out:
        print_json(result)
    else:
        from asvbench.cli._breakdown import print_breakdowns

        out_console().print(_table(result))
        fused = result["eval"]["fused"]
        _ci.print_intervals(intervals, {**fused, "min_a_dcf": fused.get("min_adcf")},
                            title=f"fused: {intervals.level:g} % confidence intervals" if intervals else "")
        print_breakdowns(breakdowns)


def _breakdowns(by: list[str] | None, data, fused, enroll_maps: list[Path] | None, *, eer_method: str,
                adcf_costs: str, where: str) -> list:
    """``--by``: SASV-EER / SV-EER / SPF-EER / min a-DCF of the fused scores per condition."""
    if not by:
        return []
    from asvbench.cli._breakdown import compute_breakdowns
    from asvbench.stats.breakdown import sasv_evaluator

    return compute_breakdowns(by, fused, data.labels, evaluator=sasv_evaluator(eer_method=eer_method,
                                                                               adcf_costs=adcf_costs),
                              scores_name="fused", enroll=data.enroll, test=data.test, sources=data.source,
                              enroll_maps=[str(p) for p in enroll_maps or ()], where=where)


def _cm_scores(source, needed: list[str], *, audio: Path | None, checkpoint: Path | None, key_style: str | None,
               device: str | None, allow_missing: bool, cache: Path | None, beside: dict):
    """(CM scores indexed by utterance, where they come from, the model run or None)."""
    if isinstance(source, Path):
        from asvbench.io.scores import read_cm_scores

        return read_cm_scores(source), str(source), None
    from asvbench.fusion.cm_model import default_cache, score_with_cm

    assert audio is not None  # _check_cm_options
    run = score_with_cm(source, needed, audio=audio, checkpoint=checkpoint, key_style=key_style or "stem",
                        cache=cache or default_cache(source, **beside), allow_missing=allow_missing,
                        device=device or "cpu")
    for notice in run.notices:
        err_console.print(f"notice: {notice}", highlight=False)
    err_console.print(run.summary(), highlight=False)
    return run.scores, str(run.cache), run


def _write_outputs(result: dict, data, fused, *, out: Path | None, out_format: str, report: Path | None,
                   save_result: Path | None, record: dict) -> None:
    import numpy as np

    from asvbench._atomic import atomic_write_text
    from asvbench.fusion.output import write_fused

    if out is not None:
        write_fused(out, out_format, data, np.asarray(fused))
        err_console.print(f"wrote {len(fused):,} fused scores to {out} ({out_format})", highlight=False)
    if report is not None:
        atomic_write_text(report, to_json(result) + "\n")
        err_console.print(f"wrote metrics to {report}", highlight=False)
    if save_result is not None:
        from asvbench.report.save import save_fusion_result

        save_fusion_result(save_result, result, fused=fused, labels=data.labels, enroll=data.enroll, test=data.test,
                           **record)
        err_console.print(f"wrote result record {save_result}", highlight=False)


def _notes(result: dict, metrics: dict) -> None:
    for what, n in result["counts"].items():
        if n and what != "trials_kept":
            err_console.print(f"note: {n} {what.replace('_', ' ')}", highlight=False)
    if "rho" in result:
        err_console.print(f"note: rho = {result['rho']['value']:.4g} ({result['rho']['chosen_on']})", highlight=False)
    if result["cm_score"] in ("score", "sigmoid"):
        what = "as is" if result["cm_score"] == "score" else "through 1 / (1 + exp(-score)), as a bona fide log-odds"
        err_console.print(f"note: the CM file's plain score is fused {what}", highlight=False)
    err_console.print(f"note: t-DCF ASV operating point: {metrics['tdcf']['asv_operating_point']['source']}",
                      highlight=False)


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
