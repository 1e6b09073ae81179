"""The front-ends of the SASV2022 DoubleRoc Res2Net models (``WebPrague/SASV2022_DoubleRoc`` ``ASV/models``).

Both are computed inside the reference models from three constant buffers (pre-emphasis kernel,
STFT window, mel filterbank) kept in the state dict, and both read the waveform as
``soundfile`` gives it, in [-1, 1] (**no x 32768**; ``shared/docs/models.md`` §4.3, §4.4):

* ``clovaai-mel-80`` (``Res2Net50V2.py``, buffers ``torchfb.*``): the voxceleb_trainer front-end
  of :mod:`asvbench.frontends.clovaai` with 80 mels: pre-emphasis 0.97, torchaudio
  ``MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, hamming, n_mels=80)``
  (0 to 8000 Hz), ``log(x + 1e-6)``, ``InstanceNorm1d(80)``;
* ``taoruijie-mel-64`` (``Res2NeXt50.py``, buffers ``torchfbank.*``): the TaoRuijie front-end of
  :mod:`asvbench.frontends.taoruijie` with 64 mels: the same pre-emphasis and STFT,
  ``f_min=20, f_max=7600``, ``log(x + 1e-6)``, minus the per-utterance mean of each bin.

The loaders build these from a loaded model's buffers (``with_constants`` / ``TaoRuijieMel(fbank)``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from asvbench.frontends.clovaai import CLOVAAI_MEL64, ClovaaiMel
from asvbench.frontends.taoruijie import TAORUIJIE_MEL80, TaoRuijieMel, build_fbank_module

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: ``Res2Net50V2.torchfb``: 80 mels, 0 to 8000 Hz
CLOVAAI_MEL80 = replace(CLOVAAI_MEL64, n_mels=80)
#: ``Res2NeXt50.torchfbank``: 64 mels, 20 to 7600 Hz
TAORUIJIE_MEL64 = replace(TAORUIJIE_MEL80, n_mels=64)


class ClovaaiMel80(ClovaaiMel):
    """:class:`~asvbench.frontends.clovaai.ClovaaiMel` with 80 mels, input in [-1, 1]."""

    def __init__(self, fbank: "torch.nn.Module | None" = None, *, name: str = "clovaai-mel-80"):
        super().__init__(fbank if fbank is not None else build_fbank_module(CLOVAAI_MEL80), input_scale=1.0, name=name)
        self.config = CLOVAAI_MEL80

    def with_constants(self, fbank: "torch.nn.Module") -> "ClovaaiMel80":
        return ClovaaiMel80(fbank, name=self.name)


def clovaai_mel80(fbank: "torch.nn.Module | None" = None) -> ClovaaiMel80:
    """Registry factory: ``clovaai-mel-80`` (DoubleRoc SE-Res2Net-50, ``Res2Net50V2``); ``fbank``: a
    loaded model's ``torchfb`` whose buffers are used."""
    return ClovaaiMel80(fbank)


def taoruijie_mel64(fbank: "torch.nn.Module | None" = None) -> TaoRuijieMel:
    """Registry factory: ``taoruijie-mel-64`` (DoubleRoc Res2NeXt-50); ``fbank``: a loaded model's
    ``torchfbank`` whose buffers are used."""
    return TaoRuijieMel(fbank if fbank is not None else build_fbank_module(TAORUIJIE_MEL64), name="taoruijie-mel-64")


def with_constants(name: str, fbank: "torch.nn.Module") -> "ClovaaiMel80 | TaoRuijieMel":
    """The front-end registered as ``name`` (one of this module's) using ``fbank``'s buffers."""
    factories = {"clovaai-mel-80": clovaai_mel80, "taoruijie-mel-64": taoruijie_mel64}
    if name not in factories:
        raise ValueError(f"{name!r} is not a DoubleRoc front-end ({', '.join(factories)})")
    return factories[name](fbank)
