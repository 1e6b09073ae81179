"""clovaai voxceleb_trainer front-end (``ResNetSE34V2``): pre-emphasis, torchaudio mel, log, instance norm.

Definition followed: ``clovaai/voxceleb_trainer`` ``models/ResNetSE34V2.py`` (``torchfb``,
``instancenorm`` and the first lines of ``forward``) and ``utils.py:PreEmphasis``; notes in
``shared/docs/models.md`` §4.2:

1. the waveform, **x 32768** for ``baseline_v2_ap.model`` (trained and evaluated when the recipe
   read 16-bit PCM as integer-valued floats with ``scipy.io.wavfile``; the SASV2022 DoubleRoc copy
   multiplies by 32768 inside its ``forward``), or as read in [-1, 1] for checkpoints evaluated
   after the recipe switched to ``soundfile`` (2021-04, ``9ae2041``);
2. pre-emphasis 0.97 with left reflect padding, torchaudio ``MelSpectrogram(16000, n_fft=512,
   win_length=400, hop_length=160, hamming, n_mels=64)`` (0 to 8000 Hz, power 2, centred,
   ``1 + N // 160`` frames);
3. ``log(mel + 1e-6)``, then ``InstanceNorm1d(64)``: per bin, subtract the mean over time and
   divide by ``sqrt(biased variance + 1e-5)``.

The pre-emphasis and mel settings are TaoRuijie ECAPA's module (that recipe copied this one)
with other mel settings: the three buffers are built by
:func:`asvbench.frontends.taoruijie.build_fbank_module` with :data:`CLOVAAI_MEL64`, and run as
the reference runs them (its ``MelSpectrogram`` module, then ``F.instance_norm``), so the
features are the reference's bit for bit. The model's buffers (``torchfb.0.flipped_filter``,
``torchfb.1.spectrogram.window``, ``torchfb.1.mel_scale.fb``) are stored in its checkpoints;
:meth:`ClovaaiMel.with_constants` uses a checkpoint's values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major
from asvbench.frontends.taoruijie import TaoRuijieMelConfig, build_fbank_module, num_frames

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: ResNetSE34V2's ``torchfb`` settings (``n_mels=64`` as in the README's evaluation command).
CLOVAAI_MEL64 = TaoRuijieMelConfig(f_min=0.0, f_max=8000.0, n_mels=64)
INT16_SCALE = 32768.0


def clovaai_features(wav: "torch.Tensor", fbank: "torch.nn.Module", input_scale: float,
                     config: TaoRuijieMelConfig = CLOVAAI_MEL64) -> "torch.Tensor":
    """Instance-normalised log-mel ``(F, n_mels)`` of one waveform ``(N,)`` in [-1, 1], with the
    buffers of ``fbank`` (``0.flipped_filter``, ``1`` = torchaudio ``MelSpectrogram``)."""
    import torch.nn.functional as F

    if wav.dim() != 1:
        raise ValueError(f"clovaai_features takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < config.min_samples:
        raise ValueError(f"waveform of {wav.shape[0]} samples is shorter than the {config.min_samples}-sample minimum")
    x = (wav.float() * input_scale).reshape(1, 1, -1)
    x = F.conv1d(F.pad(x, (1, 0), mode="reflect"), fbank[0].flipped_filter)  # pre-emphasis
    logmel = (fbank[1](x.reshape(1, -1)) + config.log_floor).log()  # (1, n_mels, F)
    return F.instance_norm(logmel)[0].t().contiguous()  # InstanceNorm1d: eps 1e-5, no affine


class ClovaaiMel:
    """Batched, lengths-aware voxceleb_trainer front-end (the :class:`~asvbench.frontends.base.Frontend`
    contract): each row is computed on its own valid samples, then rows are zero-padded.

    Holds a float32 copy of ``fbank`` (a later ``model.to(dtype=bfloat16)`` must not round the
    constants), copied to each device it is used on.
    """

    def __init__(self, fbank: "torch.nn.Module | None" = None, *, input_scale: float, name: str):
        import copy

        import torch

        fbank = fbank if fbank is not None else build_fbank_module(CLOVAAI_MEL64)
        self._fbank = copy.deepcopy(fbank).to(device="cpu", dtype=torch.float32).eval()
        #: the settings ``fbank`` was built with (``build_fbank_module`` records them)
        self.config: TaoRuijieMelConfig = getattr(fbank, "config", CLOVAAI_MEL64)
        self.input_scale = input_scale
        self.name = name
        self._on_device: dict[str, torch.nn.Module] = {"cpu": self._fbank}

    def __repr__(self) -> str:
        return f"ClovaaiMel(name={self.name!r}, input_scale={self.input_scale}, config={self.config!r})"

    def with_constants(self, fbank: "torch.nn.Module") -> "ClovaaiMel":
        """The same front-end using ``fbank``'s buffers (a loaded model's ``torchfb``)."""
        return ClovaaiMel(fbank, input_scale=self.input_scale, name=self.name)

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, n_mels)`` of one waveform ``(N,)``."""
        import copy

        key = str(wav.device)
        if key not in self._on_device:
            self._on_device[key] = copy.deepcopy(self._fbank).to(wav.device)
        return clovaai_features(wav, self._on_device[key], self.input_scale, self.config)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def clovaai_mel64_int16() -> ClovaaiMel:
    """Registry factory: ``clovaai-mel-64-x32768`` (``baseline_v2_ap.model``, DoubleRoc ResNet34V2)."""
    return ClovaaiMel(input_scale=INT16_SCALE, name="clovaai-mel-64-x32768")


def clovaai_mel64() -> ClovaaiMel:
    """Registry factory: ``clovaai-mel-64`` (input as read, in [-1, 1])."""
    return ClovaaiMel(input_scale=1.0, name="clovaai-mel-64")
