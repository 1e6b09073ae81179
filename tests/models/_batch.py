"""Zero-padded waveform batches, as the extraction engine hands them to a model."""

from __future__ import annotations

import torch


def padded_batch(wavs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, max N)`` float32 batch of ``wavs`` zero-padded at the end, and their ``(B,)`` lengths."""
    lengths = torch.tensor([len(w) for w in wavs])
    batch = torch.zeros(len(wavs), int(lengths.max()))
    for i, w in enumerate(wavs):
        batch[i, : len(w)] = w
    return batch, lengths
