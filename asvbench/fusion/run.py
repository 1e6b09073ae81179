"""A fusion run: :func:`run_fusion` is everything ``asvbench fuse`` computes (inputs resolved and
joined, the CM model run, method dispatch, dev-set calibration, rho search, metrics, breakdowns,
intervals) as a :class:`FusionRun`; :func:`fuse_trials` is its core on already joined trials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.fusion.calibrate import fit_sasv_calibration
from asvbench.fusion.join import SasvTrials
from asvbench.fusion.methods import (
    LLR_METHODS,
    cm_input,
    fuse_llr_sum,
    fuse_nonlinear,
    fuse_product,
    fuse_sum,
    parse_rho_grid,
    select_rho,
)
from asvbench.io.scores import CM_PLAIN_COLUMNS


@dataclass
class FusionOutcome:
    """Fused eval scores, fused dev scores (LLR methods), and what was done (JSON-ready)."""

    fused: np.ndarray
    dev_fused: np.ndarray | None
    info: dict = field(default_factory=dict)


def cm_values(data: SasvTrials, method: str, cm_score: str) -> tuple[np.ndarray, str]:
    """The CM value of each trial that ``method`` fuses (see :func:`~asvbench.fusion.methods.cm_input`)."""
    return cm_input(method, cm_score, data.cm_logit, data.cm_prob, plain=data.cm_columns == CM_PLAIN_COLUMNS)


def fuse_trials(data: SasvTrials, method: str, *, cm_score: str = "auto", dev: SasvTrials | None = None,
                rho: float | None = None, rho_grid: str = "0:1:101", eer_method: str = "roc",
                dev_name: str = "") -> FusionOutcome:
    """Fuse the ASV and CM scores of ``data`` with ``method``.

    LLR methods calibrate both scores on ``dev`` (required) and, for ``nonlinear`` without a
    fixed ``rho``, choose rho on ``dev`` by SASV-EER over ``rho_grid``.
    """
    cm, cm_used = cm_values(data, method, cm_score)
    info: dict = {"cm_score": cm_used}
    if method not in LLR_METHODS:
        fused = fuse_product(data.asv, cm) if method == "product" else fuse_sum(data.asv, cm)
        return FusionOutcome(fused, None, info)
    if dev is None:
        raise AsvbenchError(f"{method} fusion calibrates ASV and CM scores on a development set",
                            hint="give --dev-asv and --dev-cm (and --dev-trials)")
    dev_cm, _ = cm_values(dev, method, cm_score)
    cal = fit_sasv_calibration(dev.asv, dev_cm, dev.labels)
    info["calibration"] = {"asv": {"scale": cal.asv.scale, "offset": cal.asv.offset},
                           "cm": {"scale": cal.cm.scale, "offset": cal.cm.offset}, "fitted_on": dev_name}
    llr_asv, llr_cm = cal.apply(data.asv, cm)
    dev_llr_asv, dev_llr_cm = cal.apply(dev.asv, dev_cm)
    if method == "llr-sum":
        return FusionOutcome(fuse_llr_sum(llr_asv, llr_cm), fuse_llr_sum(dev_llr_asv, dev_llr_cm), info)
    if rho is None:
        search = select_rho(dev_llr_asv, dev_llr_cm, dev.labels, parse_rho_grid(rho_grid), eer_method)
        rho = search.rho
        info["rho"] = {"value": rho, "chosen_on": dev_name, "dev_sasv_eer": search.sasv_eer,
                       "grid_size": len(search.grid)}
    else:
        info["rho"] = {"value": rho, "chosen_on": "--rho"}
    return FusionOutcome(fuse_nonlinear(llr_asv, llr_cm, rho), fuse_nonlinear(dev_llr_asv, dev_llr_cm, rho), info)


@dataclass(frozen=True)
class FusionInputs:
    """What one ``asvbench fuse`` run reads: the ASV scores, the CM (a score file or a model name) and
    its options, the trial list, and the development set of the LLR methods."""

    asv: Path
    cm: str
    trials: Path | None = None
    trials_format: str = "auto"
    cm_model: str | None = None
    audio: Path | None = None
    checkpoint: Path | None = None
    key_style: str | None = None
    cm_cache: Path | None = None
    device: str | None = None
    dev_asv: Path | None = None
    dev_cm: Path | None = None
    dev_trials: Path | None = None
    allow_missing: bool = False
    #: where the fused scores / the report will go: the default CM cache is made beside them
    out: Path | None = None
    report: Path | None = None

    def model_options(self) -> dict[str, object]:
        """The options that only a CM model (not a CM score file) uses, by flag."""
        return {"--audio": self.audio, "--checkpoint": self.checkpoint, "--key-style": self.key_style,
                "--cm-cache": self.cm_cache, "--device": self.device}


@dataclass(frozen=True)
class FusionSettings:
    """How the scores are fused and evaluated (``--by`` / ``--ci`` included)."""

    method: str
    cm_score: str = "auto"
    rho: float | None = None
    rho_grid: str = "0:1:101"
    eer_method: str = "roc"
    adcf_costs: str = "default"
    tdcf_asv: str = "eer"
    by: tuple[str, ...] = ()
    enroll_maps: tuple[Path, ...] = ()
    #: a :class:`~asvbench.stats.ci.CiSettings`, or None (no intervals)
    ci: Any = None


@dataclass
class FusionRun:
    """Everything one fusion run computed: the joined eval (and dev) trials, the fused scores, the
    CM model run (or None), the breakdowns and intervals, and ``result``: the JSON of ``--report``."""

    inputs: FusionInputs
    settings: FusionSettings
    cm_name: str
    data: SasvTrials
    dev: SasvTrials | None
    fused: np.ndarray
    dev_fused: np.ndarray | None
    cm_run: Any
    breakdowns: list
    intervals: Any
    result: dict

    @property
    def where(self) -> str:
        """The file the trials come from (the trial list, else the ASV scores)."""
        return str(self.inputs.trials or self.inputs.asv)


def _ignore(_message: str) -> None:
    return None


def run_fusion(inputs: FusionInputs, settings: FusionSettings, *,
               notify: Callable[[str], None] = _ignore) -> FusionRun:
    """Fuse and evaluate, as ``asvbench fuse``: resolve the CM, join ASV and CM scores with the trial
    list, run the CM model when ``--cm`` names one (its cache is kept even when a later step fails),
    calibrate on dev and choose rho (LLR methods), compute the SASV metrics, breakdowns and intervals.

    ``notify`` receives the messages meant for a person (notices, the CM run's summary, breakdown
    notes) as they happen. Writes nothing but the CM cache.
    """
    from asvbench._atomic import unstaged
    from asvbench.fusion.cm_model import checked_entry, resolve_cm
    from asvbench.fusion.evaluate import sasv_report, score_set_metrics
    from asvbench.fusion.join import attach_cm

    source = resolve_cm(inputs.cm)
    cm_name = _check_cm_options(source, inputs)
    _check_dev(settings.method, inputs)
    if not isinstance(source, Path):
        source, how = checked_entry(inputs.cm, source, inputs.checkpoint)  # AASIST vs AASIST-L, ... from the file
        if how:
            notify(f"notice: {how}")
        cm_name = source.name
    joined = _join_asv(inputs.asv, inputs.trials, inputs.trials_format, inputs.allow_missing)
    with unstaged():  # the CM cache is kept (and read back) even when fusing fails later
        cm_frame, cm_where, cm_run = _cm_scores(source, joined.kept_tests(), inputs, notify)
    data = attach_cm(joined, cm_frame, allow_missing=inputs.allow_missing, cm_where=cm_where)
    dev = _load_dev(inputs) if settings.method in LLR_METHODS else None
    outcome = fuse_trials(data, settings.method, cm_score=settings.cm_score, dev=dev, rho=settings.rho,
                          rho_grid=settings.rho_grid, eer_method=settings.eer_method, dev_name=str(inputs.dev_asv))
    result: dict = {"method": settings.method, "cm_model": cm_name, "cm_score": outcome.info.pop("cm_score"),
                    "counts": data.counts}
    if cm_run is not None:
        result["cm_run"] = cm_run.as_dict()
    result.update(outcome.info)
    result["eval"] = sasv_report(outcome.fused, data.asv, data.cm_logit, data.labels, data.test,
                                 eer_method=settings.eer_method, adcf_costs=settings.adcf_costs,
                                 tdcf_asv=settings.tdcf_asv)
    if outcome.dev_fused is not None and dev is not None:
        result["dev"] = {"fused": score_set_metrics(outcome.dev_fused, dev.labels, settings.eer_method,
                                                    settings.adcf_costs)}
    run = FusionRun(inputs, settings, cm_name, data, dev, outcome.fused, outcome.dev_fused, cm_run, [], None, result)
    run.breakdowns = _breakdowns(run, notify)
    if run.breakdowns:
        result["breakdowns"] = [b.to_dict() for b in run.breakdowns]
    run.intervals = _intervals(run)
    if run.intervals is not None:
        result["ci"] = run.intervals.to_dict()
    return run


def _join_asv(asv: Path, trials: Path | None, trials_format: str, allow_missing: bool):
    from asvbench.fusion.join import join_asv
    from asvbench.io.scores import read_scores
    from asvbench.trials.read import read_trials

    listed = read_trials(trials, trials_format) if trials is not None else None
    return join_asv(read_scores(asv), listed, allow_missing=allow_missing, asv_where=str(asv))


def _load_dev(inputs: FusionInputs) -> SasvTrials | None:
    """The development trials (ASV and CM scores joined), when both files are given."""
    if inputs.dev_asv is None or inputs.dev_cm is None:
        return None
    from asvbench.fusion.join import attach_cm
    from asvbench.io.scores import read_cm_scores

    joined = _join_asv(inputs.dev_asv, inputs.dev_trials, inputs.trials_format, inputs.allow_missing)
    return attach_cm(joined, read_cm_scores(inputs.dev_cm), allow_missing=inputs.allow_missing,
                     cm_where=str(inputs.dev_cm))


def _check_cm_options(source, inputs: FusionInputs) -> str:
    """The recorded CM name; options that do not fit ``--cm`` (a file or a model) are errors."""
    model_options = inputs.model_options()
    given = [flag for flag, value in model_options.items() if value is not None]
    if isinstance(source, Path):
        if given:
            raise AsvbenchError(f"{', '.join(given)}: only for --cm MODEL (running a countermeasure); "
                                f"--cm {source} is a score file", hint="drop them, or name a CM model with --cm")
        return inputs.cm_model or "aasist"
    if inputs.cm_model is not None and inputs.cm_model != source.name:
        raise AsvbenchError(f"--cm-model {inputs.cm_model!r} names the CM of a score file; --cm {source.name!r} "
                            "runs that model", hint="drop --cm-model")
    if inputs.audio is None:
        raise AsvbenchError(f"--cm {source.name} runs the countermeasure on the test utterances of --trials, and "
                            "needs their audio", hint="give --audio DIR (or a wav.scp or a list of files); "
                                                      "or give --cm a CM score file")
    if inputs.trials is None:
        raise AsvbenchError(f"--cm {source.name} needs --trials: the trial list says which test utterances to score",
                            hint="give --trials PROTOCOL (e.g. ASVspoof2019.LA.asv.eval.gi.trl.txt)")
    for flag in ("--audio", "--checkpoint"):
        path = model_options[flag]
        if path is not None and not Path(path).exists():
            raise AsvbenchError(f"{flag}: not found", where=path)
    return source.name


def _check_dev(method: str, inputs: FusionInputs) -> None:
    if method in LLR_METHODS and (inputs.dev_asv is None or inputs.dev_cm is None):
        raise AsvbenchError(f"{method} fusion calibrates ASV and CM scores on a development set",
                            hint="give --dev-asv and --dev-cm (and --dev-trials)")
    if inputs.dev_cm is not None and not inputs.dev_cm.is_file():
        raise AsvbenchError("--dev-cm: CM score file not found", where=inputs.dev_cm,
                            hint="--dev-cm takes a CM score file; score the development audio first, e.g. "
                                 "asvbench extract --model aasist --key-style stem --audio DEV_DIR --out dev_cm.tsv")


def _cm_scores(source, needed: list[str], inputs: FusionInputs, notify: Callable[[str], None]):
    """(CM scores indexed by utterance, where they come from, the model run or None)."""
    if isinstance(source, Path):
        from asvbench.io.scores import read_cm_scores

        return read_cm_scores(source), str(source), None
    from asvbench.fusion.cm_model import default_cache, score_with_cm

    assert inputs.audio is not None  # _check_cm_options
    cache = inputs.cm_cache or default_cache(source, out=inputs.out, report=inputs.report, asv=inputs.asv)
    run = score_with_cm(source, needed, audio=inputs.audio, checkpoint=inputs.checkpoint,
                        key_style=inputs.key_style or "stem", cache=cache, allow_missing=inputs.allow_missing,
                        device=inputs.device or "cpu")
    for notice in run.notices:
        notify(f"notice: {notice}")
    notify(run.summary())
    return run.scores, str(run.cache), run


def _breakdowns(run: FusionRun, notify: Callable[[str], None]) -> list:
    """``--by``: SASV-EER / SV-EER / SPF-EER / min a-DCF of the fused scores per condition."""
    s = run.settings
    if not s.by:
        return []
    from asvbench.stats.breakdown import breakdowns_for, sasv_evaluator

    found = breakdowns_for(list(s.by), run.fused, run.data.labels,
                           evaluator=sasv_evaluator(eer_method=s.eer_method, adcf_costs=s.adcf_costs),
                           scores_name="fused", enroll=run.data.enroll, test=run.data.test, sources=run.data.source,
                           enroll_maps=[str(p) for p in s.enroll_maps], where=run.where)
    for b in found:
        for message in b.not_computable():
            notify(f"note: {message}")
    return found


def _intervals(run: FusionRun):
    """``--ci``: bootstrap intervals of the fused scores' SASV metrics, or None."""
    s = run.settings
    if s.ci is None:
        return None
    from asvbench.metrics.adcf import ADCF_COSTS
    from asvbench.stats.ci import fusion_intervals, units_for

    units = units_for(s.ci, run.data.enroll, run.data.test, len(run.fused), where=run.where)
    return fusion_intervals(run.fused, run.data.labels, units, s.ci, eer_method=s.eer_method,
                            adcf_costs=ADCF_COSTS[s.adcf_costs])
