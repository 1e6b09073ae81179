"""Reading a trial list a chunk of whole lines at a time, so that memory does not grow with it.

Only plain-ASCII lists in the three-column formats (VoxCeleb, Kaldi, CN-Celeb) are read this
way, with the byte-level parser of :mod:`asvbench.io._bytes`. Anything that parser would hand
to the text parser (a non-ASCII byte, a control character, a wrong column count, an unknown
label, a byte-order mark) raises :class:`NotStreamable`: the caller then reads the whole list
with :func:`asvbench.trials.read.read_trials`, which gives the same result or reports the
first bad line exactly as it always has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from asvbench.errors import AsvbenchError
from asvbench.io._bytes import AsciiColumns, lf_pieces, split_checked_ascii
from asvbench.io._text import head_text
from asvbench.trials.read import _ASCII_FORMATS, _LAYOUTS, Trials, _ascii_labels, detect_trials_format

_UTF8_BOM = b"\xef\xbb\xbf"
#: bytes read per chunk: about 550 k VoxCeleb trials (~60 bytes a line); parsing one
#: takes about 6 bytes of memory per byte
CHUNK_BYTES = 32 * 1024 * 1024


#: the label's column in each streamable format
LABEL_COLUMN = {fmt: _LAYOUTS[fmt][0].index("label") for fmt in _ASCII_FORMATS}


class NotStreamable(Exception):
    """This list (or one of its chunks) needs the whole-file reader."""


def stream_format(path: str | Path, fmt: str = "auto") -> str | None:
    """The format in which ``path`` can be streamed, or None (read it whole instead)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return None  # the whole-file reader reports it
    if head.startswith(_UTF8_BOM):
        return None
    if fmt == "auto":
        try:
            fmt = detect_trials_format(head_text(head, path), path)
        except AsvbenchError:
            return None  # the whole-file reader reports it
    return fmt if fmt in _ASCII_FORMATS else None


@dataclass
class TrialChunk:
    """One chunk: its trials (ids as byte keys into the chunk) and the tokens they came from."""

    trials: Trials
    columns: AsciiColumns

    def __len__(self) -> int:
        return len(self.trials)


def iter_trial_chunks(path: str | Path, fmt: str, chunk_bytes: int = CHUNK_BYTES,
                      on_bytes: Callable[[bytes], None] | None = None) -> Iterator[TrialChunk]:
    """The trials of ``path`` in chunks of about ``chunk_bytes`` (cut after a line feed).

    Each chunk's ids are byte keys into that chunk's buffer (as :func:`read_trials` gives
    for a whole list). ``on_bytes`` is given every byte of the file, in order, a piece at a
    time (for hashing). Raises :class:`NotStreamable` at the first chunk the byte parser
    cannot take, and for a list with no trial at all.
    """
    if fmt not in _ASCII_FORMATS:
        raise NotStreamable(fmt)
    n_trials = 0
    with open(path, "rb") as handle:
        for piece in lf_pieces(handle, chunk_bytes):
            if on_bytes is not None:
                on_bytes(piece)
            if not piece.isspace():  # bytes.strip() would copy the chunk
                chunk = _parse_chunk(piece, path, fmt)
                n_trials += len(chunk)
                yield chunk
    if not n_trials:
        raise NotStreamable("no trials")


def _parse_chunk(piece: bytes, path: str | Path, fmt: str) -> TrialChunk:
    names, spellings = _LAYOUTS[fmt]
    try:
        columns = split_checked_ascii(piece, names, path)
    except AsvbenchError:  # its line number would count from the chunk's start
        raise NotStreamable("bad line") from None
    if columns is None:
        raise NotStreamable("not plain ASCII")
    labels = _ascii_labels(columns.column(names.index("label")), spellings)
    if labels is None:
        raise NotStreamable("unknown label")
    keys = {side: columns.column(names.index(side)) for side in ("enroll", "test")}
    return TrialChunk(Trials(None, None, labels, fmt, str(path), key_bytes=keys), columns)
