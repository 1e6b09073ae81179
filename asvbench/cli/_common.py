"""What every command shares: the stderr console, user-error handling, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from asvbench._json import json_safe
from asvbench.errors import USER_ERROR_EXIT_CODE, AsvbenchError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


class _StderrConsole:
    """The stderr console, made on first use: importing rich costs start-up that `--version` and
    `--help` do not need (keep rich out of the CLI's module-level imports)."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if _StderrConsole._console is None:
            from rich.console import Console

            _StderrConsole._console = Console(stderr=True)
        return getattr(_StderrConsole._console, name)


#: Messages, progress and tables meant for a person go to stderr; data goes to stdout.
err_console: Console = _StderrConsole()  # type: ignore[assignment]


def out_console() -> Console:
    """A console on the current stdout (looked up per call so test runners can capture it)."""
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=True)


def handle_user_errors(func: F) -> F:
    """Turn :class:`AsvbenchError` into a one-paragraph message and exit code 2, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AsvbenchError as exc:
            # soft_wrap: never break a path or 'file:line' across lines (messages are grepped)
            # escape: the message quotes user text, which may hold '[...]' (rich markup)
            from rich.console import Console
            from rich.markup import escape

            Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(exc.format())}", markup=True,
                                                       highlight=False)
            raise typer.Exit(USER_ERROR_EXIT_CODE) from None
        except KeyboardInterrupt:
            from rich.console import Console

            Console(stderr=True).print("interrupted", style="yellow")
            raise typer.Exit(130) from None
        finally:
            from asvbench._outputs import release_claims

            release_claims()  # the output locks of asvbench._outputs.claim_outputs

    return wrapper  # type: ignore[return-value]


def to_json(obj: Any) -> str:
    """Serialise a result dict to JSON text; non-finite floats become strings/null."""
    return json.dumps(json_safe(obj), indent=2, sort_keys=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(to_json(obj) + "\n")
