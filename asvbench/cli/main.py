"""The ``asvbench`` application: composes one module per command explicitly.

``app`` is built on first use (the module's ``__getattr__``): :func:`main` answers ``--version``
and a cached ``--help`` page (:mod:`asvbench.cli._help_cache`) without importing typer or any
command module, and otherwise builds only the invoked command's parser.
"""

from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING

from asvbench import __version__

if TYPE_CHECKING:
    import typer


def _build_app() -> typer.Typer:
    import typer

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
    for mod in (report_cmd, det_cmd, trials_cmd, compare_cmd, significance_cmd, demo_cmd, bench_cmd, cohort_cmd):
        mod.register(app)
    return app


def _the_app() -> typer.Typer:
    built = globals().get("app")
    if built is None:
        built = globals()["app"] = _build_app()
    return built


def __getattr__(name: str):
    if name == "app":
        return _the_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:  # answered before typer is imported
        sys.stdout.write(f"asvbench {__version__}\n")
        return
    if args and args[-1] == "--help":
        from asvbench.cli import _help_cache

        if _help_cache.is_help_request(args):  # the rendered page from the cache: no typer, no rich
            _help_cache.run_with_cache(args, lambda: _app_for(args)())
            return
    _app_for(args)()


def _app_for(args: list[str]) -> typer.Typer:
    """The app holding only the command named by ``args[0]`` (typer then builds that one command's parser,
    not all of them: start-up), or the whole app (root ``--help``, completion, a typo: typer's own answer)."""
    import typer

    app = _the_app()
    name = args[0] if args else None
    commands = [c for c in app.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]  # type: ignore[union-attr]
    groups = [g for g in app.registered_groups if (g.name or g.typer_instance.info.name) == name]  # type: ignore[union-attr]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one
