"""Score files: reading the formats peers write, and writing asvbench's canonical TSV.

Read (auto-detected, or named with ``fmt``):

* ``wespeaker``: ``enroll test score label`` (WeSpeaker/Kaldi 4-column);
  also ``enroll test label score`` (3D-Speaker order), recognised from the first line;
* ``sasv``: SASV 2022 5-column ``spk utt source key score``;
* ``table``: CSV/TSV with a header naming a score column (``score``, or ``--score-column``)
  and a label column (``label``, ``key``, or any name ending in ``label``/``key``).

Labels: target/nontarget/spoof, 1/0 (2 = spoof), bonafide/spoof.

Written (``write_scores``): a TSV with header ``enroll test score label``, every score in
full float precision (shortest repr that round-trips), labels as words.

CM score stores (``write_cm_scores``/``read_cm_scores``): TSV with header
``utt cm_logit cm_prob_bonafide``: per-utterance countermeasure outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asvbench._atomic import atomic_open
from asvbench.errors import AsvbenchError
from asvbench.io._text import parse_floats, parse_labels, read_text, split_columns
from asvbench.types import LABEL_NAMES, LABEL_SPELLINGS

SCORE_FORMATS = ("auto", "wespeaker", "sasv", "table")


@dataclass
class ScoreTable:
    scores: np.ndarray  # float64
    labels: np.ndarray  # int8 Label codes
    enroll: np.ndarray | None = None  # object arrays of str
    test: np.ndarray | None = None
    fmt: str = ""
    source: str = ""

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def _first_data_line(text: str) -> tuple[int, str]:
    for no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return no, line
    return 0, ""


def _is_label(token: str, label_map: dict[str, int] | None = None) -> bool:
    return token.strip().lower() in (label_map or LABEL_SPELLINGS)


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def detect_score_format(text: str, path: str | Path) -> str:
    no, line = _first_data_line(text)
    if not no:
        raise AsvbenchError("score file is empty", where=path, hint="it must hold one trial per line")
    if "," in line or "\t" in line:
        fields = [f.strip() for f in line.replace("\t", ",").split(",")]
        if any("score" in f.lower() for f in fields):
            return "table"
    fields = line.split()
    if len(fields) == 5:
        return "sasv"
    if len(fields) == 4:
        return "wespeaker"
    if len(fields) >= 2 and any("score" in f.lower() for f in fields):
        return "table"
    raise AsvbenchError(
        f"cannot tell the score-file format from the first line ({len(fields)} fields): {line!r}",
        where=f"{path}:{no}",
        hint="expected 'enroll test score label', 'spk utt source key score', or a CSV/TSV with a header",
    )


def read_scores(path: str | Path, fmt: str = "auto", *, score_column: str | None = None,
                label_column: str | None = None, label_map: dict[str, int] | None = None) -> ScoreTable:
    """Read a score file with labels. See the module docstring for the formats.

    ``label_map`` (see :func:`asvbench.types.parse_label_map`) replaces the default label spellings;
    numeric labels other than 0/1 (e.g. 2) are ambiguous between conventions and need one.
    """
    if fmt not in SCORE_FORMATS:
        raise AsvbenchError(f"unknown score format {fmt!r}", hint=f"choose one of: {', '.join(SCORE_FORMATS)}")
    text = read_text(path)
    if fmt == "auto":
        fmt = detect_score_format(text, path)
    if fmt == "wespeaker":
        return _read_four_column(text, path, label_map)
    if fmt == "sasv":
        frame = split_columns(text, path, 5, ["spk", "utt", "source", "key", "score"])
        return ScoreTable(
            scores=parse_floats(frame["score"], text, path, "score"),
            labels=parse_labels(frame["key"], text, path, spellings=label_map),
            enroll=frame["spk"].to_numpy(object), test=frame["utt"].to_numpy(object), fmt="sasv", source=str(path),
        )
    return _read_table(text, path, score_column, label_column, label_map)


def _read_four_column(text: str, path: str | Path, label_map: dict[str, int] | None) -> ScoreTable:
    no, line = _first_data_line(text)
    fields = line.split()
    # WeSpeaker: enroll test score label; 3D-Speaker: enroll test label score.
    if _is_label(fields[3], label_map) and _is_float(fields[2]):
        names = ["enroll", "test", "score", "label"]
    elif _is_label(fields[2], label_map) and _is_float(fields[3]):
        names = ["enroll", "test", "label", "score"]
    else:
        raise AsvbenchError(f"4-column line has no label/score pair: {line!r}", where=f"{path}:{no}",
                            hint="expected 'enroll test score label' with label target/nontarget/spoof or 1/0")
    frame = split_columns(text, path, 4, names)
    return ScoreTable(
        scores=parse_floats(frame["score"], text, path, "score"),
        labels=parse_labels(frame["label"], text, path, spellings=label_map),
        enroll=frame["enroll"].to_numpy(object), test=frame["test"].to_numpy(object), fmt="wespeaker",
        source=str(path),
    )


def _pick_column(columns: list[str], wanted: str | None, defaults: tuple[str, ...], suffixes: tuple[str, ...],
                 what: str, path: str | Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise AsvbenchError(f"no {what} column {wanted!r} in the header", where=f"{path}:1",
                                hint=f"columns are: {', '.join(columns)}")
        return wanted
    lowered = {c.lower(): c for c in columns}
    for name in defaults:
        if name in lowered:
            return lowered[name]
    matches = [c for c in columns if c.lower().endswith(suffixes)]
    if len(matches) == 1:
        return matches[0]
    flag = "--score-column" if what == "score" else "--label-column"
    raise AsvbenchError(
        f"cannot tell which column holds the {what}" + (f" (candidates: {', '.join(matches)})" if matches else ""),
        where=f"{path}:1", hint=f"name it with {flag}; columns are: {', '.join(columns)}",
    )


def _read_table(text: str, path: str | Path, score_column: str | None, label_column: str | None,
                label_map: dict[str, int] | None) -> ScoreTable:
    import io

    no, header = _first_data_line(text)
    sep = "\t" if "\t" in header else ("," if "," in header else r"\s+")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                            engine="c")
    except pd.errors.ParserError as exc:
        raise AsvbenchError(f"cannot parse table: {exc}", where=path) from None
    if frame.empty:
        raise AsvbenchError("score table has a header but no rows", where=path)
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    score_col = _pick_column(columns, score_column, ("score", "sasv_score", "sasv-score"), ("score",), "score", path)
    label_col = _pick_column(columns, label_column, ("label", "key", "sasv_label", "asv-label", "asv_label"),
                             ("label", "key"), "label", path)
    spellings = label_map or {**LABEL_SPELLINGS, "1.0": 1, "0.0": 0}
    enroll = next((c for c in columns if c.lower() in ("enroll", "enrol", "spk", "speaker", "model")), None)
    test = next((c for c in columns if c.lower() in ("test", "utt", "filename", "utterance")), None)
    return ScoreTable(
        scores=parse_floats(frame[score_col], text, path, "score", skiprows=1),
        labels=parse_labels(frame[label_col], text, path, skiprows=1, spellings=spellings),
        enroll=frame[enroll].to_numpy(object) if enroll else None,
        test=frame[test].to_numpy(object) if test else None,
        fmt="table", source=str(path),
    )


def format_float(values: np.ndarray) -> list[str]:
    """Shortest decimal strings that round-trip exactly (no rounding that creates ties)."""
    return [repr(float(v)) for v in values.tolist()]


def write_scores(path: str | Path, enroll, test, scores: np.ndarray, labels: np.ndarray | None) -> Path:
    """Write the canonical score TSV atomically: ``enroll test score label`` with a header."""
    names = np.array([LABEL_NAMES[i] for i in range(3)], dtype=object)
    label_text = names[np.asarray(labels, dtype=np.int64)] if labels is not None else np.full(len(scores), "-", object)
    score_text = np.asarray(scores, dtype=np.float64).astype(str)  # numpy str() of float64 is repr: round-trips
    with atomic_open(path, "w") as handle:
        handle.write("enroll\ttest\tscore\tlabel\n")
        handle.write("\n".join("\t".join(row) for row in zip(enroll, test, score_text, label_text)))
        handle.write("\n")
    return Path(path)


# ----------------------------------------------------------------------------- CM score stores

CM_COLUMNS = ("utt", "cm_logit", "cm_prob_bonafide")


def write_cm_scores(path: str | Path, utts, logits: np.ndarray, probs: np.ndarray) -> Path:
    """Write per-utterance CM outputs (bona fide logit and softmax probability) as TSV atomically."""
    with atomic_open(path, "w") as handle:
        handle.write("\t".join(CM_COLUMNS) + "\n")
        for u, lg, pr in zip(utts, np.asarray(logits, np.float64).tolist(), np.asarray(probs, np.float64).tolist()):
            handle.write(f"{u}\t{lg!r}\t{pr!r}\n")
    return Path(path)


def read_cm_scores(path: str | Path) -> pd.DataFrame:
    """Read a CM score store; returns a DataFrame indexed by ``utt`` with float columns.

    Also accepts a 2-column ``utt score`` file (score taken as the logit; probability empty).
    """
    text = read_text(path)
    no, first = _first_data_line(text)
    if not no:
        raise AsvbenchError("CM score file is empty", where=path)
    if first.split()[0] == "utt":
        frame = split_columns(text, path, 3, list(CM_COLUMNS), skiprows=1)
        out = pd.DataFrame({
            "cm_logit": parse_floats(frame["cm_logit"], text, path, "cm_logit", skiprows=1),
            "cm_prob_bonafide": parse_floats(frame["cm_prob_bonafide"], text, path, "cm_prob_bonafide", skiprows=1),
        }, index=frame["utt"].to_numpy(object))
    else:
        frame = split_columns(text, path, 2, ["utt", "score"])
        out = pd.DataFrame({"cm_logit": parse_floats(frame["score"], text, path, "score"),
                            "cm_prob_bonafide": np.nan}, index=frame["utt"].to_numpy(object))
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise AsvbenchError(f"utterance {dup!r} appears more than once in the CM scores", where=path)
    out.index.name = "utt"
    return out
