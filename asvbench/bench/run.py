"""``asvbench bench``: one benchmark from an audio folder and a checkpoint to its table.

Stages, each the pipeline function of a command run on its own, in ``RUN_DIR``:

1. ``audio/test.scp``: the utterances the lists use (and only those), keys as the lists name them;
2. ``extract`` them into ``stores/test`` (resumable: a killed run resumes its batches);
   ``--enroll-mode concat``: ``enroll-concat`` writes one WAV per enrolment model
   (``enroll_concat/``) and ``extract`` embeds those into ``stores/enroll_concat``;
3. ``--cohort-audio``: ``extract`` the cohort into ``stores/cohort`` (speaker means with
   ``--cohort-utt2spk``: ``cohort build`` into ``stores/cohort_means``);
4. ``score`` every list (``scores/LIST.tsv``, record ``results/LIST.json``): the benchmark's
   enrolment rule, AS-norm when there is a cohort, centring on the cohort with ``--center cohort``;
5. ``report`` the records as one table (``table.md``).

``run.json`` lists the command line of every stage: run in order they give the same table.
A stage whose outputs exist from the same command (``stores/NAME.argv.json``) is re-used, so
a second run with another scoring option does not extract again.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from asvbench._choices import check_choice
from asvbench.bench.lists import BenchList, Needs, list_needs, resolve_lists
from asvbench.bench.specs import BENCH_NORMS, CENTERS, ENROLL_MODES
from asvbench.errors import AsvbenchError

RUN_SCHEMA = "asvbench.bench-run/1"


@dataclass(frozen=True)
class BenchConfig:
    name: str
    audio: Path
    out: Path
    model: str | None = None
    checkpoint: Path | None = None
    trials: tuple[Path, ...] = ()
    trials_dir: Path | None = None
    enroll_maps: tuple[Path, ...] = ()
    enroll_mode: str = "average"
    key_style: str | None = None  # None: the benchmark's (custom lists: relpath)
    cohort_audio: Path | None = None
    cohort_utt2spk: Path | None = None
    utt2spk: Path | None = None  # speakers of the test audio, for the cohort leakage check
    norm: str = "asnorm"
    top_k: int = 300
    center: str = "none"
    allow_missing: bool = False
    system: str | None = None
    #: audio whose keys are enrolment model ids (one file per model, e.g. concatenated enrolment speech)
    enroll_audio: Path | None = None
    cm: str | None = None  # SASV benchmarks: the countermeasure (a registered CM model) fused with the ASV scores
    cm_checkpoint: Path | None = None
    fusion: str = "product"
    batch_size: int = 16
    device: str = "cpu"
    num_workers: int | None = None
    threads: int | None = None
    max_seconds: float | None = None
    progress: bool = False

    def validate(self) -> None:
        check_choice(self.enroll_mode, ENROLL_MODES, "--enroll-mode")
        check_choice(self.norm, BENCH_NORMS, "--norm")
        check_choice(self.center, CENTERS, "--center")
        if self.cohort_audio is None and (self.cohort_utt2spk is not None or self.center == "cohort"):
            raise AsvbenchError("--cohort-utt2spk and --center cohort need --cohort-audio",
                                hint="give --cohort-audio DIR, or drop them")
        if self.model is None and self.checkpoint is None:
            raise AsvbenchError("give --model, --checkpoint, or both")
        if self.enroll_audio is not None and self.enroll_mode == "concat":
            raise AsvbenchError("--enroll-audio gives each model's audio already: --enroll-mode concat has nothing "
                                "to join", hint="drop one of them")


@dataclass
class Stage:
    name: str
    argv: list[str]
    status: str = "run"  # run | reused

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


@dataclass
class ListResult:
    label: str
    benchmark: str
    record: Path
    scores: Path
    metrics: dict
    n_trials: int
    n_scored: int
    system: str = ""
    variant: str = ""


@dataclass
class BenchRun:
    out: Path
    stages: list[Stage] = field(default_factory=list)
    results: list[ListResult] = field(default_factory=list)
    table: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def run_json(self) -> Path:
        return self.out / "run.json"


def run_bench(cfg: BenchConfig) -> BenchRun:
    """Run every stage (see the module docstring); return what was done and the table."""
    cfg.validate()
    lists, spec_key_style, kind = resolve_lists(cfg.name, cfg.trials, cfg.trials_dir, cfg.enroll_maps,
                                                cfg.enroll_mode)
    if kind == "sasv" and cfg.cm is None:
        raise AsvbenchError(f"benchmark {cfg.name} is spoofing-aware (SASV): give the countermeasure",
                            hint="e.g. --cm aasist --cm-checkpoint AASIST.pth")
    key_style = cfg.key_style or spec_key_style or "relpath"
    run = BenchRun(Path(cfg.out))
    trials_of, needs = {}, {}
    for bl in lists:
        trials_of[bl.label], needs[bl.label] = list_needs(bl)
    lists = [bl if needs[bl.label].models else replace(bl, enroll_maps=()) for bl in lists]
    audio = _audio_index(cfg.audio, key_style)
    models_audio = _audio_index(cfg.enroll_audio, "stem") if cfg.enroll_audio is not None else None
    if models_audio is not None:  # the models are embedded from their own audio: the maps are not used
        for need in needs.values():
            need.models = {m: [m] for m in need.models}
            need.enroll_utts = set()
        audio_for_models = {**audio, **models_audio}
    concat = cfg.enroll_mode == "concat" and any(bl.enroll_maps for bl in lists)
    test_keys = _needed_test_keys(needs, concat)
    _check_coverage(cfg, audio_for_models if models_audio is not None else audio, test_keys, needs, run)
    lists = _scoreable(cfg, run, lists, trials_of, audio, models_audio)
    test_scp = _write_scp(run.out / "audio" / "test.scp", {k: audio[k] for k in sorted(test_keys) if k in audio})
    test_store = _extract_stage(cfg, run, "extract-test", test_scp, run.out / "stores" / "test")
    enroll_store = _concat_stages(cfg, run, lists, needs, audio) if concat else None
    if models_audio is not None:
        enroll_store = _enroll_audio_stage(cfg, run, [needs[bl.label] for bl in lists], models_audio)
    used_keys = test_keys | {u for need in needs.values() for u in need.enroll_utts}
    cohort_store = _cohort_stages(cfg, run, audio, used_keys) if cfg.cohort_audio is not None else None
    by_model = concat or models_audio is not None
    for bl in lists:
        result = _score_stage(cfg, run, bl, test_store, enroll_store, cohort_store, by_model)
        run.results.append(_fuse_stage(cfg, run, bl, result, key_style) if kind == "sasv" else result)
    _report_stage(cfg, run)
    _write_run_json(cfg, run)
    return run


# ----------------------------------------------------------------------------- inputs


def _audio_index(audio: Path, key_style: str) -> dict[str, str]:
    from asvbench.io.audio import list_audio

    return {item.key: item.path for item in list_audio(audio, key_style)}


def _needed_test_keys(needs: dict[str, Needs], concat: bool) -> set[str]:
    keys: set[str] = set()
    for need in needs.values():
        keys |= need.test
        if not concat:
            keys |= need.enroll_utts
    return keys


def _check_coverage(cfg: BenchConfig, audio: dict[str, str], test_keys: set[str], needs: dict[str, Needs],
                    run: BenchRun) -> None:
    missing = sorted(k for k in test_keys if k not in audio)
    for label, need in needs.items():
        empty = sorted(m for m, utts in need.models.items() if not any(u in audio for u in utts))
        if empty and not cfg.allow_missing:
            raise AsvbenchError(f"{len(empty)} enrolment models of {label} have no audio, e.g. {empty[:3]} "
                                f"(utterances {need.models[empty[0]][:3]})", where=cfg.audio,
                                hint="add their audio, or pass --allow-missing to skip their trials")
        if empty:
            run.notes.append(f"{label}: {len(empty)} enrolment models have no audio; their trials are skipped")
    if not missing:
        return
    if not cfg.allow_missing:
        raise AsvbenchError(f"the audio covers {len(test_keys) - len(missing):,} of the {len(test_keys):,} "
                            f"utterances the lists use; {len(missing):,} are missing, e.g. {missing[:3]}",
                            where=cfg.audio, hint="check --audio and --key-style, or pass --allow-missing "
                                                  "to score the trials whose audio is there")
    run.notes.append(f"{len(missing):,} of {len(test_keys):,} utterances have no audio (--allow-missing): "
                     f"their trials are skipped, e.g. {missing[:3]}")


def _write_scp(path: Path, items: dict[str, str]) -> Path:
    from asvbench._atomic import atomic_write_text

    if not items:
        raise AsvbenchError("none of the utterances the lists use has audio", where=path.parent.parent,
                            hint="check --audio and --key-style")
    text = "".join(f"{k} {Path(p).resolve()}\n" for k, p in items.items())
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):  # unchanged: extraction resumes
        atomic_write_text(path, text)
    return path


# ----------------------------------------------------------------------------- stages


def _extract_argv(cfg: BenchConfig, audio: Path, out: Path) -> list[str]:
    argv = ["asvbench", "extract", "--audio", str(audio), "--out", str(out), "--batch-size", str(cfg.batch_size),
            "--device", cfg.device]
    argv += ["--model", cfg.model] if cfg.model else []
    argv += ["--checkpoint", str(cfg.checkpoint)] if cfg.checkpoint else []
    argv += ["--num-workers", str(cfg.num_workers)] if cfg.num_workers is not None else []
    argv += ["--threads", str(cfg.threads)] if cfg.threads is not None else []
    argv += ["--max-seconds", str(cfg.max_seconds)] if cfg.max_seconds is not None else []
    return [*argv, "--no-progress"]


def _extract_stage(cfg: BenchConfig, run: BenchRun, name: str, audio: Path, out: Path,
                   key_style: str = "relpath") -> Path:
    from asvbench.extract import ExtractConfig, run_extract

    argv = _extract_argv(cfg, audio, out) + (["--key-style", key_style] if key_style != "relpath" else [])
    stage = Stage(name, argv)
    run.stages.append(stage)
    marker = out.parent / f"{out.name}.argv.json"
    identity = {"argv": argv, "checkpoint_sha256": _checkpoint_sha(cfg), "audio": _file_sha(audio)}
    if out.is_dir() and marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == identity:
        stage.status = "reused"
        return out
    result = run_extract(ExtractConfig(
        model=cfg.model, audio=audio, out=out, checkpoint=cfg.checkpoint, batch_size=cfg.batch_size,
        device=cfg.device, num_workers=cfg.num_workers, threads=cfg.threads, max_seconds=cfg.max_seconds,
        key_style=key_style, progress=cfg.progress))
    if result.n_failed:
        run.notes.append(f"{name}: {result.n_failed} utterances failed to extract (see {out}.failures.tsv)")
    from asvbench._atomic import atomic_write_text

    atomic_write_text(marker, json.dumps(identity) + "\n")
    return out


def _checkpoint_sha(cfg: BenchConfig) -> str | None:
    return _file_sha(cfg.checkpoint) if cfg.checkpoint is not None else None


def _file_sha(path: Path | None) -> str | None:
    """sha256 of a file; of a folder, of its listing (path, size, mtime of each file): a folder whose
    files changed is extracted again."""
    if path is None or not Path(path).exists():
        return None
    if Path(path).is_dir():
        import hashlib
        import os

        listing = []
        for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
            dirnames.sort()
            for name in sorted(filenames):
                st = os.stat(os.path.join(dirpath, name))
                listing.append(f"{os.path.relpath(os.path.join(dirpath, name), path)}\t{st.st_size}\t{st.st_mtime_ns}")
        return hashlib.sha256("\n".join(listing).encode()).hexdigest()
    from asvbench._hashing import sha256_file

    return sha256_file(path)


def _model_rate(cfg: BenchConfig) -> int:
    from asvbench.extract import ExtractConfig
    from asvbench.extract.engine import resolve_model_entry

    entry, _ = resolve_model_entry(ExtractConfig(model=cfg.model, audio=cfg.audio, out=cfg.out,
                                                 checkpoint=cfg.checkpoint))
    return int(entry.sample_rate)


def _concat_stages(cfg: BenchConfig, run: BenchRun, lists: list[BenchList], needs: dict[str, Needs],
                   audio: dict[str, str]) -> Path:
    from asvbench.bench.concat import concat_enrolment

    models: dict[str, list[str]] = {}
    for need in needs.values():
        models.update(need.models)
    utts = {u for m in models.values() for u in m if u in audio}
    enroll_scp = _write_scp(run.out / "audio" / "enroll_utts.scp", {u: audio[u] for u in sorted(utts)})
    maps = sorted({str(p) for bl in lists for p in bl.enroll_maps})
    rate = _model_rate(cfg)
    out_dir = run.out / "enroll_concat"
    argv = ["asvbench", "enroll-concat", *[a for m in maps for a in ("--enroll-map", m)], "--audio", str(enroll_scp),
            "--sample-rate", str(rate), "--out", str(out_dir)] + (["--allow-missing"] if cfg.allow_missing else [])
    run.stages.append(Stage("enroll-concat", argv))
    from asvbench.io.enroll import read_enroll_map

    mapping = read_enroll_map(maps)
    used = {m: mapping[m] for m in models}
    done = concat_enrolment(used, {u: audio[u] for u in utts}, rate, out_dir, allow_missing=cfg.allow_missing)
    return _extract_stage(cfg, run, "extract-enroll-concat", done.scp, run.out / "stores" / "enroll_concat")


def _cohort_stages(cfg: BenchConfig, run: BenchRun, audio: dict[str, str], used_keys: set[str]) -> Path:
    cohort_dir = Path(cfg.cohort_audio)  # type: ignore[arg-type]
    store = _extract_stage(cfg, run, "extract-cohort", cohort_dir, run.out / "stores" / "cohort")
    _warn_leakage(cfg, run, audio, used_keys)
    if cfg.cohort_utt2spk is None:
        return store
    from asvbench.bench.cohort import build_speaker_means

    means = run.out / "stores" / "cohort_means"
    run.stages.append(Stage("cohort-build", ["asvbench", "cohort", "build", str(store), "--utt2spk",
                                             str(cfg.cohort_utt2spk), "--out", str(means)]))
    build_speaker_means(store, cfg.cohort_utt2spk, means)
    return means


def _warn_leakage(cfg: BenchConfig, run: BenchRun, audio: dict[str, str], test_keys: set[str]) -> None:
    from asvbench.io.audio import list_audio

    cohort_files = {str(Path(it.path).resolve()) for it in list_audio(cfg.cohort_audio)}  # type: ignore[arg-type]
    test_files = {str(Path(audio[k]).resolve()) for k in test_keys if k in audio}
    shared = sorted(cohort_files & test_files)
    if shared:
        run.warnings.append(f"leakage: {len(shared)} cohort files are also test/enrolment audio, e.g. {shared[0]}")
    if cfg.utt2spk is not None and cfg.cohort_utt2spk is not None:
        from asvbench.io.enroll import read_utt2spk

        test_spk = {s for u, s in read_utt2spk(cfg.utt2spk).items() if u in test_keys}
        both = sorted(test_spk & set(read_utt2spk(cfg.cohort_utt2spk).values()))
        if both:
            run.warnings.append(f"leakage: {len(both)} cohort speakers are test speakers, e.g. {both[:3]}")


def _variant(cfg: BenchConfig, bl: BenchList, concat: bool, cohort: Path | None) -> str:
    parts = []
    if bl.enroll_maps:
        parts.append("model audio" if cfg.enroll_audio is not None else "concat" if concat else "avg")
    if cohort is not None:
        parts.append({"asnorm": "AS-Norm", "snorm": "S-Norm", "znorm": "Z-Norm", "tnorm": "T-Norm"}[cfg.norm])
    if cfg.center == "cohort":
        parts.append("centred")
    return " + ".join(parts)


def _system_name(cfg: BenchConfig, store: Path) -> str:
    if cfg.system:
        return cfg.system
    from asvbench.io.embeddings import read_manifest

    manifest = read_manifest(store) or {}
    return str(manifest.get("model") or cfg.model or Path(cfg.checkpoint or "system").stem)


def _score_stage(cfg: BenchConfig, run: BenchRun, bl: BenchList, test_store: Path, enroll_store: Path | None,
                 cohort: Path | None, concat: bool) -> ListResult:
    from asvbench.report.save import save_summary_result
    from asvbench.results import Coverage, models_in_stores
    from asvbench.scoring.cohort import make_normaliser
    from asvbench.scoring.pipeline import ScoreSettings, run_scoring

    scores = run.out / "scores" / f"{bl.label}.tsv"
    record = run.out / "results" / f"{bl.label}.json"
    system, variant = _system_name(cfg, test_store), _variant(cfg, bl, concat, cohort)
    center = cohort if cfg.center == "cohort" else None
    argv = ["asvbench", "score", "--trials", str(bl.path), "--embeddings", str(test_store), "--out", str(scores)]
    if bl.enroll_maps and concat:
        argv += ["--enroll-embeddings", str(enroll_store)]
    elif bl.enroll_maps:
        argv += [a for m in bl.enroll_maps for a in ("--enroll-map", str(m))]
    argv += ["--center", str(center)] if center is not None else []
    argv += ["--norm", cfg.norm, "--cohort", str(cohort), "--top-k", str(cfg.top_k)] if cohort is not None else []
    argv += ["--allow-missing"] if cfg.allow_missing else []
    argv += ["--save-result", str(record), "--system", system, "--benchmark", bl.benchmark]
    argv += ["--variant", variant] if variant else []
    run.stages.append(Stage(f"score-{bl.label}", argv))
    normaliser = make_normaliser(cfg.norm, cohort, cfg.top_k) if cohort is not None else None
    settings = ScoreSettings(allow_missing=cfg.allow_missing)
    maps = bl.enroll_maps if bl.enroll_maps and not concat else ()
    scored = run_scoring(bl.path, test_store, out=scores, enroll_embeddings=enroll_store if concat and bl.enroll_maps
                         else None, enroll_maps=maps, center=center, settings=settings, normalise=normaliser)
    run.notes.extend(f"{bl.label}: {n}" for n in [*(normaliser.notes if normaliser else []), *scored.notes])
    normalization = {"center": str(center) if center else None, "pool_norm": "none",
                     **(normaliser.settings() if normaliser else {"norm": "none"}),
                     "enroll_mode": (("model-audio" if cfg.enroll_audio is not None else cfg.enroll_mode)
                                     if bl.enroll_maps else None)}
    rec = save_summary_result(record, scored.summary, system=system, benchmark=bl.benchmark, variant=variant,
                              scores=scored.scores, labels=scored.labels, trials_path=bl.path, scores_path=scored.out,
                              model=models_in_stores(test_store, enroll_store), normalization=normalization,
                              command=shlex.join(argv),
                              coverage=Coverage(scored=int(len(scored.scores)), listed=len(scored.trials)))
    return ListResult(bl.label, rec.benchmark, record, scores, scored.summary.to_dict(), len(scored.trials),
                      int(len(scored.scores)), system, variant)


def _scoreable(cfg: BenchConfig, run: BenchRun, lists: list[BenchList], trials_of: dict, audio: dict[str, str],
               models_audio: dict[str, str] | None) -> list[BenchList]:
    """The lists with at least one trial whose test audio is there (--allow-missing: the others are noted)."""
    kept = []
    for bl in lists:
        trials = trials_of[bl.label]
        has_test = [t in audio for t in trials.test.tolist()]
        if models_audio is not None:
            has_test = [h and e in models_audio for h, e in zip(has_test, trials.enroll.tolist())]
        n = sum(has_test)
        if n:
            kept.append(bl)
            if n < len(has_test):
                run.notes.append(f"{bl.label}: {n:,} of {len(has_test):,} trials have their audio")
        else:
            run.notes.append(f"{bl.label}: none of its {len(has_test):,} trials has audio; not scored")
    if not kept:
        raise AsvbenchError("no trial of any list has its audio", where=cfg.audio, hint="check --audio and --key-style")
    return kept


def _enroll_audio_stage(cfg: BenchConfig, run: BenchRun, needs: list[Needs], models_audio: dict[str, str]) -> Path:
    models = sorted({m for need in needs for m in need.models if m in models_audio})
    scp = _write_scp(run.out / "audio" / "enroll_models.scp", {m: models_audio[m] for m in models})
    return _extract_stage(cfg, run, "extract-enroll-audio", scp, run.out / "stores" / "enroll_audio")


def _fuse_stage(cfg: BenchConfig, run: BenchRun, bl: BenchList, asv: ListResult, key_style: str) -> ListResult:
    """SASV: the CM runs on the list's test utterances (cached), fused with the ASV scores; the fused record."""
    from asvbench.fusion.run import FusionInputs, FusionSettings, run_fusion
    from asvbench.io.sasv_out import write_sasv_scores
    from asvbench.report.save import save_fusion_result

    fused_path = run.out / "scores" / f"{bl.label}.sasv.txt"
    record = run.out / "results" / f"{bl.label}.sasv.json"
    system = f"{asv.system} + {cfg.cm}"
    argv = ["asvbench", "fuse", "--asv", str(asv.scores), "--cm", str(cfg.cm), "--audio", str(cfg.audio),
            "--trials", str(bl.path), "--method", cfg.fusion, "--key-style", key_style, "--out", str(fused_path)]
    argv += ["--checkpoint", str(cfg.cm_checkpoint)] if cfg.cm_checkpoint is not None else []
    argv += ["--allow-missing"] if cfg.allow_missing else []
    argv += ["--save-result", str(record), "--system", system, "--benchmark", bl.benchmark]
    argv += ["--variant", asv.variant] if asv.variant else []
    run.stages.append(Stage(f"fuse-{bl.label}", argv))
    inputs = FusionInputs(asv=asv.scores, cm=str(cfg.cm), trials=bl.path, audio=cfg.audio,
                          checkpoint=cfg.cm_checkpoint, key_style=key_style, allow_missing=cfg.allow_missing,
                          out=fused_path, device=cfg.device)
    fused = run_fusion(inputs, FusionSettings(method=cfg.fusion), notify=lambda m: run.notes.append(f"{bl.label}: {m}"))
    data = fused.data
    write_sasv_scores(fused_path, "sasv", enroll=data.enroll, test=data.test, labels=data.labels, fused=fused.fused,
                      source=data.source, cm=data.cm_logit, asv=data.asv)
    rec = save_fusion_result(record, fused.result, fused=fused.fused, labels=data.labels, enroll=data.enroll,
                             test=data.test, system=system, benchmark=bl.benchmark, variant=asv.variant,
                             trials_path=bl.path, scores_path=asv.scores)
    counts = fused.result.get("counts", {})
    return ListResult(bl.label, rec.benchmark, record, fused_path, dict(rec.metrics), asv.n_trials,
                      int(counts.get("trials_kept", len(fused.fused))), system, asv.variant)


def _report_stage(cfg: BenchConfig, run: BenchRun) -> None:
    from asvbench._atomic import atomic_write_text
    from asvbench.report.tables import build_table, render
    from asvbench.results import load_result

    table_path = run.out / "table.md"
    records = [r.record for r in run.results]
    run.stages.append(Stage("report", ["asvbench", "report", *map(str, records), "--out", str(table_path)]))
    table = build_table([load_result(p) for p in records], sources=[str(p) for p in records])
    run.table = render(table, "markdown")
    atomic_write_text(table_path, run.table)


#: metrics of a record copied into run.json (ASV lists: EER, minDCF; SASV: the fused system's three EERs)
_HEADLINE = ("eer", "min_dcf", "sasv_eer", "sv_eer", "spf_eer", "min_a_dcf")


def _write_run_json(cfg: BenchConfig, run: BenchRun) -> None:
    from asvbench._atomic import atomic_write_text

    config = {k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if isinstance(v, tuple) else v)
              for k, v in asdict(cfg).items()}
    payload = {
        "schema": RUN_SCHEMA, "benchmark": cfg.name, "config": config,
        "stages": [{"stage": s.name, "command": s.command, "argv": s.argv, "status": s.status} for s in run.stages],
        "results": [{"list": r.label, "benchmark": r.benchmark, "record": str(r.record), "scores": str(r.scores),
                     "n_trials": r.n_trials, "n_scored": r.n_scored,
                     **{k: r.metrics[k] for k in _HEADLINE if k in r.metrics}} for r in run.results],
        "table": str(run.out / "table.md"), "notes": run.notes, "warnings": run.warnings,
    }
    atomic_write_text(run.run_json, json.dumps(payload, indent=2) + "\n")


def load_run(path: str | Path) -> dict:
    """A ``run.json`` (the stages' command lines are under ``stages``)."""
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("schema") != RUN_SCHEMA:
        raise AsvbenchError(f"not a bench run file (schema {data.get('schema')!r})", where=p)
    return data
