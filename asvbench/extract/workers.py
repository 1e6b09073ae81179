"""Where batches are computed: in the main process (batch by batch, or decoded by DataLoader
workers), or by forked CPU compute workers that decode and run their own copy of the model
(:func:`~asvbench.extract.runtime.compute_placement` says which).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from asvbench.extract.batching import compute_batch
from asvbench.extract.config import ExtractConfig, Failure
from asvbench.extract.data import BatchSource, worker_init
from asvbench.extract.runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel


class Computed:
    """One batch's results, ready for its chunk file."""

    def __init__(self, keys: list[str], rows: list[np.ndarray], seconds: list[float], failures: list[Failure],
                 notices: list[str]):
        self.keys, self.rows, self.seconds, self.failures, self.notices = keys, rows, seconds, failures, notices


class ComputeSource:
    """Decode + model pass per planned batch: what the forked CPU compute workers run (and the
    main process, batch by batch, when there are no workers)."""

    def __init__(self, source: BatchSource, model: "LoadedModel", rt: Runtime, cfg: ExtractConfig, bucketing: str):
        self.source, self.model, self.rt, self.cfg, self.bucketing = source, model, rt, cfg, bucketing

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> Computed:
        prep = self.source[i]
        keys, rows, seconds, failures = compute_batch(self.model, self.rt, prep, self.cfg, self.bucketing)
        return Computed(keys, rows, seconds, failures, prep.notices)


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


def batch_results(source: BatchSource, todo: list[int], workers: int, placement: str, model: "LoadedModel",
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
