"""Progress and messages of an extraction, through callbacks: the engine never imports the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class Reporting:
    """Where the engine's words for a person go: ``message(text, style)`` (resuming, interrupted)
    and ``console``, the rich console of the progress bar. The engine never imports the CLI:
    a caller passes its own (the default, :func:`stderr_reporting`, is a stderr console)."""

    def __init__(self, message: Callable[[str, "str | None"], None], console: Any):
        self.message, self.console = message, console


def stderr_reporting() -> Reporting:
    from rich.console import Console

    console = Console(stderr=True)
    return Reporting(lambda text, style=None: console.print(text, style=style), console)


class Progress:
    """rich progress bar on ``console``: utterances, utterances/s, real-time factor."""

    def __init__(self, enabled: bool, total: int, done: int, label: str, console: Any = None):
        self.enabled = enabled
        self.start = time.perf_counter()
        self.computed = 0
        self.audio = 0.0
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[ups]:.1f} utt/s"), TextColumn("RTF {task.fields[rtf]:.4f}"),
            TimeRemainingColumn(), console=console, transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, completed=done, ups=0.0, rtf=0.0)

    def advance(self, n_utts: int, audio_seconds: float) -> None:
        self.computed += n_utts
        self.audio += audio_seconds
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        self.bar.update(self.task, advance=n_utts, ups=self.computed / elapsed if elapsed else 0.0,
                        rtf=elapsed / self.audio if self.audio else 0.0)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()
