"""``.npz`` embedding stores (one array per key, as ``np.savez`` writes them) read in bulk.

The zip central directory is read once; the local headers and the ``.npy`` headers of all
members are read and checked as arrays; members stored without compression whose ``.npy``
header is the first member's (the usual case: one dtype and shape) are copied span by span
(:mod:`asvbench.io._spans`). Members with another header are read one by one from the same
memory map; compressed members (``np.savez_compressed``) through :func:`numpy.load`. Object
arrays are refused (asvbench never unpickles a store), and so is anything that is not a zip.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.io._spans import gather_bytes, gather_spans, le_uint

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP64_MARK = 0xFFFFFFFF
_STORED, _DEFLATED = 0, 8
_ACCEPTED_KINDS = "fiu"


@dataclass
class NpzRecords:
    """Keys in archive order, their rows stacked as float32, and each key's row count."""

    keys: list[str]
    matrix: np.ndarray
    counts: np.ndarray


@dataclass
class _Members:
    names: list[str]
    method: np.ndarray
    flags: np.ndarray
    size: np.ndarray  # uncompressed bytes
    data_start: np.ndarray  # byte of the member's data in the file
    file_size: int


def read_npz_store(path: Path) -> NpzRecords:
    buf = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
    try:
        members = _read_directory(path, buf)
    except _Zip64Members:
        return _read_with_numpy(path)
    if not members.names:
        raise AsvbenchError("embedding store is empty (the .npz holds no arrays)", where=path)
    keys = [name[:-4] if name.endswith(".npy") else name for name in members.names]
    _check_members(path, members, keys)
    arrays = _read_arrays(path, buf, members, keys)
    return _stack(path, keys, arrays)


# ----------------------------------------------------------------------------- zip structure


def _not_a_zip(path: Path, why: str) -> AsvbenchError:
    return AsvbenchError(f"not a valid .npz (zip) file: {why}", where=path,
                         hint="write it with numpy.savez(path, **{key: vector}), or re-create it if it was cut short")


def _read_directory(path: Path, buf: np.ndarray) -> _Members:
    size = buf.shape[0]
    tail = bytes(buf[max(0, size - 65557) :])
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _not_a_zip(path, "no zip end-of-directory record (not a zip, or truncated)")
    eocd = size - len(tail) + at
    count, cd_size, cd_offset = struct.unpack_from("<HII", tail, at + 10)
    if count == 0xFFFF or cd_offset == _ZIP64_MARK or cd_size == _ZIP64_MARK:
        count, cd_size, cd_offset = _zip64_directory(path, buf, eocd)
    if cd_offset + cd_size > size:
        raise _not_a_zip(path, f"the central directory (bytes {cd_offset}-{cd_offset + cd_size}) lies beyond the "
                               f"end of the file ({size} bytes)")
    cd = np.asarray(buf[cd_offset : cd_offset + cd_size])
    entries = _entry_starts(path, cd, count)
    fixed = gather_bytes(cd, entries, 46)
    name_len = le_uint(fixed[:, 28:30])
    raw = cd.tobytes()
    names = []
    for start, length in zip((entries + 46).tolist(), name_len.tolist()):
        try:
            names.append(raw[start : start + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise _not_a_zip(path, f"a member name at byte {cd_offset + start} is not UTF-8") from None
    csize, usize, local = le_uint(fixed[:, 20:24]), le_uint(fixed[:, 24:28]), le_uint(fixed[:, 42:46])
    if ((csize == _ZIP64_MARK) | (usize == _ZIP64_MARK) | (local == _ZIP64_MARK)).any():
        raise _Zip64Members()
    return _Members(names=names, method=le_uint(fixed[:, 10:12]), flags=le_uint(fixed[:, 8:10]), size=usize,
                    data_start=_data_starts(path, buf, local), file_size=size)


class _Zip64Members(Exception):
    """Members over 4 GB (zip64 fields in the central directory): left to numpy."""


def _zip64_directory(path: Path, buf: np.ndarray, eocd: int) -> tuple[int, int, int]:
    locator = eocd - 20
    if locator < 0 or bytes(buf[locator : locator + 4]) != _EOCD64_LOCATOR:
        raise _not_a_zip(path, "a zip64 archive without its zip64 locator")
    (record,) = struct.unpack_from("<Q", bytes(buf[locator + 8 : locator + 16]))
    head = bytes(buf[record : record + 56])
    if len(head) < 56 or head[:4] != _EOCD64:
        raise _not_a_zip(path, f"no zip64 end-of-directory record at byte {record}")
    count, cd_size, cd_offset = struct.unpack_from("<QQQ", head, 32)
    return count, cd_size, cd_offset


def _entry_starts(path: Path, cd: np.ndarray, count: int) -> np.ndarray:
    """Byte offsets of the ``count`` central-directory entries, which follow each other: the places of the
    entry signature, when each entry's lengths lead to the next one (else the entries are walked one by one:
    a member name may hold the signature's bytes)."""
    sig = np.frombuffer(_CENTRAL, np.uint8)
    if cd.shape[0] >= 46:
        found = np.flatnonzero((cd[:-3] == sig[0]) & (cd[1:-2] == sig[1]) & (cd[2:-1] == sig[2]) & (cd[3:] == sig[3]))
        if found.shape[0] == count and count and found[0] == 0:
            fixed = gather_bytes(cd, found, 46)
            ends = found + 46 + le_uint(fixed[:, 28:30]) + le_uint(fixed[:, 30:32]) + le_uint(fixed[:, 32:34])
            if (ends[:-1] == found[1:]).all() and ends[-1] <= cd.shape[0]:
                return found
    return _walk_entries(path, cd, count)


def _walk_entries(path: Path, cd: np.ndarray, count: int) -> np.ndarray:
    starts = np.zeros(count, np.int64)
    pos = 0
    raw = cd.tobytes()
    for i in range(count):
        if raw[pos : pos + 4] != _CENTRAL:
            raise _not_a_zip(path, f"central-directory entry {i} is damaged")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", raw, pos + 28)
        starts[i] = pos
        pos += 46 + name_len + extra_len + comment_len
    return starts


def _data_starts(path: Path, buf: np.ndarray, local: np.ndarray) -> np.ndarray:
    if local.shape[0] and int(local.max()) + 30 > buf.shape[0]:
        raise _not_a_zip(path, "a member's header lies beyond the end of the file")
    head = gather_bytes(buf, local, 30)
    bad = np.flatnonzero(~(head[:, :4] == np.frombuffer(_LOCAL, np.uint8)).all(axis=1))
    if bad.shape[0]:
        raise _not_a_zip(path, f"no member header at byte {int(local[bad[0]])}")
    return local + 30 + le_uint(head[:, 26:28]) + le_uint(head[:, 28:30])


def _check_members(path: Path, members: _Members, keys: list[str]) -> None:
    not_npy = [n for n in members.names if not n.endswith(".npy")]
    if not_npy:
        raise AsvbenchError(f"the .npz holds a member that is not a .npy array: {not_npy[0]!r}", where=path,
                            hint="an embedding .npz holds one array per key, as numpy.savez writes it")
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        dups = list(dict.fromkeys(k for k in keys if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
        raise AsvbenchError(f"{len(dups)} duplicate keys in the embedding store, e.g. {dups[:3]}", where=path,
                            hint="each utterance key must appear once")
    unknown = np.flatnonzero(~np.isin(members.method, (_STORED, _DEFLATED)) | (members.flags & 1 == 1))
    if unknown.shape[0]:
        raise AsvbenchError(f"member {members.names[unknown[0]]!r} is encrypted or uses an unsupported compression",
                            where=path, hint="write the store with numpy.savez or numpy.savez_compressed")


# ----------------------------------------------------------------------------- .npy members


@dataclass(frozen=True)
class _NpyHeader:
    length: int  # bytes of magic + header
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran: bool


def _read_arrays(path: Path, buf: np.ndarray, members: _Members, keys: list[str]) -> dict[int, np.ndarray]:
    """Arrays by member position: the bulk block under key -1 (rows of members ``bulk``), others one by one."""
    stored = np.flatnonzero(members.method == _STORED)
    arrays: dict[int, np.ndarray] = {}
    if stored.shape[0]:
        arrays.update(_read_stored(path, buf, members, keys, stored))
    compressed = np.flatnonzero(members.method != _STORED).tolist()
    if compressed:
        arrays.update(_load_with_numpy(path, {i: keys[i] for i in compressed}))
    return arrays


def _read_stored(path: Path, buf: np.ndarray, members: _Members, keys: list[str],
                 stored: np.ndarray) -> dict[int, np.ndarray]:
    first = int(stored[0])
    header = _parse_npy_header(path, buf, int(members.data_start[first]), keys[first])
    starts = members.data_start[stored]
    heads = gather_bytes(buf, starts, header.length)
    same = (heads == heads[0]).all(axis=1)
    out: dict[int, np.ndarray] = {}
    uniform = stored[same]
    if uniform.shape[0]:
        _check_sizes(path, members, keys, uniform, header)
        width = int(np.prod(header.shape))
        if header.fortran and len(header.shape) > 1:
            uniform, same = stored[:0], np.zeros_like(same)
        else:
            block = gather_spans(buf, members.data_start[uniform] + header.length, width * header.dtype.itemsize,
                                 header.dtype, width)
            out[-1] = block.reshape((uniform.shape[0], *header.shape))
            out[-2] = uniform  # which members the block holds, in order
    cache: dict[bytes, _NpyHeader] = {}
    for i in stored[~same].tolist():
        start = int(members.data_start[i])
        out[i] = _read_one(path, buf, members, keys, i, start, cache)
    return out


def _read_one(path: Path, buf: np.ndarray, members: _Members, keys: list[str], i: int, start: int,
              cache: dict[bytes, _NpyHeader]) -> np.ndarray:
    probe = bytes(buf[start : start + 12])
    key = probe + bytes(buf[start + 12 : start + 12 + _header_length(path, probe, keys[i]) - 12])
    if key not in cache:
        cache[key] = _parse_npy_header(path, buf, start, keys[i])
    header = cache[key]
    _check_sizes(path, members, keys, np.array([i]), header)
    count = int(np.prod(header.shape))
    values = np.frombuffer(buf, dtype=header.dtype, count=count, offset=start + header.length)
    return values.reshape(header.shape, order="F" if header.fortran else "C")


def _header_length(path: Path, probe: bytes, key: str) -> int:
    if len(probe) < 10 or not probe.startswith(_NPY_MAGIC):
        raise AsvbenchError(f"array {key!r} in the .npz is not in .npy format", where=path,
                            hint="write the store with numpy.savez(path, **{key: vector})")
    if probe[6] == 1:
        return 10 + struct.unpack_from("<H", probe, 8)[0]
    if len(probe) < 12:
        raise AsvbenchError(f"array {key!r} in the .npz has a truncated .npy header", where=path)
    return 12 + struct.unpack_from("<I", probe, 8)[0]


def _parse_npy_header(path: Path, buf: np.ndarray, start: int, key: str) -> _NpyHeader:
    """The ``.npy`` header of a member, parsed as data (never evaluated, never unpickled)."""
    probe = bytes(buf[start : start + 12])
    length = _header_length(path, probe, key)
    text = bytes(buf[start + (10 if probe[6] == 1 else 12) : start + length]).decode("latin1")
    try:
        fields = ast.literal_eval(text)
        dtype = np.dtype(fields["descr"]) if isinstance(fields["descr"], str) else None
        shape, fortran = tuple(int(s) for s in fields["shape"]), bool(fields["fortran_order"])
    except (ValueError, SyntaxError, TypeError, KeyError):
        raise AsvbenchError(f"array {key!r} in the .npz has a damaged .npy header", where=path,
                            hint="re-create the store") from None
    if dtype is None or dtype.hasobject:
        raise AsvbenchError(f"array {key!r} in the .npz holds Python objects, not numbers", where=path,
                            hint="asvbench never unpickles a store: save float arrays, e.g. "
                                 "numpy.savez(path, **{key: vector.astype('float32')})")
    if dtype.kind not in _ACCEPTED_KINDS:
        raise AsvbenchError(f"array {key!r} in the .npz holds {dtype} values, not numbers", where=path,
                            hint="save float32 embeddings")
    if len(shape) > 2:
        raise AsvbenchError(f"array {key!r} in the .npz has shape {shape}; an embedding is a vector or a "
                            "(rows, dim) matrix", where=path)
    return _NpyHeader(length=length, dtype=dtype, shape=shape, fortran=fortran)


def _check_sizes(path: Path, members: _Members, keys: list[str], which: np.ndarray, header: _NpyHeader) -> None:
    expected = header.length + int(np.prod(header.shape)) * header.dtype.itemsize
    wrong = which[members.size[which] != expected]
    if wrong.shape[0]:
        i = int(wrong[0])
        raise AsvbenchError(f"array {keys[i]!r} in the .npz holds {int(members.size[i])} bytes, its header says "
                            f"{expected}", where=path, hint="the file is damaged: re-create it")
    beyond = which[members.data_start[which] + expected > members.file_size]
    if beyond.shape[0]:
        raise _not_a_zip(path, f"array {keys[int(beyond[0])]!r} is cut short (the file is truncated)")


def _load_with_numpy(path: Path, wanted: dict[int, str]) -> dict[int, np.ndarray]:
    """The members ``wanted`` (position -> key), read by :func:`numpy.load` (compressed members)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {i: _member(path, data, key) for i, key in wanted.items()}
    except AsvbenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - zlib.error, zipfile.BadZipFile, ... on damaged members
        raise AsvbenchError(f"cannot read the .npz: {exc}", where=path, hint="the file is damaged: re-create it") \
            from None


def _member(path: Path, data, key: str) -> np.ndarray:
    try:
        value = np.asarray(data[key])
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise AsvbenchError(f"array {key!r} in the .npz holds Python objects, not numbers", where=path,
                                hint="asvbench never unpickles a store: save float arrays") from None
        raise AsvbenchError(f"cannot read array {key!r} of the .npz: {exc}", where=path,
                            hint="re-create the store") from None
    if value.dtype.kind not in _ACCEPTED_KINDS or value.ndim > 2:
        raise AsvbenchError(f"array {key!r} in the .npz holds {value.dtype} values of shape {value.shape}; an "
                            "embedding is a float vector or a (rows, dim) matrix", where=path)
    return value


def _read_with_numpy(path: Path) -> NpzRecords:
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.files)
    _check_members(path, _Members([f"{k}.npy" for k in keys], np.zeros(len(keys), np.int64),
                                  np.zeros(len(keys), np.int64), np.zeros(0), np.zeros(0), 0), keys)
    return _stack(path, keys, _load_with_numpy(path, dict(enumerate(keys))))


# ----------------------------------------------------------------------------- stacking


def _stack(path: Path, keys: list[str], arrays: dict[int, np.ndarray]) -> NpzRecords:
    n = len(keys)
    bulk, bulk_members = arrays.pop(-1, None), arrays.pop(-2, np.zeros(0, np.int64))
    counts = np.zeros(n, np.int64)
    dims = set()
    if bulk is not None:
        rows = 1 if bulk.ndim <= 2 else bulk.shape[1]
        counts[bulk_members] = rows
        dims.add(1 if bulk.ndim == 1 else bulk.shape[-1])
    for i, a in arrays.items():
        a2 = np.atleast_2d(a)
        counts[i] = a2.shape[0]
        dims.add(a2.shape[1])
    if len(dims) != 1:
        raise AsvbenchError(f"embeddings of different dimensions in one store: {sorted(dims)}", where=path)
    dim = dims.pop()
    if dim == 0:
        raise AsvbenchError("the embeddings have zero columns", where=path, hint="re-create the store")
    if not arrays and bulk is not None and bulk.dtype == np.float32 and bulk.size and \
            bulk.shape[0] == n and (counts == 1).all() and (bulk_members == np.arange(n)).all():
        return NpzRecords(keys=keys, matrix=bulk.reshape(n, dim), counts=counts)  # the usual store: no copy
    row_start = np.concatenate(([0], np.cumsum(counts)))
    matrix = np.empty((int(row_start[-1]), dim), dtype=np.float32)
    if bulk is not None and bulk.size:
        _place_bulk(matrix, row_start, bulk_members, bulk.reshape(bulk_members.shape[0], -1, dim))
    for i, a in arrays.items():
        matrix[row_start[i] : row_start[i + 1]] = np.atleast_2d(a)
    return NpzRecords(keys=keys, matrix=matrix, counts=counts)


def _place_bulk(matrix: np.ndarray, row_start: np.ndarray, members: np.ndarray, block: np.ndarray) -> None:
    rows = block.shape[1]
    first = row_start[members]
    if first.shape[0] and int(first[-1] - first[0]) == (first.shape[0] - 1) * rows and (np.diff(first) == rows).all():
        matrix[int(first[0]) : int(first[0]) + first.shape[0] * rows] = block.reshape(-1, block.shape[2])
    else:
        target = (first[:, None] + np.arange(rows)).reshape(-1)
        matrix[target] = block.reshape(-1, block.shape[2])
