"""``asvbench models list|pull``: the model registry, and fetching registered checkpoints.

``list`` prints a table that fits 100 columns (name, family, kind, source, embed, front-end,
default, verified); ``--wide`` adds the URL and sha256, ``--json`` gives every field. A family
name (``campplus``, ``ecapa``, ``aasist``) means the entry marked default.

``pull`` downloads a model's registered URL into the cache (``--cache-dir``, else
``$ASVBENCH_CACHE``, else ``~/.cache/asvbench/models``), verifies its sha256 when one is
registered (a mismatch removes the file and is an error) and renames it into place only then.
``extract`` uses the cached file when ``--checkpoint`` is not given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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


#: the default table's width when stdout is not a terminal and $COLUMNS is unset
LIST_WIDTH = 100
#: columns whose values break after '-' or '/' (at most this many characters a line) to fit LIST_WIDTH
_BREAKABLE = {"family": 8, "source": 12, "front-end": 12}


def _breakable(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken after '-', '/' or ' ' where possible."""
    import re

    lines: list[str] = []
    line = ""
    for token in re.findall(r"[^-/ ]*[-/ ]|[^-/ ]+$", text):
        if line and len(line) + len(token.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        while len(token.rstrip()) > width:  # one token longer than a line: cut it
            lines.append(token[:width])
            token = token[width:]
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _families_caption(entries: "list[ModelEntry]") -> str:
    from asvbench.models.registry import FAMILY_ALIASES

    aliases = {fam: alias for alias, fam in FAMILY_ALIASES.items()}
    names = sorted({e.family for e in entries})
    return ("a family name (" + ", ".join(f"{f} or {aliases[f]}" if f in aliases else f for f in names)
            + ") means its default entry. verified: parity = a parity fixture is reproduced, real = a real "
            "checkpoint is tested on real speech, both, or none.")


def _json_row(entry: "ModelEntry") -> dict:
    """Every field of ``entry`` but its loader (the signature's shapes as lists)."""
    import dataclasses

    sig = dataclasses.asdict(entry.signature) if entry.signature is not None else None
    return dict(entry.as_row(), min_samples=entry.min_samples, description=entry.description, signature=sig)


@models_app.command("list")
@handle_user_errors
def list_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print the entries as JSON (every field)."),
    wide: bool = typer.Option(False, "--wide", help="Add the download URL and sha256 columns."),
) -> None:
    """Show every registered model: name, family, kind, source, embedding size, front-end, whether it is
    its family's default, and what verified it (parity fixture, real checkpoint, both, none)."""
    entries = _entries()
    if json_out:
        print_json([_json_row(e) for e in entries])
        return
    from rich.table import Table

    table = Table(title="asvbench models", box=None, padding=(0, 1, 0, 0), header_style="bold underline",
                  caption=_families_caption(entries), caption_justify="left", row_styles=["", "dim"])
    columns = ["name", "family", "kind", "source", "embed", "front-end", "default", "verified"]
    columns += ["URL", "sha256"] if wide else []
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=not wide and col not in _BREAKABLE)
    for e in entries:
        cells = {"name": e.name, "family": e.family, "kind": e.kind, "source": e.source, "embed": str(e.embed_dim),
                 "front-end": e.frontend, "default": "yes" if e.default else "", "verified": e.verified,
                 "URL": e.url or "-", "sha256": e.sha256 or "-"}
        if not wide:
            cells.update({col: _breakable(cells[col], width) for col, width in _BREAKABLE.items()})
        table.add_row(*(cells[col] for col in columns))
    console = out_console()
    console.soft_wrap = False  # the caption wraps to the table's width
    if not console.is_terminal:  # piped: $COLUMNS, else 100 columns (--wide: as wide as the rows are)
        import os

        if wide:
            from rich.measure import Measurement

            console.width = Measurement.get(console, console.options.update_width(10_000), table).maximum
        else:
            console.width = int(os.environ.get("COLUMNS") or LIST_WIDTH)
    console.print(table)


@models_app.command("pull")
@handle_user_errors
def pull_cmd(
    name: str = typer.Argument(..., help="Registered model name, or a family name (its default entry)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Cache root (default $ASVBENCH_CACHE or "
                                                                        "~/.cache/asvbench/models)."),
) -> None:
    """Download a model's registered checkpoint into the cache and verify its sha256.

    A family name (campplus, ecapa, aasist) pulls its default entry."""
    from asvbench.extract.cache import pull

    if cache_dir is not None:
        from asvbench._outputs import DIRECTORY, check_output_path

        check_output_path("--cache-dir", cache_dir, DIRECTORY)
    entry = _entry(name)
    if entry.name != name:
        err_console.print(f"{name}: the {entry.family} family's default entry is {entry.name}", highlight=False)
        name = entry.name
    result = pull(entry.name, entry.url, entry.sha256, cache_dir=cache_dir, archive_member=entry.archive_member)
    if not result.downloaded:
        err_console.print(f"{name}: already cached and verified: {result.path}")
    elif result.verified:
        err_console.print(f"{name}: downloaded {result.n_bytes} bytes, sha256 verified: {result.path}")
    else:
        err_console.print(f"[yellow]{name}: downloaded {result.n_bytes} bytes; no sha256 is registered, "
                          f"so it is NOT verified[/] (sha256 {result.sha256}): {result.path}")
    typer.echo(str(result.path))
