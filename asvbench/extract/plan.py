"""The deterministic work plan of a run: which utterances, in which batches, in which order.

The plan depends only on the input listing, the audio headers and the config, never on
timing, so a resumed run recomputes exactly the batches an uninterrupted run would have.

* Sharding (``--shard i/N``, torchrun ranks): the keys are sorted and shard ``i`` takes every
  ``N``-th key starting at ``i`` (``sorted_keys[i::N]``): disjoint, covering, deterministic,
  and balanced in count.
* Batching: the shard's utterances are sorted by (length in samples at the model's rate
  after ``--max-seconds``, key), longest first, and cut into consecutive batches of
  ``batch_size`` (when CPU workers run the model: of at most ``ceil(n / (8 x workers))``, so
  the round-robin hand-out keeps the workers evenly loaded). Lengths come from the file
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
    """Batch size when every worker runs the model: small enough for >= 8 batches per worker,
    since DataLoader hands batches to workers round-robin (static, not on demand)."""
    return max(1, min(batch_size, math.ceil(n_items / (8 * max(1, workers)))))


def fingerprint(batches: Sequence[Sequence[PlannedItem]], settings: dict) -> str:
    """sha256 over the batch composition and the settings that change the numbers."""
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True).encode())
    for batch in batches:
        h.update(b"\x1e")
        for it in batch:
            h.update(f"{it.key}\t{it.path}\t{it.samples}\n".encode())
    return h.hexdigest()
