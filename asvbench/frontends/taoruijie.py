"""TaoRuijie ECAPA-TDNN front-end: pre-emphasis, torchaudio mel spectrogram, log, mean norm.

Definition followed: ``TaoRuijie/ECAPA-TDNN`` ``model.py`` (``ECAPA_TDNN.torchfbank`` and the
first lines of ``ECAPA_TDNN.forward``; notes in ``shared/docs/models.md`` §3.1):

1. waveform float in [-1, 1] (no int16 scaling), 16 kHz;
2. pre-emphasis ``y[t] = x[t] - 0.97 x[t-1]`` with reflect padding on the left (``x[-1] := x[1]``),
   computed as a 2-tap convolution with the buffer ``flipped_filter = [[[-0.97, 1.0]]]``;
3. ``torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400,
   hop_length=160, f_min=20, f_max=7600, window_fn=torch.hamming_window, n_mels=80)`` (power 2,
   ``center=True`` with reflect padding, HTK mel scale, no filter normalisation):
   ``1 + N // 160`` frames;
4. ``log(mel + 1e-6)``, then subtract the per-utterance mean over time of each bin.

The reference keeps the three constants (``flipped_filter``, ``spectrogram.window``,
``mel_scale.fb``) as buffers in its state dict; :class:`TaoRuijieFbank` keeps them under the
same names, so a checkpoint's stored values are used verbatim. Features are always computed in
float32, whatever dtype the surrounding model was cast to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class TaoRuijieMelConfig:
    """Settings of the TaoRuijie mel front-end (reference values)."""

    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    f_min: float = 20.0
    f_max: float = 7600.0
    n_mels: int = 80
    preemphasis: float = 0.97
    log_floor: float = 1e-6

    @property
    def min_samples(self) -> int:
        """Shortest waveform: the centred STFT reflect-pads ``n_fft // 2`` samples, which needs
        more than that many, and the model's unbiased time variance needs at least 2 frames
        (``1 + N // hop >= 2``)."""
        return max(self.n_fft // 2 + 1, self.hop_length)


TAORUIJIE_MEL80 = TaoRuijieMelConfig()


def num_frames(num_samples: int, config: TaoRuijieMelConfig = TAORUIJIE_MEL80) -> int:
    """Centred STFT frame count ``1 + N // hop`` (0 when shorter than the front-end minimum)."""
    if num_samples < config.min_samples:
        return 0
    return 1 + num_samples // config.hop_length


def taoruijie_features(
    wav: "torch.Tensor",
    flipped_filter: "torch.Tensor",
    window: "torch.Tensor",
    mel_fb: "torch.Tensor",
    config: TaoRuijieMelConfig = TAORUIJIE_MEL80,
) -> "torch.Tensor":
    """Mean-normalised log-mel ``(F, n_mels)`` of one waveform ``(N,)`` with the given constants.

    ``flipped_filter`` (1, 1, 2), ``window`` (win_length,) and ``mel_fb`` (n_fft//2+1, n_mels)
    are the reference buffers; they are used in float32.
    """
    import torch
    import torch.nn.functional as F

    from asvbench.check_install import require_torchaudio

    AF = require_torchaudio("functional")
    if wav.dim() != 1:
        raise ValueError(f"taoruijie_features takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < config.min_samples:
        raise ValueError(f"waveform of {wav.shape[0]} samples is shorter than the {config.min_samples}-sample minimum")
    x = wav.float().reshape(1, 1, -1)
    x = F.conv1d(F.pad(x, (1, 0), mode="reflect"), flipped_filter.float()).reshape(1, -1)
    spec = AF.spectrogram(
        x, pad=0, window=window.float(), n_fft=config.n_fft, hop_length=config.hop_length,
        win_length=config.win_length, power=2.0, normalized=False, center=True, pad_mode="reflect",
        onesided=True,
    )  # (1, n_fft//2+1, F)
    mel = torch.matmul(spec.transpose(-1, -2), mel_fb.float()).transpose(-1, -2)  # (1, n_mels, F)
    logmel = (mel + config.log_floor).log()
    logmel = logmel - logmel.mean(dim=-1, keepdim=True)
    return logmel[0].t().contiguous()  # (F, n_mels)


def _build_fbank_module(config: TaoRuijieMelConfig) -> "torch.nn.Module":
    import torch
    import torchaudio

    class PreEmphasis(torch.nn.Module):
        """Holds the reference's ``flipped_filter`` buffer ``[[[-coef, 1.0]]]``."""

        def __init__(self, coef: float):
            super().__init__()
            self.register_buffer("flipped_filter", torch.tensor([[[-coef, 1.0]]], dtype=torch.float32))

    class TaoRuijieFbank(torch.nn.Sequential):
        """``torchfbank`` of the reference: ``0`` = pre-emphasis, ``1`` = torchaudio MelSpectrogram.

        ``forward(wav (N,))`` returns ``(F, n_mels)`` mean-normalised log-mel (float32).
        """

        def __init__(self) -> None:
            super().__init__(
                PreEmphasis(config.preemphasis),
                torchaudio.transforms.MelSpectrogram(
                    sample_rate=config.sample_rate, n_fft=config.n_fft, win_length=config.win_length,
                    hop_length=config.hop_length, f_min=config.f_min, f_max=config.f_max,
                    window_fn=torch.hamming_window, n_mels=config.n_mels,
                ),
            )
            self.config = config

        def forward(self, wav: "torch.Tensor") -> "torch.Tensor":  # type: ignore[override]
            return taoruijie_features(
                wav, self[0].flipped_filter, self[1].spectrogram.window, self[1].mel_scale.fb, self.config
            )

    return TaoRuijieFbank()


def build_fbank_module(config: TaoRuijieMelConfig = TAORUIJIE_MEL80) -> "torch.nn.Module":
    """The reference ``torchfbank`` module (buffers ``0.flipped_filter``, ``1.spectrogram.window``,
    ``1.mel_scale.fb`` at their constructed values)."""
    return _build_fbank_module(config)


class TaoRuijieMel:
    """Batched, lengths-aware TaoRuijie front-end (the :class:`~asvbench.frontends.base.Frontend` contract).

    Each row is computed on its own valid samples (per-utterance STFT padding and mean norm),
    then rows are zero-padded: padding never changes the valid frames. ``fbank`` is a
    ``torchfbank`` module whose buffers are used (a checkpoint's, or freshly constructed ones).
    """

    def __init__(self, fbank: "torch.nn.Module | None" = None, name: str = "taoruijie-mel-80"):
        import torch

        fbank = fbank if fbank is not None else build_fbank_module()
        self.config: TaoRuijieMelConfig = fbank.config
        self.name = name
        # float32 snapshots: a later ``model.to(dtype=bfloat16)`` must not round the constants
        self._buffers = tuple(
            b.detach().to(device="cpu", dtype=torch.float32).clone()
            for b in (fbank[0].flipped_filter, fbank[1].spectrogram.window, fbank[1].mel_scale.fb)
        )
        self._on_device: dict[str, tuple["torch.Tensor", ...]] = {}

    def __repr__(self) -> str:
        return f"TaoRuijieMel(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, n_mels)`` of one waveform ``(N,)``."""
        key = str(wav.device)
        if key not in self._on_device:
            self._on_device[key] = tuple(b.to(wav.device) for b in self._buffers)
        return taoruijie_features(wav, *self._on_device[key], self.config)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def taoruijie_mel80() -> TaoRuijieMel:
    """Registry factory: ``taoruijie-mel-80``."""
    return TaoRuijieMel()
