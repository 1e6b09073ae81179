"""The front-end contract: waveforms in, time-major features out, lengths-aware.

A front-end turns a float32 batch ``(B, T)`` of waveforms in [-1, 1] (rows zero-padded past
their valid ``lengths``) into ``(B, F, D)`` features (``F`` frames, ``D`` bins) and the valid
frame count of each row. Features of padded frames are zero. The valid frames of a row must
not depend on the padding, i.e. equal the features of the unpadded waveform.

torch is imported lazily: importing this module must not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import torch


@runtime_checkable
class Frontend(Protocol):
    """What the models and the extraction engine need from a front-end."""

    name: str

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """``(B, T)`` waveforms + ``(B,)`` sample counts -> ``(B, F, D)`` features + ``(B,)`` frame counts."""
        ...

    def num_frames(self, num_samples: int) -> int:
        """Frames produced for a waveform of ``num_samples`` samples (0 when too short)."""
        ...


def pad_time_major(rows: "list[torch.Tensor]") -> tuple["torch.Tensor", "torch.Tensor"]:
    """Stack ``(F_i, D)`` feature matrices into zero-padded ``(B, max F_i, D)`` + ``(B,)`` lengths."""
    import torch

    if not rows:
        raise ValueError("pad_time_major needs at least one row")
    lengths = torch.tensor([r.shape[0] for r in rows], dtype=torch.long)
    out = rows[0].new_zeros((len(rows), int(lengths.max()), rows[0].shape[1]))
    for i, r in enumerate(rows):
        out[i, : r.shape[0]] = r
    return out, lengths


def check_batch(wavs: "torch.Tensor", lengths: "torch.Tensor") -> None:
    """Validate a ``(B, T)`` batch and its ``(B,)`` lengths (programming errors: ValueError)."""
    if wavs.dim() != 2:
        raise ValueError(f"expected a (B, T) batch of waveforms, got shape {tuple(wavs.shape)}")
    if lengths.dim() != 1 or lengths.shape[0] != wavs.shape[0]:
        raise ValueError(f"expected ({wavs.shape[0]},) lengths, got shape {tuple(lengths.shape)}")
    if len(lengths) and (int(lengths.min()) < 0 or int(lengths.max()) > wavs.shape[1]):
        raise ValueError(f"lengths must lie in [0, {wavs.shape[1]}], got {lengths.tolist()}")
