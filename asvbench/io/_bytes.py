"""Byte-level parsing of whitespace-separated ASCII lists and hashed key lookup, all in numpy.

Trial lists at Vox1-E / CN-Celeb scale hold millions of tokens; turning each into a Python
string, hashing it into a dict and formatting it back out costs more than the scoring. For
plain ASCII files this module keeps the file as one ``uint8`` array and works on token offsets:

* :func:`split_ascii` finds every token of a whitespace-separated file with a few vectorised
  passes and checks that each non-blank line has the expected number of tokens (the first
  line that does not is reported as ``file:line``, as the text parser does);
* :class:`KeyIndex` hashes zero-padded fixed-width copies of keys (64-bit multiply-xorshift
  over 8-byte words), looks queries up in a bucketed sorted hash table and then compares the
  bytes in full, so a hash collision can never match a wrong key.

Files that are not plain ASCII, or that hold control characters other than tab, CR and LF
(``str.split`` and ``str.splitlines`` treat some of them as separators), are left to the text
parser: :func:`ascii_fast_path_ok` says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError, at_line

_TAB, _LF, _CR = 9, 10, 13
_SPACE = 32


def ascii_fast_path_ok(raw: bytes) -> bool:
    """True when ``raw`` is ASCII whose only control characters are tab, LF and CR-before-LF."""
    if not raw or not raw.isascii():
        return False
    buf = np.frombuffer(raw, np.uint8)
    controls = buf[buf < _SPACE]
    if ((controls != _TAB) & (controls != _LF) & (controls != _CR)).any():
        return False
    if (controls == _CR).any():  # a bare CR is a line break for str.splitlines: not here
        cr = np.flatnonzero(buf == _CR)
        if cr[-1] == buf.shape[0] - 1 or (buf[cr + 1] != _LF).any():
            return False
    return True


@dataclass
class AsciiColumns:
    """Tokens of a file whose data lines all hold ``n_cols`` tokens, as offsets into ``buf``."""

    buf: np.ndarray  # uint8 view of the whole file
    starts: np.ndarray  # (n_rows, n_cols) int64 byte offsets
    lengths: np.ndarray  # (n_rows, n_cols) int64
    line_ends: np.ndarray  # byte offset of each line's end (its LF, or the end of the file)

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def line_number(self, row: int) -> int:
        """1-based file line number of data row ``row``."""
        return int(np.searchsorted(self.line_ends, self.starts[row, 0])) + 1

    def line_text(self, row: int) -> str:
        return line_text(self.buf, self.line_ends, self.line_number(row))

    def column(self, col: int) -> "ByteKeys":
        return ByteKeys(self.buf, self.starts[:, col], self.lengths[:, col])


@dataclass
class ByteKeys:
    """One column of tokens (or any list of keys) as offsets into a byte buffer."""

    buf: np.ndarray
    starts: np.ndarray  # (n,) int64
    lengths: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def take(self, rows: np.ndarray) -> "ByteKeys":
        return ByteKeys(self.buf, self.starts[rows], self.lengths[rows])

    def matrix(self, width: int) -> np.ndarray:
        """(n, width) uint8 copies of the keys, zero-padded; keys longer than ``width`` are cut."""
        return fixed_width(self.buf, self.starts, self.lengths, width)

    def decode(self) -> np.ndarray:
        """The keys as an object array of ``str``."""
        if not len(self):
            return np.empty(0, dtype=object)
        width = int(self.lengths.max())
        fixed = self.matrix(width).view(f"S{width}").ravel()
        return np.array([k.decode("ascii") for k in fixed.tolist()], dtype=object)


def line_text(buf: np.ndarray, line_ends: np.ndarray, line_no: int) -> str:
    start = int(line_ends[line_no - 2]) + 1 if line_no >= 2 else 0
    end = int(line_ends[line_no - 1]) if line_no - 1 < line_ends.shape[0] else buf.shape[0]
    return buf[start:end].tobytes().decode("ascii", "replace").rstrip("\r")


def _line_ends(buf: np.ndarray) -> np.ndarray:
    ends = np.flatnonzero(buf == _LF)
    if buf.shape[0] and buf[-1] != _LF:
        ends = np.append(ends, buf.shape[0])
    return ends


def split_ascii(raw: bytes, names: list[str], path: str | Path, *, skiprows: int = 0) -> AsciiColumns:
    """Tokens of ``raw`` (which :func:`ascii_fast_path_ok` accepted), ``len(names)`` per data line.

    Blank lines are skipped; the first ``skiprows`` lines are ignored. A line with another
    token count raises :class:`AsvbenchError` at its ``file:line`` (the text parser's message).
    """
    buf = np.frombuffer(raw, np.uint8)
    regular = None if skiprows else _split_regular(buf, len(names))
    if regular is not None:
        return regular
    return _split_general(buf, names, path, skiprows)


def split_checked_ascii(raw: bytes, names: list[str], path: str | Path) -> AsciiColumns | None:
    """``split_ascii(raw, names, path) if ascii_fast_path_ok(raw) else None``, with one pass less
    over a regular file (see :func:`_split_regular`): the separator check has seen every byte below
    32 of such a file and found only tabs and LFs, so :meth:`bytes.isascii` is all that is left
    of :func:`ascii_fast_path_ok`. Any other file is checked in full, then split."""
    if not raw or not raw.isascii():
        return None
    buf = np.frombuffer(raw, np.uint8)
    regular = _split_regular(buf, len(names))
    if regular is not None:
        return regular
    if not ascii_fast_path_ok(raw):
        return None
    return _split_general(buf, names, path, 0)


def _split_general(buf: np.ndarray, names: list[str], path: str | Path, skiprows: int) -> AsciiColumns:
    """:func:`split_ascii` by token edges (any whitespace, blank lines, CR LF, skipped lines)."""
    n_cols = len(names)
    line_ends = _line_ends(buf)
    body = 0  # first byte after the skipped lines
    if skiprows:
        body = int(line_ends[skiprows - 1]) + 1 if skiprows <= line_ends.shape[0] else buf.shape[0]
    space = buf <= _SPACE
    edges = np.flatnonzero(np.diff(space.view(np.int8))) + 1  # where a token starts or ends
    if buf.shape[0] and not space[0]:
        edges = np.concatenate(([0], edges))
    if buf.shape[0] and not space[-1]:
        edges = np.append(edges, buf.shape[0])
    starts, ends = edges[0::2], edges[1::2]
    if body:
        keep = np.searchsorted(starts, body)
        starts, ends = starts[keep:], ends[keep:]
    per_line = np.diff(np.searchsorted(starts, line_ends), prepend=0)
    bad = np.flatnonzero((per_line != 0) & (per_line != n_cols))
    if bad.shape[0]:
        no = int(bad[0]) + 1
        raise AsvbenchError(f"expected {n_cols} columns, found {int(per_line[bad[0]])}: "
                            f"{line_text(buf, line_ends, no)!r}",
                            where=at_line(path, no), hint=f"each line must be: {' '.join(names)}")
    if not starts.shape[0]:
        raise AsvbenchError("no data lines", where=path)
    return AsciiColumns(buf, starts.reshape(-1, n_cols), (ends - starts).reshape(-1, n_cols), line_ends)


def _split_regular(buf: np.ndarray, n_cols: int) -> AsciiColumns | None:
    """:func:`split_ascii` of a file whose every line is ``n_cols`` tokens split by single
    whitespace bytes and ends with an LF (what list writers produce): each whitespace byte ends
    a token, so the tokens come from their offsets alone, without the token edges and the
    per-line search. None for any other file (a blank line, CRLF, a run of spaces, no final LF,
    another count): the general path reads and reports those."""
    if not buf.shape[0] or buf[-1] != _LF:  # a last line without LF: not whole lines
        return None
    ws = regular_separators(buf, n_cols)
    if ws is None:
        return None
    starts = np.empty_like(ws)
    starts[:, 0] = field_spans(ws, 0)[0]
    starts[:, 1:] = ws[:, :-1] + 1
    return AsciiColumns(buf, starts, ws - starts, np.ascontiguousarray(ws[:, -1]))


def regular_separators(buf: np.ndarray, n_cols: int, tabs_only: bool = False,
                       space: np.ndarray | None = None) -> np.ndarray | None:
    """``(lines, n_cols)`` offsets of the separator after each field of whole lines ``buf`` (the
    last one an LF) when every line is ``n_cols`` non-empty fields split by single tabs (or, unless
    ``tabs_only``, spaces); None for any other chunk (a blank line, a run of spaces, CR LF, another
    field count, an odd separator). Shared by :func:`split_ascii` and :mod:`asvbench.io._pair_hash`."""
    space = buf <= _SPACE if space is None else space
    ws = np.flatnonzero(space)
    if not ws.shape[0] or ws.shape[0] % n_cols or space[0]:
        return None
    if (np.diff(ws) <= 1).any():  # an empty field: a blank line, a run of spaces, CR LF
        return None
    ws = ws.reshape(-1, n_cols)
    separators = buf[ws[:, :-1]]
    odd = (separators != _TAB) if tabs_only else ((separators != _SPACE) & (separators != _TAB))
    if (buf[ws[:, -1]] != _LF).any() or odd.any():
        return None  # a line with another field count, or an odd separator (CR, FF)
    return ws


def field_spans(ws: np.ndarray, col: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, lengths) of field ``col`` of each line, from :func:`regular_separators`."""
    if col:
        start = ws[:, col - 1] + 1
    else:
        start = np.empty(ws.shape[0], np.int64)
        start[0] = 0
        start[1:] = ws[:-1, -1] + 1
    return start, ws[:, col] - start


def lf_pieces(handle, chunk_bytes: int, head: bytes = b"") -> Iterator[bytes]:
    """``head`` and the rest of binary file ``handle`` in pieces of about ``chunk_bytes``, each cut
    after an LF (a line longer than a chunk: read on), then what follows the last LF, if anything
    (a last line without LF). Every byte exactly once, in order."""
    carry = head
    while block := handle.read(chunk_bytes):
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if not cut:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut] if cut < len(data) else data
    if carry:
        yield carry


def split_lines(raw: bytes) -> ByteKeys:
    """One key per line (LF-terminated; the last LF optional), as offsets into ``raw``."""
    buf = np.frombuffer(raw, np.uint8)
    ends = _line_ends(buf)
    starts = np.concatenate(([0], ends[:-1] + 1)) if ends.shape[0] else np.zeros(0, np.int64)
    return ByteKeys(buf, starts.astype(np.int64), (ends - starts).astype(np.int64))


def fixed_width(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 rows ``buf[starts[i]:starts[i] + lengths[i]]``, zero-padded (cut at ``width``)."""
    if width <= 0 or not starts.shape[0]:
        return np.zeros((starts.shape[0], max(width, 0)), np.uint8)
    # overlapping width-byte windows of the buffer, no copy, each one item of a width-byte void
    # type (one gather copies whole rows: ~2.5x faster than a 2-D fancy index); rows starting in
    # the last width bytes come from a small zero-padded copy of the tail instead
    n = buf.shape[0]
    tail_start = max(0, n - width)
    tail = np.zeros(2 * width, np.uint8)
    tail[: n - tail_start] = buf[tail_start:]
    if n >= width:
        rows = _windows(buf, width)[np.minimum(starts, n - width)].view(np.uint8).reshape(-1, width)
    else:
        rows = np.empty((starts.shape[0], width), np.uint8)
    near = np.flatnonzero(starts > n - width)
    if near.shape[0]:
        rows[near] = _windows(tail, width)[np.minimum(starts[near] - tail_start, width)].view(np.uint8).reshape(-1, width)
    if lengths.shape[0] and int(lengths.min()) < width:  # keys of exactly ``width`` bytes need no mask
        keep = np.zeros((width + 1, width), np.uint8)
        keep[np.tril_indices(width + 1, -1, width)] = 0xFF  # keep[k] = k leading 0xFF bytes
        rows &= np.take(keep, np.minimum(lengths, width), axis=0)  # whole rows of a contiguous table: ~4x a fancy index
    return rows


def _windows(buf: np.ndarray, width: int) -> np.ndarray:
    """Every ``width``-byte window of the contiguous uint8 ``buf`` as one void item (read-only, no copy)."""
    buf = np.ascontiguousarray(buf)
    windows = np.ndarray(shape=(buf.shape[0] - width + 1,), dtype=np.dtype(f"V{width}"), buffer=buf, strides=(1,))
    windows.flags.writeable = False
    return windows


_SEED = np.uint64(0x9E3779B97F4A7C15)
_MULT = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT = np.uint64(33)


def hash_rows(matrix: np.ndarray) -> np.ndarray:
    """64-bit hash of each zero-padded row (width a multiple of 8): xor a word in, multiply, xorshift."""
    words = np.ascontiguousarray(matrix).view(np.uint64)
    h = np.full(words.shape[0], _SEED, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(words.shape[1]):
            h ^= words[:, k]
            h *= _MULT
            h ^= h >> _SHIFT
    return h


def _round8(n: int) -> int:
    return max(8, (n + 7) // 8 * 8)


class DuplicateKeys(Exception):
    """Raised by :class:`KeyIndex` when two keys are byte-identical (caller reports them)."""


class KeyIndex:
    """Exact lookup of byte keys: hashed, bucketed, and verified byte for byte.

    Built from the keys of a store; :meth:`lookup` returns each query's position among
    those keys, -1 where absent. ``usable`` is False in the (astronomically unlikely) case
    of two different keys with one hash; callers then use a dict.
    """

    def __init__(self, keys: ByteKeys):
        self.n = len(keys)
        self.max_len = int(keys.lengths.max()) if self.n else 0
        self.width = _round8(self.max_len)
        self.rows = keys.matrix(self.width)
        self.words = self.rows.view(np.uint64)
        h = hash_rows(self.rows)
        self.order = np.argsort(h, kind="stable")
        self.sorted_hashes = h[self.order]
        self.usable = True
        same = np.flatnonzero(self.sorted_hashes[1:] == self.sorted_hashes[:-1])
        if same.shape[0]:
            a, b = self.order[same], self.order[same + 1]
            if (self.words[a] == self.words[b]).all(axis=1).any():
                raise DuplicateKeys()
            self.usable = False
        self.bits = max(8, int(np.ceil(np.log2(max(self.n, 1)))) + 1)
        self.shift = np.uint64(64 - self.bits)
        self.bucket_starts = np.searchsorted(self.sorted_hashes >> self.shift, np.arange(2**self.bits + 1, dtype=np.uint64))

    def lookup(self, queries: ByteKeys) -> np.ndarray:
        """Position of each query among the index's keys (-1 where absent)."""
        out = np.full(len(queries), -1, dtype=np.int64)
        if not self.n or not len(queries):
            return out
        fits = queries.lengths <= self.max_len
        q = queries.matrix(self.width)
        h = hash_rows(q)
        bucket = (h >> self.shift).astype(np.intp)
        pos = self.bucket_starts[bucket]
        end = self.bucket_starts[bucket + 1]
        active = np.flatnonzero((pos < end) & fits)
        while active.shape[0]:  # buckets hold ~0.5 keys on average: one or two rounds
            p = pos[active]
            hit = self.sorted_hashes[p] == h[active]
            out[active[hit]] = self.order[p[hit]]
            pos[active] += 1
            active = active[~hit & (pos[active] < end[active])]
        found = np.flatnonzero(out >= 0)
        words = q.view(np.uint64)
        differ = ((words if found.shape[0] == words.shape[0] else words[found]) != self.words[out[found]]).any(axis=1)
        out[found[differ]] = -1  # same hash, other bytes: not this key
        return out


def count_tokens(path: str | Path, *, skip_lines: int = 0, chunk: int = 1 << 24) -> int:
    """Whitespace-separated tokens in a file after its first ``skip_lines`` lines (bytes <= 32
    separate tokens), counted in fixed-size chunks so memory stays small at any file size."""
    total = 0
    previous_was_space = True
    buffer = bytearray(chunk)
    with open(path, "rb") as handle:
        for _ in range(skip_lines):
            handle.readline()
        while n := handle.readinto(buffer):
            space = np.frombuffer(buffer, np.uint8, count=n) <= _SPACE
            total += int(np.count_nonzero(space[:-1] & ~space[1:])) + int(previous_was_space and not space[0])
            previous_was_space = bool(space[-1])
    return total
