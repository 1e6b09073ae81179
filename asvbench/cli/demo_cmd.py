"""``asvbench demo``: the built-in example (simulated SASV benchmark; or real audio with --audio)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import err_console, handle_user_errors, out_console


@handle_user_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("reports/demo"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    audio: Annotated[Path | None, typer.Option("--audio", help="Real audio: DIR/<speaker>/<utterance> "
                                               "(needs --checkpoint; imports torch).")] = None,
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="Model checkpoint for --audio.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model or family name for --audio (asvbench models "
                                              "list); default: the entry the checkpoint is identified as.")] = None,
) -> None:
    """Run the whole pipeline on a small SIMULATED SASV benchmark (nothing downloaded), or on real audio."""
    from asvbench._outputs import DIRECTORY, claim_outputs
    from asvbench.demo import NEXT_STEPS, run_demo, run_real
    from asvbench.errors import AsvbenchError

    claim_outputs({"--out": out}, {"--audio": audio, "--checkpoint": checkpoint}, {"--out": DIRECTORY})
    if (audio is None) != (checkpoint is None):
        raise AsvbenchError("--audio and --checkpoint go together", hint="give both, or neither for the simulation")
    if audio is not None:
        outcome = run_real(audio, checkpoint, out, model=model)  # type: ignore[arg-type]
    else:
        err_console.print("[bold red]SIMULATED DATA[/]: a generated benchmark, not a real system", highlight=False)
        outcome = run_demo(out, seed=seed)
    for step, status in outcome.steps:
        colour = "green" if status.startswith("done") else "yellow"
        err_console.print(f"[{colour}]{step}[/]: {status}", highlight=False)
    out_console().print(outcome.table_markdown, markup=False, highlight=False)
    err_console.print(f"wrote {len(outcome.files)} files to {outcome.out} in {outcome.seconds:.1f} s",
                      highlight=False)
    if outcome.simulated:
        err_console.print(NEXT_STEPS, highlight=False, markup=False, soft_wrap=True)  # copyable lines


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
