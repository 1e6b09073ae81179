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
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.io._bytes import field_spans, fixed_width, hash_rows, regular_separators

_SPACE = 32
_LF = 10
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
    for data in line_chunks(path, skip_lines):
        count, chunk_hashes = _chunk(np.frombuffer(data, np.uint8), n_cols,
                                     id_cols if hashes is not None else None, tabs_only)
        n_tokens += count
        if hashes is not None:
            if chunk_hashes is None:
                hashes = None
            else:
                hashes.append(chunk_hashes)
    pair = None if hashes is None else np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    return TokenPass(n_tokens, pair)


def line_chunks(path: str | Path, skip_lines: int = 0, chunk_bytes: int = _CHUNK) -> Iterator[bytes | memoryview]:
    """The file after its first ``skip_lines`` lines, in pieces of about ``chunk_bytes`` cut after
    an LF (the last line gets one if it has none); a UTF-8 BOM there is dropped.

    The pieces are views of the file mapped into memory (no copy of the page cache: reading and
    joining 16 MB pieces was ~15 % of the pair-hash pass on a 10 M-line file), except a last line
    without its LF; a view stays valid while it is referenced."""
    import mmap

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if not size:
            return
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    start = _after_lines(view, skip_lines)
    if view[start : start + 3] == b"\xef\xbb\xbf":  # a UTF-8 BOM (the readers drop it too)
        start += 3
    done = 0  # pages before this offset were handed out and are dropped from the process's memory
    for lo, hi in _lf_cuts(view, start, chunk_bytes):
        yield view[lo:hi] if view[hi - 1] == _LF else bytes(view[lo:hi]) + b"\n"  # the last line has no LF
        done = _drop_pages(mapped, done, hi)


def _drop_pages(mapped, done: int, upto: int) -> int:
    """Release the mapped pages of ``[done, upto)`` (whole pages only), so that resident memory stays
    about one piece; the file's bytes stay in the page cache, and a view still held reads them again."""
    import mmap

    end = upto // mmap.PAGESIZE * mmap.PAGESIZE
    if end > done and hasattr(mapped, "madvise"):
        mapped.madvise(mmap.MADV_DONTNEED, done, end - done)
    return max(done, end)


def _after_lines(view: memoryview, n_lines: int) -> int:
    """Offset just after the first ``n_lines`` lines of ``view`` (its end when it has fewer)."""
    data = view.obj
    pos = 0
    for _ in range(n_lines):
        cut = data.find(b"\n", pos)
        if cut < 0:
            return len(view)
        pos = cut + 1
    return pos


def _lf_cuts(view: memoryview, start: int, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """(lo, hi) pieces of ``view[start:]`` of about ``chunk_bytes``, each ending after an LF (a line
    longer than a piece: up to its LF), the last one at the end; every byte once, in order."""
    data, size, lo = view.obj, len(view), start
    while lo < size:
        hi = size
        if lo + chunk_bytes < size:
            cut = data.rfind(b"\n", lo, lo + chunk_bytes) + 1 or data.find(b"\n", lo + chunk_bytes) + 1
            hi = cut or size
        yield lo, hi
        lo = hi


def _chunk(buf: np.ndarray, n_cols: int, id_cols: tuple[int, int] | None,
           tabs_only: bool = False) -> tuple[int, np.ndarray | None]:
    """(tokens, pair hashes or None) of whole lines ``buf`` (ending with LF)."""
    space = buf <= _SPACE
    if id_cols is None:
        return _count_tokens(space), None
    ws = regular_separators(buf, n_cols, tabs_only, space)
    if ws is None:
        return _count_tokens(space), None
    return ws.size, pair_hashes(buf, ws, id_cols, tabs_only)  # single separators, no blank line: a token before each


def pair_hashes(buf: np.ndarray, ws: np.ndarray, id_cols: tuple[int, int], tabs_only: bool = False) -> np.ndarray:
    """uint64 hash of fields ``id_cols`` of each line of a regular chunk (see the module doc).

    ``tabs_only`` (every separator of the chunk a tab): adjacent fields are hashed with the byte
    after them (a tab, or the LF of the last field), a byte every line of that layout shares, and
    their tab is not zeroed; spans of one length then fill their padded width (VoxCeleb's two
    27-byte ids and two tabs: 56 bytes), which needs no length mask."""
    first, second = id_cols
    lo, hi = min(first, second), max(first, second)
    start, _ = field_spans(ws, lo)
    if hi != lo + 1:  # not adjacent fields: hash each, combine
        other = ws[:, hi - 1] + 1
        with np.errstate(over="ignore"):
            return (_span_hashes(buf, start, ws[:, lo] - start, None) * np.uint64(0x9E3779B97F4A7C15)
                    ^ _span_hashes(buf, other, ws[:, hi] - other, None))
    if tabs_only:
        return _span_hashes(buf, start, ws[:, hi] + 1 - start, None)
    return _span_hashes(buf, start, ws[:, hi] - start, ws[:, lo] - start)


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
