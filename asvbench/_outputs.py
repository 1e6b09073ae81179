"""Output paths of a command: checked before any work, locked while it runs, temporaries of
killed runs removed.

Every command calls :func:`claim_outputs` first with its output options and its input options
(``{"--out": path, ...}``). It refuses, naming the option the user typed:

* an output that is a directory (or, for a directory output, a file);
* an output under a regular file, or in a directory that cannot be written (or created);
* an output that is one of the command's inputs (``score --out`` equal to ``--trials``), or that
  two output options share;
* an output another live process is writing: each output gets a lock file ``.NAME.lock``
  beside it holding the writer's pid; a lock whose pid no longer runs is taken over.

It also removes the temporary files ``.NAME.<pid>.XXXX.tmp`` (see :mod:`asvbench._atomic`) and the
``.NAME.<pid>.XXXX.old`` directories of a store swap that a killed writer of the same output left
behind. :func:`release_claims` (called by the CLI's error
handler when the command ends, however it ends) removes the locks, and the parent directories
that were created only to hold them when nothing was written there.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from asvbench.errors import AsvbenchError

#: what an output option names: a file (most), a directory (``--out-dir``, ``--to``), or either
FILE, DIRECTORY, EITHER = "file", "directory", "either"

PathOption = Path | str | None | Iterable[Path | str]


@dataclass
class _Claims:
    locks: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)


_CLAIMS = _Claims()


def _paths(value: PathOption) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(v) for v in value if v is not None]


def _same(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _first_existing_parent(path: Path) -> Path:
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_output_path(option: str, path: Path, kind: str = FILE) -> None:
    """One output path: the right kind, under a writable (or creatable) directory."""
    if path.is_dir() and kind == FILE:
        raise AsvbenchError(f"{option} names a directory, not a file", where=path,
                            hint=f"give {option} a file path, e.g. {path / 'out.tsv'}")
    if path.exists() and not path.is_dir() and kind == DIRECTORY:
        raise AsvbenchError(f"{option} names an existing file, not a directory", where=path,
                            hint=f"give {option} a directory (it is created when missing)")
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise AsvbenchError(f"{option} names a special file (a pipe or device), not a regular file", where=path,
                            hint=f"give {option} the path of a regular file")
    if kind == DIRECTORY and path.is_dir():
        holder = path
    else:
        holder = _first_existing_parent(path)
    if not holder.is_dir():
        raise AsvbenchError(f"{option}: {holder} is a file, so nothing can be created under it", where=path,
                            hint=f"give {option} a path in a directory")
    if not os.access(holder, os.W_OK | os.X_OK):
        raise AsvbenchError(f"{option}: the directory {holder} is not writable", where=path,
                            hint=f"give {option} a path in a directory you can write to, or fix its permissions")


def check_input_path(option: str, path: Path) -> None:
    """A device never ends (/dev/zero) and a socket cannot be read; a named pipe is fine (``<(zcat ...)``)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing: the reader says so, with its own hint
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise AsvbenchError(f"{option} names a device or socket, not a file", where=path,
                            hint=f"give {option} the path of a file")


def check_outputs(outputs: Mapping[str, PathOption], inputs: Mapping[str, PathOption] | None = None,
                  kinds: Mapping[str, str] | None = None) -> None:
    """Check every output path (see the module docstring); nothing is created or read."""
    kinds = kinds or {}
    seen: list[tuple[str, Path]] = []
    given_inputs = [(flag, p) for flag, value in (inputs or {}).items() for p in _paths(value)]
    for flag, p in given_inputs:
        check_input_path(flag, p)
    for option, value in outputs.items():
        for path in _paths(value):
            check_output_path(option, path, kinds.get(option, FILE))
            for in_option, in_path in given_inputs:
                if _same(path, in_path):
                    raise AsvbenchError(
                        f"{option} is the same path as the input {in_option}: writing it would destroy the input",
                        where=path, hint=f"give {option} another path")
            for other_option, other in seen:
                if _same(path, other):
                    raise AsvbenchError(f"{option} and {other_option} name the same path", where=path,
                                        hint="give each output its own path")
            seen.append((option, path))


def claim_outputs(outputs: Mapping[str, PathOption], inputs: Mapping[str, PathOption] | None = None,
                  kinds: Mapping[str, str] | None = None, *, lock_suffix: str = "") -> None:
    """:func:`check_outputs`, then lock each output and remove stale temporaries of dead writers.

    The locks are held until :func:`release_claims`. ``lock_suffix`` tells apart processes that
    legitimately share an output (extraction shards).
    """
    check_outputs(outputs, inputs, kinds)
    try:
        for option, value in outputs.items():
            for path in _paths(value):
                _lock(option, path, lock_suffix)
                remove_stale_temporaries(path)
    except BaseException:
        release_claims()
        raise


def lock_path(path: Path, suffix: str = "") -> Path:
    return path.parent / f".{path.name}{suffix}.lock"


def _lock(option: str, path: Path, suffix: str) -> None:
    lock = lock_path(path, suffix)
    _make_parents(lock.parent)
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None and holder != os.getpid() and pid_alive(holder):
                raise AsvbenchError(
                    f"{option}: another asvbench process (pid {holder}) is writing this output", where=path,
                    hint=f"wait for pid {holder} to finish, or write to another path; if no such process runs, "
                         f"delete {lock}") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # its writer is gone: take it over
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        _CLAIMS.locks.append(lock)
        return
    raise AsvbenchError(f"{option}: could not take the lock {lock}", where=path,
                        hint="another process keeps creating it; retry")


def _lock_holder(lock: Path) -> int | None:
    try:
        text = lock.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None
    return int(text[0]) if text and text[0].isdigit() else None


def _make_parents(directory: Path) -> None:
    missing = []
    d = Path(os.path.abspath(directory))
    while not d.exists():
        missing.append(d)
        d = d.parent
    for d in reversed(missing):
        d.mkdir()
        _CLAIMS.created_dirs.append(d)


def release_claims() -> None:
    """Remove this process's locks, and the directories made for them that stayed empty."""
    for lock in _CLAIMS.locks:
        if _lock_holder(lock) == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
    for d in reversed(_CLAIMS.created_dirs):
        with contextlib.suppress(OSError):
            d.rmdir()  # only when empty: an output written there keeps it
    _CLAIMS.locks.clear()
    _CLAIMS.created_dirs.clear()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def temp_pid(path: Path, target_name: str) -> int | None:
    """The writer's pid in a temporary name ``.NAME.<pid>.XXXX.tmp``; None for other names."""
    middle = path.name[len(target_name) + 2 : -len(".tmp")]
    head = middle.split(".", 1)[0]
    return int(head) if head.isdigit() and "." in middle else None


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove ``.NAME.*.tmp`` and ``.NAME.*.old`` beside ``path`` whose writer no longer runs.

    ``.tmp``: a file or directory being written. ``.old``: the directory a store swap moves the
    previous store into (:func:`asvbench.io.embeddings.write_native_store`); a kill between its
    two renames leaves NAME missing and the previous store inside, which is then put back (the
    new one never got into place). A name without a pid (written before pids were recorded)
    counts as stale: the caller holds the lock of ``path``, so no other command is writing it.
    """
    path = Path(path)
    removed: list[Path] = []
    if not path.parent.is_dir():
        return removed
    prefix = glob.escape(str(path.parent / f".{path.name}."))
    for name in sorted(glob.glob(prefix + "*.old")) + glob.glob(prefix + "*.tmp"):
        left = Path(name)
        pid = temp_pid(left, path.name)
        if pid is not None and pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            previous = left / "store"
            if left.suffix == ".old" and not os.path.lexists(path) and previous.exists():
                os.replace(previous, path)  # killed mid-swap: the previous store is the output again
            if left.is_dir() and not left.is_symlink():
                import shutil

                shutil.rmtree(left)
            else:
                left.unlink()
            removed.append(left)
    return removed
