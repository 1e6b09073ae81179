"""WeSpeaker ResNet speaker embedding networks (ResNet18 .. ResNet293), as
``wenet-e2e/wespeaker`` ``wespeaker/models/resnet.py`` lays them out, so that the released
``avg_model.pt`` checkpoints load unchanged (after the WeSpeaker adapter drops ``projection.*``).

He et al., "Deep Residual Learning for Image Recognition" (arXiv:1512.03385), in WeSpeaker's
speaker form: a 3x3 stem without max-pooling, width ``m_channels = 32`` (32 / 64 / 128 / 256
per stage), stride 2 in frequency and time at stages 2..4, TSTP pooling, one embedding layer
(Wang et al., "Wespeaker", ICASSP 2023; ResNet221 / ResNet293 in the VoxCeleb v2 recipe).

Layers (order conv -> BN -> ReLU everywhere; every convolution bias-free):

* ``conv1`` 3x3 (1 -> 32) + ``bn1`` + ReLU on the ``(B, 1, F, T)`` feature image;
* ``layer1..4``: ``num_blocks`` blocks each, widths ``m, 2m, 4m, 8m``, first block of stages
  2..4 with stride 2; ``BasicBlock`` (ResNet18/34): 3x3 -> BN -> ReLU -> 3x3 -> BN;
  ``Bottleneck`` (ResNet50 .. 293): 1x1 -> BN -> ReLU -> 3x3 (strided) -> BN -> ReLU -> 1x1
  (x4 channels) -> BN; plus the shortcut (``Sequential(1x1 strided conv, BN)`` where stride or
  width changes, else the identity), then ReLU;
* output ``(B, 8m * expansion, F / 8, ceil(T / 8))`` -> TSTP -> ``seg_1``.

Published sizes (``shared/parity/wespeaker_resnet*/README.md``, verified by the parity tests):
ResNet34 6,634,336 parameters, ResNet221 23,792,224, ResNet293 28,626,016.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import _presets
from asvbench.models.resnet2d import Mask, WeSpeaker2dNet, conv_bn_relu, load_2d_family, strided_mask

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "WeSpeaker ResNet"
BlockType = Literal["basic", "bottleneck"]
EXPANSION: dict[str, int] = {"basic": 1, "bottleneck": 4}


@dataclass(frozen=True)
class ResNetConfig:
    """Hyper-parameters of a WeSpeaker ResNet (defaults: ``ResNet34(feat_dim=80, embed_dim=256)``)."""

    block: BlockType = "basic"
    num_blocks: tuple[int, int, int, int] = (3, 4, 6, 3)
    m_channels: int = 32
    feat_dim: int = 80
    embed_dim: int = 256
    two_emb_layer: bool = False
    #: TSTP: std = sqrt(unbiased var + std_eps)
    std_eps: float = 1e-7

    def __post_init__(self) -> None:
        if self.block not in EXPANSION:
            raise ValueError(f"block must be one of {sorted(EXPANSION)}, got {self.block!r}")
        if len(self.num_blocks) != 4 or min(self.num_blocks) < 1:
            raise ValueError(f"num_blocks must be 4 positive counts, got {self.num_blocks}")
        if self.feat_dim % 8:
            raise ValueError(f"feat_dim must be a multiple of 8 (three stride-2 stages), got {self.feat_dim}")

    @property
    def pooled_dim(self) -> int:
        """TSTP output size: ``2 * (feat_dim / 8) * 8 m * expansion`` (5,120 for ResNet34)."""
        return 2 * (self.feat_dim // 8) * self.m_channels * 8 * EXPANSION[self.block]


#: WeSpeaker's factories ``ResNet18 .. ResNet293`` (``resnet.py``) with the VoxCeleb v2 model_args
#: (``conf/resnet.yaml``: feat_dim 80, embed_dim 256, TSTP, two_emb_layer False).
PRESETS: dict[str, ResNetConfig] = {
    "resnet18": ResNetConfig("basic", (2, 2, 2, 2)),
    "resnet34": ResNetConfig("basic", (3, 4, 6, 3)),
    "resnet50": ResNetConfig("bottleneck", (3, 4, 6, 3)),
    "resnet101": ResNetConfig("bottleneck", (3, 4, 23, 3)),
    "resnet152": ResNetConfig("bottleneck", (3, 8, 36, 3)),
    "resnet221": ResNetConfig("bottleneck", (6, 16, 48, 3)),
    "resnet293": ResNetConfig("bottleneck", (10, 20, 64, 3)),
}

#: time is halved by stages 2, 3 and 4: the pooling sees ceil(T / 8) frames
TIME_STRIDE = 8


def get_preset(name: str) -> ResNetConfig:
    """``PRESETS[name]``; an unknown name is :class:`~asvbench.models._presets.UnknownPresetError`."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def _shortcut(in_planes: int, out_planes: int, stride: int) -> nn.Sequential:
    """1x1 strided conv + BN where the shape changes, else an empty Sequential (the identity, no keys)."""
    if stride == 1 and in_planes == out_planes:
        return nn.Sequential()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes))


class BasicBlock(nn.Module):
    """3x3 -> BN -> ReLU -> 3x3 -> BN, + shortcut, ReLU (keys ``conv1``, ``bn1``, ``conv2``, ``bn2``, ``shortcut``)."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = _shortcut(in_planes, planes, stride)

    def forward(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        out = conv_bn_relu(self.conv1, self.bn1, x, mask)
        mask = strided_mask(mask, self.stride)
        out = conv_bn_relu(self.conv2, self.bn2, out, mask, relu=False)
        return F.relu_(out.add_(self.shortcut(x))), mask  # out is made here: add in place

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        return [("conv1", "bn1"), ("conv2", "bn2")]


class Bottleneck(nn.Module):
    """1x1 -> BN -> ReLU -> 3x3 (strided) -> BN -> ReLU -> 1x1 (x4) -> BN, + shortcut, ReLU."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.shortcut = _shortcut(in_planes, planes * 4, stride)

    def forward(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        out = F.relu_(self.bn1(self.conv1(x)))  # 1x1: mixes no frames, no masking needed
        out = conv_bn_relu(self.conv2, self.bn2, out, mask)
        mask = strided_mask(mask, self.stride)
        out = self.bn3(self.conv3(out))
        return F.relu_(out.add_(self.shortcut(x))), mask

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        return [("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")]


class ResNet(WeSpeaker2dNet):
    """WeSpeaker ResNet: features ``(B, T, feat_dim)`` -> ``(B, embed_dim)``."""

    def __init__(self, config: ResNetConfig):
        super().__init__()
        self.config = config
        block = BasicBlock if config.block == "basic" else Bottleneck
        m = config.m_channels
        self.conv1 = nn.Conv2d(1, m, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m)
        in_planes = m
        for i, (n_blocks, stride) in enumerate(zip(config.num_blocks, (1, 2, 2, 2))):
            planes = m * 2**i
            blocks = []
            for j in range(n_blocks):
                blocks.append(block(in_planes, planes, stride if j == 0 else 1))
                in_planes = planes * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self._add_head(config.pooled_dim, config.embed_dim, config.two_emb_layer, config.std_eps)

    def stages(self) -> list[nn.Sequential]:
        return [self.layer1, self.layer2, self.layer3, self.layer4]

    def trunk(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        out = conv_bn_relu(self.conv1, self.bn1, x, mask)
        for stage in self.stages():
            for block in stage:
                out, mask = block(out, mask)
        return out, mask

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        pairs = [("conv1", "bn1")]
        for i, stage in enumerate(self.stages()):
            for j, block in enumerate(stage):
                prefix = f"layer{i + 1}.{j}."
                pairs += [(prefix + c, prefix + b) for c, b in block.conv_bn_pairs()]
                if len(block.shortcut):
                    pairs.append((prefix + "shortcut.0", prefix + "shortcut.1"))
        return pairs


def build_resnet(config: ResNetConfig | str = "resnet34", **overrides: Any) -> ResNet:
    """Build a WeSpeaker ResNet from a config or a preset name (``PRESETS``), with field
    overrides; eval mode. Unknown preset: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return ResNet(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def min_samples(frontend: str = "kaldi-fbank-80-wespeaker") -> int:
    """Shortest waveform (16 kHz samples) for a finite embedding: 9 frames (ceil(9 / 8) = 2
    frames at the pooling) = 400 + 8 * 160 = 1,680 samples with Kaldi fbank."""
    from asvbench.models.glue import frames_to_samples
    from asvbench.models.resnet2d import min_frames_for_time_stride

    return frames_to_samples(min_frames_for_time_stride(TIME_STRIDE), frontend)


def load_resnet(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode."""
    return load_2d_family(entry, path, family=FAMILY, build=build_resnet, preset=preset, layout=layout)


__all__ = ["FAMILY", "PRESETS", "BasicBlock", "Bottleneck", "ResNet", "ResNetConfig", "build_resnet", "get_preset",
           "load_resnet", "min_samples"]
