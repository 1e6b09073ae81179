"""The extraction engine: plan, decode in workers, run the model in batches, write resumably.

:func:`run_extract` is the whole of ``asvbench extract`` as a pure function returning an
:class:`~asvbench.extract.config.ExtractResult`. Layout of the outputs, the work directory,
shards and merging: :mod:`asvbench.extract.store`. Batching and sharding rules:
:mod:`asvbench.extract.plan`.

Batching never changes results. In ``exact`` bucketing one forward call only holds waveforms
of identical length (the fixed crops always are; segment-cut evaluation sets are too), which is
right whatever the model does with padding (zero padding changes CMN means and pooling
statistics of unmasked speaker models). ``padded`` bucketing pads length-sorted neighbours
(little padding: a group's longest is at most 1.2 x its shortest) and passes the valid
lengths: right for models that mask padding (asvbench's CAM++ does). ``auto`` (default) uses
``exact`` on CPU and, on GPU, ``padded`` only when a padding probe on the loaded model shows
that padding has no effect.

Speed on CPU comes from processes, not batching: small convolutions scale poorly over
intra-op threads (CAM++ on this 2-core machine: 2 threads are ~1.1x of 1 thread), so with two
or more workers each worker process decodes its batches and runs its own (forked,
copy-on-write) model with one thread. On GPU the workers only decode. The choice is per family
(:data:`~asvbench.extract.plan.CPU_RUNTIME`); measured, one 1-thread worker per core is also what
keeps a shared machine fast: torch's intra-op threads wait for each other at every operation, so
a 2-thread process slows down several times when other work takes one of its cores.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.extract import store as st
from asvbench.extract.config import ExtractConfig, ExtractResult, Failure
from asvbench.extract.data import BatchSource, PreparedBatch, SegmentSpec, describe_error, worker_init
from asvbench.extract.plan import cpu_runtime, fingerprint, make_batches, plan_items, select_shard, worker_batch_size
from asvbench.extract.segments import seconds_to_samples

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


def default_workers(rt: "Runtime | None" = None, family: str | None = None) -> int:
    """CPU: the family's :func:`~asvbench.extract.plan.cpu_runtime` (by default one worker per
    core, each decoding and computing); GPU: min(4, cores - 1) decoders.

    Under torchrun the cores are shared among the ranks of a node (``LOCAL_WORLD_SIZE``)."""
    try:
        local_world = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        local_world = 1
    cpus = max(1, (os.cpu_count() or 1) // local_world)
    if rt is not None and rt.device_type == "cpu":
        per_core = cpu_runtime(family or "").workers_per_core
        if per_core == 0:
            return max(0, min(4, cpus - 1))  # the model in the main process, workers decode
        return cpus * per_core if cpus * per_core >= 2 else 0
    return max(0, min(4, cpus - 1))


class Runtime:
    """Device, autocast and distributed facts of this process."""

    def __init__(self, cfg: ExtractConfig, dist: "DistInfo | None"):
        import torch

        self.device = cfg.device
        if cfg.device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise AsvbenchError("--device cuda but no CUDA device is available", hint="use --device cpu")
            if cfg.device == "cuda" and dist is not None:
                self.device = f"cuda:{dist.local_rank}"
        self.device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        self.autocast_dtype: Any = None
        if cfg.dtype != "float32":
            dtype = getattr(torch, cfg.dtype)
            if self.device_type == "cpu":
                if cfg.dtype == "float16":
                    raise AsvbenchError("--dtype float16 needs --device cuda",
                                        hint="on CPU use float32 (or bfloat16 where the CPU supports it)")
                if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
                    raise AsvbenchError("--dtype bfloat16: this CPU has no bfloat16 support", hint="use float32")
            elif cfg.dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
                raise AsvbenchError("--dtype bfloat16: this GPU has no bfloat16 support", hint="use float16")
            self.autocast_dtype = dtype

    def autocast(self) -> AbstractContextManager:
        import torch

        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.autocast_dtype)


class DistInfo:
    def __init__(self, rank: int, world: int, local_rank: int):
        self.rank, self.world, self.local_rank = rank, world, local_rank


def detect_distributed() -> DistInfo | None:
    """torchrun/Slurm-style environment: ``WORLD_SIZE`` > 1 with ``RANK`` (and ``LOCAL_RANK``)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        return None
    return DistInfo(rank, world, local) if world > 1 else None


# ----------------------------------------------------------------------------- the model pass


def _forward(model: "LoadedModel", rt: Runtime, wavs: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    import torch

    x = torch.from_numpy(np.ascontiguousarray(wavs, dtype=np.float32)).to(rt.device)
    n = torch.as_tensor(list(lengths), dtype=torch.long, device=rt.device)
    with torch.inference_mode(), rt.autocast():
        y = model.forward(x, n)
    y = y.float().cpu().numpy()
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise RuntimeError(f"model returned shape {tuple(y.shape)} for a batch of {x.shape[0]}")
    return y


def _run_groups(model: "LoadedModel", rt: Runtime, segs: list[np.ndarray], groups: list[list[int]],
                ) -> tuple[dict[int, np.ndarray], dict[int, str]]:
    """Forward each group of segment indices (padding to the group's longest); on an error,
    retry its members one by one so that one bad input fails alone."""
    out: dict[int, np.ndarray] = {}
    errors: dict[int, str] = {}
    for group in groups:
        try:
            lengths = [segs[i].shape[0] for i in group]
            batch = np.zeros((len(group), max(lengths)), np.float32)
            for row, i in enumerate(group):
                batch[row, : lengths[row]] = segs[i]
            y = _forward(model, rt, batch, lengths)
            out.update(zip(group, y))
        except (RuntimeError, ValueError, IndexError, AsvbenchError) as exc:
            if len(group) == 1:
                errors[group[0]] = f"model failed: {describe_error(exc)}"
            else:
                sub_out, sub_err = _run_groups(model, rt, segs, [[i] for i in group])
                out.update(sub_out)
                errors.update(sub_err)
    return out, errors


#: agreement the padding probe needs before padded batches are used (bucketing "auto")
PROBE_MIN_COSINE = 0.99999
PROBE_MAX_RELATIVE = 1e-3


def padding_probe(model: "LoadedModel", rt: Runtime, sample_rate: int, min_samples: int) -> tuple[float, float]:
    """Cosine and max relative difference between a probe signal's output alone and in a padded batch.

    The probe is deterministic: a 2 s (at least 2 x the model's minimum) chirp plus seeded
    noise, batched beside a 1.5 x longer signal so that it is zero-padded by a third.
    """
    n = max(2 * sample_rate, 2 * int(min_samples), 1000)
    rng = np.random.default_rng(20240601)
    t = np.arange(int(n * 1.5)) / sample_rate
    long = (0.3 * np.sin(2 * np.pi * (150 + 80 * t) * t) + 0.05 * rng.standard_normal(t.shape[0])).astype(np.float32)
    short = long[::-1][:n].copy()
    alone = _forward(model, rt, short[None, :], [n])[0].astype(np.float64)
    batch = np.zeros((2, long.shape[0]), np.float32)
    batch[0, :n] = short
    batch[1] = long
    padded = _forward(model, rt, batch, [n, long.shape[0]])[0].astype(np.float64)
    denom = np.linalg.norm(alone) * np.linalg.norm(padded)
    cos = float(alone @ padded / denom) if denom > 0 else (1.0 if np.array_equal(alone, padded) else 0.0)
    rel = float(np.max(np.abs(alone - padded)) / max(1.0, float(np.max(np.abs(alone)))))
    return cos, rel


def resolve_bucketing(cfg: ExtractConfig, model: "LoadedModel", rt: Runtime, entry: "ModelEntry") -> tuple[str, str]:
    """The bucketing to use and a note for the manifest (see :class:`ExtractConfig`)."""
    if cfg.bucketing != "auto":
        return cfg.bucketing, "asked for"
    if rt.device_type == "cpu":
        return "exact", "auto: exact on CPU (padded batches do not pay there; see the benchmark)"
    try:
        cos, rel = padding_probe(model, rt, entry.sample_rate, entry.min_samples)
    except (RuntimeError, ValueError, IndexError, AsvbenchError) as exc:
        return "exact", f"auto: padding probe failed ({describe_error(exc)})"
    facts = f"padding probe cosine {cos:.8f}, max relative difference {rel:.2e}"
    if cos >= PROBE_MIN_COSINE and rel <= PROBE_MAX_RELATIVE:
        return "padded", f"auto: {facts} (padding has no effect)"
    return "exact", f"auto: {facts} (the model does not mask padding)"


def exact_groups(lengths: Sequence[int], max_rows: int) -> list[list[int]]:
    """Indices grouped by identical length, each group cut to ``max_rows``, in first-seen order."""
    by_len: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by_len.setdefault(int(n), []).append(i)
    groups = []
    for members in by_len.values():
        groups.extend(members[j : j + max_rows] for j in range(0, len(members), max_rows))
    return groups


#: padded bucketing: a group's longest waveform is at most this times its shortest (<= 20 % padding)
MAX_PAD_RATIO = 1.2


def padded_groups(lengths: Sequence[int], max_rows: int, max_ratio: float = MAX_PAD_RATIO) -> list[list[int]]:
    """Groups of at most ``max_rows`` consecutive indices in length order, each cut where the
    next waveform would be longer than ``max_ratio`` times the group's shortest (so padding
    stays under ``1 - 1/max_ratio`` of the compute). Depends on the lengths only: deterministic."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(groups[-1]) < max_rows and lengths[i] <= max_ratio * lengths[groups[-1][0]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def compute_batch(model: "LoadedModel", rt: Runtime, prep: PreparedBatch, cfg: ExtractConfig, bucketing: str,
                  ) -> tuple[list[str], list[np.ndarray], list[float], list[Failure]]:
    """Rows per utterance for one prepared batch: full utterance first, then its crops."""
    fulls = prep.fulls
    grouping = padded_groups if bucketing == "padded" else exact_groups
    full_out, full_err = _run_groups(model, rt, fulls, grouping([f.shape[0] for f in fulls], cfg.batch_size))
    crop_out: dict[int, np.ndarray] = {}
    crop_err: dict[int, str] = {}
    if cfg.crops:
        segs = [c for crops in prep.crops for c in crops]  # all the same length: one exact group per chunk
        crop_out, crop_err = _run_groups(model, rt, segs, exact_groups([s.shape[0] for s in segs],
                                                                       cfg.batch_size * cfg.crops))
    keys, rows, seconds, failures = [], [], [], list(prep.failures)
    paths = dict(zip(prep.keys, prep.paths))
    for j, key in enumerate(prep.keys):
        reason = full_err.get(j)
        parts = [full_out[j][None, :]] if reason is None else []
        for c in range(cfg.crops):
            idx = j * cfg.crops + c
            if reason is None and idx in crop_err:
                reason = crop_err[idx]
            if reason is None:
                parts.append(crop_out[idx][None, :])
        if reason is None:
            block = np.concatenate(parts, axis=0).astype(np.float32)
            if not np.isfinite(block).all():
                reason = "model output holds NaN or infinite values"
        if reason is not None:
            failures.append(Failure(key, paths[key], reason))
            continue
        keys.append(key)
        rows.append(block)
        seconds.append(prep.seconds[j])
    return keys, rows, seconds, failures


# ----------------------------------------------------------------------------- progress


class Reporting:
    """Where the engine's words for a person go: ``message(text, style)`` (resuming, interrupted)
    and ``console``, the rich console of the progress bar. The engine never imports the CLI:
    a caller passes its own (the default, :func:`stderr_reporting`, is a stderr console)."""

    def __init__(self, message: Callable[[str, "str | None"], None], console: Any):
        self.message, self.console = message, console


def stderr_reporting() -> Reporting:
    from rich.console import Console

    console = Console(stderr=True)
    return Reporting(lambda text, style=None: console.print(text, style=style), console)


class _Progress:
    """rich progress bar on ``console``: utterances, utterances/s, real-time factor."""

    def __init__(self, enabled: bool, total: int, done: int, label: str, console: Any = None):
        self.enabled = enabled
        self.start = time.perf_counter()
        self.computed = 0
        self.audio = 0.0
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[ups]:.1f} utt/s"), TextColumn("RTF {task.fields[rtf]:.4f}"),
            TimeRemainingColumn(), console=console, transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, completed=done, ups=0.0, rtf=0.0)

    def advance(self, n_utts: int, audio_seconds: float) -> None:
        self.computed += n_utts
        self.audio += audio_seconds
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        self.bar.update(self.task, advance=n_utts, ups=self.computed / elapsed if elapsed else 0.0,
                        rtf=elapsed / self.audio if self.audio else 0.0)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()


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


class Computed:
    """One batch's results, ready for its chunk file."""

    def __init__(self, keys: list[str], rows: list[np.ndarray], seconds: list[float], failures: list[Failure],
                 notices: list[str]):
        self.keys, self.rows, self.seconds, self.failures, self.notices = keys, rows, seconds, failures, notices


class ComputeSource:
    """Decode + model pass per planned batch: run inside DataLoader workers on CPU."""

    def __init__(self, source: BatchSource, model: "LoadedModel", rt: Runtime, cfg: ExtractConfig, bucketing: str):
        self.source, self.model, self.rt, self.cfg, self.bucketing = source, model, rt, cfg, bucketing

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> Computed:
        prep = self.source[i]
        keys, rows, seconds, failures = compute_batch(self.model, self.rt, prep, self.cfg, self.bucketing)
        return Computed(keys, rows, seconds, failures, prep.notices)


def compute_placement(rt: Runtime, workers: int) -> str:
    """Where the model runs: ``"workers"`` (CPU, >= 2 workers: each worker process decodes and
    runs its own copy of the model with one thread; on a few cores this beats one process's
    intra-op threads, which scale poorly on these small convolutions) or ``"main"`` (GPU, or
    CPU with < 2 workers: workers only decode). Workers are forked (Linux) and share the
    loaded model copy-on-write."""
    if rt.device_type == "cpu" and workers >= 2 and sys.platform.startswith("linux"):
        return "workers"
    return "main"


def _loader(dataset: Any, todo: list[int], workers: int) -> Iterator[Any]:
    from torch.utils.data import DataLoader, Subset

    loader = DataLoader(Subset(dataset, todo), batch_size=None, shuffle=False, num_workers=min(workers, len(todo)),
                        worker_init_fn=worker_init, collate_fn=_identity_collate, prefetch_factor=2,
                        multiprocessing_context="fork" if sys.platform.startswith("linux") else None)
    yield from loader


#: what forked compute workers run (set just before the pool forks, so it is inherited, not pickled)
_POOL_COMPUTE: "ComputeSource | None" = None


def _pool_init() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    worker_init(0)  # one torch thread: see plan.CpuRuntime (forked OpenMP with more threads can hang)


def _pool_task(i: int) -> tuple[int, "Computed"]:
    assert _POOL_COMPUTE is not None
    return i, _POOL_COMPUTE[i]


def _pool_results(compute: "ComputeSource", todo: list[int], workers: int) -> Iterator[tuple[int, "Computed"]]:
    """Batches computed by forked worker processes, handed out on demand in plan order (a
    worker takes the next batch when it is free, so the workers finish together), yielded as
    they finish. A worker that dies (killed, out of memory) fails the run, which can then be
    resumed; on Ctrl-C or an error the batches not yet started are cancelled."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _POOL_COMPUTE
    _POOL_COMPUTE = compute
    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=multiprocessing.get_context("fork"),
                               initializer=_pool_init)
    try:
        futures = [pool.submit(_pool_task, i) for i in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _POOL_COMPUTE = None


def _results(source: BatchSource, todo: list[int], workers: int, placement: str, model: "LoadedModel",
             rt: Runtime, cfg: ExtractConfig, bucketing: str) -> Iterator[tuple[int, Computed]]:
    """``(batch index, result)`` of the ``todo`` batches, computed where ``placement`` says:
    in order, except from CPU compute workers (in the order they finish)."""
    if not todo:
        return
    compute = ComputeSource(source, model, rt, cfg, bucketing)
    if placement == "workers":
        yield from _pool_results(compute, todo, workers)
        return
    if workers == 0 or len(todo) == 1:
        for i in todo:
            yield i, compute[i]
        return
    for i, prep in zip(todo, _loader(source, todo, workers)):
        keys, rows, seconds, failures = compute_batch(model, rt, prep, cfg, bucketing)
        yield i, Computed(keys, rows, seconds, failures, prep.notices)


def _identity_collate(x: Any) -> Any:
    return x


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
        _init_process_group(rt)
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
            _all_ok(rt, ok)
        raise
    if dist is not None:
        if not _all_ok(rt, ok):
            raise AsvbenchError("another rank failed; its shard is unfinished", hint="re-run the command to resume")
        if dist.rank == 0:
            _merge_into(result, out, dist.world)
        _barrier(rt)
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


def _init_process_group(rt: Runtime) -> None:
    import torch
    import torch.distributed as tdist

    if tdist.is_initialized():
        return
    if rt.device_type == "cuda":
        torch.cuda.set_device(torch.device(rt.device))
    tdist.init_process_group(backend="nccl" if rt.device_type == "cuda" else "gloo")


def _all_ok(rt: Runtime, ok: int) -> bool:
    import torch
    import torch.distributed as tdist

    flag = torch.tensor([ok], dtype=torch.int64, device=rt.device if rt.device_type == "cuda" else "cpu")
    tdist.all_reduce(flag, op=tdist.ReduceOp.MIN)
    return bool(flag.item())


def _barrier(rt: Runtime) -> None:
    import torch.distributed as tdist

    tdist.barrier()


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
    progress = _Progress(cfg.progress and not quiet, len(mine), n_done_utts, label, reporting.console)
    n_computed = 0
    audio_seconds = 0.0
    try:
        for idx, res in _results(BatchSource(batches, spec), todo, workers, placement, model, rt, cfg, bucketing):
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
