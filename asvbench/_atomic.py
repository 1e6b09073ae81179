"""Atomic file output: write to a temporary file beside the target, then rename.

The temporary file is ``.NAME.<pid>.XXXX.tmp``: the writer's pid lets the next run of a
command that writes NAME remove what a killed writer left (:mod:`asvbench._outputs`).

A command wrapped in :func:`staged_command` (score, metrics, fuse, calibrate, report, det) renames
nothing until it returns: each completed temporary file waits, and all of them are renamed into
place only when the whole command succeeded (so a breakdown, interval or record that fails after
the scores were written leaves the old ``--out`` as it was, and no new file). Work a command must
keep even when it fails later (the CM cache of ``fuse``) runs under :func:`unstaged`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
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


def named_fault_point(name: str) -> None:
    """Fault tests: ``ASVBENCH_FAULT_KILL_IN=name`` SIGKILLs this process here (e.g. ``store-swap``:
    the previous store moved aside, the new one not yet in place)."""
    if os.environ.get("ASVBENCH_FAULT_KILL_IN") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class _Staging:
    """The completed temporaries of the running staged command: target -> temporary (in write order)."""

    def __init__(self) -> None:
        self.pending: dict[Path, Path] | None = None
        self.suspended = 0
        self.lock = threading.Lock()  # score writes its file from a worker thread

    def active(self) -> bool:
        return self.pending is not None and not self.suspended


_STAGING = _Staging()


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _stage(tmp: Path, target: Path) -> None:
    with _STAGING.lock:
        assert _STAGING.pending is not None
        earlier = _STAGING.pending.pop(_key(target), None)  # a second write of one output wins
        _STAGING.pending[_key(target)] = tmp
    if earlier is not None:
        with contextlib.suppress(FileNotFoundError):
            earlier.unlink()


def _commit(pending: dict[Path, Path]) -> None:
    items = list(pending.items())
    try:
        while items:
            target, tmp = items[0]
            _fault_point()
            os.replace(tmp, target)
            items.pop(0)
    finally:
        _discard(dict(items))


def _discard(pending: dict[Path, Path]) -> None:
    for tmp in pending.values():
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _succeeded(exc: BaseException) -> bool:
    """``typer.Exit()`` / ``SystemExit(0)`` end a command that succeeded."""
    code = getattr(exc, "exit_code", getattr(exc, "code", None))
    return isinstance(exc, SystemExit) and code in (0, None) or type(exc).__name__ == "Exit" and code == 0


@contextlib.contextmanager
def staged_outputs() -> Iterator[None]:
    """Hold back every atomic rename of the block; rename all on success, remove all on failure."""
    if _STAGING.pending is not None:  # nested: the outer block decides
        yield
        return
    _STAGING.pending = {}
    try:
        yield
    except BaseException as exc:
        pending, _STAGING.pending = _STAGING.pending, None
        if _succeeded(exc):
            _commit(pending)
        else:
            _discard(pending)
        raise
    pending, _STAGING.pending = _STAGING.pending, None
    _commit(pending)


def staged_command(func: Callable) -> Callable:
    """Run a CLI command under :func:`staged_outputs` (put it below ``@handle_user_errors``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with staged_outputs():
            return func(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def unstaged() -> Iterator[None]:
    """Inside a staged command: writes of the block are renamed at once (a cache kept on failure)."""
    with _STAGING.lock:
        _STAGING.suspended += 1
    try:
        yield
    finally:
        with _STAGING.lock:
            _STAGING.suspended -= 1


def staged_view(path: str | Path) -> Path:
    """Where the content last written to ``path`` is now: its staged temporary, or ``path``."""
    with _STAGING.lock:
        pending = _STAGING.pending or {}
        return pending.get(_key(Path(path)), Path(path))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched. In a staged
    command (:func:`staged_outputs`) the rename waits for the command's success.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, default_mode())
    try:
        yield tmp
        if _STAGING.active():
            _stage(tmp, target)
            return
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
