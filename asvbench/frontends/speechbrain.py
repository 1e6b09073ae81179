"""SpeechBrain ``Fbank(n_mels=80)`` + ``InputNormalization(norm_type="sentence", std_norm=False)``.

Definition followed: ``speechbrain/lobes/features.py:Fbank`` with its defaults and
``speechbrain/processing/features.py`` (``STFT``, ``spectral_magnitude``, ``Filterbank``,
``InputNormalization``), as called by ``EncoderClassifier.encode_batch`` for
``speechbrain/spkrec-ecapa-voxceleb`` (notes: ``shared/docs/models.md`` §6.2):

1. waveform float in [-1, 1], 16 kHz;
2. ``torch.stft(n_fft=400, hop=160, win=400, window=torch.hamming_window(400)`` (periodic),
   ``center=True, pad_mode="constant")`` -> power spectrum ``|X|^2`` (201 bins, ``1 + N // 160`` frames);
3. SpeechBrain's own triangular mel bank: 82 points equally spaced on the mel scale
   ``2595 log10(1 + f/700)`` from 0 to 8000 Hz (computed in float32 as the reference does);
   filter ``i`` is centred on point ``i+1`` with half-width = distance to point ``i``;
4. ``10 log10(max(x, 1e-10))``, then values below (utterance max - 80 dB) are raised to it;
5. subtract the per-utterance mean over time (no variance normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class SpeechBrainFbankConfig:
    """Settings of SpeechBrain's ``Fbank`` (defaults of ``Fbank(n_mels=80)``)."""

    sample_rate: int = 16000
    n_fft: int = 400
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float = 8000.0
    amin: float = 1e-10
    top_db: float = 80.0
    mean_norm: bool = True

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1


SPEECHBRAIN_FBANK80 = SpeechBrainFbankConfig()


def num_frames(num_samples: int, config: SpeechBrainFbankConfig = SPEECHBRAIN_FBANK80) -> int:
    """Centred STFT frame count ``1 + N // hop`` (0 for an empty waveform)."""
    return 0 if num_samples <= 0 else 1 + num_samples // config.hop_length


def mel_matrix(config: SpeechBrainFbankConfig = SPEECHBRAIN_FBANK80) -> "torch.Tensor":
    """``(n_freqs, n_mels)`` triangular filter matrix, float32 arithmetic as in ``Filterbank.__init__``."""
    import torch

    def to_mel(hz: float) -> float:
        return 2595 * math.log10(1 + hz / 700)

    mel = torch.linspace(to_mel(config.f_min), to_mel(config.f_max), config.n_mels + 2)
    hz = 700 * (10 ** (mel / 2595) - 1)
    band = (hz[1:] - hz[:-1])[:-1]  # half-width of filter i = hz[i+1] - hz[i]
    centre = hz[1:-1]
    freqs = torch.linspace(0, config.sample_rate // 2, config.n_freqs)
    slope = (freqs.unsqueeze(0) - centre.unsqueeze(1)) / band.unsqueeze(1)  # (n_mels, n_freqs)
    tri = torch.clamp(torch.minimum(slope + 1.0, -slope + 1.0), min=0.0)
    return tri.t().contiguous()


def speechbrain_fbank(
    wav: "torch.Tensor",
    config: SpeechBrainFbankConfig = SPEECHBRAIN_FBANK80,
    *,
    window: "torch.Tensor | None" = None,
    mel: "torch.Tensor | None" = None,
) -> "torch.Tensor":
    """Features ``(F, n_mels)`` of one waveform ``(N,)`` (float32), mean-normalised if configured."""
    import torch

    if wav.dim() != 1:
        raise ValueError(f"speechbrain_fbank takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < 1:
        raise ValueError("speechbrain_fbank needs at least one sample")
    x = wav.float().unsqueeze(0)
    if window is None:
        window = torch.hamming_window(config.win_length)
    if mel is None:
        mel = mel_matrix(config)
    stft = torch.stft(
        x, config.n_fft, config.hop_length, config.win_length, window.to(x.device, torch.float32),
        center=True, pad_mode="constant", normalized=False, onesided=True, return_complex=True,
    )  # (1, n_freqs, F)
    power = torch.view_as_real(stft).pow(2).sum(-1).transpose(1, 2)  # (1, F, n_freqs)
    fb = torch.matmul(power, mel.to(x.device, torch.float32))  # (1, F, n_mels)
    db = 10 * torch.log10(torch.clamp(fb, min=config.amin))  # ref_value 1 -> no offset
    floor = db.amax(dim=(-2, -1)) - config.top_db
    db = torch.max(db, floor.view(-1, 1, 1))[0]
    if config.mean_norm:
        db = db - db.mean(dim=0, keepdim=True)
    return db


class SpeechBrainFbank:
    """Batched, lengths-aware SpeechBrain front-end (the :class:`~asvbench.frontends.base.Frontend` contract).

    Each row is computed on its own valid samples (per-utterance STFT padding, top-dB floor and
    mean), then rows are zero-padded: padding never changes the valid frames.
    """

    def __init__(self, config: SpeechBrainFbankConfig = SPEECHBRAIN_FBANK80, name: str = "speechbrain-fbank-80"):
        import torch

        self.config = config
        self.name = name
        self._window = torch.hamming_window(config.win_length)
        self._mel = mel_matrix(config)

    def __repr__(self) -> str:
        return f"SpeechBrainFbank(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, n_mels)`` of one waveform ``(N,)``."""
        return speechbrain_fbank(wav, self.config, window=self._window, mel=self._mel)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def speechbrain_fbank80() -> SpeechBrainFbank:
    """Registry factory: ``speechbrain-fbank-80``."""
    return SpeechBrainFbank()
