"""Atomic file output: write to a temporary file beside the target, then rename.

The temporary file is ``.NAME.<pid>.XXXX.tmp``: the writer's pid lets the next run of a
command that writes NAME remove what a killed writer left (:mod:`asvbench._outputs`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def default_mode(base: int = 0o666) -> int:
    """``base`` less the process umask: the mode a plainly created file (0o666) or
    directory (0o777) would get; mkstemp/mkdtemp make 0600/0700 instead."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


#: fault tests (tests/reliability): ``ASVBENCH_FAULT_KILL_AT=N`` SIGKILLs this process when its
#: N-th atomic write has its temporary file complete and is about to rename it (the worst moment)
_FAULT_ENV = "ASVBENCH_FAULT_KILL_AT"
_renames = 0


def _fault_point() -> None:
    global _renames
    at = os.environ.get(_FAULT_ENV)
    if not at:
        return
    _renames += 1
    if _renames == int(at):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, default_mode())
    try:
        yield tmp
        _fault_point()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only when the block succeeds."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as handle:
        yield handle


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
