"""``asvbench models list|pull``: the model registry, and fetching registered checkpoints.

``pull`` downloads a model's registered URL into the cache (``--cache-dir``, else
``$ASVBENCH_CACHE``, else ``~/.cache/asvbench/models``), verifies its sha256 when one is
registered (a mismatch removes the file and is an error) and renames it into place only then.
``extract`` uses the cached file when ``--checkpoint`` is not given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import ModelEntry

models_app = typer.Typer(name="models", help="Registered models: list them, pull their checkpoints.",
                         no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


def _entries() -> "list[ModelEntry]":
    from asvbench.models.registry import list_models

    return list_models()


def _entry(name: str) -> "ModelEntry":
    from asvbench.models.registry import get_model

    return get_model(name)


@models_app.command("list")
@handle_user_errors
def list_cmd(json_out: bool = typer.Option(False, "--json", help="Print the entries as JSON.")) -> None:
    """Show every registered model: family, kind, source, size, front-end, licence, URL, sha256."""
    entries = _entries()
    if json_out:
        print_json([dict(e.as_row(), min_samples=e.min_samples, description=e.description) for e in entries])
        return
    from rich.table import Table

    table = Table(title="asvbench models", show_lines=False)
    for col in ("name", "family", "kind", "source", "embed", "front-end", "licence", "URL", "sha256"):
        table.add_column(col, overflow="fold", no_wrap=col in ("name", "kind", "embed"))
    for e in entries:
        table.add_row(e.name, e.family, e.kind, e.source, str(e.embed_dim), e.frontend, e.licence,
                      e.url or "-", (e.sha256[:16] + "...") if e.sha256 else "-")
    console = out_console()
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console.width = max(console.width, 240)
    console.print(table)


@models_app.command("pull")
@handle_user_errors
def pull_cmd(
    name: str = typer.Argument(..., help="Registered model name."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Cache root (default $ASVBENCH_CACHE or "
                                                                        "~/.cache/asvbench/models)."),
) -> None:
    """Download a model's registered checkpoint into the cache and verify its sha256."""
    from asvbench.extract.cache import pull

    entry = _entry(name)
    result = pull(entry.name, entry.url, entry.sha256, cache_dir=cache_dir, archive_member=entry.archive_member)
    if not result.downloaded:
        err_console.print(f"{name}: already cached and verified: {result.path}")
    elif result.verified:
        err_console.print(f"{name}: downloaded {result.n_bytes} bytes, sha256 verified: {result.path}")
    else:
        err_console.print(f"[yellow]{name}: downloaded {result.n_bytes} bytes; no sha256 is registered, "
                          f"so it is NOT verified[/] (sha256 {result.sha256}): {result.path}")
    typer.echo(str(result.path))
