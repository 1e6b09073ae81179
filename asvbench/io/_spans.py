"""Copy many byte spans of a file buffer into one array: the bulk step of the Kaldi and ``.npz`` readers.

Records of a store lie one after another in the file, separated by their headers (a key, a
member name, an array header). Where the spans follow each other at a constant stride (keys of
one length, as VoxCeleb's are) a strided view copies them in one numpy call; otherwise a loop
of memoryview slice assignments copies them, about 1 µs per span.
"""

from __future__ import annotations

import numpy as np

#: below this many spans per constant-stride run, the loop is cheaper than a view per run
_MIN_RUN = 16


def gather_spans(buf: np.ndarray, starts: np.ndarray, length: int, dtype: np.dtype, width: int,
                 out: np.ndarray | None = None) -> np.ndarray:
    """``(len(starts), width)`` array of ``dtype`` whose row ``i`` is ``buf[starts[i] : starts[i] + length]``.

    ``buf`` is a 1-D uint8 array (a memory map of the file); every span has ``length`` bytes,
    ``length == width * dtype.itemsize``, and lies inside ``buf`` (the caller checked). ``out``, when
    given, is a C-contiguous ``(len(starts), width)`` array of ``dtype`` to fill.
    """
    n = int(starts.shape[0])
    out = np.empty((n, width), dtype=dtype) if out is None else out
    if n == 0 or length == 0:
        return out
    flat = out.reshape(-1).view(np.uint8).reshape(n, length)
    for lo, hi, stride in _constant_stride_runs(starts):
        if hi - lo >= _MIN_RUN and stride >= length:  # increasing, non-overlapping: a view is safe
            begin = int(starts[lo])
            view = np.lib.stride_tricks.as_strided(buf[begin:], shape=(hi - lo, length), strides=(stride, 1),
                                                   writeable=False)
            flat[lo:hi] = view
        else:
            _copy_by_loop(buf, starts[lo:hi], length, flat[lo:hi])
    return out


def _constant_stride_runs(starts: np.ndarray) -> list[tuple[int, int, int]]:
    """A partition of ``starts`` into runs ``(lo, hi, stride)`` with ``starts[lo:hi]`` evenly spaced by ``stride``;
    one run with stride 0 (the loop) when the stride changes too often for views to pay."""
    n = int(starts.shape[0])
    if n < 2:
        return [(0, n, 0)]
    steps = np.diff(starts)
    # steps[i] != steps[i - 1]: starts[i + 1] is not on the run through starts[i - 1], starts[i]
    bounds = np.flatnonzero(steps[1:] != steps[:-1]) + 2
    if bounds.shape[0] > n // _MIN_RUN:
        return [(0, n, 0)]
    edges = [0, *bounds.tolist(), n]
    return [(lo, hi, int(steps[lo]) if hi - lo > 1 else 0) for lo, hi in zip(edges[:-1], edges[1:])]


def _copy_by_loop(buf: np.ndarray, starts: np.ndarray, length: int, dest: np.ndarray) -> None:
    src = memoryview(buf)
    target = memoryview(dest.reshape(-1))
    pos = 0
    for start in starts.tolist():
        target[pos : pos + length] = src[start : start + length]
        pos += length


def gather_bytes(buf: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """``(len(starts), length)`` uint8: the first ``length`` bytes at each start, zero past the end of ``buf``."""
    out = np.zeros((starts.shape[0], length), np.uint8)
    inside = starts + length <= buf.shape[0]
    if inside.all():
        return gather_spans(buf, starts, length, np.dtype(np.uint8), length, out=out)
    fits = np.flatnonzero(inside)
    out[fits] = gather_spans(buf, starts[fits], length, np.dtype(np.uint8), length)
    for i in np.flatnonzero(~inside).tolist():  # records cut by the end of the file: the caller reports them
        tail = buf[max(int(starts[i]), 0) : int(starts[i]) + length]
        out[i, : tail.shape[0]] = tail
    return out


def le_uint(fields: np.ndarray) -> np.ndarray:
    """Little-endian unsigned integers from ``(n, k)`` uint8 rows (k = 2, 4 or 8), as int64."""
    k = fields.shape[1]
    kind = {2: "<u2", 4: "<u4", 8: "<u8"}[k]
    return np.ascontiguousarray(fields).view(kind)[:, 0].astype(np.int64)


def le_int32(fields: np.ndarray) -> np.ndarray:
    """Little-endian int32 from ``(n, 4)`` uint8 rows, as int64."""
    return np.ascontiguousarray(fields).view("<i4")[:, 0].astype(np.int64)
