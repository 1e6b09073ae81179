"""Token count and (enroll, test) pair hashes of a whitespace-separated score file, from its bytes.

``asvbench metrics`` reads only the score and label columns (turning millions of ids into
Python strings costs more than the metrics). A repeated trial must still be found, even when
its two lines carry different scores, so this pass, which runs beside pandas' reader, hashes
each line's two id fields straight from the bytes: the file is read in chunks cut at line
ends; in a chunk whose every line is ``n_cols`` tokens separated by single whitespace bytes
(what asvbench and the peers write), the fields are found from the offsets of the whitespace
bytes alone, and the bytes from the first id to the end of the second (the separator between
them zeroed, so a tab and a space agree) are hashed to 64 bits in a few vectorised passes.

Any other chunk (blank lines, runs of spaces, CRLF, a bad field count) gives no hashes: the
caller then reads the ids. Equal hashes are only candidates; the caller confirms them on the
ids themselves, so a collision never reports a false duplicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.io._bytes import fixed_width, hash_rows

_TAB, _LF, _SPACE = 9, 10, 32
_CHUNK = 1 << 24
#: spans up to this many bytes are hashed vectorised; longer ones (rare) one by one
_MAX_WIDTH = 64


@dataclass
class TokenPass:
    n_tokens: int  # every whitespace-separated token after the skipped lines
    pair_hashes: np.ndarray | None  # uint64 per data line, None when some chunk was not regular


def tokens_and_pair_hashes(path: str | Path, *, n_cols: int, id_cols: tuple[int, int] | None,
                           skip_lines: int = 0, tabs_only: bool = False) -> TokenPass:
    """Count the tokens of ``path`` and hash fields ``id_cols`` of each line (see the module doc).

    ``tabs_only``: a TSV, whose fields may hold spaces; a chunk is regular only when every
    separator is a tab, so that its fields are exactly the tab-separated ones."""
    n_tokens = 0
    hashes: list[np.ndarray] | None = [] if id_cols is not None else None
    with open(path, "rb") as handle:
        for _ in range(skip_lines):
            handle.readline()
        rest = handle.read(3)
        rest = b"" if rest == b"\xef\xbb\xbf" else rest  # a UTF-8 BOM (the readers drop it too)
        while True:
            data = handle.read(_CHUNK)
            if not data:
                if rest:  # the last line has no LF
                    data, cut = rest + b"\n", len(rest) + 1
                    rest = b""
                else:
                    break
            else:
                data = rest + data
                cut = data.rfind(b"\n") + 1
                if not cut:
                    rest = data
                    continue
                rest = data[cut:]
            count, chunk_hashes = _chunk(np.frombuffer(data, np.uint8, count=cut), n_cols,
                                         id_cols if hashes is not None else None, tabs_only)
            n_tokens += count
            if hashes is not None:
                if chunk_hashes is None:
                    hashes = None
                else:
                    hashes.append(chunk_hashes)
    pair = None if hashes is None else np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    return TokenPass(n_tokens, pair)


def _chunk(buf: np.ndarray, n_cols: int, id_cols: tuple[int, int] | None,
           tabs_only: bool = False) -> tuple[int, np.ndarray | None]:
    """(tokens, pair hashes or None) of whole lines ``buf`` (ending with LF)."""
    space = buf <= _SPACE
    if id_cols is None:
        return _count_tokens(space), None
    ws = np.flatnonzero(space)
    if not ws.shape[0] or ws.shape[0] % n_cols or space[0]:
        return _count_tokens(space), None
    if (np.diff(ws) <= 1).any():  # an empty field: a blank line, a run of spaces, CR LF
        return _count_tokens(space), None
    ws = ws.reshape(-1, n_cols)
    separators = buf[ws[:, :-1]]
    odd = (separators != _TAB) if tabs_only else ((separators != _SPACE) & (separators != _TAB))
    if (buf[ws[:, -1]] != _LF).any() or odd.any():
        return _count_tokens(space), None  # a line with another field count, or an odd separator (CR, FF)
    tokens = ws.size  # single separators, no blank line: one token before each whitespace byte
    first, second = id_cols
    line_start = np.empty(ws.shape[0], np.int64)
    line_start[0] = 0
    line_start[1:] = ws[:-1, -1] + 1
    lo, hi = min(first, second), max(first, second)
    start = line_start if lo == 0 else ws[:, lo - 1] + 1
    if hi != lo + 1:  # not adjacent fields: hash each, combine
        other = ws[:, hi - 1] + 1
        with np.errstate(over="ignore"):
            return tokens, (_span_hashes(buf, start, ws[:, lo] - start, None) * np.uint64(0x9E3779B97F4A7C15)
                            ^ _span_hashes(buf, other, ws[:, hi] - other, None))
    return tokens, _span_hashes(buf, start, ws[:, hi] - start, ws[:, lo] - start)


def _count_tokens(space: np.ndarray) -> int:
    return int(np.count_nonzero(space[:-1] & ~space[1:])) + int(not space[0])


def _span_hashes(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, sep_at: np.ndarray | None) -> np.ndarray:
    """A hash per span that depends on its bytes only: spans are hashed in groups of one padded
    width (their length rounded up to 8), so equal spans in any two chunks hash alike."""
    widths = np.minimum((lengths + 7) // 8 * 8, _MAX_WIDTH + 8).clip(8)  # _MAX_WIDTH + 8: the long ones
    hashes = np.empty(starts.shape[0], np.uint64)
    lo, hi = int(widths.min(initial=8)), int(widths.max(initial=8))
    for width in range(lo, hi + 1, 8):
        rows = slice(None) if lo == hi else np.flatnonzero(widths == width)
        if width > _MAX_WIDTH:
            for row in np.arange(starts.shape[0])[rows].tolist():
                hashes[row] = _long_span_hash(buf, int(starts[row]), int(lengths[row]),
                                              None if sep_at is None else int(sep_at[row]))
            continue
        if lo != hi and not rows.shape[0]:
            continue
        matrix = fixed_width(buf, starts[rows], lengths[rows], width)
        if sep_at is not None:
            matrix[np.arange(matrix.shape[0]), sep_at[rows]] = 0
        hashes[rows] = hash_rows(matrix)
    return hashes


def _long_span_hash(buf: np.ndarray, start: int, length: int, sep_at: int | None) -> int:
    span = bytearray(buf[start: start + length].tobytes())
    if sep_at is not None:
        span[sep_at] = 0
    return int.from_bytes(hashlib.blake2b(bytes(span), digest_size=8).digest(), "little")
