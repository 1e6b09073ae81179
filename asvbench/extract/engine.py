"""The extraction orchestrator: resolve the model and checkpoint, plan, compute, write resumably.

:func:`run_extract` is the whole of ``asvbench extract`` as a pure function returning an
:class:`~asvbench.extract.config.ExtractResult`. Its parts: the device and torchrun set-up
(:mod:`~asvbench.extract.runtime`), the model pass and bucketing (:mod:`~asvbench.extract.batching`),
the worker processes (:mod:`~asvbench.extract.workers`), progress and messages through callbacks
(:mod:`~asvbench.extract.progress`). Layout of the outputs, the work directory, shards and
merging: :mod:`asvbench.extract.store`. Batching and sharding rules: :mod:`asvbench.extract.plan`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asvbench.errors import AsvbenchError
from asvbench.extract import store as st
from asvbench.extract.batching import resolve_bucketing
from asvbench.extract.config import ExtractConfig, ExtractResult
from asvbench.extract.data import BatchSource, SegmentSpec
from asvbench.extract.plan import cpu_runtime, fingerprint, make_batches, plan_items, select_shard, worker_batch_size
from asvbench.extract.progress import Progress, Reporting, stderr_reporting
from asvbench.extract.runtime import (
    Runtime,
    all_ranks_ok,
    barrier,
    compute_placement,
    default_workers,
    detect_distributed,
    init_process_group,
)
from asvbench.extract.segments import seconds_to_samples
from asvbench.extract.workers import batch_results

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry


# ----------------------------------------------------------------------------- resolution


def resolve_entry(name: str) -> "ModelEntry":
    """The registry entry for ``name``: an entry name, or a family name meaning its default entry
    (unknown names: error listing the valid ones)."""
    try:
        from asvbench.models.registry import get_model
    except ImportError as exc:  # pragma: no cover - the registry ships with the package
        raise AsvbenchError(f"the model registry is not available ({exc})") from None
    return get_model(name)


def resolve_model_entry(cfg: ExtractConfig) -> tuple["ModelEntry", str]:
    """The entry ``cfg.model`` and ``cfg.checkpoint`` resolve to (a family name takes its default
    entry, or the entry the checkpoint is identified as; no model: the checkpoint's entry), and
    a notice saying how ("" when ``cfg.model`` is simply an entry without a checkpoint to check)."""
    from asvbench.models.registry import resolve_model

    return resolve_model(cfg.model, cfg.checkpoint, trust_pickle=cfg.trust_pickle,
                         lookup=lambda name: resolve_entry(name))


def resolve_checkpoint(cfg: ExtractConfig, entry: "ModelEntry") -> Path:
    if cfg.checkpoint is not None:
        path = Path(cfg.checkpoint)
        if not path.is_file():
            raise AsvbenchError("checkpoint not found" if not path.exists() else "checkpoint is not a file",
                                where=path, hint="pass --checkpoint PATH to a .pt/.pth file")
        return path
    from asvbench.extract.cache import cached_path

    cached = cached_path(entry.name, entry.url, archive_member=entry.archive_member)
    if cached is not None and cached.is_file():
        return cached
    raise AsvbenchError(f"no --checkpoint given and model {entry.name!r} is not in the cache",
                        hint=(f"run `asvbench models pull {entry.name}`" if entry.url else
                              "download the checkpoint from " + entry.source) + ", or pass --checkpoint PATH")


def _plain(obj: Any) -> Any:
    """Tensors and plain containers of ``obj``; other objects (argparse Namespaces, ...) dropped."""
    import torch

    if isinstance(obj, torch.Tensor) or obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {k: v for k, v in ((k, _plain(v)) for k, v in obj.items() if isinstance(k, (str, int))) if v is not _DROP}
    if isinstance(obj, (list, tuple)):
        return type(obj)(v for v in (_plain(v) for v in obj) if v is not _DROP)
    return _DROP


_DROP = object()


def trusted_copy(checkpoint: Path, tmp_dir: Path) -> Path:
    """``--trust-pickle``: unpickle ``checkpoint`` in full (this runs code from the file), keep its
    tensors and plain containers, and save them where the model's weights-only loader can read them."""
    import torch

    from asvbench.models.base import load_state_dict_file

    state = load_state_dict_file(checkpoint, trust_pickle=True)
    copy = tmp_dir / f"{checkpoint.name}.weights-only.pt"
    torch.save(_plain(state), copy)
    return copy


# ----------------------------------------------------------------------------- the run


def _identity(cfg: ExtractConfig, entry: "ModelEntry", sha: str) -> dict[str, Any]:
    crops = {"n": cfg.crops, "seconds": cfg.crop_seconds, "samples": seconds_to_samples(cfg.crop_seconds, entry.sample_rate)} \
        if cfg.crops else None
    return {
        "model": entry.name, "checkpoint_sha256": sha, "kind": entry.kind, "crops": crops,
        "max_seconds": cfg.max_seconds, "bucketing": cfg.bucketing, "dtype": cfg.dtype, "key_style": cfg.key_style,
    }


def _manifest(cfg: ExtractConfig, entry: "ModelEntry", checkpoint: Path, identity: dict[str, Any],
              created: str, n_failed: int, device: str) -> dict[str, Any]:
    import torch

    from asvbench import __version__

    return {
        **identity,
        "family": entry.family, "source": entry.source, "checkpoint": str(checkpoint),
        "embed_dim": entry.embed_dim, "frontend": entry.frontend, "sample_rate": entry.sample_rate,
        "rows": "row 0: full utterance; rows 1..N: fixed crops" if cfg.crops else "one row per utterance",
        "outputs": "logits [spoof, bonafide]" if entry.kind == "cm" else "embeddings",
        "device": device, "audio": str(cfg.audio), "n_failed": n_failed,
        "asvbench_version": __version__, "torch_version": torch.__version__, "created": created,
        "created_by": "asvbench extract",
    }


def run_extract(cfg: ExtractConfig, *, entry: "ModelEntry | None" = None,
                on_batch: Callable[[int], None] | None = None,
                reporting: Reporting | None = None) -> ExtractResult:
    """Extract embeddings (or CM scores) for every utterance of ``cfg.audio`` into ``cfg.out``.

    ``entry`` overrides the registry lookup of ``cfg.model`` (tests, benchmarks, and callers
    that resolved it already with :func:`resolve_model_entry`); otherwise the resolution notice
    comes first in the result's notices. Under torchrun (``WORLD_SIZE`` > 1) each rank takes one
    shard and rank 0 merges. Messages and the progress bar go to ``reporting`` (default: stderr).
    """
    cfg.validate()
    dist = detect_distributed()
    if dist is not None and cfg.shard is not None:
        raise AsvbenchError("--shard cannot be combined with torchrun (WORLD_SIZE > 1)",
                            hint="under torchrun every rank takes one shard by itself")
    how = ""
    if entry is None:
        entry, how = resolve_model_entry(cfg)
    if entry.kind == "cm" and cfg.crops:
        raise AsvbenchError(f"--crops is for speaker embedding models; {entry.name} is a countermeasure",
                            hint="drop --crops (CM models score the utterance as their recipe does)")
    checkpoint = resolve_checkpoint(cfg, entry)
    import torch

    from asvbench._hashing import sha256_file
    from asvbench.io.audio import list_audio

    rt = Runtime(cfg, dist)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    items = list_audio(cfg.audio, cfg.key_style)
    sha = sha256_file(checkpoint)
    identity = _identity(cfg, entry, sha)
    out = Path(cfg.out)
    st.check_output(out, identity, entry.kind, overwrite=cfg.overwrite)
    if dist is not None:
        init_process_group(rt)
    if cfg.trust_pickle:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="asvbench-ckpt-") as tmp:
            model = entry.loader(trusted_copy(checkpoint, Path(tmp)))
    else:
        model = entry.loader(checkpoint)
    if cfg.fuse:
        model = model.for_inference(in_place=True)  # the loaded form is not used again
    model.to(rt.device)
    model.module.eval()
    shard = (dist.rank, dist.world) if dist is not None else cfg.shard
    try:
        result = _run_shard(cfg, entry, model, rt, items, shard, checkpoint, identity, out,
                            quiet=dist is not None and dist.rank != 0, on_batch=on_batch,
                            reporting=reporting or stderr_reporting())
        result.model = entry.name
        if how:
            result.notices.insert(0, how)
        ok = 1
    except BaseException:
        ok = 0
        if dist is not None:
            all_ranks_ok(rt, ok)
        raise
    if dist is not None:
        if not all_ranks_ok(rt, ok):
            raise AsvbenchError("another rank failed; its shard is unfinished", hint="re-run the command to resume")
        if dist.rank == 0:
            _merge_into(result, out, dist.world)
        barrier(rt)
    elif shard is not None and shard[1] > 1 and st.all_shards_present(out, shard[1]):
        lock = out.parent / f"{out.name}.merge.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return result  # another shard is merging
        try:
            os.close(fd)
            if st.all_shards_present(out, shard[1]):
                _merge_into(result, out, shard[1])
        finally:
            lock.unlink(missing_ok=True)
    return result


def _merge_into(result: ExtractResult, out: Path, n: int) -> None:
    st.merge_shards(out, n)
    result.merged = True
    result.final = True
    result.out = out


def _run_shard(cfg: ExtractConfig, entry: "ModelEntry", model: "LoadedModel", rt: Runtime, items: list,
               shard: tuple[int, int] | None, checkpoint: Path, identity: dict[str, Any], out: Path, *,
               quiet: bool, on_batch: Callable[[int], None] | None, reporting: Reporting) -> ExtractResult:
    sr = entry.sample_rate
    max_samples = seconds_to_samples(cfg.max_seconds, sr) if cfg.max_seconds else None
    spec = SegmentSpec(sample_rate=sr, max_samples=max_samples, min_samples=int(entry.min_samples),
                       n_crops=cfg.crops, crop_samples=seconds_to_samples(cfg.crop_seconds, sr) if cfg.crops else 0)
    bucketing, bucketing_note = resolve_bucketing(cfg, model, rt, entry)
    identity = dict(identity, bucketing=bucketing)
    mine = select_shard(items, shard)
    multi = shard is not None and shard[1] > 1
    target = st.shard_path(out, shard) if multi else out
    hint = cpu_runtime(entry.family)
    workers = default_workers(rt, entry.family) if cfg.num_workers is None else cfg.num_workers
    in_main = cfg.num_workers is None and hint.workers_per_core == 0  # the family's measured choice
    placement = "main" if in_main else compute_placement(rt, workers)
    import torch

    compute = "workers x 1 thread" if placement == "workers" else f"main process x {torch.get_num_threads()} threads"
    batch_size = worker_batch_size(cfg.batch_size, len(mine), workers) if placement == "workers" else cfg.batch_size
    batches = make_batches(plan_items(mine, sr, max_samples), batch_size, longest_first=True)
    settings = {**identity, "batch_size": batch_size, "device": rt.device, "shard": list(shard) if shard else None,
                "compute": compute,
                "spec": [sr, max_samples, spec.min_samples, spec.n_crops, spec.crop_samples]}
    work = st.WorkDir(st.work_dir_for(target))
    resumed = work.open(fingerprint(batches, settings), {"out": str(target), "n_batches": len(batches)},
                        overwrite=cfg.overwrite) if batches else False
    t0 = time.perf_counter()
    done = work.done() if batches else set()
    todo = [i for i in range(len(batches)) if i not in done]
    n_done_utts = sum(len(batches[i]) for i in done)
    label = f"extract {entry.name}" + (f" [shard {shard[0]}/{shard[1]}]" if multi else "")
    if resumed and done and not quiet:
        reporting.message(f"resuming: {len(done)} of {len(batches)} batches already done in {work.path}", None)
    progress = Progress(cfg.progress and not quiet, len(mine), n_done_utts, label, reporting.console)
    n_computed = 0
    audio_seconds = 0.0
    try:
        for idx, res in batch_results(BatchSource(batches, spec), todo, workers, placement, model, rt, cfg, bucketing):
            keys, seconds = res.keys, res.seconds
            work.write_chunk(idx, keys, res.rows, seconds, res.failures, res.notices)
            n_computed += len(batches[idx])
            audio_seconds += float(sum(seconds))
            progress.advance(len(batches[idx]), float(sum(seconds)))
            if on_batch is not None:
                on_batch(idx)
    except KeyboardInterrupt:
        progress.close()
        if not quiet:
            reporting.message(f"interrupted: finished batches are kept in {work.path}; "
                              "run the same command again to resume", "yellow")
        raise
    progress.close()
    elapsed = time.perf_counter() - t0
    collected = work.collect(len(batches)) if batches else st.Collected()
    keys, matrix, offsets = collected.stacked()
    failures = sorted(collected.failures, key=lambda f: f.key)
    manifest = _manifest(cfg, entry, checkpoint, identity, work.created if batches else "", len(failures), rt.device)
    manifest["bucketing_note"] = bucketing_note
    manifest["compute"] = compute
    manifest["optimisations"] = model.optimisations or "none"
    if multi:
        manifest["shard"] = list(shard)  # type: ignore[arg-type]
        manifest["dim"] = int(matrix.shape[1]) if keys else int(entry.embed_dim)
        st.write_shard(target, keys, matrix, offsets, manifest, failures)
    else:
        if not keys:
            st.write_failures(out, failures)
            first = failures[0] if failures else None
            raise AsvbenchError(
                f"no utterance could be extracted: {len(failures)} failed" +
                (f"; first: {first.key} ({first.path}): {first.reason}" if first else ""),
                where=st.failures_path(out) if failures else cfg.audio,
                hint="see the failures list; check the audio files and the model's minimum length",
            )
        st.write_final(out, entry.kind, keys, matrix, offsets, manifest)
        st.write_failures(out, failures)
    work.remove()
    notices = [f"{count} file(s): {text}" for text, count in sorted(Counter(collected.notices).items())]
    return ExtractResult(
        out=target, kind=entry.kind, n_keys=len(mine), n_done=len(keys), n_failed=len(failures),
        n_rows=int(matrix.shape[0]) if keys else 0, n_computed=n_computed, n_resumed_batches=len(done),
        seconds=elapsed, audio_seconds=audio_seconds, failures=failures, notices=notices, shard=shard,
        merged=False, final=not multi,
    )
