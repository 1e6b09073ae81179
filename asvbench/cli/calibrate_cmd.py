"""``asvbench calibrate``: fit a score-to-LLR calibration on a development score file, apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.calibration import CALIBRATION_METHODS
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json
from asvbench.cli._options import JsonOpt, PTargetOpt, choice


@handle_user_errors
@staged_command  # outputs renamed into place only when the whole command succeeded
def calibrate(
    dev: Annotated[Path, typer.Option("--dev", help="Development score file with target and non-target trials.")],
    apply: Annotated[list[Path] | None, typer.Option("--apply", help="Score file to calibrate; repeatable.")] = None,
    out: Annotated[list[Path] | None, typer.Option("--out", help="Output LLR file per --apply (same order).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Write <name>.llr.tsv per --apply here.")] = None,
    method: Annotated[choice(CALIBRATION_METHODS), typer.Option("--method", help="linear (affine logistic regression) or pav.")] = "linear",
    train_prior: Annotated[float, typer.Option("--train-prior", help="Target prior of the linear fit (0.5 = Cllr).")] = 0.5,
    dev_quality: Annotated[Path | None, typer.Option("--dev-quality", help="Quality measures of dev trials (TSV 'enroll test q1 ...').")] = None,
    apply_quality: Annotated[list[Path] | None, typer.Option("--apply-quality", help="Quality measures per --apply.")] = None,
    p_target: PTargetOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Calibrate scores to LLRs (linear or PAV) on --dev; write calibrated --apply files; report Cllr/actDCF."""
    from asvbench.errors import AsvbenchError

    applies = list(apply or [])
    if out and len(out) != len(applies):
        raise AsvbenchError(f"{len(out)} --out for {len(applies)} --apply files", hint="give one --out per --apply, or --out-dir")
    if applies and not out and out_dir is None:
        raise AsvbenchError("where should the calibrated scores go?", hint="give --out (one per --apply) or --out-dir")
    if apply_quality and len(apply_quality) != len(applies):
        raise AsvbenchError(f"{len(apply_quality)} --apply-quality for {len(applies)} --apply files")
    if (dev_quality is None) != (not apply_quality) and applies:
        raise AsvbenchError("quality measures must be given for --dev and every --apply file, or for none")
    if dev_quality is not None and method != "linear":
        raise AsvbenchError("quality measures need --method linear")
    from asvbench._outputs import DIRECTORY, check_output_path, claim_outputs
    from asvbench.cli import _validate

    _validate.probability("--train-prior", train_prior)
    _validate.probabilities("--p-target", p_target)
    if out_dir is not None:
        check_output_path("--out-dir", out_dir, DIRECTORY)
    targets = list(out) if out else [Path(out_dir) / f"{path.stem}.llr.tsv" for path in applies] if applies else []
    claim_outputs({"--out" if out else "--out-dir": targets},
                  {"--dev": dev, "--apply": applies, "--dev-quality": dev_quality, "--apply-quality": apply_quality})
    from asvbench.calibration.run import CalibrationSettings, run_calibration
    from asvbench.io.scores import write_scores

    settings = CalibrationSettings(method=method, train_prior=train_prior, p_targets=tuple(p_target or (0.01,)))
    run = run_calibration(dev, applies, settings, dev_quality=dev_quality, apply_quality=apply_quality or ())
    for calibrated, target in zip(run.applied, targets):
        write_scores(target, calibrated.table.enroll, calibrated.table.test, calibrated.llr, calibrated.table.labels)
        err_console.print(f"wrote {len(calibrated.llr):,} LLRs to {target}", highlight=False)
    result = run.to_dict(targets)
    if json_out:
        print_json(result)
    else:
        out_console().print(_table(result, settings.p_targets))


def _table(result: dict, p_targets):
    from rich.table import Table

    table = Table(title=f"calibration ({result['model']['method']})")
    for col in ("set", "", "Cllr", "minCllr", *[f"actDCF({p})" for p in p_targets]):
        table.add_column(col, justify="left" if col in ("set", "") else "right")
    sets = [(result["dev"]["file"] + " (dev)", result["dev"])] + [(a["file"], a) for a in result["applied"]]
    for name, entry in sets:
        for when in ("before", "after"):
            m = entry[when]
            if m is None:
                table.add_row(name, when, "-", "-", *["-" for _ in p_targets])
                continue
            table.add_row(name, when, f"{m['cllr']:.4f}", f"{m['min_cllr']:.4f}",
                          *[f"{m['act_dcf'][str(p)]:.4f}" for p in p_targets])
    return table


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
