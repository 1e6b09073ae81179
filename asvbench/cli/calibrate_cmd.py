"""``asvbench calibrate``: fit a score-to-LLR calibration on a development score file, apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench._atomic import staged_command
from asvbench.calibration import CALIBRATION_METHODS
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json
from asvbench.cli._options import JsonOpt, PTargetOpt, choice


def _quality(path: Path | None, table, what: str):
    """Quality measures keyed by (enroll, test): a TSV with header 'enroll test q1 [q2 ...]'."""
    if path is None:
        return None, []
    import numpy as np
    import pandas as pd

    from asvbench.errors import AsvbenchError
    from asvbench.io._text import read_text

    read_text(path)  # existence / encoding errors with the path
    frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    if list(frame.columns[:2]) != ["enroll", "test"] or frame.shape[1] < 3:
        raise AsvbenchError("quality file must have a header 'enroll test q1 [q2 ...]'", where=f"{path}:1")
    names = list(frame.columns[2:])
    try:
        values = frame[names].astype(float).to_numpy()
    except ValueError as exc:
        raise AsvbenchError(f"quality measures must be numbers ({exc})", where=path) from None
    if table.enroll is None or table.test is None:
        raise AsvbenchError(f"the {what} score file has no enroll/test ids to match quality measures to")
    keys = pd.Index(frame["enroll"] + "\t" + frame["test"])
    if keys.has_duplicates:
        raise AsvbenchError("a trial appears twice in the quality file", where=path)
    want = pd.Index(pd.Series(table.enroll).astype(str) + "\t" + pd.Series(table.test).astype(str))
    pos = keys.get_indexer(want)
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise AsvbenchError(f"{int((pos < 0).sum())} {what} trials have no quality measures "
                            f"(first: {table.enroll[k]} {table.test[k]})", where=path)
    return values[pos], names


def _metrics(llr, labels, p_targets) -> dict | None:
    import numpy as np

    from asvbench.metrics import act_dcf, cllr, min_cllr
    from asvbench.types import Label

    keep = labels != Label.SPOOF
    y = labels[keep] == Label.TARGET
    if not y.any() or y.all():
        return None
    s = np.asarray(llr)[keep]
    return {"cllr": cllr(s, y), "min_cllr": min_cllr(s, y),
            "act_dcf": {str(p): act_dcf(s, y, p).value for p in p_targets}}


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
    from asvbench.calibration import fit_linear, fit_pav
    from asvbench.errors import AsvbenchError
    from asvbench.io.scores import read_scores, write_scores
    from asvbench.types import Label

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
    p_targets = tuple(p_target or (0.01,))
    table = read_scores(dev)
    keep = table.labels != Label.SPOOF
    q_dev, q_names = _quality(dev_quality, table, "dev")
    y = table.labels[keep] == Label.TARGET
    if not y.any() or y.all():
        raise AsvbenchError(f"the development set holds only {'target' if y.any() else 'non-target'} trials "
                            f"({int(keep.sum())}); calibration needs both classes", where=dev,
                            hint="give a development score file with target and non-target trials")
    if method == "linear":
        cal = fit_linear(table.scores[keep], y, train_prior, None if q_dev is None else q_dev[keep])
        model = {"method": "linear", "scale": cal.scale, "offset": cal.offset, "train_prior": train_prior,
                 "quality": dict(zip(q_names, cal.quality_weights)), "converged": cal.converged}
    else:
        cal = fit_pav(table.scores[keep], y)
        model = {"method": "pav", "knots": int(cal.scores.shape[0])}
    result: dict = {"model": model, "dev": {"file": str(dev), "before": _metrics(table.scores, table.labels, p_targets),
                                            "after": _metrics(cal.apply(table.scores, q_dev), table.labels, p_targets)}}
    result["applied"] = []
    for i, path in enumerate(applies):
        t = read_scores(path)
        q, _ = _quality(apply_quality[i] if apply_quality else None, t, "applied")
        llr = cal.apply(t.scores, q)
        target = out[i] if out else Path(out_dir) / f"{path.stem}.llr.tsv"
        if t.enroll is None or t.test is None:
            raise AsvbenchError("the score file has no enroll/test ids", where=path)
        write_scores(target, t.enroll, t.test, llr, t.labels)
        err_console.print(f"wrote {len(llr):,} LLRs to {target}", highlight=False)
        result["applied"].append({"file": str(path), "out": str(target), "before": _metrics(t.scores, t.labels, p_targets),
                                  "after": _metrics(llr, t.labels, p_targets)})
    if json_out:
        print_json(result)
    else:
        out_console().print(_table(result, p_targets))


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
