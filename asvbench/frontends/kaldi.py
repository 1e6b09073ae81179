"""Kaldi-compatible log mel filterbank (``torchaudio.compliance.kaldi.fbank``) + per-utterance CMN.

Two published configurations are registered (see :mod:`asvbench.frontends`):

* 3D-Speaker (``speakerlab/process/processor.py:FBank(80, 16000, mean_nor=True)``): waveform in
  [-1, 1], ``kaldi.fbank(num_mel_bins=80, sample_frequency=16000, dither=0)`` with every other
  option at its torchaudio default (so the **povey** window), then subtract the per-utterance mean.
* WeSpeaker (``wespeaker/dataset/processor.py:compute_fbank`` + ``apply_cmvn``): waveform
  **x 32768**, ``window_type='hamming'``, 25 ms / 10 ms, dither 0, then per-utterance mean
  subtraction (``norm_var=False``).

Both keep torchaudio's defaults otherwise: pre-emphasis 0.97, DC removal, ``snip_edges=True``
(frames = 1 + (N - 400) // 160 at 16 kHz), FFT size rounded to a power of two, 20 Hz to Nyquist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major

if TYPE_CHECKING:  # pragma: no cover
    import torch

_WINDOWS = ("hamming", "hanning", "povey", "rectangular", "blackman")


@dataclass(frozen=True)
class KaldiFbankConfig:
    """Options of a Kaldi fbank front-end (names follow ``torchaudio.compliance.kaldi.fbank``)."""

    num_mel_bins: int = 80
    sample_rate: int = 16000
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    window_type: str = "hamming"
    dither: float = 0.0
    #: multiply the [-1, 1] waveform by this first (WeSpeaker: 32768 = 1 << 15, int16 scale)
    input_scale: float = 1.0
    #: subtract the per-utterance mean of each bin (CMN, no variance normalisation)
    mean_norm: bool = True

    def __post_init__(self) -> None:
        if self.window_type not in _WINDOWS:
            raise ValueError(f"window_type must be one of {_WINDOWS}, got {self.window_type!r}")
        if self.num_mel_bins <= 0 or self.sample_rate <= 0:
            raise ValueError("num_mel_bins and sample_rate must be positive")

    @property
    def window_samples(self) -> int:
        return int(self.sample_rate * self.frame_length_ms * 0.001)

    @property
    def shift_samples(self) -> int:
        return int(self.sample_rate * self.frame_shift_ms * 0.001)


#: 3D-Speaker CAM++ / ERes2Net front-end (povey window, no input scaling).
THREEDSPEAKER_FBANK80 = KaldiFbankConfig(window_type="povey", input_scale=1.0)
#: WeSpeaker front-end (hamming window, int16-scaled input).
WESPEAKER_FBANK80 = KaldiFbankConfig(window_type="hamming", input_scale=32768.0)


def num_frames(num_samples: int, config: KaldiFbankConfig) -> int:
    """Kaldi ``snip_edges=True`` frame count: ``1 + (N - window) // shift``, 0 when ``N < window``."""
    if num_samples < config.window_samples:
        return 0
    return 1 + (num_samples - config.window_samples) // config.shift_samples


def kaldi_fbank(wav: "torch.Tensor", config: KaldiFbankConfig) -> "torch.Tensor":
    """Features ``(F, num_mel_bins)`` of one mono waveform ``(N,)`` in [-1, 1] (float32)."""
    from asvbench.check_install import require_torchaudio

    kaldi = require_torchaudio("compliance.kaldi")

    if wav.dim() != 1:
        raise ValueError(f"kaldi_fbank takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < config.window_samples:
        raise ValueError(f"waveform of {wav.shape[0]} samples is shorter than one {config.window_samples}-sample frame")
    x = wav.float().unsqueeze(0)
    if config.input_scale != 1.0:
        x = x * config.input_scale
    feats = kaldi.fbank(
        x,
        num_mel_bins=config.num_mel_bins,
        frame_length=config.frame_length_ms,
        frame_shift=config.frame_shift_ms,
        dither=config.dither,
        window_type=config.window_type,
        sample_frequency=float(config.sample_rate),
    )
    if config.mean_norm:
        feats = feats - feats.mean(dim=0, keepdim=True)
    return feats


class KaldiFbank:
    """Batched, lengths-aware Kaldi fbank front-end.

    Each row is computed on its own valid samples ``wavs[i, :lengths[i]]`` (per-utterance
    features and per-utterance CMN), then rows are zero-padded to the longest: padding can
    never leak into the valid frames. ``__call__`` returns ``(B, F, D)`` and ``(B,)`` frames.
    """

    def __init__(self, config: KaldiFbankConfig, name: str = "kaldi-fbank"):
        self.config = config
        self.name = name

    def __repr__(self) -> str:
        return f"KaldiFbank(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, D)`` of one waveform ``(N,)``."""
        return kaldi_fbank(wav, self.config)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [kaldi_fbank(wavs[i, : int(n)], self.config) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def threedspeaker_fbank80() -> KaldiFbank:
    """Registry factory: ``kaldi-fbank-80`` (3D-Speaker)."""
    return KaldiFbank(THREEDSPEAKER_FBANK80, name="kaldi-fbank-80")


def wespeaker_fbank80() -> KaldiFbank:
    """Registry factory: ``kaldi-fbank-80-wespeaker`` (WeSpeaker)."""
    return KaldiFbank(WESPEAKER_FBANK80, name="kaldi-fbank-80-wespeaker")
