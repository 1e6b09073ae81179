"""A calibration run (``asvbench calibrate``): fit score -> LLR on a development score file, apply
it to other score files, and measure Cllr / minCllr / actDCF before and after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.types import Label


@dataclass(frozen=True)
class CalibrationSettings:
    """``method`` (linear or pav), the target prior of the linear fit, the priors of actDCF."""

    method: str = "linear"
    train_prior: float = 0.5
    p_targets: tuple[float, ...] = (0.01,)


@dataclass
class CalibratedSet:
    """One score file and its calibrated LLRs; ``before`` / ``after``: its metrics (None when it lacks
    targets or non-targets)."""

    path: Path
    table: Any
    llr: np.ndarray
    before: dict | None
    after: dict | None


@dataclass
class CalibrationRun:
    """The fitted calibration, the development set and every applied set (their LLRs unwritten)."""

    settings: CalibrationSettings
    calibration: Any
    model: dict
    dev: CalibratedSet
    applied: list[CalibratedSet] = field(default_factory=list)

    def to_dict(self, outputs: Sequence[Path]) -> dict:
        """The JSON of ``calibrate --json``; ``outputs``: where each applied set's LLRs were written."""
        return {"model": self.model,
                "dev": {"file": str(self.dev.path), "before": self.dev.before, "after": self.dev.after},
                "applied": [{"file": str(s.path), "out": str(out), "before": s.before, "after": s.after}
                            for s, out in zip(self.applied, outputs)]}


def calibration_metrics(llr, labels, p_targets: Sequence[float]) -> dict | None:
    """Cllr, minCllr and actDCF at each prior of the target and non-target trials (spoof trials left
    out), or None without both classes."""
    from asvbench.metrics import act_dcf, cllr, min_cllr

    keep = np.asarray(labels) != Label.SPOOF
    y = np.asarray(labels)[keep] == Label.TARGET
    if not y.any() or y.all():
        return None
    s = np.asarray(llr)[keep]
    return {"cllr": cllr(s, y), "min_cllr": min_cllr(s, y),
            "act_dcf": {str(p): act_dcf(s, y, p).value for p in p_targets}}


def run_calibration(dev: Path, applies: Sequence[Path] = (), settings: CalibrationSettings = CalibrationSettings(),
                    *, dev_quality: Path | None = None,
                    apply_quality: Sequence[Path] = ()) -> CalibrationRun:
    """Fit on the target / non-target trials of ``dev`` (with its quality measures, linear only) and
    calibrate each of ``applies`` (with the quality file of the same position). Reads, never writes."""
    from asvbench.calibration import CALIBRATION_METHODS
    from asvbench.io.quality import read_quality
    from asvbench.io.scores import read_scores

    check_choice(settings.method, CALIBRATION_METHODS, "calibration method")
    table = read_scores(dev)
    keep = table.labels != Label.SPOOF
    q_dev, q_names = read_quality(dev_quality, table, "dev") if dev_quality is not None else (None, [])
    y = table.labels[keep] == Label.TARGET
    if not y.any() or y.all():
        raise AsvbenchError(f"the development set holds only {'target' if y.any() else 'non-target'} trials "
                            f"({int(keep.sum())}); calibration needs both classes", where=dev,
                            hint="give a development score file with target and non-target trials")
    cal, model = _fit(settings, table.scores[keep], y, None if q_dev is None else q_dev[keep], q_names)
    run = CalibrationRun(settings, cal, model, _calibrated(dev, table, cal.apply(table.scores, q_dev), settings))
    for i, path in enumerate(applies):
        t = read_scores(path)
        q = read_quality(apply_quality[i], t, "applied")[0] if apply_quality else None
        llr = cal.apply(t.scores, q)
        if t.enroll is None or t.test is None:
            raise AsvbenchError("the score file has no enroll/test ids", where=path)
        run.applied.append(_calibrated(path, t, llr, settings))
    return run


def _fit(settings: CalibrationSettings, scores, is_target, quality, quality_names: list[str]):
    """(the fitted calibration, its JSON description)."""
    from asvbench.calibration import fit_linear, fit_pav

    if settings.method == "linear":
        cal = fit_linear(scores, is_target, settings.train_prior, quality)
        return cal, {"method": "linear", "scale": cal.scale, "offset": cal.offset, "train_prior": settings.train_prior,
                     "quality": dict(zip(quality_names, cal.quality_weights)), "converged": cal.converged}
    cal = fit_pav(scores, is_target)
    return cal, {"method": "pav", "knots": int(cal.scores.shape[0])}


def _calibrated(path: Path, table, llr: np.ndarray, settings: CalibrationSettings) -> CalibratedSet:
    return CalibratedSet(path, table, llr, calibration_metrics(table.scores, table.labels, settings.p_targets),
                         calibration_metrics(llr, table.labels, settings.p_targets))
