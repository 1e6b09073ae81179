"""``--save-result`` for the commands that compute metrics (score, metrics, fuse).

:func:`save_summary_result` builds the :class:`~asvbench.results.ResultRecord` and writes it
atomically (the options themselves are declared in :mod:`asvbench.cli._options`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - results imports numpy
    from asvbench.results import ModelInfo, ResultRecord


def save_summary_result(
    path: str | Path,
    summary,
    *,
    system: str | None,
    benchmark: str | None,
    variant: str = "",
    scores=None,
    labels=None,
    trials_path: str | Path | None = None,
    scores_path: str | Path | None = None,
    enroll: Sequence[str] | None = None,
    test: Sequence[str] | None = None,
    model: Sequence[ModelInfo] = (),
    normalization: Mapping[str, Any] | None = None,
    fusion: Mapping[str, Any] | None = None,
    definitions: Mapping[str, Any] | None = None,
    command: str = "",
    breakdowns: Sequence[Mapping[str, Any]] = (),
    trials_fingerprint=None,
    meta: Mapping[str, Any] | None = None,
    coverage=None,
) -> ResultRecord:
    """Build the record of one run and write it to ``path`` (atomically).

    ``trials_fingerprint``: the fingerprint of ``trials_path``, when already computed (a
    ``score`` computes it from the bytes it reads; it is not read again). ``coverage``: the
    :class:`~asvbench.results.Coverage` of the list (``score``).

    Without ``trials_path``, a score file that is itself registered (such as the ASVspoof5
    fusion CSV) is fingerprinted as the trial list; otherwise the trials are fingerprinted
    from the scored labels (and enroll/test names when given).
    """
    from asvbench.results import record_from_summary, save_result
    from asvbench.trials.fingerprint import fingerprint_trials

    trials = trials_fingerprint
    if trials_path is None and scores_path is not None:
        from asvbench.trials.registry import identify_benchmark

        fp = fingerprint_trials(scores_path)
        if identify_benchmark(fp) is not None:
            trials = fp
    name = system or Path(scores_path or trials_path or "system").stem
    record = record_from_summary(
        summary, system=name, scores=scores, labels=labels, benchmark=benchmark, variant=variant,
        trials_path=trials_path, trials=trials, scores_path=scores_path, enroll=enroll, test=test,
        model=tuple(model), normalization=normalization, fusion=fusion, definitions=definitions,
        command=command, breakdowns=tuple(breakdowns), meta=meta, coverage=coverage,
    )
    save_result(path, record)
    return record


def fusion_metrics(result: Mapping[str, Any]) -> dict[str, Any]:
    """Headline metrics of an ``asvbench fuse`` result dict (its ``eval`` part), named for tables:
    ``sasv_eer``, ``sv_eer``, ``spf_eer``, ``min_a_dcf``, ``min_t_dcf@legacy|2021``, ``t_eer``."""
    from asvbench.metrics.declarations import METRICS

    ev = result["eval"]
    fused = ev["fused"]
    out: dict[str, Any] = {m.key: fused[m.fusion_key] for m in METRICS if m.fusion_key}
    if "tdcf" in ev:
        out["min_t_dcf"] = {form: ev["tdcf"][form]["min_tdcf"] for form in ("legacy", "2021") if form in ev["tdcf"]}
    if "teer" in ev:
        out["t_eer"] = ev["teer"]["teer"]
    counts = result.get("counts") or {}
    out.update({k: v for k, v in counts.items() if isinstance(v, int) and k.startswith("n_")})
    return out


def save_fusion_result(
    path: str | Path,
    result: Mapping[str, Any],
    *,
    system: str | None,
    benchmark: str | None,
    variant: str = "",
    fused=None,
    labels=None,
    trials_path: str | Path | None = None,
    scores_path: str | Path | None = None,
    enroll: Sequence[str] | None = None,
    test: Sequence[str] | None = None,
    breakdowns: Sequence[Mapping[str, Any]] = (),
    meta: Mapping[str, Any] | None = None,
) -> ResultRecord:
    """Record of one ``asvbench fuse`` run: fused-system SASV metrics, fusion settings, DET of the
    fused scores (target vs all other trials)."""
    import numpy as np

    from asvbench.results import det_data_from_scores, make_record, save_result
    from asvbench.trials.fingerprint import fingerprint_labels
    from asvbench.types import Label

    det = trials = None
    if fused is not None and labels is not None:
        lab = np.asarray(labels)
        det = det_data_from_scores(np.asarray(fused, np.float64), lab == Label.TARGET)
        if trials_path is None:
            trials = fingerprint_labels(lab, enroll, test, source=str(scores_path or ""))
    settings = {k: v for k, v in result.items() if k not in ("eval", "dev", "breakdowns")}
    record = make_record(
        fusion_metrics(result), system=system or f"{settings.get('method', 'fused')} fusion", benchmark=benchmark,
        variant=variant, trials_path=trials_path, trials=trials, scores_path=scores_path,
        definitions=dict(result["eval"].get("definitions", {})), fusion=settings, det=det, command="asvbench fuse",
        breakdowns=tuple(breakdowns or result.get("breakdowns", ())), meta=meta,
    )
    save_result(path, record)
    return record


def parse_meta(items: Sequence[str] | None, store: str | Path | None = None) -> dict[str, Any]:
    """``--meta key=value`` items as a dict: ``true``/``false`` become booleans, whole numbers ints
    (``params=14650000``), anything else stays text. ``params=auto`` / ``flops=auto``: counted from
    the model named in the manifest of the embedding store ``store``
    (:mod:`asvbench.report.model_cost`)."""
    from asvbench.errors import AsvbenchError

    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AsvbenchError(f"--meta {item!r}: expected KEY=VALUE", hint="e.g. --meta pretraining=CNCeleb --meta lm=true")
        out[key.strip()] = _meta_value(value.strip())
    auto = [k for k in ("params", "flops") if out.get(k) == "auto"]
    if auto:
        out.update(_model_cost_meta(auto, store))
    return out


def _model_cost_meta(keys: Sequence[str], store: str | Path | None) -> dict[str, Any]:
    from asvbench.errors import AsvbenchError
    from asvbench.report.model_cost import store_model_cost

    if store is None:
        raise AsvbenchError(f"--meta {keys[0]}=auto: only with `asvbench score` (it counts the model of the embedding "
                            "store)", hint="give the number, e.g. --meta params=14650000")
    cost = store_model_cost(store)
    if cost is None:
        raise AsvbenchError(f"--meta {keys[0]}=auto: the embeddings do not name a model whose checkpoint is on disk",
                            where=store, hint="use a store written by `asvbench extract`, or give the number")
    counted = cost.to_meta()
    return {k: counted[k] for k in (*keys, "flops_input") if k in counted and (k != "flops_input" or "flops" in keys)}


def _meta_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    return int(text) if text.isdigit() else text
