"""CAM++: a densely connected TDNN with context-aware masking, after a 2-D front-end module (FCM).

Architecture (Wang et al., "CAM++: A Fast and Efficient Network for Speaker Verification Using
Context-Aware Masking", Interspeech 2023, arXiv:2303.00332), laid out as the two reference
implementations do, so that their state-dict keys load unchanged:

* 3D-Speaker ``speakerlab/models/campplus/DTDNN.py`` class ``CAMPPlus`` (statistics pooling =
  mean and unbiased standard deviation, no epsilon);
* WeSpeaker ``wespeaker/models/campplus.py`` class ``CAMPPlus`` (pooling ``TSTP`` = mean and
  ``sqrt(unbiased variance + 1e-7)``).

Both have the same 937 keys; they differ only in that epsilon (``CAMPPlusConfig.std_eps``).

Layers (input features ``(B, T, 80)``, time-major):

* ``head`` (FCM): Conv2d 3x3 (1 -> 32) + BN + ReLU; ``layer1``, ``layer2``: two basic residual
  blocks each, the first with stride 2 along frequency only and a 1x1 strided shortcut;
  ``conv2`` 3x3 stride (2, 1) + BN + ReLU; reshaped to ``(B, 32 * 80 / 8, T)``.
* ``xvector.tdnn``: Conv1d k=5 stride 2 (320 -> 128) + BN + ReLU (halves the frame rate).
* ``xvector.block{1,2,3}``: 12 / 24 / 16 dense layers (dilation 1 / 2 / 2), each
  ``BN-ReLU-Conv1x1(-> 128)-BN-ReLU`` then a CAM layer whose output (32 channels) is
  concatenated to its input. CAM: ``y = Conv1d_k3(h)``, context ``c = mean_t(h) +
  segment_mean_100(h)`` (mean over 100-frame segments, broadcast back), mask ``m =
  sigmoid(W2 relu(W1 c + b1) + b2)``, output ``y * m``.
* ``xvector.transit{1,2,3}``: BN-ReLU-Conv1x1 halving the channels; ``out_nonlinear``: BN-ReLU.
* statistics pooling (mean ++ std over time) -> ``xvector.dense``: Conv1x1 (1024 -> embed) +
  BatchNorm1d without affine parameters. The output is the embedding.

Padded batches: ``forward(feats, lengths)`` masks every operation that mixes frames (each
convolution with a temporal kernel sees zeros past a row's valid frames, exactly what it sees at
the end of the unpadded row; time means, segment means and statistics pooling use only valid
frames), so a padded row gives the embedding of the unpadded row up to float rounding. When all
lengths equal the padded length the reference operations run unmasked.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import _presets
from asvbench.models.layers import (
    TSTP,
    frame_mask,
    lengths_to_mask,
    mask_lengths,
    mask_rows,
    masked_mean,
    zero_padded_frames,
)

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "CAM++"


@dataclass(frozen=True)
class CAMPPlusConfig:
    """Hyper-parameters of CAM++ (defaults: the published model, embed 192)."""

    feat_dim: int = 80
    embed_dim: int = 192
    m_channels: int = 32  # FCM width
    fcm_blocks: tuple[int, int] = (2, 2)
    growth_rate: int = 32
    bn_size: int = 4  # bottleneck = bn_size * growth_rate
    init_channels: int = 128
    block_layers: tuple[int, ...] = (12, 24, 16)
    block_dilations: tuple[int, ...] = (1, 2, 2)
    kernel_size: int = 3
    seg_len: int = 100  # CAM segment-pooling length (frames)
    #: None: std = unbiased std (3D-Speaker); a float: sqrt(unbiased var + eps) (WeSpeaker TSTP, 1e-7)
    std_eps: float | None = None

    def __post_init__(self) -> None:
        if self.feat_dim % 8:
            raise ValueError(f"feat_dim must be a multiple of 8 (FCM divides it by 8), got {self.feat_dim}")
        if len(self.block_layers) != len(self.block_dilations):
            raise ValueError("block_layers and block_dilations must have the same length")
        if self.kernel_size % 2 != 1:
            raise ValueError("kernel_size must be odd (symmetric padding)")


#: Published configurations: 3D-Speaker ``CAMPPLUS_COMMON`` (192) / ``CAMPPLUS_VOX`` (512);
#: WeSpeaker ``CAMPPlus(embed_dim=192|512, pooling_func="TSTP")`` (512: ``conf/campplus.yaml``).
PRESETS: dict[str, CAMPPlusConfig] = {
    "3dspeaker-e192": CAMPPlusConfig(embed_dim=192, std_eps=None),
    "3dspeaker-e512": CAMPPlusConfig(embed_dim=512, std_eps=None),
    "wespeaker-e192": CAMPPlusConfig(embed_dim=192, std_eps=1e-7),
    "wespeaker-e512": CAMPPlusConfig(embed_dim=512, std_eps=1e-7),
}

#: Shortest input (frames) giving a finite embedding: the stride-2 TDNN leaves ceil(T/2) frames
#: and the unbiased std needs 2 of them, so T >= 3 (= 400 + 2 * 160 = 720 samples at 16 kHz).
MIN_FRAMES = 3


# ---------------------------------------------------------------- CAM segment pooling


def _segment_means(x: torch.Tensor, seg_len: int, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over consecutive ``seg_len``-frame segments, ``(B, C, ceil(T / seg_len))``.

    As the reference (``avg_pool1d(kernel=stride=seg_len, ceil_mode=True)``): the last, partial
    segment is averaged over the frames it holds; with a mask, over its valid frames.
    """
    if mask is None:
        return F.avg_pool1d(x, kernel_size=seg_len, stride=seg_len, ceil_mode=True)
    b, c, t = x.shape
    n_seg = math.ceil(t / seg_len)
    pad = n_seg * seg_len - t
    xm = F.pad(zero_padded_frames(x, mask), (0, pad)).view(b, c, n_seg, seg_len).sum(-1)
    count = F.pad(mask_rows(mask), (0, pad)).view(b, n_seg, seg_len).sum(-1, dtype=torch.float32).clamp(min=1.0)
    return xm / count.to(x.dtype)[:, None, :]


def _per_frame(segments: torch.Tensor, seg_len: int, n_frames: int) -> torch.Tensor:
    """Each segment's value repeated over its frames: ``(B, C, n_seg)`` -> ``(B, C, n_frames)``."""
    return segments.repeat_interleave(seg_len, dim=-1)[..., :n_frames]


def _segment_mean(x: torch.Tensor, seg_len: int, mask: torch.Tensor | None) -> torch.Tensor:
    """:func:`_segment_means` broadcast back to every frame (the reference's form)."""
    return _per_frame(_segment_means(x, seg_len, mask), seg_len, x.shape[-1])


# ---------------------------------------------------------------- layers


class _Nonlinear(nn.Module):
    """``BatchNorm1d`` (+ ReLU): the reference ``get_nonlinear('batchnorm-relu' | 'batchnorm_')``."""

    def __init__(self, channels: int, *, relu: bool = True, affine: bool = True):
        super().__init__()
        self.batchnorm = nn.BatchNorm1d(channels, affine=affine)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.batchnorm(x)
        if not self.relu:
            return x
        # in place only on a tensor made here (a folded BatchNorm is an Identity: x is the input)
        return F.relu_(x) if not isinstance(self.batchnorm, nn.Identity) else F.relu(x)


class _ResBlock2d(nn.Module):
    """Basic residual block of FCM; ``stride`` applies to frequency only."""

    def __init__(self, in_planes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = F.relu_(self.bn1(self.conv1(zero_padded_frames(x, mask))))
        out = self.bn2(self.conv2(zero_padded_frames(out, mask)))
        return F.relu_(out.add_(self.shortcut(x)))  # out is made here: add in place


class FCM(nn.Module):
    """2-D convolutional front module: ``(B, F, T)`` -> ``(B, m_channels * F / 8, T)``."""

    def __init__(self, config: CAMPPlusConfig):
        super().__init__()
        m = config.m_channels
        self.conv1 = nn.Conv2d(1, m, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m)
        self.layer1 = nn.ModuleList(_ResBlock2d(m, m, 2 if i == 0 else 1) for i in range(config.fcm_blocks[0]))
        self.layer2 = nn.ModuleList(_ResBlock2d(m, m, 2 if i == 0 else 1) for i in range(config.fcm_blocks[1]))
        self.conv2 = nn.Conv2d(m, m, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(m)
        self.out_channels = m * (config.feat_dim // 8)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = F.relu_(self.bn1(self.conv1(zero_padded_frames(x.unsqueeze(1), mask))))
        for block in (*self.layer1, *self.layer2):
            out = block(out, mask)
        out = F.relu_(self.bn2(self.conv2(zero_padded_frames(out, mask))))
        b, c, f, t = out.shape
        return out.reshape(b, c * f, t)


class _TDNN(nn.Module):
    """``xvector.tdnn``: Conv1d (k=5, stride 2, 'same' padding, no bias) + BN + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2):
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride,
                                padding=(kernel_size - 1) // 2, bias=False)
        self.nonlinear = _Nonlinear(out_channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.nonlinear(self.linear(zero_padded_frames(x, mask)))


class _CAMLayer(nn.Module):
    """Context-aware masking: a local conv, gated by a mask from utterance + segment context."""

    def __init__(self, bn_channels: int, out_channels: int, kernel_size: int, dilation: int, seg_len: int):
        super().__init__()
        self.linear_local = nn.Conv1d(bn_channels, out_channels, kernel_size, dilation=dilation,
                                      padding=(kernel_size - 1) // 2 * dilation, bias=False)
        self.linear1 = nn.Conv1d(bn_channels, bn_channels // 2, 1)
        self.linear2 = nn.Conv1d(bn_channels // 2, out_channels, 1)
        self.seg_len = seg_len
        #: inference form: the context gate is computed once per segment and then repeated
        #: over the segment's frames (the reference repeats the context first and computes the
        #: gate for every frame: the same values, seg_len times the work)
        self.gate_per_segment = False

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        y = self.linear_local(zero_padded_frames(x, mask))
        segments = _segment_means if self.gate_per_segment else _segment_mean
        context = masked_mean(x, mask, keepdim=True) + segments(x, self.seg_len, mask)
        m = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return y * (_per_frame(m, self.seg_len, x.shape[-1]) if self.gate_per_segment else m)


class _DenseLayer(nn.Module):
    """One CAM dense layer: ``BN-ReLU-Conv1x1-BN-ReLU`` then CAM (``growth_rate`` channels out)."""

    def __init__(self, in_channels: int, config: CAMPPlusConfig, dilation: int):
        super().__init__()
        bn_channels = config.bn_size * config.growth_rate
        self.nonlinear1 = _Nonlinear(in_channels)
        self.linear1 = nn.Conv1d(in_channels, bn_channels, 1, bias=False)
        self.nonlinear2 = _Nonlinear(bn_channels)
        self.cam_layer = _CAMLayer(bn_channels, config.growth_rate, config.kernel_size, dilation, config.seg_len)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))), mask)


class _DenseBlock(nn.Module):
    """``tdnnd1 .. tdnndN``; each layer's output is concatenated to its input."""

    def __init__(self, num_layers: int, in_channels: int, config: CAMPPlusConfig, dilation: int):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"tdnnd{i + 1}", _DenseLayer(in_channels + i * config.growth_rate, config, dilation))
        self.growth_rate = config.growth_rate
        #: inference form: write every layer's output into one preallocated tensor instead of
        #: concatenating (the reference's torch.cat copies the growing input at every layer)
        self.preallocate = False

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.preallocate:
            return self._forward_preallocated(x, mask)
        for layer in self.children():
            x = torch.cat([x, layer(x, mask)], dim=1)
        return x

    def _forward_preallocated(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        layers = list(self.children())
        channels = x.shape[1]
        out = x.new_empty(x.shape[0], channels + self.growth_rate * len(layers), x.shape[2])
        out[:, :channels] = x
        for layer in layers:
            out[:, channels : channels + self.growth_rate] = layer(out[:, :channels], mask)
            channels += self.growth_rate
        return out


class _Transit(nn.Module):
    """BN-ReLU-Conv1x1 (no bias)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.nonlinear = _Nonlinear(in_channels)
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class _Dense(nn.Module):
    """Embedding layer: Conv1x1 (no bias) + BatchNorm1d without affine parameters."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.nonlinear = _Nonlinear(out_channels, relu=False, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x.unsqueeze(-1))).squeeze(-1)


class _XVector(nn.Module):
    """Container named ``xvector`` so that keys read ``xvector.block1.tdnnd1...`` as in the references."""

    def __init__(self, in_channels: int, config: CAMPPlusConfig):
        super().__init__()
        self.tdnn = _TDNN(in_channels, config.init_channels)
        channels = config.init_channels
        for i, (n_layers, dilation) in enumerate(zip(config.block_layers, config.block_dilations)):
            self.add_module(f"block{i + 1}", _DenseBlock(n_layers, channels, config, dilation))
            channels += n_layers * config.growth_rate
            self.add_module(f"transit{i + 1}", _Transit(channels, channels // 2))
            channels //= 2
        self.out_nonlinear = _Nonlinear(channels)
        self.dense = _Dense(2 * channels, config.embed_dim)
        self.n_blocks = len(config.block_layers)
        self.pool = TSTP(config.std_eps)  # no parameters: adds no keys

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.tdnn(x, mask)
        if mask is not None:  # stride 2, 'same' padding: L valid frames -> ceil(L / 2)
            mask = lengths_to_mask((mask_lengths(mask) + 1) // 2, x.shape[-1], device=x.device)
        for i in range(1, self.n_blocks + 1):
            x = getattr(self, f"block{i}")(x, mask)
            x = getattr(self, f"transit{i}")(x)
        x = self.out_nonlinear(x)
        return self.dense(self.pool(x, mask))


class CAMPPlus(nn.Module):
    """CAM++ speaker embedding network: features ``(B, T, feat_dim)`` -> ``(B, embed_dim)``."""

    def __init__(self, config: CAMPPlusConfig):
        super().__init__()
        self.config = config
        self.head = FCM(config)
        self.xvector = _XVector(self.head.out_channels, config)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings of ``feats`` ``(B, T, F)``; ``lengths`` ``(B,)`` = valid frames of each row."""
        x = feats.transpose(1, 2)  # (B, F, T)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        return self.xvector(self.head(x, mask), mask)


def get_preset(name: str) -> CAMPPlusConfig:
    """The preset ``name`` (:class:`~asvbench.models._presets.UnknownPresetError` listing the valid ones)."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_campplus(config: CAMPPlusConfig | str = "3dspeaker-e192", **overrides: Any) -> CAMPPlus:
    """Build CAM++ from a config or a preset name (``PRESETS``), with field overrides; eval mode."""
    return CAMPPlus(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def _fold(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """``conv`` followed by eval-mode ``bn`` as one convolution (weights scaled, bias shifted)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    return fuse_conv_bn_eval(conv, bn)


#: what :func:`fuse_for_inference` changes, for the extraction manifest
INFERENCE_OPTIMISATIONS = ("inference form: BatchNorm folded into the preceding convolutions, CAM gate per segment, "
                           "preallocated dense blocks, channels-last head, time-major dense blocks with the "
                           "BatchNorm-ReLU before each 1x1 convolution folded into it")


def fuse_for_inference(model: CAMPPlus, *, in_place: bool = False) -> CAMPPlus:
    """An eval-mode CAM++ rewritten for inference, the same function up to float rounding (a
    copy, or ``model`` itself rewritten when ``in_place``, which saves the copy):

    * every BatchNorm that directly follows a convolution is folded into it (the BN-ReLU
      pairs that precede a convolution stay: the ReLU sits between them);
    * each CAM layer computes its context gate once per segment and repeats it over the
      segment's frames (the reference repeats the segment means over the frames first and
      runs the two 1x1 convolutions on every frame);
    * each dense block writes its layers' outputs into one preallocated tensor instead of
      concatenating at every layer;
    * the 2-D convolutions of the FCM head keep their weights channels-last (NHWC);
    * unpadded batches run the x-vector part time-major, with each pre-activation BatchNorm-ReLU
      folded into the 1x1 convolution after it (``campplus_inference.TimeMajorXVector``); padded
      batches run the channel-major form above.
    """
    from asvbench.models.campplus_inference import TimeMajorXVector

    fused = (model if in_place else copy.deepcopy(model)).eval()
    head = fused.head
    head.conv1, head.bn1 = _fold(head.conv1, head.bn1), nn.Identity()
    head.conv2, head.bn2 = _fold(head.conv2, head.bn2), nn.Identity()
    for block in (*head.layer1, *head.layer2):
        block.conv1, block.bn1 = _fold(block.conv1, block.bn1), nn.Identity()
        block.conv2, block.bn2 = _fold(block.conv2, block.bn2), nn.Identity()
        if len(block.shortcut):
            block.shortcut = nn.Sequential(_fold(block.shortcut[0], block.shortcut[1]))
    head.to(memory_format=torch.channels_last)  # oneDNN runs these 2-D convolutions faster in NHWC
    xvector = fused.xvector
    xvector.tdnn.linear, xvector.tdnn.nonlinear.batchnorm = (
        _fold(xvector.tdnn.linear, xvector.tdnn.nonlinear.batchnorm), nn.Identity())
    for i in range(1, xvector.n_blocks + 1):
        for layer in getattr(xvector, f"block{i}").children():
            layer.linear1, layer.nonlinear2.batchnorm = _fold(layer.linear1, layer.nonlinear2.batchnorm), nn.Identity()
            layer.cam_layer.gate_per_segment = True
        getattr(xvector, f"block{i}").preallocate = True
    dense = xvector.dense
    dense.linear, dense.nonlinear.batchnorm = _fold(dense.linear, dense.nonlinear.batchnorm), nn.Identity()
    fused.xvector = TimeMajorXVector(xvector)
    return fused


# ---------------------------------------------------------------- registry loader


def load_campplus(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build the ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode;
    ``for_inference`` gives :func:`fuse_for_inference`'s form."""
    from asvbench.frontends import get_frontend
    from asvbench.models.glue import embedding_model, load_checkpoint

    module = load_checkpoint(build_campplus(preset), path, layout=layout, family=f"{FAMILY} ({preset})")
    return embedding_model(entry, module, get_frontend(entry.frontend), inference_form=fuse_for_inference,
                           optimisations=INFERENCE_OPTIMISATIONS)
