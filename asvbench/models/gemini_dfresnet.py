"""Gemini DF-ResNet speaker embedding networks (60 / 114 / 183 / 237), as ``wenet-e2e/wespeaker``
``wespeaker/models/gemini_dfresnet.py`` lays them out, and the Golden-Gemini release's own layout.

Liu et al., "Golden Gemini is All You Need: Finding the Sweet Spots for Speaker Verification"
(IEEE/ACM TASLP 32, 2024, arXiv:2312.03620): the depth-first DF-ResNet (Liu, Chen and Qian,
TASLP 31, 2023) with the "T14c" stride plan: frequency is halved at each of the 4 downsampling
layers, time only at the second.

Layers (every convolution bias-free; widths ``dims = (32, 32, 64, 128, 256)``):

* ``downsample_layers.0`` (stem): 3x3 conv (1 -> 32) + BN + ReLU;
* ``downsample_layers.1..4``: 3x3 conv, padding 1, stride (frequency, time) = (2, 1), (2, 2),
  (2, 1), (2, 1), + BN (no ReLU);
* ``stages.0..3`` (after ``downsample_layers.1..4``): ``depths[i]`` inverted bottlenecks of width
  ``d``: 1x1 (d -> 4d) + BN + ReLU, depthwise 3x3 (4d, groups 4d) + BN + ReLU, 1x1 (4d -> d) + BN,
  + input, ReLU;
* output ``(B, 256, F / 16, ceil(T / 2))`` -> TSTP (2 x 256 x 5 = 2,560 for 80 bins) -> ``seg_1``.

The name counts layers: 3 x sum(depths) + 5 downsampling convolutions + 1 linear. Published
sizes (``shared/parity/wespeaker_gemini_dfresnet*/README.md``, verified by the parity tests;
paper 4.05 / 6.53 / 9.20 M): 4,047,840 / 6,531,552 / 9,196,384 / 11,680,096 parameters.

Golden-Gemini's own ``Gemini_df_resnet.py`` (the Google-Drive releases) is the same network with
the last layer named ``embedding`` (the ``golden-gemini`` adapter renames it ``seg_1``) and the
pooled std ``sqrt(var + 1e-10)`` instead of WeSpeaker's ``1e-7`` (the ``golden-*`` presets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import _presets
from asvbench.models.layers import zero_padded_frames
from asvbench.models.resnet2d import Mask, WeSpeaker2dNet, conv_bn_relu, load_2d_family, strided_mask

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "Gemini DF-ResNet"
#: the T14c plan: (frequency, time) stride of downsample_layers.1..4
STRIDES: tuple[tuple[int, int], ...] = ((2, 1), (2, 2), (2, 1), (2, 1))
#: time is halved once: the pooling sees ceil(T / 2) frames
TIME_STRIDE = 2


@dataclass(frozen=True)
class GeminiDFResNetConfig:
    """Hyper-parameters of a Gemini DF-ResNet (defaults: ``Gemini_DF_ResNet114(80, 256)``)."""

    depths: tuple[int, int, int, int] = (3, 3, 27, 3)
    dims: tuple[int, int, int, int, int] = (32, 32, 64, 128, 256)
    feat_dim: int = 80
    embed_dim: int = 256
    two_emb_layer: bool = False
    #: TSTP: std = sqrt(unbiased var + std_eps); WeSpeaker 1e-7, Golden-Gemini's own code 1e-10
    std_eps: float = 1e-7

    def __post_init__(self) -> None:
        if len(self.depths) != 4 or len(self.dims) != 5:
            raise ValueError(f"need 4 depths and 5 dims, got {self.depths} and {self.dims}")
        if self.feat_dim % 16:
            raise ValueError(f"feat_dim must be a multiple of 16 (four frequency strides), got {self.feat_dim}")

    @property
    def pooled_dim(self) -> int:
        """TSTP output size: ``2 * dims[-1] * feat_dim / 16`` (2,560 for 80 bins)."""
        return 2 * self.dims[-1] * (self.feat_dim // 16)


def _wespeaker(depths: tuple[int, int, int, int]) -> GeminiDFResNetConfig:
    return GeminiDFResNetConfig(depths=depths)


def _golden(depths: tuple[int, int, int, int]) -> GeminiDFResNetConfig:
    return GeminiDFResNetConfig(depths=depths, std_eps=1e-10)


#: WeSpeaker ``Gemini_DF_ResNet{60,114,183,237}(feat_dim=80, embed_dim=256, pooling_func="TSTP")``
#: (``conf/gemini_dfresnet_adam.yaml``); ``golden-*``: Golden-Gemini's ``Gemini_df_resnet{60,114,183}``
#: (= its ``Gemini_df_resnet{56,110,179}``, the release folder names).
PRESETS: dict[str, GeminiDFResNetConfig] = {
    "gemini-dfresnet60": _wespeaker((3, 3, 9, 3)),
    "gemini-dfresnet114": _wespeaker((3, 3, 27, 3)),
    "gemini-dfresnet183": _wespeaker((3, 8, 45, 3)),
    "gemini-dfresnet237": _wespeaker((3, 8, 63, 3)),
    "golden-gemini-dfresnet60": _golden((3, 3, 9, 3)),
    "golden-gemini-dfresnet114": _golden((3, 3, 27, 3)),
    "golden-gemini-dfresnet183": _golden((3, 8, 45, 3)),
}


def get_preset(name: str) -> GeminiDFResNetConfig:
    """``PRESETS[name]``; an unknown name is :class:`~asvbench.models._presets.UnknownPresetError`."""
    return _presets.get_preset(FAMILY, PRESETS, name)


class InvertedBottleneck(nn.Module):
    """1x1 expand (x4) -> depthwise 3x3 -> 1x1 project, each + BN, + input, ReLU
    (keys ``conv1``/``bn1``, ``conv2``/``bn2``, ``conv3``/``bn3``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(dim, 4 * dim, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4 * dim)
        self.conv2 = nn.Conv2d(4 * dim, 4 * dim, 3, padding=1, groups=4 * dim, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * dim)
        self.conv3 = nn.Conv2d(4 * dim, dim, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        out = F.relu_(self.bn1(self.conv1(x)))  # 1x1: mixes no frames, no masking needed
        out = conv_bn_relu(self.conv2, self.bn2, out, mask)
        out = self.bn3(self.conv3(out))
        return F.relu_(out.add_(x))

    @staticmethod
    def conv_bn_pairs() -> list[tuple[str, str]]:
        return [("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")]


def _downsample(in_dim: int, out_dim: int, stride: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_dim, out_dim, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(out_dim))


class GeminiDFResNet(WeSpeaker2dNet):
    """Gemini DF-ResNet: features ``(B, T, feat_dim)`` -> ``(B, embed_dim)``."""

    def __init__(self, config: GeminiDFResNetConfig):
        super().__init__()
        self.config = config
        dims = config.dims
        stem = nn.Sequential(nn.Conv2d(1, dims[0], 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(dims[0]), nn.ReLU())
        self.downsample_layers = nn.ModuleList(
            [stem] + [_downsample(dims[i], dims[i + 1], STRIDES[i]) for i in range(4)])
        self.stages = nn.ModuleList(
            nn.Sequential(*(InvertedBottleneck(dims[i + 1]) for _ in range(config.depths[i]))) for i in range(4))
        self._add_head(config.pooled_dim, config.embed_dim, config.two_emb_layer, config.std_eps)

    def trunk(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        # every downsampling layer starts with its 3x3 conv: zero the padded frames before it
        out = self.downsample_layers[0](zero_padded_frames(x, mask))
        for i, stage in enumerate(self.stages):
            out = self.downsample_layers[i + 1](zero_padded_frames(out, mask))
            mask = strided_mask(mask, STRIDES[i][1])
            for block in stage:
                out = block(out, mask)
        return out, mask

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        pairs = [(f"downsample_layers.{i}.0", f"downsample_layers.{i}.1") for i in range(5)]
        for i, stage in enumerate(self.stages):
            for j in range(len(stage)):
                pairs += [(f"stages.{i}.{j}.{c}", f"stages.{i}.{j}.{b}") for c, b in InvertedBottleneck.conv_bn_pairs()]
        return pairs


def build_gemini_dfresnet(config: GeminiDFResNetConfig | str = "gemini-dfresnet114", **overrides: Any) -> GeminiDFResNet:
    """Build a Gemini DF-ResNet from a config or a preset name (``PRESETS``), with field
    overrides; eval mode. Unknown preset: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return GeminiDFResNet(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def min_samples(frontend: str = "kaldi-fbank-80-wespeaker") -> int:
    """Shortest waveform (16 kHz samples) for a finite embedding: 3 frames (ceil(3 / 2) = 2
    frames at the pooling) = 400 + 2 * 160 = 720 samples with Kaldi fbank."""
    from asvbench.models.glue import frames_to_samples
    from asvbench.models.resnet2d import min_frames_for_time_stride

    return frames_to_samples(min_frames_for_time_stride(TIME_STRIDE), frontend)


def load_gemini_dfresnet(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode."""
    return load_2d_family(entry, path, family=FAMILY, build=build_gemini_dfresnet, preset=preset, layout=layout)
