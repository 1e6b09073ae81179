"""Trial lists and enrolment maps.

Trial-list formats (auto-detected from the first data line, or named with ``fmt``):

==============  =====================================  ==============================================
name            line                                   used by
==============  =====================================  ==============================================
``voxceleb``    ``1|0 enroll test``                    Vox1-O/E/H (CRLF tolerated)
``kaldi``       ``enroll test target|nontarget``       WeSpeaker / Kaldi
``cnceleb``     ``enroll test 1|0``                    CN-Celeb ``trials.lst`` (enrol ids = speaker models)
``asvspoof``    ``spk utt source key``                 ASVspoof 2019 LA ASV / SASV 2022 (key: target|nontarget|spoof)
``asvspoof5``   TSV with a header                      ASVspoof5 SASV protocols (speaker, file, label columns)
==============  =====================================  ==============================================

Enrolment maps (``read_enroll_map``) map a model id to utterances: one model per line followed
by its utterances, comma- or space-separated (ASVspoof ``spk utt1,utt2,...``; CN-Celeb
``enroll.map`` ``model utt [utt ...]``); a model may span several lines.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asvbench.errors import AsvbenchError, at_line
from asvbench.io._bytes import ByteKeys, ascii_fast_path_ok, hash_rows, split_ascii
from asvbench.io._text import (
    decode_text,
    head_text,
    read_bytes,
    first_data_line,
    exact_columns,
    fast_columns,
    file_line,
    line_of,
    map_labels,
    parse_labels,
    read_text,
    split_columns,
)
from asvbench.io.formats import TRIAL_FORMATS  # noqa: F401 (defined there; re-exported)
from asvbench.types import Label

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where it is used (start-up time)
    import pandas as pd


_VOX_LABELS = {"1": Label.TARGET, "0": Label.NONTARGET}
_KALDI_LABELS = {"target": Label.TARGET, "nontarget": Label.NONTARGET, "non-target": Label.NONTARGET}
_SASV_KEYS = {"target": Label.TARGET, "nontarget": Label.NONTARGET, "spoof": Label.SPOOF}


class Trials:
    """A parsed trial list: enrolment ids, test ids and :class:`~asvbench.types.Label` codes.

    Lists read by the byte-level parser (:mod:`asvbench.io._bytes`) keep their ids as byte
    offsets (``key_bytes``) and decode ``enroll`` / ``test`` into ``str`` arrays only when
    something asks for them; scoring and writing use the bytes directly.
    """

    def __init__(self, enroll: np.ndarray | None, test: np.ndarray | None, labels: np.ndarray, fmt: str,
                 source: str = "", extra: dict[str, np.ndarray] | None = None, *,
                 key_bytes: "dict[str, ByteKeys] | None" = None):
        self._ids = {"enroll": enroll, "test": test}
        self.labels = labels
        self.fmt = fmt
        self.source = source
        self.extra = extra if extra is not None else {}
        self.key_bytes = key_bytes or {}

    def _side(self, which: str) -> np.ndarray:
        ids = self._ids[which]
        if ids is None:
            ids = self._ids[which] = self.key_bytes[which].decode()
        return ids

    @property
    def enroll(self) -> np.ndarray:
        """Enrolment ids (object array of str)."""
        return self._side("enroll")

    @property
    def test(self) -> np.ndarray:
        """Test ids (object array of str)."""
        return self._side("test")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        return f"Trials(n={len(self)}, fmt={self.fmt!r}, source={self.source!r})"

    def counts(self) -> dict[str, int]:
        return {
            "target": int((self.labels == Label.TARGET).sum()),
            "nontarget": int((self.labels == Label.NONTARGET).sum()),
            "spoof": int((self.labels == Label.SPOOF).sum()),
        }


def detect_trials_format(text: str, path: str | Path) -> str:
    """Guess the trial-list format from the first data line."""
    no, line = first_data_line(text)
    if not no:
        raise AsvbenchError("trial list is empty", where=path, hint="it must hold one trial per line")
    fields = line.split()
    lowered = [f.lower() for f in fields]
    if "\t" in line and not any(f in _SASV_KEYS for f in lowered) and any(
        f in ("filename", "file", "utt", "asv-label", "asv_label", "key", "label") for f in lowered
    ):
        return "asvspoof5"
    if len(fields) == 3:
        if lowered[0] in _VOX_LABELS and lowered[2] not in _VOX_LABELS:
            return "voxceleb"
        if lowered[2] in _KALDI_LABELS:
            return "kaldi"
        if lowered[2] in _VOX_LABELS:
            return "cnceleb"
    if len(fields) == 4 and lowered[3] in _SASV_KEYS:
        return "asvspoof"
    raise AsvbenchError(
        f"cannot tell the trial-list format from its first line ({len(fields)} fields): {line!r}",
        where=at_line(path, no),
        hint="name it with --trials-format " + "|".join(TRIAL_FORMATS[1:]),
    )


def read_trials(path: str | Path, fmt: str = "auto") -> Trials:
    """Read a trial list in any supported format (see the module docstring).

    Plain-ASCII lists in the three-column formats take the byte-level parser (ids stay
    bytes until asked for); anything else, and any list with a bad line, goes through the
    text parser, which reports the first bad line.
    """
    if fmt not in TRIAL_FORMATS:
        raise AsvbenchError(f"unknown trial-list format {fmt!r}", hint=f"choose one of: {', '.join(TRIAL_FORMATS)}")
    raw = read_bytes(path)
    if fmt == "auto":
        fmt = detect_trials_format(head_text(raw, path), path)
    if fmt in _ASCII_FORMATS and ascii_fast_path_ok(raw):
        trials = _read_ascii(raw, path, fmt)
        if trials is not None:
            return trials
    text = decode_text(raw, path)
    src = str(path)
    if fmt == "asvspoof5":
        return _read_asvspoof5(text, path)
    names, spellings = _LAYOUTS[fmt]
    columns = fast_columns(text, path, names)
    try:
        labels = map_labels(columns["label"], text, path, spellings)
    except AsvbenchError:
        # a wrong column count can shift tokens into the label column: re-check line by line first
        columns = exact_columns(text, path, names)
        labels = map_labels(columns["label"], text, path, spellings)
    trials = Trials(_array(columns["enroll"]), _array(columns["test"]), labels, fmt, src)
    if fmt == "asvspoof":
        trials.extra["source"] = _array(columns["source"])
        _check_sasv_sources(trials.extra["source"], labels, text, path)
    return trials


_LAYOUTS = {
    "voxceleb": (["label", "enroll", "test"], _VOX_LABELS),
    "kaldi": (["enroll", "test", "label"], _KALDI_LABELS),
    "cnceleb": (["enroll", "test", "label"], _VOX_LABELS),
    "asvspoof": (["enroll", "test", "source", "label"], _SASV_KEYS),
}
_ASCII_FORMATS = ("voxceleb", "kaldi", "cnceleb")
_LABEL_WIDTH = 16


def _read_ascii(raw: bytes, path: str | Path, fmt: str) -> Trials | None:
    """The byte-level reader; None when a label is unknown (the text path reports it)."""
    names, spellings = _LAYOUTS[fmt]
    columns = split_ascii(raw, names, path)
    labels = _ascii_labels(columns.column(names.index("label")), spellings)
    if labels is None:
        return None
    keys = {side: columns.column(names.index(side)) for side in ("enroll", "test")}
    return Trials(None, None, labels, fmt, str(path), key_bytes=keys)


def _ascii_labels(tokens: ByteKeys, spellings: dict[str, int]) -> np.ndarray | None:
    """Label codes of byte tokens (case-insensitive), or None if any token is not a known spelling."""
    if int(tokens.lengths.max()) > _LABEL_WIDTH:
        return None
    rows = tokens.matrix(_LABEL_WIDTH)
    rows += np.uint8(32) * ((rows >= 65) & (rows <= 90))  # ASCII lower case
    hashes = hash_rows(rows)
    codes = np.full(len(tokens), -1, dtype=np.int8)
    for word, code in spellings.items():
        want = np.zeros((1, _LABEL_WIDTH), np.uint8)
        want[0, : len(word)] = np.frombuffer(word.encode("ascii"), np.uint8)
        hit = np.flatnonzero(hashes == hash_rows(want)[0])
        codes[hit[(rows[hit] == want).all(axis=1)]] = code
    return None if (codes < 0).any() else codes


def _array(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=object)


def _check_sasv_sources(sources: np.ndarray, labels: np.ndarray, text: str, path: str | Path) -> None:
    """Target and non-target trials must be bona fide; spoof trials must name an attack."""
    import pandas as pd

    bona = pd.Series(sources).str.lower().to_numpy() == "bonafide"
    bad = (bona & (labels == Label.SPOOF)) | (~bona & (labels != Label.SPOOF))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        no = file_line(text, row)
        raise AsvbenchError(
            f"source and key disagree (target/nontarget must be bonafide, spoof must name an attack): "
            f"{line_of(text, no)!r}", where=at_line(path, no),
        )


def _read_asvspoof5(text: str, path: str | Path) -> Trials:
    import pandas as pd

    sep = "\t" if "\t" in first_data_line(text)[1] else r"\s+"
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as exc:  # e.g. "Expected 3 fields in line 7, saw 4" (file line numbers)
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        if not match:
            raise AsvbenchError(f"cannot parse the ASVspoof5 trial list: {exc}", where=path) from None
        no = int(match.group(1))
        raise AsvbenchError(f"found {match.group(2)} columns, more than the header names: {line_of(text, no)!r}",
                            where=at_line(path, no)) from None
    if frame.empty:
        raise AsvbenchError("no data lines (only a header)", where=path)
    columns = {c.strip().lower(): c for c in frame.columns}

    def pick(*names: str) -> str:
        for name in names:
            if name in columns:
                return columns[name]
        raise AsvbenchError(f"ASVspoof5 trial list has no column among {', '.join(names)}", where=at_line(path, 1),
                            hint=f"columns are: {', '.join(frame.columns)}")

    spk = pick("spk", "speaker", "enroll", "enrolment", "enrollment", "model", "spk_id")
    utt = pick("filename", "file", "utt", "utterance", "test", "flac_file_name")
    key = pick("asv-label", "asv_label", "sasv-label", "sasv_label", "key", "label")
    labels = parse_labels(frame[key], text, path, skiprows=1, spellings=_SASV_KEYS)
    extra = {c: frame[c].to_numpy(object) for c in frame.columns if c not in (spk, utt, key)}
    return Trials(_col(frame, spk), _col(frame, utt), labels, "asvspoof5", str(path), extra)


def read_enroll_map(paths: str | Path | list[str | Path]) -> dict[str, list[str]]:
    """Read one or more enrolment maps into ``{model: [utterances]}``.

    Lines are ``model utt1,utt2,...`` or ``model utt1 utt2 ...``; repeated models accumulate.
    """
    mapping: dict[str, list[str]] = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        text = read_text(path)
        for no, line in enumerate(text.splitlines(), start=1):
            fields = line.replace(",", " ").split()
            if not fields:
                continue
            if len(fields) < 2:
                raise AsvbenchError(f"enrolment line has a model but no utterances: {line!r}",
                                    where=at_line(path, no), hint="lines must be: model utt1,utt2,...")
            mapping.setdefault(fields[0], []).extend(fields[1:])
    if not mapping:
        raise AsvbenchError("enrolment map is empty", where=paths if isinstance(paths, (str, Path)) else paths[0])
    return mapping


def read_utt2spk(path: str | Path) -> dict[str, str]:
    """Read a Kaldi ``utt2spk`` file (``utt spk`` per line)."""
    text = read_text(path)
    frame = split_columns(text, path, 2, ["utt", "spk"])
    if frame["utt"].duplicated().any():
        dup = frame["utt"][frame["utt"].duplicated()].iloc[0]
        raise AsvbenchError(f"utterance {dup!r} is listed twice", where=path)
    return dict(zip(frame["utt"], frame["spk"]))
