"""``asvbench bench NAME`` (a benchmark end to end) and ``asvbench enroll-concat`` (its concat stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asvbench.bench.specs import BENCH_NORMS, BENCH_SPECS, CENTERS, ENROLL_MODES
from asvbench.cli._common import err_console, handle_user_errors, print_json
from asvbench.cli._options import DeviceOpt, choice
from asvbench.fusion.options import FUSION_METHODS
from asvbench.io.formats import KEY_STYLES

HELP = f"""Run benchmark NAME end to end: extract the utterances its lists use, score every list, write result
records, one table (RUN_DIR/table.md) and RUN_DIR/run.json (the command line of every stage).

Registered: {', '.join(BENCH_SPECS)} (lists from --trials-dir, under the registry's file names). Your own
benchmark: NAME plus --trials FILE (repeatable; `asvbench trials make` writes lists) and --enroll-map for
multi-utterance enrolment models. --enroll-mode average (mean of the enrolment embeddings) or concat
(embedding of the concatenated enrolment audio) is recorded in the records and the table. With
--cohort-audio: AS-norm against that cohort (speaker means with --cohort-utt2spk). Resumable: rerun the
same command after an interruption; extracted stores are re-used when only scoring options change."""


@handle_user_errors
def bench(
    name: Annotated[str, typer.Argument(help="Registered benchmark, or a name for your own --trials lists.")],
    audio: Annotated[Path, typer.Option("--audio", "-a", help="Audio folder (keys as the lists name them).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory (stores, scores, records, table).")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Registered model or family.")] = None,
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", "-c", help="Checkpoint file.")] = None,
    trials: Annotated[list[Path] | None, typer.Option("--trials", help="Your own trial list; repeatable.")] = None,
    trials_dir: Annotated[Path | None, typer.Option("--trials-dir", help="Folder holding the registered lists.")] = None,
    enroll_map: Annotated[list[Path] | None, typer.Option("--enroll-map", help="Enrolment map of --trials lists "
                                                          "('model utt1,utt2,...'); repeatable.")] = None,
    enroll_mode: Annotated[choice(ENROLL_MODES), typer.Option("--enroll-mode", help="Multi-utterance enrolment: "
                           "average of the embeddings, or embedding of the concatenated audio.")] = "average",
    key_style: Annotated[choice(KEY_STYLES) | None, typer.Option(
        "--key-style", help="How audio paths become keys (default: the benchmark's; yours: relpath).")] = None,
    cohort_audio: Annotated[Path | None, typer.Option("--cohort-audio", help="Cohort audio: AS-norm with it.")] = None,
    cohort_utt2spk: Annotated[Path | None, typer.Option("--cohort-utt2spk", help="Average the cohort per speaker.")] = None,
    utt2spk: Annotated[Path | None, typer.Option("--utt2spk", help="Speakers of --audio (cohort leakage check).")] = None,
    norm: Annotated[choice(BENCH_NORMS), typer.Option("--norm", help="Score "
                    "normalisation with --cohort-audio.")] = "asnorm",
    top_k: Annotated[int, typer.Option("--top-k", help="Cohort entries per side (asnorm).")] = 300,
    center: Annotated[choice(CENTERS), typer.Option("--center", help="Subtract the cohort mean "
                      "before cosine (cohort) or not.")] = "none",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Score the trials whose audio is there "
                             "(say how many are not).")] = False,
    system: Annotated[str | None, typer.Option("--system", help="System name in records and table.")] = None,
    enroll_audio: Annotated[Path | None, typer.Option("--enroll-audio", help="Audio named by enrolment model "
                            "(MODEL.flac: one file per model, e.g. its enrolment speech joined), used "
                            "instead of the maps' utterances.")] = None,
    cm: Annotated[str | None, typer.Option("--cm", help="SASV benchmarks: countermeasure model (e.g. aasist), run "
                  "on the lists' test audio and fused with the ASV scores.")] = None,
    cm_checkpoint: Annotated[Path | None, typer.Option("--cm-checkpoint", help="The countermeasure's checkpoint.")] = None,
    fusion: Annotated[choice(FUSION_METHODS), typer.Option(
        "--fusion", help="SASV fusion of ASV and CM scores.")] = "product",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Extraction batch size.")] = 16,
    device: Annotated[str, DeviceOpt("--device", help="cpu or cuda (cuda:K).")] = "cpu",
    num_workers: Annotated[int | None, typer.Option("--num-workers", help="Extraction workers.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="torch threads for the model.")] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", help="Use only the first S seconds.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON on stdout.")] = False,
) -> None:
    from asvbench._outputs import DIRECTORY, claim_outputs
    from asvbench.bench.run import BenchConfig, run_bench

    claim_outputs({"--out": out}, {"--audio": audio, "--checkpoint": checkpoint, "--cohort-audio": cohort_audio,
                                  "--enroll-audio": enroll_audio, "--cm-checkpoint": cm_checkpoint},
                  {"--out": DIRECTORY})
    cfg = BenchConfig(name=name, audio=audio, out=out, model=model, checkpoint=checkpoint, trials=tuple(trials or ()),
                      trials_dir=trials_dir, enroll_maps=tuple(enroll_map or ()), enroll_mode=enroll_mode,
                      key_style=key_style, cohort_audio=cohort_audio, cohort_utt2spk=cohort_utt2spk, utt2spk=utt2spk,
                      norm=norm, top_k=top_k, center=center, allow_missing=allow_missing, system=system,
                      enroll_audio=enroll_audio, cm=cm, cm_checkpoint=cm_checkpoint, fusion=fusion,
                      batch_size=batch_size, device=device, num_workers=num_workers, threads=threads,
                      max_seconds=max_seconds)
    run = run_bench(cfg)
    for warning in run.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for note in run.notes:
        err_console.print(f"note: {note}", highlight=False, markup=False)
    reused = [s.name for s in run.stages if s.status == "reused"]
    if reused:
        err_console.print(f"re-used: {', '.join(reused)}", highlight=False)
    err_console.print(f"wrote {run.out / 'table.md'} and {run.run_json} (stage commands)", highlight=False)
    if json_out:
        import json

        print_json(json.loads(run.run_json.read_text(encoding="utf-8")))
    else:
        typer.echo(run.table, nl=False)


@handle_user_errors
def enroll_concat(
    enroll_map: Annotated[list[Path], typer.Option("--enroll-map", help="Enrolment map(s) 'model utt1,utt2,...'.")],
    audio: Annotated[Path, typer.Option("--audio", help="wav.scp / folder / list of the enrolment utterances.")],
    sample_rate: Annotated[int, typer.Option("--sample-rate", help="The model's sample rate.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for MODEL.wav files and wav.scp.")],
    key_style: Annotated[choice(KEY_STYLES), typer.Option("--key-style", help="Keys of a "
                         "folder or list (a wav.scp gives them).")] = "relpath",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Concatenate what is there.")] = False,
) -> None:
    """Write one WAV per enrolment model: its utterances end to end at --sample-rate (then `extract` OUT/wav.scp)."""
    from asvbench.bench.concat import concat_enrolment
    from asvbench.cli import _validate
    from asvbench.io.audio import list_audio
    from asvbench.io.enroll import read_enroll_map

    _validate.at_least("--sample-rate", sample_rate, 1)
    mapping = read_enroll_map(list(enroll_map))
    paths = {it.key: it.path for it in list_audio(audio, key_style)}
    done = concat_enrolment(mapping, paths, sample_rate, out, allow_missing=allow_missing)
    if done.skipped:
        err_console.print(f"note: {len(done.skipped)} models lack some utterances (--allow-missing)", highlight=False)
    err_console.print(f"{done.n_models} models ({done.n_written} written) -> {done.scp}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("bench", help=HELP)(bench)
    app.command("enroll-concat")(enroll_concat)
