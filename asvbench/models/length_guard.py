"""The minimum-length guard of a model's ``forward``, with the lengths in samples and seconds (no torch)."""

from __future__ import annotations

from collections.abc import Sequence

from asvbench.errors import AsvbenchError


def require_min_length(lengths: Sequence[int], min_samples: int, sample_rate: int, name: str) -> None:
    """:class:`AsvbenchError` if a row has fewer than ``min_samples`` samples; says both in seconds.

    The extraction engine skips (and records) too-short files before they reach a model; this
    catches direct callers of ``LoadedModel.forward``.
    """
    shortest = min((int(n) for n in lengths), default=min_samples)
    if shortest < min_samples:
        raise AsvbenchError(
            f"{name} needs at least {min_samples} samples ({min_samples / sample_rate:.3f} s at {sample_rate} Hz) "
            f"per utterance, got {shortest} samples ({shortest / sample_rate:.3f} s)",
            hint="skip utterances shorter than the model's min_samples (asvbench extract does so and lists "
                 "them in OUT.failures.tsv)")
