"""``asvbench cohort build``: speaker means of an embedding store, a cohort made once and re-used."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.cli._common import err_console, handle_user_errors
from asvbench.cli._options import choice
from asvbench.io.formats import POOL_NORMS

cohort_app = typer.Typer(help="Score-normalisation cohorts: build speaker means once, re-use them with "
                              "`score --cohort`.", no_args_is_help=True)


@cohort_app.command("build")
@handle_user_errors
def build(
    store: Annotated[Path, typer.Argument(help="Embedding store of the cohort utterances.")],
    utt2spk: Annotated[Path, typer.Option("--utt2spk", help="Map 'utt speaker' of every key of STORE.")],
    out: Annotated[Path, typer.Option("--out", help="Output store: one row per speaker (sorted).")],
    pool_norm: Annotated[choice(POOL_NORMS), typer.Option("--pool-norm", help="Pooling of multi-row keys "
                         "before averaging: none (raw mean) or l2.")] = "none",
    trust_pickle: Annotated[bool, typer.Option("--trust-pickle", help="Allow reading pickled stores.")] = False,
) -> None:
    """Average STORE's embeddings per speaker of --utt2spk (WeSpeaker vector_mean) into --out."""
    from asvbench._outputs import EITHER, claim_outputs
    from asvbench.bench.cohort import build_speaker_means

    claim_outputs({"--out": out}, {"STORE": store, "--utt2spk": utt2spk}, {"--out": EITHER})
    built = build_speaker_means(store, utt2spk, out, pool_norm=pool_norm, trust_pickle=trust_pickle)
    err_console.print(f"{built.n_utterances:,} utterances -> {built.n_speakers:,} speaker means "
                      f"({built.dim}-d) in {built.out}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(cohort_app, name="cohort")
