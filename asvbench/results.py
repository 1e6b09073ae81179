"""Result records: one JSON file per evaluated system x benchmark.

A record says *what* was measured (system, variant, benchmark and the fingerprint of
its trial list), *how* (model and checkpoint sha256, normalisation and fusion settings,
the metric definitions: EER method, P_target, costs) and *the numbers* (the metrics as
:meth:`asvbench.metrics.MetricsSummary.to_dict` gives them: rates are fractions). It may
also carry a compact DET curve (at most :data:`DET_MAX_POINTS` points, thinned in probit
space so the low-error ends keep their detail) so that ``asvbench report --det`` can draw
it without the score file.

A record of ``asvbench score`` states its *coverage*: how many trials of the list were
scored (fewer with ``--allow-missing``). A record without ``coverage`` (written before it
existed, or by ``metrics`` / ``fuse``, which evaluate every line of their score file) counts
as full coverage. A partial record keeps its benchmark name; tables mark it and ``compare``
refuses to compare it with a record of another coverage of the list.

Records are written by ``asvbench score/metrics/fuse --save-result FILE``, read by
``asvbench report`` and compared by ``asvbench compare``. The JSON schema is
:data:`SCHEMA`; reading checks it and raises :class:`AsvbenchError` on anything a
user could have broken (not JSON, missing fields, no metrics).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from asvbench import __version__
from asvbench._atomic import atomic_write_text
from asvbench._json import json_safe
from asvbench.errors import AsvbenchError
from asvbench.trials.fingerprint import TrialsFingerprint, fingerprint_labels, fingerprint_trials
from asvbench.trials.registry import resolve_benchmark

#: Schema tag written into every record.
SCHEMA = "asvbench.result/1"
#: Most points a stored DET curve keeps.
DET_MAX_POINTS = 2000


# --------------------------------------------------------------------------- record parts

@dataclass(frozen=True)
class ModelInfo:
    """The model that produced the scores (for fused systems, one per sub-system)."""

    name: str
    checkpoint_sha256: str | None = None
    checkpoint: str | None = None  # informational path



def models_in_stores(*stores: str | Path | None) -> list[ModelInfo]:
    """The models named in the manifests of native embedding stores, each once (for result records)."""
    from asvbench.io.embeddings import read_manifest

    models: list[ModelInfo] = []
    for store in stores:
        manifest = read_manifest(store) if store is not None and Path(store).is_dir() else None
        if manifest and manifest.get("model"):
            info = ModelInfo(name=str(manifest["model"]), checkpoint_sha256=manifest.get("checkpoint_sha256"),
                             checkpoint=manifest.get("checkpoint"))
            if info not in models:
                models.append(info)
    return models


@dataclass(frozen=True)
class DetData:
    """A compact DET curve: false-alarm and miss rates (fractions), with the EER point
    and the minDCF operating point (``p_target`` of the first minDCF)."""

    fpr: tuple[float, ...]
    fnr: tuple[float, ...]
    eer: float | None = None
    min_dcf_point: tuple[float, float] | None = None  # (fpr, fnr)
    p_target: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"fpr": [float(f"{v:.6g}") for v in self.fpr], "fnr": [float(f"{v:.6g}") for v in self.fnr],
                "eer": self.eer, "min_dcf_point": list(self.min_dcf_point) if self.min_dcf_point else None,
                "p_target": self.p_target}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> DetData:
        try:
            fpr = tuple(float(v) for v in data["fpr"])
            fnr = tuple(float(v) for v in data["fnr"])
            point = data.get("min_dcf_point")
            det = cls(fpr=fpr, fnr=fnr, eer=None if data.get("eer") is None else float(data["eer"]),
                      min_dcf_point=(float(point[0]), float(point[1])) if point else None,
                      p_target=None if data.get("p_target") is None else float(data["p_target"]))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise AsvbenchError(f"malformed DET curve in the record ({exc})", where=where) from None
        if len(fpr) != len(fnr) or len(fpr) < 2:
            raise AsvbenchError("malformed DET curve in the record: fpr and fnr need the same length >= 2",
                                where=where)
        return det


def thin_det(fpr: np.ndarray, fnr: np.ndarray, max_points: int = DET_MAX_POINTS,
             clip: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most ``max_points`` points of a DET curve (:func:`asvbench.metrics.det.thin_indices`)."""
    from asvbench.metrics.det import thin_indices

    fpr = np.asarray(fpr, np.float64)
    fnr = np.asarray(fnr, np.float64)
    keep = thin_indices(fpr, fnr, max_points, clip)
    return fpr[keep], fnr[keep]


def det_data_from_scores(scores, is_target, *, p_target: float = 0.01, c_miss: float = 1.0,
                         c_fa: float = 1.0, max_points: int = DET_MAX_POINTS) -> DetData:
    """Compute a compact :class:`DetData` from raw scores (uses :mod:`asvbench.metrics`)."""
    from asvbench.metrics import compute_eer, det_curve, min_dcf

    curve = det_curve(scores, is_target, max_points=max_points)
    fpr, fnr = curve.fpr, curve.fnr
    eer = compute_eer(scores, is_target, "interp").eer
    dcf = min_dcf(scores, is_target, p_target, c_miss, c_fa)
    point = _dcf_point(dcf)
    return DetData(fpr=tuple(fpr.tolist()), fnr=tuple(fnr.tolist()), eer=float(eer), min_dcf_point=point,
                   p_target=p_target)


def _dcf_point(dcf) -> tuple[float, float] | None:
    p_fa = getattr(dcf, "p_fa", None)
    p_miss = getattr(dcf, "p_miss", None)
    if p_fa is None or p_miss is None:
        return None
    return float(p_fa), float(p_miss)


@dataclass(frozen=True)
class Coverage:
    """How much of its trial list a record scored: ``scored`` of the ``listed`` trials."""

    scored: int
    listed: int

    @property
    def full(self) -> bool:
        return self.scored == self.listed

    @property
    def fraction(self) -> float:
        return self.scored / self.listed if self.listed else 1.0

    def describe(self) -> str:
        return f"{self.scored:,} of {self.listed:,} trials scored ({100 * self.fraction:.2f} %)"

    def to_dict(self) -> dict[str, int]:
        return {"scored": self.scored, "listed": self.listed}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Coverage | None:
        """The optional ``coverage`` object of a record: None (full coverage) when absent."""
        if data is None:
            return None
        try:
            scored, listed = int(data["scored"]), int(data["listed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AsvbenchError(f"malformed 'coverage' in the record ({exc})", where=where,
                                hint='it is {"scored": N, "listed": M}') from None
        if not 0 <= scored <= listed:
            raise AsvbenchError(f"malformed 'coverage' in the record: {scored} of {listed} trials scored",
                                where=where, hint="scored must lie between 0 and listed")
        return cls(scored, listed)


def is_partial(record: ResultRecord) -> bool:
    """Whether ``record`` scored only part of its trial list."""
    return record.coverage is not None and not record.coverage.full


# --------------------------------------------------------------------------- the record

def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class ResultRecord:
    """One evaluated system on one benchmark. See the module docstring."""

    system: str
    benchmark: str
    metrics: dict[str, Any]
    variant: str = ""
    trials: TrialsFingerprint | None = None
    model: tuple[ModelInfo, ...] = ()
    normalization: dict[str, Any] | None = None
    fusion: dict[str, Any] | None = None
    definitions: dict[str, Any] = field(default_factory=dict)
    det: DetData | None = None
    scores: str | None = None  # informational: the score file the metrics came from
    simulated: bool = False
    command: str = ""
    asvbench_version: str = __version__
    created: str = field(default_factory=_now)
    schema: str = SCHEMA
    #: per-condition breakdowns (``--by``), each :meth:`asvbench.stats.breakdown.Breakdown.to_dict`; optional
    breakdowns: tuple[dict[str, Any], ...] = ()
    #: confidence intervals (``--ci``): :meth:`asvbench.stats.ci.Intervals.to_dict` with replicates; optional
    ci: dict[str, Any] | None = None
    #: system metadata for paper tables (``--meta key=value``: params, flops, pretraining, lm, ...); optional
    meta: dict[str, Any] = field(default_factory=dict)
    #: trials scored / trials in the list (``score``); None: full coverage (see the module docstring)
    coverage: Coverage | None = None

    @property
    def label(self) -> str:
        """Row label in tables: ``system`` or ``system (variant)``."""
        return f"{self.system} ({self.variant})" if self.variant else self.system

    def flat_metrics(self) -> dict[str, float | None]:
        """Metrics as one level: nested dicts become ``key@subkey`` (``min_dcf@0.01``)."""
        return flatten_metrics(self.metrics)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": self.schema, "system": self.system, "variant": self.variant, "benchmark": self.benchmark,
            "simulated": self.simulated,
            "trials": asdict(self.trials) if self.trials else None,
            "model": [asdict(m) for m in self.model],
            "normalization": self.normalization, "fusion": self.fusion, "definitions": self.definitions,
            "metrics": self.metrics, "scores": self.scores, "command": self.command,
            "asvbench_version": self.asvbench_version, "created": self.created,
            "det": self.det.to_dict() if self.det else None,
        }
        if self.breakdowns:
            out["breakdowns"] = list(self.breakdowns)
        if self.ci:
            out["ci"] = self.ci
        if self.meta:
            out["meta"] = self.meta
        if self.coverage is not None:
            out["coverage"] = self.coverage.to_dict()
        if self.simulated:
            out = {"SIMULATED": "simulated data: these numbers say nothing about any real system", **out}
        return out

    def to_json(self) -> str:
        text = json.dumps(json_safe(self.to_dict()), indent=2)
        # keep number arrays (the DET curve) on one line each
        return _NUMBER_ARRAY.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> ResultRecord:
        where = where or "<record>"
        if not isinstance(data, dict):
            raise AsvbenchError("a result record must be a JSON object", where=where)
        schema = data.get("schema")
        if schema != SCHEMA:
            raise AsvbenchError(f"not an asvbench result record (schema {schema!r}, expected {SCHEMA!r})",
                                where=where, hint="write records with --save-result")
        for key in ("system", "benchmark"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise AsvbenchError(f"result record has no {key!r}", where=where)
        metrics = data.get("metrics")
        if not isinstance(metrics, dict) or not metrics:
            raise AsvbenchError("result record has no metrics", where=where,
                                hint="the 'metrics' object is missing or empty")
        flat = flatten_metrics(metrics)
        if not any(isinstance(v, float) for v in flat.values()):
            raise AsvbenchError("result record has no numeric metric", where=where)
        trials = data.get("trials")
        models = data.get("model") or []
        if isinstance(models, dict):
            models = [models]
        try:
            model = tuple(ModelInfo(name=str(m["name"]), checkpoint_sha256=m.get("checkpoint_sha256"),
                                    checkpoint=m.get("checkpoint")) for m in models)
        except (KeyError, TypeError) as exc:
            raise AsvbenchError(f"malformed 'model' entry ({exc})", where=where) from None
        return cls(
            system=data["system"], benchmark=data["benchmark"], metrics=metrics,
            variant=str(data.get("variant") or ""),
            trials=TrialsFingerprint.from_dict(trials, where) if trials else None,
            model=model, normalization=data.get("normalization"), fusion=data.get("fusion"),
            definitions=dict(data.get("definitions") or {}),
            det=DetData.from_dict(data["det"], where) if data.get("det") else None,
            scores=data.get("scores"), simulated=bool(data.get("simulated", False)),
            command=str(data.get("command") or ""),
            asvbench_version=str(data.get("asvbench_version", "")), created=str(data.get("created", "")),
            breakdowns=_breakdowns(data.get("breakdowns"), where),
            ci=_ci(data.get("ci"), where),
            meta=_meta(data.get("meta"), where),
            coverage=Coverage.from_dict(data.get("coverage"), where),
        )

    @classmethod
    def from_json(cls, text: str, where: str = "") -> ResultRecord:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            loc = f"{where}:{exc.lineno}" if where else None
            raise AsvbenchError(f"result record is not valid JSON ({exc.msg}, column {exc.colno})", where=loc,
                                hint="was the file truncated or edited by hand?") from None
        return cls.from_dict(data, where)


def _breakdowns(data: Any, where: str) -> tuple[dict[str, Any], ...]:
    """The optional ``breakdowns`` list of a record (absent in records before it existed)."""
    if data is None:
        return ()
    if not isinstance(data, list) or not all(isinstance(b, dict) and isinstance(b.get("conditions"), list)
                                             for b in data):
        raise AsvbenchError("malformed 'breakdowns' in the record: a list of objects with a 'conditions' list",
                            where=where)
    return tuple(data)


def _ci(data: Any, where: str) -> dict[str, Any] | None:
    """The optional ``ci`` object of a record (absent in records before it existed, or without ``--ci``)."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("intervals"), dict):
        raise AsvbenchError("malformed 'ci' in the record: an object with an 'intervals' object", where=where)
    return data


def _meta(data: Any, where: str) -> dict[str, Any]:
    """The optional ``meta`` object of a record: names to strings, numbers or booleans."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, (str, int, float, bool)) or v is None
                                             for v in data.values()):
        raise AsvbenchError("malformed 'meta' in the record: an object of strings, numbers or booleans", where=where)
    return {str(k): v for k, v in data.items()}


_NUMBER_ARRAY = re.compile(r"\[\s*((?:-?[0-9][0-9.eE+-]*,\s*)*-?[0-9][0-9.eE+-]*)\s*\]")


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float | None]:
    """``{"eer": .., "min_dcf": {"0.01": ..}}`` -> ``{"eer": .., "min_dcf@0.01": ..}``.

    Values become floats (or ``None`` for null / non-numbers such as ``"inf"`` strings);
    booleans and strings (e.g. ``eer_method``) are dropped.
    """
    out: dict[str, float | None] = {}
    for key, value in metrics.items():
        name = f"{prefix}@{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten_metrics(value, name))
        elif isinstance(value, bool) or isinstance(value, str) and value not in ("inf", "-inf", "nan"):
            continue
        elif value is None:
            out[name] = None
        else:
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                continue
    return out


# --------------------------------------------------------------------------- files

def load_result(path: str | Path) -> ResultRecord:
    """Read and validate one record file."""
    p = Path(path)
    if not p.is_file():
        raise AsvbenchError("result record not found" if not p.exists() else "expected a file, got a directory",
                            where=p)
    from asvbench.io._text import decode_text, read_bytes

    text = decode_text(read_bytes(p), p)  # a BOM is dropped; a bad byte is an error at its file:line
    return ResultRecord.from_json(text, where=str(p))


def save_result(path: str | Path, record: ResultRecord) -> Path:
    """Write ``record`` as JSON to ``path`` atomically; returns the path."""
    atomic_write_text(path, record.to_json())
    return Path(path)


def make_record(metrics: Mapping[str, Any], *, system: str, benchmark: str | None = None, variant: str = "",
                trials_path: str | Path | None = None, trials: TrialsFingerprint | None = None,
                scores_path: str | Path | None = None, definitions: Mapping[str, Any] | None = None,
                normalization: Mapping[str, Any] | None = None, fusion: Mapping[str, Any] | None = None,
                model: tuple[ModelInfo, ...] | list[ModelInfo] = (), det: DetData | None = None,
                simulated: bool = False, command: str = "",
                breakdowns: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
                meta: Mapping[str, Any] | None = None, coverage: Coverage | None = None) -> ResultRecord:
    """Assemble a :class:`ResultRecord` (fingerprints ``trials_path`` and resolves the benchmark)."""
    if trials is None and trials_path is not None:
        trials = fingerprint_trials(trials_path)
    fallback = Path(trials_path or scores_path or "").stem
    bench = resolve_benchmark(benchmark, trials, fallback=fallback)
    if not metrics:
        raise AsvbenchError("no metrics to save")
    return ResultRecord(
        system=system, benchmark=bench, metrics=json_safe(dict(metrics)), variant=variant, trials=trials,
        model=tuple(model), normalization=dict(normalization) if normalization else None,
        fusion=dict(fusion) if fusion else None, definitions=dict(definitions or {}), det=det,
        scores=str(scores_path) if scores_path else None, simulated=simulated, command=command,
        breakdowns=tuple(json_safe(dict(b)) for b in breakdowns), meta=dict(meta or {}),
        coverage=coverage,
    )


def record_from_summary(summary, *, system: str, scores=None, labels=None, **kwargs: Any) -> ResultRecord:
    """A record from a :class:`asvbench.metrics.MetricsSummary` (the ``--save-result`` helper).

    The metric definitions come from the summary (EER method, P_target keys, costs). With
    ``scores``/``labels`` given, a compact DET curve (target vs everything else) is stored,
    and when ``trials``/``trials_path`` are not given the trials are fingerprinted from the labels.
    """
    from asvbench.types import Label

    metrics = summary.to_dict()
    p_targets = [float(p) for p in metrics.get("min_dcf", {})]
    definitions = {"eer_method": summary.eer_method, "p_target": p_targets, "c_miss": summary.c_miss,
                   "c_fa": summary.c_fa, **dict(kwargs.pop("definitions", None) or {})}
    det = None
    if scores is not None and labels is not None:
        lab = np.asarray(labels)
        det = det_data_from_scores(np.asarray(scores, np.float64), lab == Label.TARGET,
                                   p_target=p_targets[0] if p_targets else 0.01, c_miss=summary.c_miss,
                                   c_fa=summary.c_fa)
        if kwargs.get("trials") is None and kwargs.get("trials_path") is None:
            kwargs["trials"] = fingerprint_labels(lab, kwargs.pop("enroll", None), kwargs.pop("test", None),
                                                  source=str(kwargs.get("scores_path") or ""))
    kwargs.pop("enroll", None)
    kwargs.pop("test", None)
    return make_record(metrics, system=system, definitions=definitions, det=det, **kwargs)


def with_benchmark(record: ResultRecord, benchmark: str) -> ResultRecord:
    return replace(record, benchmark=benchmark)
