"""Rendered ``--help`` pages kept in the user's cache directory (start-up).

Rendering a command's help with rich costs ~0.35 s (importing typer's rich formatter, then laying
out the option panels): more than the rest of the start-up together. The rendered bytes depend only
on the package's files, the installed typer and rich, the arguments and the terminal (width,
colour, encoding), so they are kept under a key naming all of those, and a later ``--help`` with
the same key prints the stored bytes without building any parser. The key is stored in the file
and compared whole, so a changed file, terminal or environment renders afresh.

Only a help request is cached: the last argument is ``--help``, no argument before it is an
option (so no option can have taken ``--help`` as its value and run the command), and the
command exited 0. ``ASVBENCH_HELP_CACHE=0`` turns the cache off; a cache that cannot be written
is silently skipped.
"""

from __future__ import annotations

import io
import os
import sys
import zlib
from collections.abc import Callable

#: environment variables that change how typer / rich render (width, colour, terminal detection)
_RENDER_ENV = ("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE",
               "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_help_request(args: list[str]) -> bool:
    return (bool(args) and args[-1] == "--help" and not any(a.startswith("-") for a in args[:-1])
            and os.environ.get("ASVBENCH_HELP_CACHE", "1") != "0"
            and not any(name.endswith("_COMPLETE") for name in os.environ))


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "asvbench", "help")


def _tree_stamp(root: str) -> list[str]:
    """path:mtime:size of every file under ``root`` (no bytecode)."""
    out = []
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    out += _tree_stamp(entry.path)
            elif not entry.name.endswith((".pyc", ".tmp")):
                st = entry.stat()
                out.append(f"{entry.path}:{st.st_mtime_ns}:{st.st_size}")
    return out


def _terminal() -> list[str]:
    sizes = []
    for fd in (0, 1, 2):  # rich asks each standard stream for the terminal size
        try:
            sizes.append(str(tuple(os.get_terminal_size(fd))))
        except OSError:
            sizes.append("-")
    out = sys.stdout
    return [f"isatty={out.isatty()}", f"encoding={getattr(out, 'encoding', None)}", "sizes=" + ",".join(sizes)]


def _libraries() -> list[str]:
    import importlib.util

    stamps = []
    for name in ("typer", "rich"):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        stamps.append(f"{name}={origin}:{os.stat(origin).st_mtime_ns if origin else '-'}")
    return stamps


def help_key(args: list[str]) -> str:
    env = [f"{k}={os.environ[k]}" for k in sorted(os.environ)
           if k in _RENDER_ENV or k.startswith(("TYPER_", "_TYPER_", "ASVBENCH_"))]  # ours: in case a help names one
    # sys.argv[0] and the interpreter's own arguments name the program in the usage line
    page = [f"argv={args!r}", f"program={sys.argv[0]!r} {getattr(sys, 'orig_argv', [])[:-len(args)]!r}",
            *env, *_terminal()]
    return "\n".join([*page, _FILES, f"python={sys.version}", *_libraries(), *_tree_stamp(str(_PACKAGE))])


_FILES = "# installed files"


def _path_for(key: str) -> str:
    """One file per page and terminal (the part of the key above the file stamps): a page rendered
    after a change replaces the stale one instead of adding a file per edit."""
    page = key.partition(_FILES)[0]
    return os.path.join(cache_dir(), f"{zlib.crc32(page.encode()):08x}.txt")


def cached(key: str) -> str | None:
    """The stored help for ``key``, or None (missing, another key in the same file, unreadable)."""
    try:
        with open(_path_for(key), encoding="utf-8") as file:
            stored_key, _, text = file.read().partition("\n\0\n")
    except (OSError, UnicodeDecodeError):
        return None
    return text if stored_key == key else None


def store(key: str, text: str) -> None:
    path = _path_for(key)
    folder, name = os.path.split(path)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(f"{key}\n\0\n{text}")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache directory costs only the next render


class _Capture(io.StringIO):
    """Collects what the help writes while looking to rich like the real stdout (tty, encoding)."""

    def __init__(self, real) -> None:
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        return self._real.isatty()

    @property
    def encoding(self):  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")


def run_with_cache(args: list[str], render: Callable[[], None]) -> None:
    """Print the cached help for ``args``, or ``render()`` it (which exits) and keep what it printed."""
    key = help_key(args)
    text = cached(key)
    if text is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    real = sys.stdout
    capture = _Capture(real)
    sys.stdout = capture
    code: object = 0
    try:
        render()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout = real
        real.write(capture.getvalue())
        real.flush()
    if code in (0, None):
        store(key, capture.getvalue())
    else:
        raise SystemExit(code)
