"""What an extraction run is asked to do (a frozen config) and what it reports (a result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError

Device = Literal["cpu", "cuda"]
DType = Literal["float32", "bfloat16", "float16"]
Bucketing = Literal["auto", "exact", "padded"]
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")
BUCKETINGS: tuple[str, ...] = ("auto", "exact", "padded")
#: TaoRuijie / DoubleRoc evaluation crops: 300 frames * 160 + 240 = 48,240 samples = 3.015 s at 16 kHz.
DEFAULT_CROP_SECONDS = 3.015


@dataclass(frozen=True)
class ExtractConfig:
    """One ``asvbench extract`` run.

    Batching (``bucketing``): ``"exact"`` only batches utterances of identical sample counts
    (crops always are), so batched results equal one-at-a-time results whatever the model
    does with padding. ``"padded"`` pads length-sorted neighbours (a group's longest at most
    1.2 x its shortest) and passes the valid lengths: exact only for models that mask padding.
    ``"auto"`` (default): on CPU ``"exact"`` (padding does not pay there: throughput comes
    from one model copy per core in the worker processes); on GPU a padding probe on the
    loaded model (one signal alone versus padded in a batch beside a longer one) picks
    ``"padded"`` when the outputs agree (cosine >= 0.99999), else ``"exact"``.

    Inference preparation (``fuse``, default on): the model's ``for_inference()`` form is run
    (see :meth:`~asvbench.models.base.LoadedModel.for_inference`); ``--no-fuse`` runs the
    network exactly as loaded.

    Workers (``num_workers``, default: CPU the family's entry of
    :data:`~asvbench.extract.plan.CPU_RUNTIME`, by default one per core; GPU min(4, cores - 1)):
    on CPU with two or more, each worker decodes and runs the model with one thread (the
    family's ``threads``); otherwise workers only decode and the model runs in the main process.
    """

    #: an entry or family name; None: the entry the checkpoint is identified as
    model: str | None
    audio: Path
    out: Path
    checkpoint: Path | None = None
    batch_size: int = 16
    crops: int = 0
    crop_seconds: float = DEFAULT_CROP_SECONDS
    max_seconds: float | None = None
    device: str = "cpu"
    dtype: str = "float32"
    num_workers: int | None = None  # None: CPU: one per core; GPU: min(4, cpus - 1)
    shard: tuple[int, int] | None = None  # (index, count), index 0-based
    overwrite: bool = False
    trust_pickle: bool = False
    key_style: str = "relpath"
    bucketing: str = "auto"
    progress: bool = True
    threads: int | None = None  # torch intra-op threads for the model; None: leave torch's default
    #: run the model's inference form (CAM++: ``fuse_for_inference``, 1.13-1.15x faster on one CPU
    #: thread; ECAPA-TDNN: ``ecapa_inference``, 1.02-1.03x; 2-D ResNets: BatchNorm folded, 7-13 %;
    #: equal up to float rounding)
    fuse: bool = True

    def validate(self) -> None:
        if self.batch_size < 1:
            raise AsvbenchError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.crops < 0:
            raise AsvbenchError(f"--crops must be >= 0, got {self.crops}")
        if self.crops and not self.crop_seconds > 0:
            raise AsvbenchError(f"--crop-seconds must be > 0, got {self.crop_seconds}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise AsvbenchError(f"--max-seconds must be > 0, got {self.max_seconds}")
        check_choice(self.dtype, DTYPES, "--dtype")
        check_choice(self.bucketing, BUCKETINGS, "--bucketing")
        if not (self.device == "cpu" or self.device == "cuda" or self.device.startswith("cuda:")):
            raise AsvbenchError(f"unknown --device {self.device!r}", hint="choose cpu or cuda")
        if self.num_workers is not None and self.num_workers < 0:
            raise AsvbenchError(f"--num-workers must be >= 0, got {self.num_workers}")
        if self.shard is not None:
            i, n = self.shard
            if not (n >= 1 and 0 <= i < n):
                raise AsvbenchError(f"--shard {i}/{n}: the index must lie in 0..{n - 1}",
                                    hint="shards are numbered from 0: --shard 0/4 ... --shard 3/4")


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"i/N"`` -> ``(i, N)`` (0-based index); None stays None."""
    if text is None or text == "":
        return None
    try:
        i_text, n_text = text.split("/")
        shard = (int(i_text), int(n_text))
    except ValueError:
        raise AsvbenchError(f"--shard {text!r} is not of the form i/N", hint="e.g. --shard 0/4 (0-based)") from None
    i, n = shard
    if not (n >= 1 and 0 <= i < n):
        raise AsvbenchError(f"--shard {text}: the index must lie in 0..{n - 1}",
                            hint="shards are numbered from 0: --shard 0/4 ... --shard 3/4")
    return shard


@dataclass(frozen=True)
class Failure:
    """An utterance that could not be extracted, and why."""

    key: str
    path: str
    reason: str


@dataclass
class ExtractResult:
    """What a run did. Throughput figures cover the utterances computed in this run."""

    out: Path
    kind: str
    n_keys: int  # utterances in the input (this shard)
    n_done: int  # utterances with embeddings/scores in the output
    n_failed: int
    n_rows: int
    n_computed: int  # utterances computed in this run (resumed ones excluded)
    n_resumed_batches: int
    seconds: float
    audio_seconds: float
    failures: list[Failure] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    shard: tuple[int, int] | None = None
    merged: bool = False  # a merge into the final store happened in this call
    final: bool = True  # ``out`` is the final store (not a shard waiting for its siblings)
    model: str = ""  # the registry entry that ran (what a family name or a checkpoint resolved to)

    @property
    def utterances_per_second(self) -> float:
        return self.n_computed / self.seconds if self.seconds > 0 else 0.0

    @property
    def real_time_factor(self) -> float:
        """Processing time / audio duration (below 1: faster than real time)."""
        return self.seconds / self.audio_seconds if self.audio_seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "out": str(self.out), "kind": self.kind, "n_keys": self.n_keys, "n_done": self.n_done,
            "n_failed": self.n_failed, "n_rows": self.n_rows, "n_computed": self.n_computed,
            "n_resumed_batches": self.n_resumed_batches, "seconds": self.seconds,
            "audio_seconds": self.audio_seconds, "utterances_per_second": self.utterances_per_second,
            "real_time_factor": self.real_time_factor, "shard": list(self.shard) if self.shard else None,
            "merged": self.merged, "final": self.final, "model": self.model,
            "failures": [{"key": f.key, "path": f.path, "reason": f.reason} for f in self.failures],
        }
