"""``asvbench extract``: audio -> speaker embedding store, or CM score store.

A thin Typer layer over :func:`asvbench.extract.engine.run_extract`; torch is imported only
when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from asvbench.cli._common import err_console, handle_user_errors, print_json
from asvbench.cli._options import check_device, choice
from asvbench.extract.config import BUCKETINGS, DTYPES
from asvbench.io.formats import KEY_STYLES

HELP = """Extract speaker embeddings (or countermeasure scores) from audio with a registered model.

Input: a directory (recursive; .wav .flac .ogg .mp3), a Kaldi wav.scp (`key path`), or a list
file (one path per line). Keys: --key-style relpath (default: path below the directory without
extension), relpath-ext (with it, as VoxCeleb trial lists), stem (file name, as ASVspoof).

Output: a native embedding store (directory) for speaker models; a CM score TSV (bona fide
logit and probability) for countermeasures. Unreadable or too-short audio goes to
OUT.failures.tsv and the run goes on. Interrupted runs resume when the same command is run
again (finished batches are kept in OUT.work/). Scale out with --shard i/N (job arrays; the
last shard to finish merges, or run --merge) or under `torchrun --nproc-per-node K`.

How it runs: utterances are sorted by length (longest first) and cut into batches; a batch
only joins utterances of equal length (--bucketing auto on CPU), so every embedding equals the
one-at-a-time embedding. CPU: one worker process per core takes the next batch when it is free,
decodes it and runs its own copy of the model on one thread (measured per family: on a quiet
machine about as fast as one process on all cores (a little slower on a handful of files), and
several times faster when other work shares the cores; the table is asvbench.extract.plan.CPU_RUNTIME). GPU: workers decode, the model runs in this process, padded
batches when a probe shows that padding has no effect. The model runs in its inference form
(--fuse)."""


def _claim_extract_outputs(out: Path, audio: Path | None, checkpoint: Path | None, shard: str | None,
                           threads: int | None) -> None:
    """Options and --out checked before the model is loaded; --out locked (per shard / torchrun rank)."""
    import os

    from asvbench._outputs import EITHER, claim_outputs
    from asvbench.cli import _validate
    from asvbench.extract.config import parse_shard

    _validate.at_least("--threads", threads, 1)
    parsed = parse_shard(shard)
    rank = os.environ.get("RANK") if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 else None
    suffix = f".shard-{parsed[0]}-of-{parsed[1]}" if parsed else f".rank-{rank}" if rank is not None else ""
    claim_outputs({"--out": out}, {"--audio": audio, "--checkpoint": checkpoint}, {"--out": EITHER},
                  lock_suffix=suffix)


def register(app: typer.Typer) -> None:
    app.command("extract", help=HELP)(extract)


@handle_user_errors
def extract(
    out: Path = typer.Option(..., "--out", "-o", help="Output store: a directory (embeddings) or a .tsv (CM)."),
    model: str | None = typer.Option(None, "--model", "-m",
                                        help="Registered model or family name (asvbench models list; a family "
                                             "such as campplus means its default entry, or with --checkpoint the "
                                             "entry the checkpoint is). Optional with --checkpoint."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c",
                                              help="Checkpoint file, identified from its keys and shapes "
                                                   "(default: the one `models pull` cached)."),
    audio: Path | None = typer.Option(None, "--audio", "-a", help="Directory, wav.scp or list file."),
    batch_size: int = typer.Option(16, "--batch-size", help="Utterances per batch (at most)."),
    crops: int = typer.Option(0, "--crops", help="Also store N evenly spaced fixed crops per utterance (rows 1..N)."),
    crop_seconds: float = typer.Option(3.015, "--crop-seconds",
                                       help="Crop length (3.015 s = 48,240 samples at 16 kHz, TaoRuijie)."),
    max_seconds: float | None = typer.Option(None, "--max-seconds", help="Use only the first S seconds."),
    device: str = typer.Option("cpu", "--device", callback=check_device, help="cpu or cuda (cuda:K)."),
    dtype: choice(DTYPES) = typer.Option("float32", "--dtype", help="float32, bfloat16 or float16 (autocast; half needs cuda)."),
    num_workers: int | None = typer.Option(None, "--num-workers",
                                              help="Worker processes. CPU (default: one per core): each decodes and "
                                                   "runs a copy of the model on one thread. GPU (default: "
                                                   "min(4, cores-1)): they decode. 0: all in this process."),
    threads: int | None = typer.Option(None, "--threads", help="torch threads for the model (default: torch's)."),
    shard: str | None = typer.Option(None, "--shard", help="Do shard i of N (0-based), e.g. 0/4."),
    bucketing: choice(BUCKETINGS) = typer.Option("auto", "--bucketing",
                                  help="exact: batch only equal lengths; padded: pad similar lengths (for models "
                                       "that mask padding); auto: exact on CPU, padded on GPU if a probe shows "
                                       "padding has no effect."),
    key_style: choice(KEY_STYLES) = typer.Option("relpath", "--key-style", help="Utterance keys: path below the directory without extension (relpath), with it (relpath-ext), or the file name (stem)."),
    fuse: bool = typer.Option(True, "--fuse/--no-fuse",
                              help="Run the model's inference form (CAM++: BatchNorm folded into the "
                                   "convolutions, CAM gate per segment, time-major dense blocks; "
                                   "ECAPA-TDNN: each conv-ReLU-BatchNorm as one conv + clamp, head "
                                   "BatchNorm folded, the attention's utterance statistics multiplied "
                                   "once per utterance instead of per frame; 2-D ResNets: BatchNorm folded, channels-last; same "
                                   "model up to float rounding, "
                                   "faster); --no-fuse runs the network as loaded."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an output holding another model's results."),
    trust_pickle: bool = typer.Option(False, "--trust-pickle",
                                      help="Unpickle checkpoints holding Python objects (runs code from the file)."),
    merge: bool = typer.Option(False, "--merge", help="Only merge the finished shard stores of --out."),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON on stdout."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    from asvbench.errors import AsvbenchError
    from asvbench.extract.config import ExtractConfig, parse_shard

    _claim_extract_outputs(out, audio, checkpoint, shard, threads)
    if merge:
        from asvbench.extract.store import merge_shards

        outcome = merge_shards(out)
        err_console.print(f"merged {len(outcome.keys)} utterances ({outcome.n_rows} rows) into {out}"
                          + (f"; {len(outcome.failures)} failures listed" if outcome.failures else ""))
        if json_out:
            print_json({"out": str(out), "n_done": len(outcome.keys), "n_rows": outcome.n_rows,
                        "n_failed": len(outcome.failures), "merged": True})
        return
    if (model is None and checkpoint is None) or audio is None:
        raise AsvbenchError("--model and --audio are required (except with --merge); --model may be left out "
                            "when --checkpoint is given",
                            hint="e.g. asvbench extract --model NAME --checkpoint PATH --audio DIR --out STORE")
    cfg = ExtractConfig(
        model=model, audio=audio, out=out, checkpoint=checkpoint, batch_size=batch_size, crops=crops,
        crop_seconds=crop_seconds, max_seconds=max_seconds, device=device, dtype=dtype, num_workers=num_workers,
        shard=parse_shard(shard), overwrite=overwrite, trust_pickle=trust_pickle, key_style=key_style,
        bucketing=bucketing, progress=not no_progress, threads=threads, fuse=fuse,
    )
    from asvbench.extract.engine import resolve_model_entry, run_extract

    cfg.validate()
    entry, how = resolve_model_entry(cfg)
    if how:  # before the run, which may take long: the user sees at once what is loaded
        err_console.print(f"notice: {how}", highlight=False, markup=False)
    result = run_extract(cfg, entry=entry)
    for notice in result.notices:
        err_console.print(f"notice: {notice}")
    what = "CM scores" if result.kind == "cm" else "embeddings"
    where = result.out if result.final else f"{result.out} (shard store; merged when all shards are done)"
    err_console.print(
        f"{result.n_done} of {result.n_keys} utterances -> {what} in {where}"
        + (f" (merged into {out})" if result.merged else "")
        + (f"; {result.n_resumed_batches} batches resumed" if result.n_resumed_batches else "")
        + (f"; {result.n_computed} computed at {result.utterances_per_second:.1f} utt/s, "
           f"RTF {result.real_time_factor:.4f}" if result.n_computed else ""))
    if result.n_failed:
        err_console.print(f"[yellow]{result.n_failed} utterances failed[/]; see {out}.failures.tsv"
                          if result.final or result.merged else
                          f"[yellow]{result.n_failed} utterances failed[/] (listed in the shard's manifest)")
    if json_out:
        print_json(result.as_dict())
