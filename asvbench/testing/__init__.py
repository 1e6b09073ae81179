"""Small data generators for tests (importable, no test framework needed).

Everything here writes files in the formats asvbench reads, using plain string formatting,
so a test can check a reader against data whose content it knows exactly. Nothing here
imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.io.embeddings import stack_rows, write_native_store
from asvbench.types import Label

__all__ = [
    "GeometryCase", "TRIAL_WRITERS", "synthetic_scores", "write_geometry_case", "write_score_lines", "write_store",
    "write_trials",
]

_WORD = {Label.TARGET: "target", Label.NONTARGET: "nontarget", Label.SPOOF: "spoof"}


def write_store(path: str | Path, embeddings: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
                manifest: dict | None = None) -> Path:
    """Write a native store from ``{key: vector (dim,) or rows (n, dim)}`` (several rows = multi-row key)."""
    keys = list(embeddings)
    matrix, offsets = stack_rows(np.asarray(embeddings[k], dtype=np.float32) for k in keys)
    return write_native_store(path, keys, matrix, offsets, manifest or {"model": "test"})


# ----------------------------------------------------------------------------- trial lists


def _vox(e: str, t: str, lab: int, _src: str) -> str:
    return f"{1 if lab == Label.TARGET else 0} {e} {t}"


def _kaldi(e: str, t: str, lab: int, _src: str) -> str:
    return f"{e} {t} {_WORD[Label(lab)]}"


def _cnceleb(e: str, t: str, lab: int, _src: str) -> str:
    return f"{e} {t} {1 if lab == Label.TARGET else 0}"


def _asvspoof(e: str, t: str, lab: int, src: str) -> str:
    return f"{e} {t} {src} {_WORD[Label(lab)]}"


#: Line writers per trial-list format (the ASVspoof5 TSV has a header and is written by :func:`write_trials`).
TRIAL_WRITERS = {"voxceleb": _vox, "kaldi": _kaldi, "cnceleb": _cnceleb, "asvspoof": _asvspoof}


def write_trials(path: str | Path, enroll: Sequence[str], test: Sequence[str], labels: Sequence[int],
                 fmt: str = "voxceleb", *, newline: str = "\n", final_newline: bool = True) -> Path:
    """Write a trial list in ``fmt`` (voxceleb, kaldi, cnceleb, asvspoof, asvspoof5).

    For ``asvspoof``/``asvspoof5`` the source column is ``bonafide`` for target/nontarget
    trials and ``A07`` for spoof trials. ``newline="\\r\\n"`` writes CRLF like Vox1-O cleaned.
    """
    sources = ["A07" if int(lab) == Label.SPOOF else "bonafide" for lab in labels]
    if fmt == "asvspoof5":
        lines = ["speaker\tfilename\tgender\tattack\tasv_label"]
        lines += [f"{e}\t{t}\tF\t{'-' if s == 'bonafide' else s}\t{_WORD[Label(int(lab))]}"
                  for e, t, lab, s in zip(enroll, test, labels, sources)]
    else:
        writer = TRIAL_WRITERS[fmt]
        lines = [writer(e, t, int(lab), s) for e, t, lab, s in zip(enroll, test, labels, sources)]
    text = newline.join(lines) + (newline if final_newline else "")
    p = Path(path)
    p.write_bytes(text.encode("utf-8"))
    return p


def write_score_lines(path: str | Path, rows: Sequence[Sequence[object]], header: str | None = None,
                      sep: str = " ") -> Path:
    """Write score rows (any columns) joined by ``sep``, with an optional header line."""
    lines = ([header] if header is not None else []) + [sep.join(str(v) for v in row) for row in rows]
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def synthetic_scores(n_target: int, n_nontarget: int, n_spoof: int = 0, *, seed: int = 0,
                     separation: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian scores (target mean ``separation``, nontarget 0, spoof ``separation / 2``) and Label codes."""
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(separation, 1.0, n_target), rng.normal(0.0, 1.0, n_nontarget),
                             rng.normal(separation / 2, 1.0, n_spoof)])
    labels = np.concatenate([np.full(n_target, Label.TARGET), np.full(n_nontarget, Label.NONTARGET),
                             np.full(n_spoof, Label.SPOOF)]).astype(np.int8)
    return scores, labels


# ----------------------------------------------------------------------------- known geometry


@dataclass(frozen=True)
class GeometryCase:
    """A native store of 2-d unit vectors at known angles and a VoxCeleb trial list over them.

    ``expected`` maps ``(enroll, test)`` to the cosine: ``cos(angle_enroll - angle_test)``.
    """

    store: Path
    trials: Path
    angles: dict[str, float]  # degrees
    expected: dict[tuple[str, str], float]
    labels: dict[tuple[str, str], int]


def write_geometry_case(directory: str | Path, *, trials_name: str = "trials.txt",
                        store_name: str = "store") -> GeometryCase:
    """Write a store with utterances at angles 0, 30, 45, 60, 90, 180 degrees (norms 1..6) and trials.

    Cosine similarity ignores the norm, so each trial's score is the cosine of the angle
    between its two vectors: 0 vs 60 -> 0.5, 0 vs 90 -> 0, 0 vs 180 -> -1, 30 vs 60 -> cos 30.
    Trials whose angle is below 50 degrees are labelled target.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    angles = {"a000": 0.0, "b030": 30.0, "c045": 45.0, "d060": 60.0, "e090": 90.0, "f180": 180.0}
    vectors = {}
    for norm, (key, deg) in enumerate(angles.items(), start=1):
        rad = math.radians(deg)
        vectors[key] = [norm * math.cos(rad), norm * math.sin(rad)]
    store = write_store(directory / store_name, vectors)
    pairs = [("a000", "b030"), ("a000", "c045"), ("a000", "d060"), ("a000", "e090"), ("a000", "f180"),
             ("b030", "d060"), ("c045", "e090"), ("d060", "f180"), ("e090", "f180"), ("b030", "c045")]
    expected = {(e, t): math.cos(math.radians(angles[e] - angles[t])) for e, t in pairs}
    labels = {(e, t): int(Label.TARGET if abs(angles[e] - angles[t]) < 50 else Label.NONTARGET) for e, t in pairs}
    trials = write_trials(directory / trials_name, [e for e, _ in pairs], [t for _, t in pairs],
                          [labels[p] for p in pairs], "voxceleb")
    return GeometryCase(store=store, trials=trials, angles=angles, expected=expected, labels=labels)
