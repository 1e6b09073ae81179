"""Decoding side of the engine: turn a planned batch into model-ready waveforms.

Runs in worker processes (``--num-workers``: DataLoader decoders when the model runs in the
main process, or the forked CPU compute workers of :mod:`asvbench.extract.workers`) so decoding
overlaps the model's compute. Anything that goes wrong with one file (unreadable, corrupt, too short) becomes a
:class:`~asvbench.extract.config.Failure` for that utterance; the batch goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from asvbench.extract.config import Failure
from asvbench.extract.plan import PlannedItem
from asvbench.extract.segments import fixed_crops, truncate


@dataclass(frozen=True)
class SegmentSpec:
    """How to cut each decoded utterance (all in samples at the model's rate)."""

    sample_rate: int
    max_samples: int | None = None
    min_samples: int = 0
    n_crops: int = 0
    crop_samples: int = 0


@dataclass
class PreparedBatch:
    keys: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fulls: list[np.ndarray] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)  # (n_crops, crop) each, when n_crops > 0
    seconds: list[float] = field(default_factory=list)  # audio used per key
    failures: list[Failure] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def prepare_batch(batch: Sequence[PlannedItem], spec: SegmentSpec) -> PreparedBatch:
    """Decode, down-mix, resample, truncate, guard the minimum length, cut crops."""
    from asvbench.io.audio import load_for_model

    out = PreparedBatch()
    for item in batch:
        try:
            wav, notices = load_for_model(item.path, spec.sample_rate)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is recorded, the run goes on
            out.failures.append(Failure(item.key, item.path, f"unreadable audio: {describe_error(exc)}"))
            continue
        wav = truncate(wav, spec.max_samples)
        n = int(wav.shape[0])
        if n < max(spec.min_samples, 1):
            out.failures.append(Failure(
                item.key, item.path,
                f"too short: {n} samples ({n / spec.sample_rate:.3f} s) < the model's minimum of "
                f"{spec.min_samples} samples ({spec.min_samples / spec.sample_rate:.3f} s)"))
            continue
        if not np.isfinite(wav).all():
            out.failures.append(Failure(item.key, item.path, "audio holds NaN or infinite samples"))
            continue
        out.keys.append(item.key)
        out.paths.append(item.path)
        out.fulls.append(np.ascontiguousarray(wav, dtype=np.float32))
        if spec.n_crops:
            out.crops.append(fixed_crops(wav, spec.crop_samples, spec.n_crops))
        out.seconds.append(n / spec.sample_rate)
        out.notices.extend(notices)
    return out


class BatchSource:
    """Map-style dataset over planned batches (duck-typed for ``torch.utils.data.DataLoader``)."""

    def __init__(self, batches: Sequence[Sequence[PlannedItem]], spec: SegmentSpec):
        self.batches = list(batches)
        self.spec = spec

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> PreparedBatch:
        return prepare_batch(self.batches[i], self.spec)


def worker_init(_worker_id: int) -> None:
    """Workers use one torch thread each, and die with their parent.

    One thread: the cores are shared out as processes (and GNU OpenMP is only safe after
    fork with one thread). Dying with the parent (Linux ``PR_SET_PDEATHSIG``): a parent
    killed with SIGKILL cannot stop its workers, which would otherwise block for ever on a
    full result pipe that their siblings keep open.
    """
    import sys

    import torch

    torch.set_num_threads(1)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover - no glibc: fall back to DataLoader's own watchdog
            pass
