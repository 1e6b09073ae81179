"""``asvbench trials list|fetch|verify|identify``: the registry of benchmark trial lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.bench.specs import MAKE_FORMATS
from asvbench.cli._common import err_console, handle_user_errors, out_console, print_json
from asvbench.cli._options import choice, trial_formats_help

trials_app = typer.Typer(help="The registry of benchmark trial lists (Vox1-O/E/H, CN-Celeb, ASVspoof).",
                         no_args_is_help=True)


def _bench_dict(b) -> dict:
    return {"name": b.name, "title": b.title, "kind": b.kind, "variant": b.variant, "filename": b.filename,
            "url": b.url, "download": b.download, "n_lines": b.n_lines, "label_counts": b.label_counts,
            "sha256": [c.sha256 for c in b.copies], "content_sha256": b.content_sha256, "verified": b.verified,
            "aliases": list(b.aliases), "notes": b.notes}


def _print_report(report) -> None:
    console = out_console()
    b = report.benchmark
    verdict = "[bold green]OK[/]" if report.ok else "[bold red]MISMATCH[/]"
    console.print(f"{verdict} {report.fingerprint.source} vs {b.name} ({b.title})", highlight=False)
    for item in report.checked:
        console.print(f"  [green]matches[/]  {item}", highlight=False)
    for item in report.problems:
        console.print(f"  [red]differs[/]  {item}", highlight=False)
    for item in report.notes:
        console.print(f"  [yellow]note[/]     {item}", highlight=False)


@trials_app.command("list")
@handle_user_errors
def list_(json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List the registered benchmarks."""
    from rich.table import Table

    from asvbench.trials.registry import load_registry

    benches = load_registry()
    if json_out:
        print_json([_bench_dict(b) for b in benches])
        return
    table = Table(header_style="bold")
    for col in ("name", "title", "kind", "lines", "labels", "sha256", "checked"):
        table.add_column(col, justify="right" if col == "lines" else "left", no_wrap=col == "name")
    for b in benches:
        labels = ", ".join(f"{v:,} {k}" for k, v in (b.label_counts or {}).items()) or "?"
        table.add_row(b.name, b.title, b.kind, f"{b.n_lines:,}" if b.n_lines else "?", labels,
                      "yes" if b.copies else "-", "yes" if b.verified else "published")
    out_console().print(table)


@trials_app.command("verify")
@handle_user_errors
def verify(
    name: Annotated[str, typer.Argument(help="Registered benchmark name (or alias).")],
    file: Annotated[Path, typer.Argument(help="Your copy of the trial list.")],
) -> None:
    """Check FILE against benchmark NAME: sha256, line count, label counts. Exit 1 on a mismatch."""
    from asvbench.trials.registry import verify_file

    report = verify_file(name, file)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@trials_app.command("identify")
@handle_user_errors
def identify(file: Annotated[Path, typer.Argument(help="A trial list.")]) -> None:
    """Say which registered benchmark FILE is (exit 1 when none)."""
    from asvbench.trials.fingerprint import fingerprint_trials
    from asvbench.trials.registry import identify_benchmark

    fp = fingerprint_trials(file)
    bench = identify_benchmark(fp)
    if bench is None:
        out_console().print(f"{file}: not a registered list ({fp.describe()})", highlight=False)
        raise typer.Exit(1)
    out_console().print(f"{file}: {bench.name} ({bench.title})", highlight=False)


@trials_app.command("fetch")
@handle_user_errors
def fetch(
    name: Annotated[str, typer.Argument(help="Registered benchmark name (or alias).")],
    to: Annotated[Path, typer.Option("--to", help="Directory to download into.")],
    url: Annotated[str | None, typer.Option("--url", help="Download from this mirror instead.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file that does not verify.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout in seconds.")] = 60.0,
) -> None:
    """Download benchmark NAME into --to DIR and verify it (the file is kept only if it verifies)."""
    from asvbench._outputs import DIRECTORY, check_output_path
    from asvbench.cli import _validate
    from asvbench.trials.registry import fetch_benchmark

    _validate.positive("--timeout", timeout)
    check_output_path("--to", to, DIRECTORY)
    path, report = fetch_benchmark(name, to, url=url, timeout=timeout, overwrite=force)
    for note in report.notes:
        err_console.print(f"note: {note}", highlight=False)
    err_console.print(f"verified {report.benchmark.name}: {path}", highlight=False)
    typer.echo(str(path))


# ----------------------------------------------------------------------------- trials make (helper E, issue 18)


@trials_app.command("make")
@handle_user_errors
def make(
    utt2spk: Annotated[Path, typer.Option("--utt2spk", help="Map 'utt speaker' per line (Kaldi utt2spk).")],
    out: Annotated[Path, typer.Option("--out", help="Trial list to write (atomically).")],
    all_pairs: Annotated[bool, typer.Option("--all-pairs", help="Every pair of distinct utterances once.")] = False,
    per_spk: Annotated[int | None, typer.Option("--per-spk", help="Target trials drawn per speaker.")] = None,
    impostors: Annotated[int, typer.Option("--impostors", help="Non-target trials drawn per speaker.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws (same seed, same list).")] = 0,
    fmt: Annotated[choice(MAKE_FORMATS), typer.Option("--format", help=f"{trial_formats_help(MAKE_FORMATS)}.")] = "voxceleb",
) -> None:
    """Write a trial list for your own data: --all-pairs, or --per-spk N --impostors M --seed S."""
    from asvbench._outputs import claim_outputs
    from asvbench.bench.make_trials import make_trials, write_trials
    from asvbench.errors import AsvbenchError
    from asvbench.io.enroll import read_utt2spk

    if all_pairs == (per_spk is not None):
        raise AsvbenchError("give either --all-pairs or --per-spk N (with --impostors M)",
                            hint="e.g. asvbench trials make --utt2spk U --all-pairs --out trials.txt")
    claim_outputs({"--out": out}, {"--utt2spk": utt2spk})
    made = make_trials(read_utt2spk(utt2spk), mode="all-pairs" if all_pairs else "sampled", per_spk=per_spk or 0,
                       impostors=impostors, seed=seed, where=str(utt2spk))
    write_trials(out, made, fmt)
    err_console.print(f"{len(made.target):,} trials ({made.n_target:,} target, {made.n_nontarget:,} non-target) of "
                      f"{made.n_utterances:,} utterances, {made.n_speakers} speakers -> {out}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(trials_app, name="trials")
