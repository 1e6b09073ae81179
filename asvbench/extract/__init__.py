"""Embedding and countermeasure-score extraction: ``asvbench extract``.

* :mod:`~asvbench.extract.config`: :class:`ExtractConfig` (what to do), :class:`ExtractResult`;
* :mod:`~asvbench.extract.plan`: deterministic sharding and length-sorted batching;
* :mod:`~asvbench.extract.data`: decoding in DataLoader workers, truncation, crops, length guard;
* :mod:`~asvbench.extract.engine`: :func:`run_extract`, the orchestrator: model and checkpoint
  resolution, the run of one shard, merging;
* :mod:`~asvbench.extract.runtime`: device, autocast, worker count, torchrun set-up;
* :mod:`~asvbench.extract.batching`: the model pass, bucketing and the padding probe;
* :mod:`~asvbench.extract.workers`: where batches are computed (main process, DataLoader decoders,
  forked CPU compute workers);
* :mod:`~asvbench.extract.progress`: progress bar and messages through callbacks;
* :mod:`~asvbench.extract.store`: resumable work directory, outputs, shard merging;
* :mod:`~asvbench.extract.cache`: the checkpoint cache and ``models pull`` (through :mod:`asvbench._download`).

Importing this package does not import torch.
"""

from asvbench.extract.config import ExtractConfig, ExtractResult, Failure, parse_shard

__all__ = ["ExtractConfig", "ExtractResult", "Failure", "parse_shard", "run_extract", "merge"]


def run_extract(*args, **kwargs):
    """See :func:`asvbench.extract.engine.run_extract`."""
    from asvbench.extract.engine import run_extract as _run

    return _run(*args, **kwargs)


def merge(out, n=None):
    """See :func:`asvbench.extract.store.merge_shards`."""
    from asvbench.extract.store import merge_shards

    return merge_shards(out, n)
