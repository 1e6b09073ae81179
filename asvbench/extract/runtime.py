"""Where extraction runs: the device and autocast of this process, the worker count, where the
model runs (main process or CPU compute workers), and the torchrun set-up (ranks, process group,
the all-ranks-ok vote, the barrier).

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
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from asvbench._cpus import usable_cpus
from asvbench.errors import AsvbenchError
from asvbench.extract.config import ExtractConfig
from asvbench.extract.plan import cpu_runtime


def default_workers(rt: Runtime | None = None, family: str | None = None) -> int:
    """CPU: the family's :func:`~asvbench.extract.plan.cpu_runtime` (by default one worker per
    core, each decoding and computing); GPU: min(4, cores - 1) decoders.

    Under torchrun the cores are shared among the ranks of a node (``LOCAL_WORLD_SIZE``)."""
    try:
        local_world = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        local_world = 1
    cpus = max(1, usable_cpus() // local_world)
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


def compute_placement(rt: Runtime, workers: int) -> str:
    """Where the model runs: ``"workers"`` (CPU, >= 2 workers: each worker process decodes and
    runs its own copy of the model with one thread; on a few cores this beats one process's
    intra-op threads, which scale poorly on these small convolutions) or ``"main"`` (GPU, or
    CPU with < 2 workers: workers only decode). Workers are forked (Linux) and share the
    loaded model copy-on-write."""
    if rt.device_type == "cpu" and workers >= 2 and sys.platform.startswith("linux"):
        return "workers"
    return "main"


def init_process_group(rt: Runtime) -> None:
    import torch
    import torch.distributed as tdist

    if tdist.is_initialized():
        return
    if rt.device_type == "cuda":
        torch.cuda.set_device(torch.device(rt.device))
    tdist.init_process_group(backend="nccl" if rt.device_type == "cuda" else "gloo")


def all_ranks_ok(rt: Runtime, ok: int) -> bool:
    import torch
    import torch.distributed as tdist

    flag = torch.tensor([ok], dtype=torch.int64, device=rt.device if rt.device_type == "cuda" else "cpu")
    tdist.all_reduce(flag, op=tdist.ReduceOp.MIN)
    return bool(flag.item())


def barrier(rt: Runtime) -> None:
    import torch.distributed as tdist

    tdist.barrier()
