"""clovaai voxceleb_trainer ``ResNetSE34V2`` (= SASV2022 DoubleRoc "SE-ResNet-34", ``ResNet34V2``).

Chung et al., "In defence of metric learning for speaker recognition" (Interspeech 2020,
arXiv:2003.11982) and Heo et al., "Clova baseline system for the VoxCeleb Speaker Recognition
Challenge 2020" (arXiv:2009.14153): a half-width ResNet-34 with squeeze-excitation, attentive
statistics pooling and a 512-d embedding. Laid out as ``clovaai/voxceleb_trainer``
``models/ResNetSE34V2.py`` + ``models/ResNetBlocks.py`` (``MainModel(nOut=512,
encoder_type="ASP", n_mels=64, log_input=True)``), so the released checkpoints' ``__S__.*`` keys
load unchanged (``shared/docs/models.md`` §4.2):

* ``torchfb``: the front-end's three constant buffers (pre-emphasis kernel, STFT window, mel
  filterbank); the features themselves are computed by :mod:`asvbench.frontends.clovaai` with
  these buffers (``LoadedModel`` wires them), so ``forward`` takes the instance-normalised
  log-mel ``(B, T, 64)``;
* ``conv1`` 3x3 (1 -> 32, **with bias**) -> ReLU -> ``bn1`` (ReLU **before** BatchNorm);
* ``layer1..4``: 3 / 4 / 6 / 3 ``SEBasicBlock`` of widths 32 / 64 / 128 / 256, stride 2 in
  frequency and time at the first block of stages 2..4: 3x3 (stride) -> ReLU -> BN -> 3x3 -> BN ->
  SE (mean over frequency and time, ``Linear(C, C/8)``, ReLU, ``Linear(C/8, C)``, sigmoid) ->
  + shortcut (identity, or 1x1 strided conv + BN) -> ReLU;
* ``(B, 256, 8, T/8)`` -> ``(B, 2048, T')`` -> ``attention`` (Conv1d 2048 -> 128, ReLU, BN,
  Conv1d 128 -> 2048, softmax over time) -> ASP ``mu ++ sqrt(max(sum w x^2 - mu^2, 1e-5))`` ->
  ``fc`` Linear(4096 -> 512). No normalisation of the output.

Padded batches: a frame mask follows the time axis through every stride; every 3x3 convolution
sees zeros past a row's valid frames, and the SE means and the attention softmax use only valid
frames, so a padded row gives its one-at-a-time embedding up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.frontends import taoruijie
from asvbench.frontends.clovaai import CLOVAAI_MEL64
from asvbench.models import _presets
from asvbench.models.layers import ASP, SqueezeExcitation, frame_mask, zero_padded_frames
from asvbench.models.resnet2d import Mask, strided_mask

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "clovaai ResNetSE"


@dataclass(frozen=True)
class ResNetSEConfig:
    """Hyper-parameters of ``ResNetSE`` (defaults: ``ResNetSE34V2.MainModel(nOut=512, n_mels=64)``)."""

    num_blocks: tuple[int, ...] = (3, 4, 6, 3)
    channels: tuple[int, ...] = (32, 64, 128, 256)
    n_mels: int = 64
    embed_dim: int = 512
    se_reduction: int = 8
    attention_dim: int = 128
    #: ASP: sigma = sqrt(clamp(sum w x^2 - mu^2, min=asp_eps))
    asp_eps: float = 1e-5

    def __post_init__(self) -> None:
        if len(self.num_blocks) != len(self.channels) or min(self.num_blocks) < 1:
            raise ValueError(f"num_blocks {self.num_blocks} and channels {self.channels} must pair up")
        if self.n_mels % 2 ** (len(self.channels) - 1):
            raise ValueError(f"n_mels must be divisible by {2 ** (len(self.channels) - 1)}, got {self.n_mels}")

    @property
    def pooled_channels(self) -> int:
        """Channels x frequency rows entering the attention: 256 x 64 / 8 = 2,048."""
        return self.channels[-1] * self.n_mels // 2 ** (len(self.channels) - 1)


PRESETS: dict[str, ResNetSEConfig] = {"resnetse34v2": ResNetSEConfig()}

#: The front-end's instance norm needs 2 frames (the reference's ``InstanceNorm1d`` refuses 1)
MIN_FRAMES = 2


class SEBasicBlock(nn.Module):
    """``ResNetBlocks.SEBasicBlock``: keys ``conv1``, ``bn1``, ``conv2``, ``bn2``, ``se.fc.{0,2}``,
    ``downsample.{0,1}``."""

    def __init__(self, in_planes: int, planes: int, stride: int, reduction: int):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.se = SqueezeExcitation(planes, planes // reduction, dims=2, names=("fc.0", "fc.2"))
        self.downsample: nn.Module | None = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        out = self.bn1(F.relu(self.conv1(zero_padded_frames(x, mask))))
        mask = strided_mask(mask, self.stride)
        out = self.se(self.bn2(self.conv2(zero_padded_frames(out, mask))), mask)
        residual = x if self.downsample is None else self.downsample(x)  # 1x1: mixes no frames
        return F.relu_(out + residual), mask


class ResNetSE(nn.Module):
    """``ResNetSE34V2.ResNetSE``: features ``(B, T, n_mels)`` -> ``(B, embed_dim)``."""

    def __init__(self, config: ResNetSEConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.conv1 = nn.Conv2d(1, c[0], 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(c[0])
        in_planes = c[0]
        for i, (n_blocks, planes) in enumerate(zip(config.num_blocks, c)):
            stride = 1 if i == 0 else 2
            blocks = [SEBasicBlock(in_planes if j == 0 else planes, planes, stride if j == 0 else 1,
                                   config.se_reduction) for j in range(n_blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            in_planes = planes
        with torch.device("cpu"):  # torchaudio computes the filterbank's values (not on the meta device)
            self.torchfb = taoruijie.build_fbank_module(replace(CLOVAAI_MEL64, n_mels=config.n_mels))
        self.attention = ASP(config.pooled_channels, config.attention_dim, eps=config.asp_eps)
        self.fc = nn.Linear(2 * config.pooled_channels, config.embed_dim)

    def blocks(self) -> list[SEBasicBlock]:
        return [block for i in range(len(self.config.channels)) for block in getattr(self, f"layer{i + 1}")]

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        """``(conv, batchnorm)`` paths where the BatchNorm directly follows the convolution, for the
        inference form (:func:`asvbench.models.resnet2d.fold_for_inference`): each block's
        ``conv2``/``bn2`` and its shortcut. Every ``bn1`` follows a ReLU, which no fold crosses."""
        pairs = []
        for i in range(len(self.config.channels)):
            for j, block in enumerate(getattr(self, f"layer{i + 1}")):
                prefix = f"layer{i + 1}.{j}."
                pairs.append((prefix + "conv2", prefix + "bn2"))
                if block.downsample is not None:
                    pairs.append((prefix + "downsample.0", prefix + "downsample.1"))
        return pairs

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings of ``feats`` ``(B, T, n_mels)``; ``lengths`` ``(B,)`` = valid frames of each row."""
        x = feats.transpose(1, 2).unsqueeze(1)  # (B, 1, n_mels, T)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        x = self.bn1(F.relu(self.conv1(zero_padded_frames(x, mask))))
        for block in self.blocks():
            x, mask = block(x, mask)
        return self.fc(self.attention(x, mask))


def get_preset(name: str) -> ResNetSEConfig:
    """The config of preset ``name``; unknown: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_resnet_se(config: ResNetSEConfig | str = "resnetse34v2", **overrides: Any) -> ResNetSE:
    """Build ``ResNetSE`` from a config or a preset name (``PRESETS``), with field overrides;
    eval mode. Unknown preset: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return ResNetSE(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def min_samples() -> int:
    """Shortest waveform (16 kHz samples): the centred STFT's reflect padding needs more than
    256 samples, the instance norm :data:`MIN_FRAMES` frames (``1 + N // 160 >= 2``): 257."""
    return max(CLOVAAI_MEL64.min_samples, CLOVAAI_MEL64.hop_length * (MIN_FRAMES - 1))


# ---------------------------------------------------------------- registry loader


def load_resnet_se(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, refuse a checkpoint of
    another 2-D ResNet by name, load strictly, eval mode. The front-end uses the checkpoint's
    ``torchfb`` buffers."""
    from asvbench.frontends import get_frontend
    from asvbench.models.resnet2d import fold_for_inference
    from asvbench.models.resnet2d_loader import load_2d_resnet

    module = build_resnet_se(preset)
    return load_2d_resnet(entry, path, module, family=FAMILY, preset=preset, layout=layout,
                          frontend=lambda: get_frontend(entry.frontend).with_constants(module.torchfb),
                          fold=fold_for_inference)


__all__ = ["PRESETS", "ResNetSE", "ResNetSEConfig", "SEBasicBlock", "build_resnet_se", "load_resnet_se",
           "min_samples"]
