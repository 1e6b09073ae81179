"""``asvbench fuse``: fuse ASV and CM scores into SASV scores; SASV metrics of fused, ASV and CM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json, to_json
from asvbench.cli._options import JsonOpt
from asvbench.report.save import BenchmarkOpt, SaveResultOpt, SystemOpt, VariantOpt

OUT_FORMATS = ("sasv", "asvspoof5", "tsv")
CM_SCORE_CHOICES = ("auto", "logit", "prob")


def _load(asv_path: Path, cm_path: Path, trials_path: Path | None, trials_format: str, allow_missing: bool):
    from asvbench.fusion import join_sasv
    from asvbench.io.scores import read_cm_scores, read_scores
    from asvbench.io.trials import read_trials

    asv = read_scores(asv_path)
    cm = read_cm_scores(cm_path)
    trials = read_trials(trials_path, trials_format) if trials_path is not None else None
    return join_sasv(asv, cm, trials, allow_missing=allow_missing, asv_where=str(asv_path), cm_where=str(cm_path))


def _cm_input(data, method: str, choice: str):
    from asvbench.errors import AsvbenchError

    if choice == "auto":
        choice = "prob" if method in ("product", "sum") else "logit"
    if method == "product" and choice != "prob":
        raise AsvbenchError("product fusion uses the CM bona fide probability", hint="drop --cm-score or use prob")
    values = data.cm_prob if choice == "prob" else data.cm_logit
    return values, choice


def _write(path: Path, fmt: str, data, fused) -> None:
    import numpy as np

    from asvbench._atomic import atomic_open
    from asvbench.io.scores import write_scores
    from asvbench.types import LABEL_NAMES

    if fmt == "tsv":
        write_scores(path, data.enroll, data.test, fused, data.labels)
        return
    keys = [LABEL_NAMES[int(v)] for v in data.labels]
    with atomic_open(path, "w") as handle:
        if fmt == "sasv":  # SASV 2022 submission: spk utt source key score
            source = data.source if data.source is not None else np.where(data.labels == 2, "spoof", "bonafide")
            for row in zip(data.enroll, data.test, source, keys, np.asarray(fused).tolist()):
                handle.write(f"{row[0]} {row[1]} {row[2]} {row[3]} {row[4]!r}\n")
        else:  # ASVspoof 5 SASV score TSV
            handle.write("spk\tfilename\tcm-score\tasv-score\tsasv-score\n")
            for row in zip(data.enroll, data.test, data.cm_logit.tolist(), data.asv.tolist(), np.asarray(fused).tolist()):
                handle.write(f"{row[0]}\t{row[1]}\t{row[2]!r}\t{row[3]!r}\t{row[4]!r}\n")


@handle_user_errors
def fuse(
    asv: Annotated[Path, typer.Option("--asv", help="ASV scores ('enroll test score label', from asvbench score).")],
    cm: Annotated[Path, typer.Option("--cm", help="CM scores: store 'utt cm_logit cm_prob_bonafide' or 'utt score'.")],
    method: Annotated[str, typer.Option("--method", help="product|sum|llr-sum|nonlinear")],
    trials: Annotated[Path | None, typer.Option("--trials", help="SASV protocol (ASVspoof 2019 4-column, ASVspoof5 TSV).")] = None,
    trials_format: Annotated[str, typer.Option("--trials-format", help="auto|asvspoof|asvspoof5|kaldi")] = "auto",
    cm_model: Annotated[str, typer.Option("--cm-model", help="Name of the CM that produced --cm (recorded).")] = "aasist",
    cm_score: Annotated[str, typer.Option("--cm-score", help="CM value fused: auto|logit|prob (auto: prob for product/sum, logit for LLR methods).")] = "auto",
    dev_asv: Annotated[Path | None, typer.Option("--dev-asv", help="Development ASV scores (calibration, rho).")] = None,
    dev_cm: Annotated[Path | None, typer.Option("--dev-cm", help="Development CM scores.")] = None,
    dev_trials: Annotated[Path | None, typer.Option("--dev-trials", help="Development SASV protocol.")] = None,
    rho: Annotated[float | None, typer.Option("--rho", help="Fixed rho for nonlinear fusion (skips the search).")] = None,
    rho_grid: Annotated[str, typer.Option("--rho-grid", help="rho values searched on dev: START:STOP:NUM or a,b,c.")] = "0:1:101",
    out: Annotated[Path | None, typer.Option("--out", help="Write fused scores here (atomically).")] = None,
    out_format: Annotated[str, typer.Option("--out-format", help="sasv (5-column submission) | asvspoof5 (TSV) | tsv")] = "sasv",
    report: Annotated[Path | None, typer.Option("--report", help="Write the metrics as JSON here (atomically).")] = None,
    eer_method: Annotated[str, typer.Option("--eer-method", help="EER definition (default roc, as the SASV 2022 baseline).")] = "roc",
    adcf_costs: Annotated[str, typer.Option("--adcf-costs", help="default (Shim et al. a-DCF1) | asvspoof5 (Track 2).")] = "default",
    tdcf_asv: Annotated[str, typer.Option("--tdcf-asv", help="t-DCF ASV operating point: eer (of --asv) | asvspoof5-organiser.")] = "eer",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Drop trials without ASV or CM score (counted).")] = False,
    json_out: JsonOpt = False,
    save_result: SaveResultOpt = None,
    system: SystemOpt = None,
    benchmark: BenchmarkOpt = None,
    variant: VariantOpt = "",
) -> None:
    """Fuse ASV and CM scores into SASV scores and report SASV metrics (fused, ASV only, CM only)."""
    import numpy as np

    from asvbench._atomic import atomic_write_text
    from asvbench.errors import AsvbenchError
    from asvbench.fusion import (FUSION_METHODS, LLR_METHODS, fit_sasv_calibration, fuse_llr_sum, fuse_nonlinear,
                                 fuse_product, fuse_sum, parse_rho_grid, select_rho)
    from asvbench.fusion.evaluate import score_set_metrics, sasv_report

    if method not in FUSION_METHODS:
        raise AsvbenchError(f"unknown fusion method {method!r}", hint=f"choose one of: {', '.join(FUSION_METHODS)}")
    if out_format not in OUT_FORMATS:
        raise AsvbenchError(f"unknown --out-format {out_format!r}", hint=f"choose one of: {', '.join(OUT_FORMATS)}")
    if cm_score not in CM_SCORE_CHOICES:
        raise AsvbenchError(f"unknown --cm-score {cm_score!r}", hint=f"choose one of: {', '.join(CM_SCORE_CHOICES)}")
    data = _load(asv, cm, trials, trials_format, allow_missing)
    cm_values, cm_used = _cm_input(data, method, cm_score)
    info: dict = {"method": method, "cm_model": cm_model, "cm_score": cm_used, "counts": data.counts}
    dev_fused = dev = None
    if method in LLR_METHODS:
        if dev_asv is None or dev_cm is None:
            raise AsvbenchError(f"{method} fusion calibrates ASV and CM scores on a development set",
                                hint="give --dev-asv and --dev-cm (and --dev-trials)")
        dev = _load(dev_asv, dev_cm, dev_trials, trials_format, allow_missing)
        dev_cm_values, _ = _cm_input(dev, method, cm_score)
        cal = fit_sasv_calibration(dev.asv, dev_cm_values, dev.labels)
        info["calibration"] = {"asv": {"scale": cal.asv.scale, "offset": cal.asv.offset},
                               "cm": {"scale": cal.cm.scale, "offset": cal.cm.offset}, "fitted_on": str(dev_asv)}
        llr_asv, llr_cm = cal.apply(data.asv, cm_values)
        dev_llr_asv, dev_llr_cm = cal.apply(dev.asv, dev_cm_values)
        if method == "llr-sum":
            fused, dev_fused = fuse_llr_sum(llr_asv, llr_cm), fuse_llr_sum(dev_llr_asv, dev_llr_cm)
        else:
            if rho is None:
                search = select_rho(dev_llr_asv, dev_llr_cm, dev.labels, parse_rho_grid(rho_grid), eer_method)
                chosen = search.rho
                info["rho"] = {"value": chosen, "chosen_on": str(dev_asv), "dev_sasv_eer": search.sasv_eer,
                               "grid_size": len(search.grid)}
            else:
                chosen = rho
                info["rho"] = {"value": chosen, "chosen_on": "--rho"}
            fused = fuse_nonlinear(llr_asv, llr_cm, chosen)
            dev_fused = fuse_nonlinear(dev_llr_asv, dev_llr_cm, chosen)
    elif method == "product":
        fused = fuse_product(data.asv, cm_values)
    else:
        fused = fuse_sum(data.asv, cm_values)
    metrics = sasv_report(fused, data.asv, data.cm_logit, data.labels, data.test, eer_method=eer_method,
                          adcf_costs=adcf_costs, tdcf_asv=tdcf_asv)
    result = {**info, "eval": metrics}
    if dev_fused is not None and dev is not None:
        result["dev"] = {"fused": score_set_metrics(dev_fused, dev.labels, eer_method, adcf_costs)}
    if out is not None:
        _write(out, out_format, data, np.asarray(fused))
        err_console.print(f"wrote {len(fused):,} fused scores to {out} ({out_format})", highlight=False)
    if report is not None:
        atomic_write_text(report, to_json(result) + "\n")
        err_console.print(f"wrote metrics to {report}", highlight=False)
    if save_result is not None:
        from asvbench.report.save import save_fusion_result

        save_fusion_result(save_result, result, system=system, benchmark=benchmark, variant=variant, fused=fused,
                           labels=data.labels, trials_path=trials, scores_path=asv, enroll=data.enroll,
                           test=data.test)
        err_console.print(f"wrote result record {save_result}", highlight=False)
    for what, n in data.counts.items():
        if n and what != "trials_kept":
            err_console.print(f"note: {n} {what.replace('_', ' ')}", highlight=False)
    if "rho" in info:
        err_console.print(f"note: rho = {info['rho']['value']:.4g} ({info['rho']['chosen_on']})", highlight=False)
    err_console.print(f"note: t-DCF ASV operating point: {metrics['tdcf']['asv_operating_point']['source']}",
                      highlight=False)
    if json_out:
        print_json(result)
    else:
        out_console().print(_table(result))


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
