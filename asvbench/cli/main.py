"""The ``asvbench`` application: composes one module per command explicitly."""

from __future__ import annotations

import copy
import sys

import typer

from asvbench import __version__
from asvbench.cli import (  # calibration, SASV fusion  # extraction, model registry  # results, plots, registry, CI
    bench_cmd,
    calibrate_cmd,
    cohort_cmd,
    compare_cmd,
    demo_cmd,
    det_cmd,
    extract_cmd,
    fuse_cmd,
    metrics_cmd,
    models_cmd,
    report_cmd,
    score_cmd,
    significance_cmd,  # paired significance of two systems
    trials_cmd,
)

app = typer.Typer(
    name="asvbench",
    help="Evaluation suite for speaker verification (ASV) and spoofing-aware speaker verification (SASV).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asvbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """asvbench: extract, score, fuse, report."""


metrics_cmd.register(app)
score_cmd.register(app)
fuse_cmd.register(app)
calibrate_cmd.register(app)
extract_cmd.register(app)
models_cmd.register(app)
for _mod in (report_cmd, det_cmd, trials_cmd, compare_cmd, significance_cmd, demo_cmd, bench_cmd, cohort_cmd):
    _mod.register(app)


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:  # answered before typer builds the parser of every command
        typer.echo(f"asvbench {__version__}")
        return
    _app_for(args)()


def _app_for(args: list[str]) -> typer.Typer:
    """The app holding only the command named by ``args[0]`` (typer then builds that one command's parser,
    not all of them: start-up), or the whole app (root ``--help``, completion, a typo: typer's own answer)."""
    name = args[0] if args else None
    commands = [c for c in app.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]  # type: ignore[union-attr]
    groups = [g for g in app.registered_groups if (g.name or g.typer_instance.info.name) == name]  # type: ignore[union-attr]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one
