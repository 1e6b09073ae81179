"""Raw-waveform front-end of the clovaai AASIST recipe: a fixed number of samples per utterance.

``data_utils.pad`` in clovaai/aasist: the first ``nb_samp`` samples (64,600 = 4.04 s at 16 kHz),
or, when the waveform is shorter, the whole waveform tiled ``int(nb_samp / N) + 1`` times and
cut to ``nb_samp``. Every row therefore has exactly ``nb_samp`` "frames" (samples) of one
value, whatever its length: a batch is exactly the one-at-a-time computation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch


def fixed_length_input(wav: "torch.Tensor", nb_samp: int = 64600) -> "torch.Tensor":
    """``data_utils.pad``: the first ``nb_samp`` samples of ``wav`` (N,), or the whole waveform
    repeated ``int(nb_samp / N) + 1`` times and cut to ``nb_samp`` when shorter."""
    if wav.dim() != 1:
        raise ValueError(f"expected one waveform (N,), got shape {tuple(wav.shape)}")
    n = wav.shape[0]
    if n == 0:
        raise ValueError("cannot repeat-pad an empty waveform")
    if n >= nb_samp:
        return wav[:nb_samp]
    return wav.repeat(int(nb_samp / n) + 1)[:nb_samp]


class FixedLengthWaveform:
    """Front-end contract (:class:`asvbench.frontends.base.Frontend`) over
    :func:`fixed_length_input`: ``(B, T)`` + lengths -> ``(B, nb_samp, 1)`` + ``nb_samp`` each."""

    def __init__(self, nb_samp: int = 64600, name: str = "raw-64600-repeat"):
        self.nb_samp = nb_samp
        self.name = name

    def __repr__(self) -> str:
        return f"FixedLengthWaveform(nb_samp={self.nb_samp})"

    def num_frames(self, num_samples: int) -> int:
        return self.nb_samp if num_samples > 0 else 0

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        from asvbench.frontends.base import check_batch

        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        check_batch(wavs, lengths)
        rows = [fixed_length_input(wavs[i, : int(n)], self.nb_samp) for i, n in enumerate(lengths.tolist())]
        feats = torch.stack(rows)[:, :, None] if rows else wavs.new_zeros((0, self.nb_samp, 1))
        return feats, torch.full((len(rows),), self.nb_samp, dtype=torch.long)


def aasist_raw_64600() -> FixedLengthWaveform:
    return FixedLengthWaveform(64600)
