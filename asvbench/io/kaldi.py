"""Kaldi ark/scp embedding stores read with numpy: every header checked, records copied in bulk.

An scp line is ``KEY ARK_PATH:OFFSET``; the offset is the byte of the binary marker ``\\0B``
that follows ``KEY `` in the ark. A binary record is then a type token and its sizes:

* ``FV `` / ``DV `` (float32 / float64 vector): ``\\x04`` + int32 dim, then the data;
* ``FM `` / ``DM `` (matrix): ``\\x04`` + int32 rows, ``\\x04`` + int32 cols, then the data.

The scp is parsed once, each ark is memory-mapped once, the headers of all records are read
and checked as arrays, and the data is copied span by span (:mod:`asvbench.io._spans`).
Anything else Kaldi can store (compressed matrices ``CM``/``CM2``/``CM3``, text-mode arks,
``cmd |`` pipes, ``[range]`` slices, scp lines without an offset) raises :class:`Unsupported`;
the caller then reads the store with kaldiio, which gives the same result (tested).
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError, at_line
from asvbench.io._spans import gather_bytes, gather_spans, le_int32

LineOf = Callable[[int], int]
_ELEMENT = {ord("F"): (np.dtype("<f4"), 4), ord("D"): (np.dtype("<f8"), 8)}


class Unsupported(Exception):
    """A store this reader does not handle (kaldiio does); the message says why."""


@dataclass
class KaldiRecords:
    """Keys in store order, their rows stacked as float32, and each key's row count."""

    keys: list[str]
    matrix: np.ndarray
    counts: np.ndarray


@dataclass
class _Located:
    """Records of one ark: their positions in the store's key order and their byte offsets."""

    ark: Path
    positions: np.ndarray
    offsets: np.ndarray


# ----------------------------------------------------------------------------- scp


def read_scp_store(scp: Path) -> KaldiRecords:
    keys, paths, offsets, line_of = _parse_scp(scp)
    if not keys:
        raise AsvbenchError("embedding store is empty (no lines in the scp)", where=scp,
                            hint="point --embeddings at the scp of the extracted embeddings")
    _check_unique(keys, scp)
    located = _group_by_ark(paths, offsets)
    return _assemble(keys, located, lambda i: at_line(scp, line_of(i)))


def _parse_scp(scp: Path) -> tuple[list[str], list[str], np.ndarray, LineOf]:
    data = scp.read_bytes()
    fast = _parse_plain_scp(data)
    if fast is not None:
        keys, paths, offsets = fast
        return keys, paths, offsets, (lambda i: i + 1)
    return _parse_scp_lines(scp, _decode(scp, data))


def _parse_plain_scp(data: bytes) -> tuple[list[str], list[str], np.ndarray] | None:
    """The parse of a plain scp, as arrays: printable ASCII lines ``KEY PATH:OFFSET`` with one space, no
    blank line, a final newline (what Kaldi and kaldiio write). None for anything else (the line parse)."""
    raw = np.frombuffer(data, np.uint8)
    if not data.endswith(b"\n") or int(raw.max()) >= 127:
        return None
    newline = np.flatnonzero(raw == 10)
    # the only control byte is the newline (a count, not a histogram of every byte value: 15x cheaper)
    if np.count_nonzero(raw < 32) != newline.shape[0]:
        return None
    space = np.flatnonzero(raw == 32)
    line_start = np.concatenate(([0], newline[:-1] + 1))
    if space.shape[0] != newline.shape[0] or not ((space > line_start) & (space < newline)).all():
        return None
    colons = np.flatnonzero(raw == 58)
    last = np.searchsorted(colons, newline) - 1
    if (last < 0).any():
        return None
    colon = colons[last]
    width = newline - colon - 1
    if not ((colon > space + 1) & (width >= 1) & (width <= 15)).all():
        return None
    offsets = _decimal(raw, newline, width)
    if offsets is None:
        return None
    tokens = data.decode("ascii").split()
    keys, values = tokens[0::2], tokens[1::2]
    path_len = colon - space - 1
    if (path_len == path_len[0]).all() and (gather_bytes(raw, space + 1, int(path_len[0]))
                                            == raw[space[0] + 1 : colon[0]]).all():
        paths = [values[0][: int(path_len[0])]] * len(keys)  # one ark, the usual case
    else:
        paths = [v[: v.rindex(":")] for v in values]
    return keys, paths, offsets


def _decimal(raw: np.ndarray, ends: np.ndarray, width: np.ndarray) -> np.ndarray | None:
    """The unsigned decimal numbers of ``width[i]`` digits ending before ``ends[i]``; None if a byte is no digit."""
    w = int(width.max())
    # w bytes in front, so that a line shorter than the widest number (``k a:5`` before ``:1234567``)
    # does not start its window before the file (a negative start)
    padded = np.concatenate((np.zeros(w, np.uint8), raw))
    digits = gather_bytes(padded, ends, w) - np.uint8(ord("0"))  # a byte below "0" wraps past 9
    used = np.arange(w) >= (w - width)[:, None]
    if (digits > 9)[used].any():
        return None
    digits[~used] = 0
    value = np.zeros(digits.shape[0], np.int64)
    for column in digits.T:  # <= 15 digit columns: Horner's rule, exact in int64
        value *= 10
        value += column
    return value


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise AsvbenchError(f"byte {data[exc.start]:#04x} is not UTF-8", where=at_line(path, line),
                            hint="Kaldi scp files are UTF-8 text: re-create it, or re-encode it as UTF-8") from None
    return text.removeprefix("\ufeff")  # a BOM is harmless: drop it


def _parse_scp_lines(scp: Path, text: str) -> tuple[list[str], list[str], np.ndarray, LineOf]:
    """The line-by-line parse, for files the one-pass pattern does not cover: it says which line is wrong."""
    keys, paths, offsets, lines = [], [], [], []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) < 2:
            raise AsvbenchError(f"scp line has a key ({parts[0]!r}) but no ark path", where=at_line(scp, n),
                                hint="each line must be `KEY ARK_PATH:OFFSET`")
        value = parts[1].strip()
        if value.endswith("|"):
            raise Unsupported(f"{at_line(scp, n)}: a pipe")
        if value.endswith("]"):
            raise Unsupported(f"{at_line(scp, n)}: a [range]")
        m = re.fullmatch(r"(.+):(\d+)", value)
        if m is None:
            raise Unsupported(f"{at_line(scp, n)}: no :offset")
        keys.append(parts[0])
        paths.append(m.group(1))
        offsets.append(int(m.group(2)))
        lines.append(n)
    return keys, paths, np.array(offsets, dtype=np.int64), (lambda i: lines[i])


def _group_by_ark(paths: list[str], offsets: np.ndarray) -> list[_Located]:
    names = list(dict.fromkeys(paths))
    if len(names) == 1:
        return [_Located(Path(names[0]), np.arange(len(paths)), offsets)]
    code_of = {name: i for i, name in enumerate(names)}
    codes = np.array([code_of[p] for p in paths], dtype=np.int64)
    groups = []
    for g, name in enumerate(names):
        positions = np.flatnonzero(codes == g)
        groups.append(_Located(Path(name), positions, offsets[positions]))
    return groups


def _check_unique(keys: list[str], source: Path) -> None:
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        dups = list(dict.fromkeys(k for k in keys if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
        raise AsvbenchError(f"{len(dups)} duplicate keys in the embedding store, e.g. {dups[:3]}", where=source,
                            hint="each utterance key must appear once")


# ----------------------------------------------------------------------------- ark


def read_ark_store(ark: Path) -> KaldiRecords:
    buf = _map(ark)
    keys, offsets = _scan_ark(ark, buf)
    if not keys:
        raise AsvbenchError("embedding store is empty (the ark holds no records)", where=ark)
    _check_unique(keys, ark)
    located = [_Located(ark, np.arange(len(keys)), np.array(offsets, dtype=np.int64))]
    return _assemble(keys, located, lambda i: f"{ark}: byte {offsets[i]}")


def _scan_ark(ark: Path, buf: np.ndarray) -> tuple[list[str], list[int]]:
    """Keys and binary-marker offsets of the records of an ark, read in sequence (each header decides
    where the next record starts)."""
    data = _bytes_of(ark) if buf.shape[0] else b""
    keys: list[str] = []
    offsets: list[int] = []
    pos, size = 0, len(data)
    while pos < size:
        if data[pos : pos + 1].isspace():
            pos += 1
            continue
        space = data.find(b" ", pos)
        if space < 0:
            raise AsvbenchError(f"truncated record: a key starts at byte {pos} but no data follows", where=ark,
                                hint="the ark is incomplete (interrupted copy?): re-create it")
        marker = space + 1
        if data[marker : marker + 2] != b"\0B":
            raise Unsupported(f"{ark}: byte {marker}: not a binary record")
        token = data[marker + 2 : marker + 5]
        element = _ELEMENT.get(token[0]) if len(token) == 3 and token[2:] == b" " else None
        if element is None or token[1:2] not in (b"V", b"M"):
            raise Unsupported(f"{ark}: byte {marker}: record type {token!r}")
        head = 10 if token[1:2] == b"V" else 15
        if marker + head > size:
            raise _truncated(ark, marker, head, size)
        n_values = int.from_bytes(data[marker + 6 : marker + 10], "little", signed=True)
        if head == 15:
            n_values *= int.from_bytes(data[marker + 11 : marker + 15], "little", signed=True)
        try:
            keys.append(data[pos:space].decode("utf-8"))
        except UnicodeDecodeError:
            raise AsvbenchError(f"the key at byte {pos} is not UTF-8", where=ark, hint="re-create the ark") from None
        offsets.append(marker)
        pos = marker + head + max(n_values, 0) * element[1]
    return keys, offsets


def _bytes_of(ark: Path) -> mmap.mmap:
    with open(ark, "rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _map(ark: Path) -> np.ndarray:
    try:
        size = ark.stat().st_size
    except OSError:
        raise AsvbenchError("ark file not found", where=ark, hint="check the path (relative paths in an scp are "
                            "taken from the directory you run asvbench in, as Kaldi does)") from None
    if size == 0:
        return np.zeros(0, np.uint8)
    return np.memmap(ark, dtype=np.uint8, mode="r")


def _truncated(ark: Path, marker: int, needed: int, size: int) -> AsvbenchError:
    return AsvbenchError(f"truncated record at byte {marker}: it needs {needed} bytes, the file ends at byte {size}",
                         where=ark, hint="the ark is incomplete (interrupted write or copy?): re-create it")


# ----------------------------------------------------------------------------- records


@dataclass
class _Headers:
    element: np.ndarray  # (n,) uint8: ord("F") or ord("D")
    rows: np.ndarray
    cols: np.ndarray
    data_start: np.ndarray


def _assemble(keys: list[str], located: list[_Located], where_of) -> KaldiRecords:
    n = len(keys)
    element = np.zeros(n, np.uint8)
    rows = np.zeros(n, np.int64)
    cols = np.zeros(n, np.int64)
    starts = np.zeros(n, np.int64)
    buffers = []
    for group in located:
        buf = _map_for_scp(group, where_of)
        h = _read_headers(group, buf, keys, where_of)
        element[group.positions], rows[group.positions] = h.element, h.rows
        cols[group.positions], starts[group.positions] = h.cols, h.data_start
        buffers.append(buf)
    dim = _common_dim(cols, keys, located, where_of)
    matrix = np.empty((int(rows.sum()), dim), dtype=np.float32)
    row_start = np.concatenate(([0], np.cumsum(rows)))
    for group, buf in zip(located, buffers):
        _copy_group(buf, group.positions, element, rows, starts, row_start, dim, matrix)
    return KaldiRecords(keys=keys, matrix=matrix, counts=rows)


def _map_for_scp(group: _Located, where_of) -> np.ndarray:
    try:
        return _map(group.ark)
    except AsvbenchError as exc:
        raise AsvbenchError(f"ark file {group.ark} not found", where=where_of(int(group.positions[0])),
                            hint=exc.hint) from None


def _read_headers(group: _Located, buf: np.ndarray, keys: list[str], where_of) -> _Headers:
    size = buf.shape[0]
    off = group.offsets
    beyond = np.flatnonzero(off + 10 > size)
    if beyond.shape[0]:
        i = int(beyond[0])
        what = (f"offset {int(off[i])} is beyond the end of {group.ark} ({size} bytes)" if off[i] >= size else
                f"the record at byte {int(off[i])} of {group.ark} is truncated (the file ends at byte {size})")
        raise AsvbenchError(what, where=where_of(int(group.positions[i])),
                            hint="the scp does not belong to this ark, or the ark is incomplete: re-create both")
    head = gather_bytes(buf, off, 15)
    _check_markers(group, head, where_of)
    element = head[:, 2]
    is_vector = head[:, 3] == ord("V")
    rows = np.where(is_vector, 1, le_int32(head[:, 6:10]))
    cols = np.where(is_vector, le_int32(head[:, 6:10]), le_int32(head[:, 11:15]))
    data_start = off + np.where(is_vector, 10, 15)
    bad_size = (~is_vector & (head[:, 10] != 4)) | (rows < 0) | (cols < 0) | (~is_vector & (off + 15 > size))
    if bad_size.any():
        i = int(np.flatnonzero(bad_size)[0])
        raise AsvbenchError(f"record {keys[group.positions[i]]!r} at byte {int(off[i])} of {group.ark} has a damaged "
                            "size field", where=where_of(int(group.positions[i])), hint="re-create the ark")
    itemsize = np.where(element == ord("F"), 4, 8)
    end = data_start + rows * cols * itemsize
    short = np.flatnonzero(end > size)
    if short.shape[0]:
        i = int(short[0])
        raise AsvbenchError(
            f"truncated record {keys[group.positions[i]]!r} at byte {int(off[i])} of {group.ark}: its data ends at "
            f"byte {int(end[i])}, the file at byte {size}",
            where=where_of(int(group.positions[i])), hint="the ark is incomplete (interrupted write or copy?): "
            "re-create it")
    return _Headers(element=element, rows=rows, cols=cols, data_start=data_start)


def _check_markers(group: _Located, head: np.ndarray, where_of) -> None:
    binary = (head[:, 0] == 0) & (head[:, 1] == ord("B"))
    if not binary.all():
        i = int(np.flatnonzero(~binary)[0])
        if head[i, 0] == ord("[") or (chr(head[i, 0]) in " \t" and head[i, 1] == ord("[")):
            raise Unsupported("text-mode ark")  # the offset points at " [ 1.0 2.0 ]"
        raise AsvbenchError(f"no Kaldi record at byte {int(group.offsets[i])} of {group.ark}",
                            where=where_of(int(group.positions[i])),
                            hint="the offset does not point at a record: the scp does not belong to this ark")
    known = np.isin(head[:, 2], (ord("F"), ord("D"))) & np.isin(head[:, 3], (ord("V"), ord("M"))) \
        & (head[:, 4] == ord(" ")) & (head[:, 5] == 4)
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        token = bytes(head[i, 2:6]).split(b" ")[0]
        if token.startswith(b"C"):
            raise Unsupported(f"compressed matrix {token!r}")
        raise AsvbenchError(f"unknown Kaldi record type {token!r} at byte {int(group.offsets[i])} of {group.ark}",
                            where=where_of(int(group.positions[i])),
                            hint="asvbench reads float/double vectors and matrices (FV, DV, FM, DM, compressed CM)")


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, without its sort when every value is the same (one dimension, one row
    count: the usual store)."""
    if values.shape[0] and values.min() == values.max():
        return values[:1]
    return np.unique(values)


def _common_dim(cols: np.ndarray, keys: list[str], located: list[_Located], where_of) -> int:
    dims = _distinct(cols)
    if dims.shape[0] != 1:
        raise AsvbenchError(f"embeddings of different dimensions in one store: {dims.tolist()[:10]}",
                            where=located[0].ark, hint="every key must hold embeddings of one model")
    if dims[0] == 0:
        raise AsvbenchError("the embeddings have zero columns", where=where_of(0),
                            hint="the extraction wrote empty vectors: re-create the store")
    return int(dims[0])


def _copy_group(buf: np.ndarray, positions: np.ndarray, element: np.ndarray, rows: np.ndarray, starts: np.ndarray,
                row_start: np.ndarray, dim: int, matrix: np.ndarray) -> None:
    counts = _distinct(rows[positions]).tolist()
    for code, (dtype, itemsize) in _ELEMENT.items():
        for n_rows in counts:
            sel = positions[(element[positions] == code) & (rows[positions] == n_rows)]
            if sel.shape[0] == 0 or n_rows == 0:
                continue
            length = n_rows * dim * itemsize
            if n_rows == 1 and dtype == matrix.dtype and _is_run(row_start[sel]):  # the common case: no extra copy
                first = int(row_start[sel[0]])
                gather_spans(buf, starts[sel], length, dtype, dim, out=matrix[first : first + sel.shape[0]])
                continue
            block = gather_spans(buf, starts[sel], length, dtype, n_rows * dim)
            target = (row_start[sel][:, None] + np.arange(n_rows)).reshape(-1)
            matrix[target] = block.reshape(-1, dim)


def _is_run(first_rows: np.ndarray) -> bool:
    return bool(first_rows.shape[0] == 0 or (first_rows[-1] - first_rows[0] == first_rows.shape[0] - 1
                                              and (np.diff(first_rows) == 1).all()))
