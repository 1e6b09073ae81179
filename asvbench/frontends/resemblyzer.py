"""Resemblyzer (GE2E ``VoiceEncoder``) front-end: 40-band mel power spectrogram, and the
waveform preprocessing of ``preprocess_wav``.

Definition followed: ``resemble-ai/Resemblyzer`` @ ``15d828ed`` ``resemblyzer/audio.py`` and
``hparams.py`` (notes: ``shared/parity/resemblyzer_ge2e/README.md``).

``wav_to_mel_spectrogram`` = ``librosa.feature.melspectrogram(y, sr=16000, n_fft=400,
hop_length=160, n_mels=40)``, computed here with torch:

1. waveform float in [-1, 1], 16 kHz;
2. STFT: 400-point periodic Hann window, hop 160, ``center=True`` with **zero** padding (librosa
   >= 0.10 ``pad_mode='constant'``; older librosa reflected, which changes frames 0-1):
   ``1 + N // 160`` frames;
3. power ``|X|^2`` (201 bins) times the Slaney mel filterbank (40 bands, 0-8000 Hz, Slaney
   area normalisation: librosa's default, torchaudio ``norm='slaney', mel_scale='slaney'``);
   **no log**.

``preprocess_wav`` (before the partial windows, see :mod:`asvbench.models.ge2e`):

* resampling to 16 kHz: done by the extraction engine (``io.audio.load_for_model``);
* :func:`normalize_volume`: gain to -30 dBFS (RMS re 32767), only ever up (``increase_only``);
* ``trim_long_silences``: webrtcvad (mode 3) on 30 ms windows, moving average over 8 windows,
  rounded, dilated by 6 + 1 windows; samples of unvoiced windows are cut out. webrtcvad is not
  a dependency here: :func:`trim_long_silences` runs the same smoothing and dilation on an
  **energy** decision per window (:func:`energy_voice_flags`), a stand-in, not the WebRTC GMM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from asvbench.frontends.base import check_batch, pad_time_major

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Resemblyzer's ``int16_max`` (2**15 - 1): the PCM full scale of its dBFS and VAD
INT16_MAX = 32767
SilenceTrim = Literal["none", "energy"]
SILENCE_TRIMS: tuple[str, ...] = ("none", "energy")


@dataclass(frozen=True)
class ResemblyzerMelConfig:
    """Settings of ``wav_to_mel_spectrogram`` (``hparams.py``: 25 ms / 10 ms, 40 channels)."""

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 40
    f_min: float = 0.0
    f_max: float = 8000.0

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1


@dataclass(frozen=True)
class ResemblyzerPreprocessing:
    """``preprocess_wav`` after resampling (``hparams.py`` values).

    ``trim_silence``: "energy" runs :func:`trim_long_silences` with the energy stand-in for
    webrtcvad; "none" keeps every sample. ``energy_threshold_db``: a 30 ms window is voiced when
    its energy is at most this many dB below the loudest window of the utterance (after the
    volume normalisation), see :func:`energy_voice_flags`.
    """

    normalize_volume: bool = True
    target_dbfs: float = -30.0
    trim_silence: SilenceTrim = "energy"
    vad_window_ms: int = 30
    vad_moving_average_width: int = 8
    vad_max_silence_length: int = 6
    energy_threshold_db: float = 40.0

    def __post_init__(self) -> None:
        if self.trim_silence not in SILENCE_TRIMS:
            raise ValueError(f"trim_silence must be one of {SILENCE_TRIMS}, got {self.trim_silence!r}")


RESEMBLYZER_MEL40 = ResemblyzerMelConfig()
RESEMBLYZER_PREPROCESSING = ResemblyzerPreprocessing()


def num_frames(num_samples: int, config: ResemblyzerMelConfig = RESEMBLYZER_MEL40) -> int:
    """Centred STFT frame count ``1 + N // hop`` (0 for an empty waveform)."""
    return 0 if num_samples <= 0 else 1 + num_samples // config.hop_length


def mel_filterbank(config: ResemblyzerMelConfig = RESEMBLYZER_MEL40) -> "torch.Tensor":
    """``(n_freqs, n_mels)`` Slaney-scale, Slaney-normalised filters (librosa ``filters.mel`` defaults)."""
    from asvbench.check_install import require_torchaudio

    AF = require_torchaudio("functional")
    return AF.melscale_fbanks(config.n_freqs, config.f_min, config.f_max, config.n_mels, config.sample_rate,
                              norm="slaney", mel_scale="slaney")


def resemblyzer_mel(wav: "torch.Tensor", config: ResemblyzerMelConfig = RESEMBLYZER_MEL40, *,
                    window: "torch.Tensor | None" = None, mel: "torch.Tensor | None" = None) -> "torch.Tensor":
    """Mel power spectrogram ``(F, n_mels)`` of one waveform ``(N,)`` (float32)."""
    import torch

    if wav.dim() != 1:
        raise ValueError(f"resemblyzer_mel takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < 1:
        raise ValueError("resemblyzer_mel needs at least one sample")
    x = wav.float()
    window = torch.hann_window(config.n_fft) if window is None else window
    mel = mel_filterbank(config) if mel is None else mel
    spec = torch.stft(x, config.n_fft, config.hop_length, config.n_fft, window.to(x.device, torch.float32),
                      center=True, pad_mode="constant", onesided=True, return_complex=True)  # (n_freqs, F)
    power = torch.view_as_real(spec).pow(2).sum(-1)
    return torch.matmul(power.t(), mel.to(x.device, torch.float32))


def normalize_volume(wav: np.ndarray, target_dbfs: float = -30.0, *, increase_only: bool = True) -> np.ndarray:
    """``wav`` scaled so that its RMS is ``target_dbfs`` re full scale 32767 (``audio.normalize_volume``).

    With ``increase_only`` a louder waveform is returned unchanged. An all-zero waveform has no
    level and is returned unchanged (the reference would multiply it by infinity).
    """
    x = np.asarray(wav, dtype=np.float32)
    rms = float(np.sqrt(np.mean((x.astype(np.float64) * INT16_MAX) ** 2))) if x.size else 0.0
    if rms == 0.0:
        return x
    change_db = target_dbfs - 20.0 * np.log10(rms / INT16_MAX)
    if change_db < 0 and increase_only:
        return x
    return (x * np.float32(10.0 ** (change_db / 20.0))).astype(np.float32)


def energy_voice_flags(wav: np.ndarray, window: int, threshold_db: float) -> np.ndarray:
    """Voice decision per ``window``-sample window: its energy (of the int16-rounded samples, as the
    VAD sees them) is within ``threshold_db`` of the loudest window's. ``len(wav)`` must be a
    multiple of ``window``."""
    pcm = np.round(np.asarray(wav, dtype=np.float64) * INT16_MAX).clip(-32768, 32767)
    energy = (pcm.reshape(-1, window) ** 2).sum(axis=1)
    if energy.size == 0 or energy.max() <= 0:
        return np.zeros(energy.shape, dtype=bool)
    level_db = 10.0 * np.log10(np.maximum(energy, 1e-12) / energy.max())
    return level_db >= -threshold_db


def _moving_average(flags: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` windows with zeros outside (``trim_long_silences``)."""
    padded = np.concatenate((np.zeros((width - 1) // 2), flags.astype(np.float64), np.zeros(width // 2)))
    csum = np.cumsum(padded)
    csum[width:] = csum[width:] - csum[:-width]
    return csum[width - 1:] / width


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by ``radius`` windows each side (scipy ``binary_dilation`` with a structuring
    element of ``2 * radius + 1`` ones): ``out[i]`` is set when ``mask[j]`` is for some ``|i - j| <= radius``."""
    padded = np.concatenate((np.zeros(radius, bool), mask, np.zeros(radius, bool)))
    out = np.zeros(mask.shape, dtype=bool)
    for shift in range(2 * radius + 1):
        out |= padded[shift : shift + mask.shape[0]]
    return out


def voiced_window_mask(flags: np.ndarray, prep: ResemblyzerPreprocessing = RESEMBLYZER_PREPROCESSING) -> np.ndarray:
    """Per-window keep mask from raw voice flags: moving average, rounding, dilation (as the reference)."""
    smooth = _moving_average(flags, prep.vad_moving_average_width)
    # np.round: half to even, so exactly half the windows voiced (0.5) counts as unvoiced;
    # the reference's structuring element np.ones(6 + 1) reaches 3 windows each side
    return _dilate(np.round(smooth).astype(bool), (prep.vad_max_silence_length + 1) // 2)


def trim_long_silences(wav: np.ndarray, sample_rate: int = 16000,
                       prep: ResemblyzerPreprocessing = RESEMBLYZER_PREPROCESSING) -> np.ndarray:
    """``audio.trim_long_silences`` with the energy stand-in for webrtcvad: the tail beyond a whole
    number of 30 ms windows is dropped, then the samples of every window the smoothed, dilated
    voice mask rejects."""
    window = prep.vad_window_ms * sample_rate // 1000
    x = np.asarray(wav, dtype=np.float32)
    x = x[: len(x) - len(x) % window]
    keep = voiced_window_mask(energy_voice_flags(x, window, prep.energy_threshold_db), prep)
    return x[np.repeat(keep, window)]


def preprocess_wav(wav: np.ndarray, sample_rate: int = 16000,
                   prep: ResemblyzerPreprocessing = RESEMBLYZER_PREPROCESSING) -> np.ndarray:
    """``preprocess_wav`` on a waveform already at ``sample_rate``: volume normalisation, then
    silence trimming (as configured)."""
    x = np.asarray(wav, dtype=np.float32)
    if prep.normalize_volume:
        x = normalize_volume(x, prep.target_dbfs, increase_only=True)
    if prep.trim_silence == "energy":
        x = trim_long_silences(x, sample_rate, prep)
    return x


class ResemblyzerMel:
    """Batched, lengths-aware ``wav_to_mel_spectrogram`` (the :class:`~asvbench.frontends.base.Frontend`
    contract): each row on its own valid samples, then zero-padded."""

    def __init__(self, config: ResemblyzerMelConfig = RESEMBLYZER_MEL40, name: str = "resemblyzer-mel-40"):
        import torch

        self.config = config
        self.name = name
        self._window = torch.hann_window(config.n_fft)
        self._mel = mel_filterbank(config)

    def __repr__(self) -> str:
        return f"ResemblyzerMel(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, n_mels)`` of one waveform ``(N,)``."""
        return resemblyzer_mel(wav, self.config, window=self._window, mel=self._mel)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def resemblyzer_mel40() -> ResemblyzerMel:
    """Registry factory: ``resemblyzer-mel-40``."""
    return ResemblyzerMel()
