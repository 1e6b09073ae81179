"""Result records: one JSON file per evaluated system x benchmark.

A record says *what* was measured (system, variant, benchmark and the fingerprint of
its trial list), *how* (model and checkpoint sha256, normalisation and fusion settings,
the metric definitions: EER method, P_target, costs) and *the numbers* (the metrics as
:meth:`asvbench.metrics.MetricsSummary.to_dict` gives them: rates are fractions). It may
also carry a compact DET curve (at most :data:`DET_MAX_POINTS` points, thinned in probit
space so the low-error ends keep their detail) so that ``asvbench report --det`` can draw
it without the score file.

Records are written by ``asvbench score/metrics/fuse --save-result FILE``, read by
``asvbench report`` and compared by ``asvbench compare``. The JSON schema is
:data:`SCHEMA`; reading checks it and raises :class:`AsvbenchError` on anything a
user could have broken (not JSON, missing fields, no metrics).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from asvbench import __version__
from asvbench._atomic import atomic_write_text
from asvbench._json import json_safe
from asvbench.errors import AsvbenchError

#: Schema tag written into every record.
SCHEMA = "asvbench.result/1"
#: Most points a stored DET curve keeps.
DET_MAX_POINTS = 2000
#: Prefixes of benchmark names that are not in the trials registry.
FREE_PREFIXES = ("custom:", "simulated:")


# --------------------------------------------------------------------------- trial fingerprints

@dataclass(frozen=True)
class TrialsFingerprint:
    """Identity of a trial list.

    ``sha256`` is of the file's bytes; ``content_sha256`` of its records normalised to
    single spaces, LF endings and a final newline (so a CRLF and an LF copy of one list
    share it). ``n_lines`` counts non-blank lines (a header line included).
    ``label_counts`` maps label names (target, nontarget, spoof, bonafide) to counts, or is
    empty when no label column was recognised.
    """

    sha256: str | None
    content_sha256: str
    n_lines: int
    label_counts: dict[str, int] = field(default_factory=dict)
    line_endings: str = "lf"  # lf | crlf | mixed | none
    final_newline: bool = True
    source: str = ""  # informational: the path it came from

    def same_trials(self, other: TrialsFingerprint) -> bool:
        return self.content_sha256 == other.content_sha256

    def describe(self) -> str:
        counts = ", ".join(f"{v:,} {k}" for k, v in self.label_counts.items())
        return f"{self.n_lines:,} lines" + (f" ({counts})" if counts else "") + f", sha256 {self.content_sha256[:12]}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> TrialsFingerprint:
        try:
            return cls(
                sha256=data.get("sha256"),
                content_sha256=str(data["content_sha256"]),
                n_lines=int(data["n_lines"]),
                label_counts={str(k): int(v) for k, v in (data.get("label_counts") or {}).items()},
                line_endings=str(data.get("line_endings", "lf")),
                final_newline=bool(data.get("final_newline", True)),
                source=str(data.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AsvbenchError(f"malformed trials fingerprint ({exc})", where=where,
                                hint="it needs content_sha256 and n_lines") from None


_WORD_LABELS = {
    "target": "target", "tgt": "target", "nontarget": "nontarget", "non-target": "nontarget",
    "nontgt": "nontarget", "imp": "nontarget", "impostor": "nontarget", "spoof": "spoof",
    "bonafide": "bonafide", "bona-fide": "bonafide", "genuine": "bonafide",
}
_DIGIT_LABELS = {"1": "target", "0": "nontarget"}
#: The ASVspoof5 Tool-score-fusion CSV convention (its script's defaults): 1 target, 2 nontarget, 0 spoof.
_SASV_LABEL_COLUMN = {"1.0": "target", "2.0": "nontarget", "0.0": "spoof", "1": "target", "2": "nontarget",
                      "0": "spoof"}


def _line_endings(data: bytes) -> str:
    n_crlf = data.count(b"\r\n")
    n_lf = data.count(b"\n")
    if n_lf == 0:
        return "none"
    if n_crlf == n_lf:
        return "crlf"
    return "lf" if n_crlf == 0 else "mixed"


def _label_column(first: list[str]) -> tuple[int | None, dict[str, str] | None, bool]:
    """(column index, value mapping, first line is a header) from the first record."""
    lowered = [t.lower() for t in first]
    for i, tok in enumerate(lowered):
        if tok in ("sasv_label", "sasv-label"):
            return i, _SASV_LABEL_COLUMN, True
    for i, tok in enumerate(lowered):
        if tok in ("label", "key", "asv_label", "asv-label", "cm-label", "cm_label") or tok.endswith(("_label", "_key")):
            return i, {**_WORD_LABELS, **_DIGIT_LABELS}, True
    if lowered and lowered[-1] in _WORD_LABELS:
        return len(lowered) - 1, _WORD_LABELS, False
    if lowered and lowered[0] in _DIGIT_LABELS and len(lowered) >= 3:
        return 0, _DIGIT_LABELS, False
    if lowered and lowered[-1] in _DIGIT_LABELS and len(lowered) >= 3:
        return len(lowered) - 1, _DIGIT_LABELS, False
    return None, None, False


def _split(line: str) -> list[str]:
    return [t.strip() for t in line.split(",")] if "," in line else line.split()


def fingerprint_bytes(data: bytes, source: str = "") -> TrialsFingerprint:
    """Fingerprint a trial list given as bytes (see :class:`TrialsFingerprint`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AsvbenchError(f"trial list is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            where=source or None) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise AsvbenchError("trial list is empty", where=source or None)
    normalised = "\n".join(" ".join(line.split()) for line in lines) + "\n"
    counts: dict[str, int] = {}
    col, mapping, header = _label_column(_split(lines[0]))
    if col is not None and mapping is not None:
        body = lines[1:] if header else lines
        raw = Counter(tokens[col].lower() if len(tokens) > col else "" for tokens in map(_split, body))
        if all(k in mapping for k in raw):
            merged: Counter[str] = Counter()
            for k, v in raw.items():
                merged[mapping[k]] += v
            order = ("target", "nontarget", "spoof", "bonafide")
            counts = {k: merged[k] for k in order if merged.get(k)}
    return TrialsFingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        content_sha256=hashlib.sha256(normalised.encode("utf-8")).hexdigest(),
        n_lines=len(lines),
        label_counts=counts,
        line_endings=_line_endings(data),
        final_newline=data.endswith(b"\n"),
        source=source,
    )


def fingerprint_trials(path: str | Path) -> TrialsFingerprint:
    """Fingerprint the trial list at ``path``: sha256 of the bytes and of the normalised
    content, non-blank line count, label counts, line-ending style."""
    p = Path(path)
    if not p.is_file():
        raise AsvbenchError("trial list not found" if not p.exists() else "expected a file, got a directory",
                            where=p)
    return fingerprint_bytes(p.read_bytes(), source=str(p))


def fingerprint_labels(labels, enroll=None, test=None, source: str = "") -> TrialsFingerprint:
    """Fingerprint the trials of a score table (no trial file): the content hashed is one
    ``enroll test label`` line per trial (``index label`` when names are absent)."""
    from asvbench.types import LABEL_NAMES

    lab = np.asarray(labels, dtype=np.int64)
    names = [LABEL_NAMES.get(int(c), str(c)) for c in lab.tolist()]
    if enroll is not None and test is not None:
        rows = (f"{e} {t} {n}" for e, t, n in zip(enroll, test, names))
    else:
        rows = (f"{i} {n}" for i, n in enumerate(names))
    text = "\n".join(rows) + "\n"
    counts = Counter(names)
    return TrialsFingerprint(
        sha256=None, content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), n_lines=len(names),
        label_counts={k: counts[k] for k in ("target", "nontarget", "spoof") if counts.get(k)}, source=source,
    )


# --------------------------------------------------------------------------- record parts

@dataclass(frozen=True)
class ModelInfo:
    """The model that produced the scores (for fused systems, one per sub-system)."""

    name: str
    checkpoint_sha256: str | None = None
    checkpoint: str | None = None  # informational path


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


# --------------------------------------------------------------------------- benchmark names

def resolve_benchmark(name: str | None, fingerprint: TrialsFingerprint | None, fallback: str = "") -> str:
    """The benchmark name a record gets.

    * ``name`` given and registered (name or alias): the canonical name; when the registry
      knows the list's content sha256 and ``fingerprint`` disagrees, that is an error
      (the message says what differs, e.g. original vs cleaned list).
    * ``name`` given with a ``custom:``/``simulated:`` prefix: used as is.
    * ``name`` given, unregistered and unprefixed: an error listing the registered names.
    * no ``name``: the registered benchmark whose fingerprint matches, else
      ``custom:<fallback>``.
    """
    from asvbench import trials_registry as reg

    if name:
        if name.startswith(FREE_PREFIXES):
            if len(name.split(":", 1)[1].strip()) == 0:
                raise AsvbenchError(f"benchmark name {name!r} is empty after the prefix")
            return name
        bench = reg.get_benchmark(name)
        if fingerprint is not None and bench.content_sha256:
            report = reg.verify_fingerprint(bench, fingerprint)
            if not report.ok:
                raise AsvbenchError(
                    f"the trial list does not match benchmark {bench.name!r}: " + "; ".join(report.problems),
                    where=fingerprint.source or None,
                    hint="check you passed the right list, or name it custom:<name>",
                )
        return bench.name
    if fingerprint is not None:
        found = reg.identify_benchmark(fingerprint)
        if found is not None:
            return found.name
    stem = fallback or (Path(fingerprint.source).stem if fingerprint and fingerprint.source else "unnamed")
    return f"custom:{stem}"


def make_record(metrics: Mapping[str, Any], *, system: str, benchmark: str | None = None, variant: str = "",
                trials_path: str | Path | None = None, trials: TrialsFingerprint | None = None,
                scores_path: str | Path | None = None, definitions: Mapping[str, Any] | None = None,
                normalization: Mapping[str, Any] | None = None, fusion: Mapping[str, Any] | None = None,
                model: tuple[ModelInfo, ...] | list[ModelInfo] = (), det: DetData | None = None,
                simulated: bool = False, command: str = "",
                breakdowns: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
                meta: Mapping[str, Any] | None = None) -> ResultRecord:
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
