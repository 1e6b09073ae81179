"""The one exception type for user errors, and the exit codes of the CLI.

Any mistake a user can fix (a malformed line, a missing key, a bad option value)
raises :class:`AsvbenchError`. The CLI turns it into a message on stderr and exit
code :data:`USER_ERROR_EXIT_CODE`, with no traceback. Anything else is a crash
(exit code 1, with a traceback): a bug in asvbench.
"""

from __future__ import annotations

from pathlib import Path

#: Exit code for user errors. Click/Typer also exit with 2 on usage errors,
#: so every "you asked for something wrong" outcome shares one code.
USER_ERROR_EXIT_CODE = 2


class AsvbenchError(Exception):
    """A user error: says what is wrong, where, and what to do about it.

    Parameters
    ----------
    what:
        What is wrong, e.g. ``"unknown label 'tgt'"``.
    where:
        Where it is, e.g. a path, or ``path:line``; optional.
    hint:
        What to do about it; optional.
    """

    def __init__(self, what: str, *, where: str | Path | None = None, hint: str | None = None):
        self.what = what
        self.where = str(where) if where is not None else None
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def at_line(path: str | Path, line_no: int) -> str:
    """``path:line`` for error messages (1-based line numbers)."""
    return f"{path}:{line_no}"
