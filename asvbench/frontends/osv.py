"""81-dim Kaldi fbank (80 mel bins + log energy) with per-utterance CMN: the open-speaker-verification input.

1017549629/open-speaker-verification (ResNet34-AM-VoxCeleb2) has **no feature extraction code**:
training and extraction read precomputed Kaldi matrices, and the README says only "81 FBANK
(including energy)", "extracted from Kaldi, cepstral mean normalized (CMN) and no VAD". The Kaldi
options were never published. This front-end is the documented stand-in of the parity fixture
(``shared/parity/osv_resnet34_am/README.md``), i.e. Kaldi ``compute-fbank-feats`` defaults with
``--num-mel-bins=80 --use-energy=true`` and ``--dither=0``:

1. waveform in [-1, 1] **x 32768** (Kaldi reads 16-bit PCM as integer-valued floats);
2. ``torchaudio.compliance.kaldi.fbank``: 25 ms / 10 ms frames, ``snip_edges`` (``1 + (N - 400) //
   160`` frames), povey window, pre-emphasis 0.97, DC removal, raw log energy with no floor, FFT
   size rounded to 512, 20 Hz to Nyquist; the log energy is **column 0** (Kaldi order), the 80 log
   mel energies columns 1..80;
3. CMN over the utterance, all 81 columns: ``feat + float32(-mean)`` with the mean in float64 (Kaldi
   ``apply-cmvn --norm-vars=false`` with utterance statistics).

The network gets the whole utterance, as ``tools/python/extract_vector.py`` feeds it (and as the
fixture does). ``tools/extract_embedding.py`` differs at the extremes, not reproduced here: it
edge-pads utterances under 100 frames (1.0 s) to 100 by repeating the first and last frame, and
cuts those over 60,000 frames (10 min) into slices whose embeddings it averages by length.

Not reproduced because unknown: the real Kaldi options (``--snip-edges=false`` would give two
more frames, other frequency limits), Kaldi's lossy compressed feature storage, and whether CMN
was per utterance, per speaker or sliding (for utterances up to 3 s, sliding CMN with a 300-frame
window equals per-utterance CMN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major
from asvbench.frontends.kaldi import KaldiFbankConfig, num_frames

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: frame settings (the energy column is added by :func:`osv_fbank_energy`)
OSV_FBANK80 = KaldiFbankConfig(num_mel_bins=80, window_type="povey", input_scale=32768.0)


def osv_fbank_energy(wav: "torch.Tensor", config: KaldiFbankConfig = OSV_FBANK80) -> "torch.Tensor":
    """Features ``(F, 1 + num_mel_bins)`` (log energy first) of one waveform ``(N,)`` in [-1, 1], after CMN."""
    import torch

    from asvbench.check_install import require_torchaudio

    kaldi = require_torchaudio("compliance.kaldi")
    if wav.dim() != 1:
        raise ValueError(f"osv_fbank_energy takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < config.window_samples:
        raise ValueError(f"waveform of {wav.shape[0]} samples is shorter than one {config.window_samples}-sample frame")
    feats = kaldi.fbank(
        wav.float().unsqueeze(0) * config.input_scale,
        num_mel_bins=config.num_mel_bins, frame_length=config.frame_length_ms, frame_shift=config.frame_shift_ms,
        dither=config.dither, window_type=config.window_type, sample_frequency=float(config.sample_rate),
        use_energy=True, energy_floor=0.0, raw_energy=True, htk_compat=False,
    )
    return feats + (-feats.to(torch.float64).mean(dim=0)).to(feats.dtype)


class OsvFbank:
    """Batched, lengths-aware front-end (the :class:`~asvbench.frontends.base.Frontend` contract):
    each row computed on its own valid samples (per-utterance CMN), then zero-padded."""

    def __init__(self, config: KaldiFbankConfig = OSV_FBANK80, name: str = "kaldi-fbank-81-energy"):
        self.config = config
        self.name = name

    def __repr__(self) -> str:
        return f"OsvFbank(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, 81)`` of one waveform ``(N,)``."""
        return osv_fbank_energy(wav, self.config)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def osv_fbank81() -> OsvFbank:
    """Registry factory: ``kaldi-fbank-81-energy`` (open-speaker-verification stand-in)."""
    return OsvFbank()
