"""Score texts for the canonical score file: ``repr`` of each float64, one per line.

The texts are ``repr``'s (the shortest decimal that reads back as the same float), made by the
vectorised formatter of :mod:`asvbench.io._float_text` (about 4x faster than ``repr`` of each
score; ``repr`` itself for the values it does not prove, which scores rarely are). It holds
the GIL, so at scale it is still one of the longer steps of ``asvbench score``.
:class:`ScoreText` can split the work with a forked child process that
formats the second half and sends it back through a pipe while this process formats the
first half. The fork must happen while no other thread of this process runs (so call
:meth:`ScoreText.start` from the main thread before starting worker threads); on any
failure of the child the second half is formatted here, so the output never changes.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from asvbench._cpus import usable_cpus
from asvbench.io._float_text import float_repr_lines

#: below this many scores one process formats them all (a fork costs a few milliseconds)
FORK_MIN_SCORES = 200_000


def repr_lines(values: np.ndarray) -> bytes:
    """``repr`` of each value (as float64), each followed by a newline, as ASCII bytes."""
    return float_repr_lines(np.asarray(values, dtype=np.float64))


class ScoreText:
    """The score lines of ``scores``, formatted here or half here and half in a forked child."""

    def __init__(self, scores: np.ndarray, split: int, pid: int | None, fd: int | None):
        self._scores = scores
        self._split = split
        self._pid = pid
        self._fd = fd

    @classmethod
    def start(cls, scores: np.ndarray, *, parallel: bool | None = None) -> "ScoreText":
        """Start formatting: with ``parallel`` (default: Linux/macOS, >= 2 CPUs and at least
        FORK_MIN_SCORES scores) a child process begins on the second half at once."""
        scores = np.asarray(scores, dtype=np.float64)
        if parallel is None:
            parallel = scores.shape[0] >= FORK_MIN_SCORES and _can_fork()
        if not parallel:
            return cls(scores, scores.shape[0], None, None)
        split = scores.shape[0] // 2
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return cls(scores, scores.shape[0], None, None)
        if pid == 0:  # the child: format, send, and leave without running any exit handlers
            code = 1
            try:
                os.close(read_fd)
                _write_all(write_fd, repr_lines(scores[split:]))
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        return cls(scores, split, pid, read_fd)

    def result(self) -> bytes:
        """All score lines (blocks until the child, if any, has sent its half)."""
        first = repr_lines(self._scores[: self._split])
        if self._pid is None:
            return first
        second = self._collect()
        if second is None or second.count(b"\n") != self._scores.shape[0] - self._split:
            second = repr_lines(self._scores[self._split :])  # the child failed: do it here
        return first + second

    def _collect(self) -> bytes | None:
        chunks = []
        assert self._fd is not None and self._pid is not None
        try:
            with os.fdopen(self._fd, "rb") as pipe:
                self._fd = None
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None

    def close(self) -> None:
        """Reap the child without its result (when the output is abandoned)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32" and usable_cpus() >= 2


def _read_exact(fd: int, n: int) -> bytes | None:
    """``n`` bytes from ``fd``, or None at an end of file before them."""
    parts, left = [], n
    while left:
        part = os.read(fd, min(left, 1 << 22))
        if not part:
            return None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FormatterProcess:
    """One forked child that formats the score texts of each array sent to it (a streamed list's
    chunks), while this process goes on with the next chunk.

    Forked once, early (from the main thread while no other thread runs): a child forked from
    a large process per chunk makes every page this process writes meanwhile a copy-on-write
    fault. One request at a time: :meth:`result` of a request before the next :meth:`submit`
    (so neither side can block the other on a full pipe). If the child fails, the texts are
    formatted here: the output never changes.
    """

    def __init__(self, pid: int, request_fd: int, reply_fd: int):
        self._pid: int | None = pid
        self._request_fd = request_fd
        self._reply_fd = reply_fd
        self._pending = False

    @classmethod
    def start(cls) -> "FormatterProcess | None":
        """The child, or None where there is no fork or a single CPU (then format in place)."""
        if not _can_fork():
            return None
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_r, request_w, reply_r, reply_w):
                os.close(fd)
            return None
        if pid == 0:  # the child: serve requests until the request pipe closes, run no exit handlers
            code = 1
            try:
                os.close(request_w)
                os.close(reply_r)
                _serve(request_r, reply_w)
                code = 0
            finally:
                os._exit(code)
        os.close(request_r)
        os.close(reply_w)
        return cls(pid, request_w, reply_r)

    def submit(self, scores: np.ndarray) -> None:
        assert not self._pending, "result() of the previous request first"
        self._pending = True
        if self._pid is None:
            return
        data = np.ascontiguousarray(scores, dtype=np.float64).tobytes()
        try:
            _write_all(self._request_fd, len(data).to_bytes(8, "little"))
            _write_all(self._request_fd, data)
        except OSError:  # the child is gone: format here from now on
            self._stop()

    def result(self, scores: np.ndarray) -> bytes:
        """The lines of ``scores`` (the array given to the last :meth:`submit`)."""
        assert self._pending
        self._pending = False
        text = self._receive() if self._pid is not None else None
        if text is None or text.count(b"\n") != scores.shape[0]:
            self._stop()
            return repr_lines(scores)
        return text

    def _receive(self) -> bytes | None:
        try:
            size = _read_exact(self._reply_fd, 8)
            return _read_exact(self._reply_fd, int.from_bytes(size, "little")) if size is not None else None
        except OSError:
            return None

    def _stop(self) -> None:
        for fd in (self._request_fd, self._reply_fd):
            if fd >= 0:
                os.close(fd)
        self._request_fd = self._reply_fd = -1
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def close(self) -> None:
        """End the child (closing its request pipe ends it) and reap it."""
        self._stop()


def _serve(request_fd: int, reply_fd: int) -> None:
    while (size := _read_exact(request_fd, 8)) is not None:
        data = _read_exact(request_fd, int.from_bytes(size, "little"))
        if data is None:
            return
        text = repr_lines(np.frombuffer(data, np.float64))
        _write_all(reply_fd, len(text).to_bytes(8, "little"))
        _write_all(reply_fd, text)
