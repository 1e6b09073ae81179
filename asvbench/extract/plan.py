"""The deterministic work plan of a run: which utterances, in which batches, in which order.

The plan depends only on the input listing, the audio headers and the config, never on
timing, so a resumed run recomputes exactly the batches an uninterrupted run would have.

* Sharding (``--shard i/N``, torchrun ranks): the keys are sorted and shard ``i`` takes every
  ``N``-th key starting at ``i`` (``sorted_keys[i::N]``): disjoint, covering, deterministic,
  and balanced in count.
* Batching: the shard's utterances are sorted by (length in samples at the model's rate
  after ``--max-seconds``, key), longest first, and cut into consecutive batches of
  ``batch_size`` (when CPU workers run the model: of at most ``ceil(n / (8 x workers))``; the
  workers take the next batch when they are free, so small last batches let them finish
  together). Lengths come from the file
  headers (no decoding); unreadable headers have length -1 and fail when decoded.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asvbench.io.audio import AudioItem, audio_info


@dataclass(frozen=True)
class PlannedItem:
    key: str
    path: str
    samples: int  # estimated samples at the model's rate (after truncation); -1: header unreadable


def estimate_samples(path: str, target_sr: int, max_samples: int | None) -> int:
    """Samples after resampling to ``target_sr`` (``ceil(frames * target / rate)``, torchaudio's rule)."""
    info = audio_info(path)
    if info is None or info.sample_rate <= 0:
        return -1
    n = info.frames if info.sample_rate == target_sr else math.ceil(info.frames * target_sr / info.sample_rate)
    return min(n, max_samples) if max_samples is not None else n


def select_shard(items: Sequence[AudioItem], shard: tuple[int, int] | None) -> list[AudioItem]:
    """The items of shard ``(i, N)``: every N-th of the key-sorted list, from the i-th."""
    ordered = sorted(items, key=lambda it: it.key)
    if shard is None:
        return ordered
    i, n = shard
    return ordered[i::n]


def plan_items(items: Sequence[AudioItem], target_sr: int, max_samples: int | None) -> list[PlannedItem]:
    """Read the headers (threaded: libsndfile releases the GIL) and attach estimated lengths."""
    paths = [it.path for it in items]
    with ThreadPoolExecutor(max_workers=8) as pool:
        lengths = list(pool.map(lambda p: estimate_samples(p, target_sr, max_samples), paths, chunksize=64))
    return [PlannedItem(it.key, it.path, n) for it, n in zip(items, lengths)]


def make_batches(planned: Sequence[PlannedItem], batch_size: int, *, longest_first: bool = False,
                 ) -> list[list[PlannedItem]]:
    """Length-sorted consecutive batches of at most ``batch_size`` utterances.

    ``longest_first`` reverses the order (the engine's choice: the biggest batches run first,
    so a run fails early if they do not fit in memory, and the work left at the end, when
    workers run out of batches, is the smallest)."""
    ordered = sorted(planned, key=lambda it: (it.samples, it.key), reverse=longest_first)
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def worker_batch_size(batch_size: int, n_items: int, workers: int) -> int:
    """Batch size when every worker runs the model: small enough for >= 8 batches per worker.
    Batches are handed out on demand, longest first (:mod:`asvbench.extract.workers`), so with
    many batches the work left when the first worker runs out is small and the workers finish
    together."""
    return max(1, min(batch_size, math.ceil(n_items / (8 * max(1, workers)))))


@dataclass(frozen=True)
class CpuRuntime:
    """How the engine runs one family on CPU when ``--num-workers`` / ``--threads`` are not given.

    ``workers_per_core``: compute worker processes per core (each decodes and runs its own copy
    of the model; 0: the model runs in the main process on ``threads`` threads with one decoding
    worker per core). ``threads``: torch threads of each compute worker."""

    workers_per_core: int = 1
    threads: int = 1
    measured: str = ""

    def __post_init__(self) -> None:
        if self.workers_per_core > 0 and self.threads != 1:
            # a worker forked from a parent whose OpenMP pool exists (any earlier multi-threaded torch
            # op in that process) hangs in its first parallel region: GNU OpenMP is not fork-safe
            raise ValueError(f"CpuRuntime(workers_per_core={self.workers_per_core}, threads={self.threads}): "
                             "forked compute workers run one torch thread; use workers_per_core=0 for a "
                             "multi-threaded model in the main process")


#: The default for every family: one single-thread worker per core. Measured on the 2-core
#: machine (reports/benchmarks.md, "Extraction"), interleaved, for ECAPA, CAM++ and the 2-D
#: ResNets: it is never slower than the model on 2 threads in one process, and under load from
#: other work it is several times faster (ECAPA c512, 10 files, load 15: 15.8 s against 84.8 s
#: with one decoding worker + 2 model threads and 102.7 s all in one process), since torch's
#: OpenMP threads wait for each other at every operation when a core is taken away. Session 7
#: (ECAPA c1024, all three layouts, load 9-12, "Issue 13, session 7: extraction"): the engine's
#: CPU time is 2-12 % above a 1-thread loop's (its start-up: checkpoint identified and hashed,
#: inference form, fork), while the 2-thread loop spends 2.1-2.4x the 1-thread loop's CPU.
DEFAULT_CPU_RUNTIME = CpuRuntime(measured="2 x 1-thread workers >= 1 x 2-thread process for every family measured")

#: Families whose measured best differs from :data:`DEFAULT_CPU_RUNTIME` (none so far: the
#: table is where such a measurement goes, keyed by the registry's family name).
CPU_RUNTIME: dict[str, CpuRuntime] = {}


def cpu_runtime(family: str) -> CpuRuntime:
    """The CPU runtime choice for ``family`` (the default when it has no entry)."""
    return CPU_RUNTIME.get(family, DEFAULT_CPU_RUNTIME)


def fingerprint(batches: Sequence[Sequence[PlannedItem]], settings: dict) -> str:
    """sha256 over the batch composition and the settings that change the numbers."""
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True).encode())
    for batch in batches:
        h.update(b"\x1e")
        for it in batch:
            h.update(f"{it.key}\t{it.path}\t{it.samples}\n".encode())
    return h.hexdigest()
