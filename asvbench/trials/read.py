"""Trial lists: reading, format detection, the repeated-trial check.

Trial-list formats (auto-detected from the first data line, or named with ``fmt``):

==============  =====================================  ==============================================
name            line                                   used by
==============  =====================================  ==============================================
``voxceleb``    ``1|0 enroll test``                    Vox1-O/E/H (CRLF tolerated)
``kaldi``       ``enroll test target|nontarget``       WeSpeaker / Kaldi
``cnceleb``     ``enroll test 1|0``                    CN-Celeb ``trials.lst`` (enrol ids = speaker models)
``asvspoof``    ``spk utt source key``                 ASVspoof 2019 LA ASV / SASV 2022 (key: target|nontarget|spoof)
``asvspoof5``   TSV with a header                      ASVspoof5 SASV protocols (speaker, file, label columns)
``asvspoof5``   ``spk file gender attack key``         ASVspoof5 Track 2 ``*.track_2.trial.tsv`` (no header)
==============  =====================================  ==============================================

A list read from a file carries its :attr:`Trials.fingerprint`, computed from the bytes read.
Enrolment maps and ``utt2spk`` files are read by :mod:`asvbench.io.enroll`.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError, at_line
from asvbench.io._bytes import ByteKeys, hash_rows, split_checked_ascii
from asvbench.io._sasv import check_sasv_sources
from asvbench.io._text import (
    decode_text,
    exact_columns,
    fast_columns,
    file_line,
    first_data_line,
    head_text,
    line_of,
    map_labels,
    parse_labels,
    read_bytes,
)
from asvbench.io.duplicates import duplicate_rows
from asvbench.io.formats import TRIAL_FORMATS
from asvbench.labels import FORMAT_LABELS, KALDI_LABELS, LABEL_HEADERS, SASV_KEYS, VOXCELEB_LABELS
from asvbench.trials.fingerprint import FingerprintBuilder, TrialsFingerprint, fingerprint_bytes
from asvbench.types import Label

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where it is used (start-up time)
    import pandas as pd



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
        self._fingerprint: TrialsFingerprint | None = None
        #: computes the fingerprint from the bytes the reader read (set by the readers)
        self._fingerprint_of: Callable[[], TrialsFingerprint] | None = None

    #: repeated (enrolment, test) pairs kept because the reader was told to allow them
    n_duplicates: int = 0

    @property
    def fingerprint(self) -> TrialsFingerprint | None:
        """The list's :class:`~asvbench.trials.fingerprint.TrialsFingerprint`, computed on first use
        from the bytes the reader read (the file is not read again); None for trials not read from a file."""
        if self._fingerprint is None and self._fingerprint_of is not None:
            self._fingerprint = self._fingerprint_of()
            self._fingerprint_of = None
        return self._fingerprint

    @fingerprint.setter
    def fingerprint(self, value: TrialsFingerprint | None) -> None:
        self._fingerprint, self._fingerprint_of = value, None

    def line_of(self, row: int) -> tuple[int, str]:
        """(1-based file line, its text) of trial ``row``; the readers replace it."""
        return row + 1, ""

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
    if "\t" in line and not any(f in SASV_KEYS for f in lowered) and any(
        f in ("filename", "file", "utt", "asv-label", "asv_label", "key", "label") for f in lowered
    ):
        return "asvspoof5"
    if len(fields) == 3:
        if lowered[0] in VOXCELEB_LABELS and lowered[2] not in VOXCELEB_LABELS:
            return "voxceleb"
        if lowered[2] in KALDI_LABELS:
            return "kaldi"
        if lowered[2] in VOXCELEB_LABELS:
            return "cnceleb"
    if len(fields) == 4 and lowered[3] in SASV_KEYS:
        return "asvspoof"
    if _is_track2_line(line):
        return "asvspoof5"
    raise AsvbenchError(
        f"cannot tell the trial-list format from its first line ({len(fields)} fields): {line!r}",
        where=at_line(path, no),
        hint="name it with --trials-format " + "|".join(TRIAL_FORMATS[1:]),
    )


def read_trials(path: str | Path, fmt: str = "auto", *, allow_duplicates: bool = False,
                check_duplicates: bool = True) -> Trials:
    """Read a trial list in any supported format (see the module docstring).

    Plain-ASCII lists in the three-column formats take the byte-level parser (ids stay
    bytes until asked for); anything else, and any list with a bad line, goes through the
    text parser, which reports the first bad line.

    A trial (enrolment, test pair) listed twice is an error naming both lines; with
    ``allow_duplicates`` it is kept (``Trials.n_duplicates`` counts the repeats). The same
    pair with two different labels is always an error. ``check_duplicates=False`` leaves
    the check to the caller (scoring does it on integer id codes, which is cheaper).
    """
    trials = _read_trials(path, fmt)
    if check_duplicates:
        trials.n_duplicates = check_duplicate_trials(trials, allow_duplicates=allow_duplicates)
    return trials


def _read_trials(path: str | Path, fmt: str) -> Trials:
    check_choice(fmt, TRIAL_FORMATS, "trial-list format")
    raw = read_bytes(path)
    trials = _parse_trials(raw, path, fmt)
    if trials._fingerprint_of is None:
        trials._fingerprint_of = lambda: fingerprint_bytes(raw, str(Path(path)))
    return trials


def _parse_trials(raw: bytes, path: str | Path, fmt: str) -> Trials:
    if fmt == "auto":
        fmt = detect_trials_format(head_text(raw, path), path)
    if fmt in _ASCII_FORMATS:
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
    trials.line_of = _text_lines(text, 0)
    if fmt == "asvspoof":
        trials.extra["source"] = _array(columns["source"])
        check_sasv_sources(trials.extra["source"], labels, text, path)
    return trials


_COLUMNS = {
    "voxceleb": ["label", "enroll", "test"],
    "kaldi": ["enroll", "test", "label"],
    "cnceleb": ["enroll", "test", "label"],
    "asvspoof": ["enroll", "test", "source", "label"],
}
_LAYOUTS = {fmt: (names, FORMAT_LABELS[fmt]) for fmt, names in _COLUMNS.items()}
_ASCII_FORMATS = ("voxceleb", "kaldi", "cnceleb")
_LABEL_WIDTH = 16


def _read_ascii(raw: bytes, path: str | Path, fmt: str) -> Trials | None:
    """The byte-level reader; None for a list it does not take (:func:`ascii_fast_path_ok`) or an
    unknown label (the text path reads and reports those)."""
    names, spellings = _LAYOUTS[fmt]
    columns = split_checked_ascii(raw, names, path)
    if columns is None:
        return None
    labels = _ascii_labels(columns.column(names.index("label")), spellings)
    if labels is None:
        return None
    keys = {side: columns.column(names.index(side)) for side in ("enroll", "test")}
    trials = Trials(None, None, labels, fmt, str(path), key_bytes=keys)
    trials.line_of = lambda row: (columns.line_number(row), columns.line_text(row))
    trials._fingerprint_of = lambda: _ascii_fingerprint(raw, columns, labels, str(Path(path)), names.index("label"))
    return trials


def _ascii_fingerprint(raw: bytes, columns, labels: np.ndarray, source: str, label_col: int) -> TrialsFingerprint:
    """The fingerprint from the parsed tokens (numpy, several times faster than from the text)."""
    builder = FingerprintBuilder(source, label_col)
    builder.add_bytes(raw)
    builder.add_columns(columns, labels)
    return builder.result(fallback=lambda: fingerprint_bytes(raw, source))


def _ascii_labels(tokens: ByteKeys, spellings: dict[str, int]) -> np.ndarray | None:
    """Label codes of byte tokens (case-insensitive), or None if any token is not a known spelling.

    When every token is one byte (``0`` / ``1``), each byte's code is read from a table of all 256
    one-byte tokens, each matched by the general path (:func:`_label_codes`): the same codes."""
    if len(tokens) and int(tokens.lengths.min()) == 1 and int(tokens.lengths.max()) == 1:
        codes = _one_byte_codes(tuple(spellings.items()))[tokens.buf[tokens.starts]]
    else:
        codes = _label_codes(tokens, spellings)
    return None if codes is None or (codes < 0).any() else codes


def _label_codes(tokens: ByteKeys, spellings: dict[str, int]) -> np.ndarray | None:
    """Label code of each byte token (case-insensitive), -1 where it is no known spelling; None when a
    token is longer than any spelling can be."""
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
    return codes


@functools.lru_cache(maxsize=16)
def _one_byte_codes(spellings: tuple[tuple[str, int], ...]) -> np.ndarray:
    """(256,) int8: :func:`_label_codes` of each one-byte token ``bytes([b])`` (-1: no spelling)."""
    every_byte = np.arange(256, dtype=np.uint8)
    codes = _label_codes(ByteKeys(every_byte, np.arange(256, dtype=np.int64), np.ones(256, np.int64)), dict(spellings))
    assert codes is not None  # one-byte tokens are never too long
    codes.flags.writeable = False
    return codes


def _array(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=object)


#: the columns of the ASVspoof5 Track 2 trial protocols (ASVspoof5.{dev,eval}.track_2.trial.tsv), which have no
#: header: TARGET_SPEAKER_ID FLAC_FILE_NAME TARGET_GENDER ATTACK_LABEL ASV_KEY (the database README)
_TRACK2_COLUMNS = ["speaker", "filename", "gender", "source", "key"]


def _is_track2_line(line: str) -> bool:
    fields = line.split()
    return len(fields) == 5 and fields[4].lower() in SASV_KEYS and fields[2].upper() in ("F", "M")


def _read_asvspoof5(text: str, path: str | Path) -> Trials:
    import pandas as pd

    first_no, first = first_data_line(text)
    if not first_no:
        raise AsvbenchError("no data lines", where=path)
    sep = "\t" if "\t" in first else r"\s+"
    headerless = _is_track2_line(first)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                            header=None if headerless else "infer", names=_TRACK2_COLUMNS if headerless else None)
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
    key = pick(*LABEL_HEADERS)
    header_lines = 0 if headerless else 1
    labels = parse_labels(frame[key], text, path, skiprows=header_lines, spellings=SASV_KEYS)
    extra = {c: frame[c].to_numpy(object) for c in frame.columns if c not in (spk, utt, key)}
    if headerless:
        check_sasv_sources(extra["source"], labels, text, path)
    trials = Trials(_col(frame, spk), _col(frame, utt), labels, "asvspoof5", str(path), extra)
    trials.line_of = _text_lines(text, header_lines)
    return trials


def _text_lines(text: str, skiprows: int):
    """``Trials.line_of`` of a list parsed from ``text`` (data rows after ``skiprows`` lines)."""
    def locate(row: int) -> tuple[int, str]:
        no = file_line(text, row, skiprows)
        return no, line_of(text, no)

    return locate


def check_duplicate_trials(trials: Trials, *, allow_duplicates: bool = False, pairs: np.ndarray | None = None) -> int:
    """Refuse repeated trials (naming both lines); return how many were allowed.

    ``pairs``: the (first, later) rows when the caller found them already (see
    :func:`duplicate_code_pairs`); otherwise they are found from the ids.
    """
    if pairs is None:
        enroll = trials.key_bytes.get("enroll")
        test = trials.key_bytes.get("test")
        if enroll is None or test is None:
            enroll, test = trials.enroll, trials.test
        pairs = duplicate_rows(enroll, test)
    if not pairs.shape[0]:
        return 0
    conflict = trials.labels[pairs[:, 0]] != trials.labels[pairs[:, 1]]
    if conflict.any() or not allow_duplicates:
        a, b = (int(r) for r in pairs[int(np.flatnonzero(conflict)[0]) if conflict.any() else 0])
        (no_a, text_a), (no_b, text_b) = trials.line_of(a), trials.line_of(b)
        if conflict.any():
            raise AsvbenchError(
                f"the same trial has two labels: line {no_a} {text_a!r} and line {no_b} {text_b!r}",
                where=at_line(trials.source, no_b), hint="fix the wrong label, or drop one of the lines")
        raise AsvbenchError(
            f"trial listed twice: line {no_b} {text_b!r} repeats line {no_a} ({pairs.shape[0]} repeated trials "
            "in all); each would be counted twice in the metrics", where=at_line(trials.source, no_b),
            hint="remove the repeated lines (e.g. awk '!seen[$0]++'), or pass --allow-duplicates to keep them")
    return int(pairs.shape[0])
