"""Score texts for the canonical score file: ``repr`` of each float64, one per line.

``repr`` (the shortest decimal that reads back as the same float) costs about 0.5 us per
score and holds the GIL, so at Vox1-E scale (580 k scores) it is the longest single step of
``asvbench score``. :class:`ScoreText` can split the work with a forked child process that
formats the second half and sends it back through a pipe while this process formats the
first half. The fork must happen while no other thread of this process runs (so call
:meth:`ScoreText.start` from the main thread before starting worker threads); on any
failure of the child the second half is formatted here, so the output never changes.
"""

from __future__ import annotations

import os
import sys

import numpy as np

#: below this many scores one process formats them all (a fork costs a few milliseconds)
FORK_MIN_SCORES = 200_000
#: below this many scores a child is not started for all of them either
CHILD_ALL_MIN_SCORES = 50_000


def repr_lines(values: np.ndarray) -> bytes:
    """``repr`` of each value, each followed by a newline, as ASCII bytes."""
    if not values.shape[0]:
        return b""
    return ("\n".join(map(repr, np.asarray(values, dtype=np.float64).tolist())) + "\n").encode("ascii")


class ScoreText:
    """The score lines of ``scores``, formatted here or half here and half in a forked child."""

    def __init__(self, scores: np.ndarray, split: int, pid: int | None, fd: int | None):
        self._scores = scores
        self._split = split
        self._pid = pid
        self._fd = fd

    @classmethod
    def start(cls, scores: np.ndarray, *, parallel: bool | None = None, all_in_child: bool = False) -> "ScoreText":
        """Start formatting: with ``parallel`` (default: Linux/macOS, >= 2 CPUs and at least
        FORK_MIN_SCORES scores) a child process begins on the second half at once, or on all
        of them with ``all_in_child`` (for a caller that has other work to do meanwhile)."""
        scores = np.asarray(scores, dtype=np.float64)
        if parallel is None:
            parallel = (scores.shape[0] >= (CHILD_ALL_MIN_SCORES if all_in_child else FORK_MIN_SCORES)
                        and (os.cpu_count() or 1) >= 2 and hasattr(os, "fork") and sys.platform != "win32")
        if not parallel:
            return cls(scores, scores.shape[0], None, None)
        split = 0 if all_in_child else scores.shape[0] // 2
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
                data = memoryview(repr_lines(scores[split:]))
                while data:
                    data = data[os.write(write_fd, data):]
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
