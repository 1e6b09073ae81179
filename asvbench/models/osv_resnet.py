"""open-speaker-verification ResNet34 (ResNet34-AM-VoxCeleb2): mmclassification ``ResNet_CIFAR``
depth 34 + ``StatsPooling`` neck, on 81-dim Kaldi fbank (80 mel bins + log energy).

``1017549629/open-speaker-verification`` (master ``0d415d5``; checkpoint released with
``289508c``, 2020-10-22): ``configs/asv/classifier/vox2_resnet34_b128x4.py`` builds
``ImageClassifier(backbone=ResNet_CIFAR(in_channels=1, stem_channels=32, base_channels=32,
depth=34), neck=StatsPooling(emb_dim=256, in_plane=2816), head=AMSoftmaxClsHead(5994))``; the
embedding is ``extract_feat`` = backbone -> neck (``shared/parity/osv_resnet34_am/README.md``):

* ``backbone``: input ``(B, T, 81)`` viewed as ``(B, 1, 81, T)`` (frequency = height); stem 3x3
  (1 -> 32, no bias) + BN + ReLU, **no max-pool**; ``layer1..4``: ``BasicBlock`` x (3, 4, 6, 3),
  widths 32 / 64 / 128 / 256, stride 2 in frequency and time at stages 2..4 (3x3 -> BN -> ReLU ->
  3x3 -> BN, + identity or ``downsample`` = 1x1 strided conv + BN, ReLU): frequency 81 -> 41 ->
  21 -> 11. This is WeSpeaker's ResNet34 trunk (:class:`asvbench.models.resnet.BasicBlock`, whose
  shortcut is called ``shortcut``; the adapter renames mmcls's ``downsample``);
* ``neck`` (eval branch of ``STP.Stats_pooling``): per channel and frequency row, the mean and
  the **population** standard deviation over time (no epsilon), laid out channel by channel
  (a channel's 11 means, then its 11 standard deviations: 5,632 values) -> ``embedding`` =
  ``Linear(5632, 256)`` -> ReLU -> ``BatchNorm1d(256)``. Not L2-normalised (scoring is cosine).

Padded batches: masked exactly as :mod:`asvbench.models.resnet` (zeros past a row's valid
frames before every 3x3 convolution, statistics over valid frames only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from asvbench.models import _presets
from asvbench.models.layers import frame_mask, masked_mean, masked_var
from asvbench.models.resnet import BasicBlock
from asvbench.models.resnet2d import Mask, conv_bn_relu

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "OSV ResNet"


@dataclass(frozen=True)
class OsvResNetConfig:
    """``ResNet_CIFAR`` + ``StatsPooling`` hyper-parameters (defaults: the released ResNet34-AM)."""

    num_blocks: tuple[int, int, int, int] = (3, 4, 6, 3)
    stem_channels: int = 32
    base_channels: int = 32
    feat_dim: int = 81
    embed_dim: int = 256

    def __post_init__(self) -> None:
        if len(self.num_blocks) != 4 or min(self.num_blocks) < 1:
            raise ValueError(f"num_blocks must be 4 positive counts, got {self.num_blocks}")

    @property
    def out_channels(self) -> int:
        return self.base_channels * 8

    @property
    def out_freq(self) -> int:
        """Frequency rows after the three stride-2 stages, ``ceil`` each time: 81 -> 41 -> 21 -> 11."""
        f = self.feat_dim
        for _ in range(3):
            f = (f - 1) // 2 + 1
        return f

    @property
    def pooled_dim(self) -> int:
        """Neck input: mean and std of every (channel, frequency row): 2 x 256 x 11 = 5,632."""
        return 2 * self.out_channels * self.out_freq


#: mmcls ``ResNet_CIFAR`` depth 34 (``arch_settings[34] = (BasicBlock, (3, 4, 6, 3))``)
PRESETS: dict[str, OsvResNetConfig] = {"resnet34": OsvResNetConfig()}


class Backbone(nn.Module):
    """``ResNet_CIFAR``: keys ``conv1``, ``bn1``, ``layer{1..4}.{i}.*``; ``(B, 1, F, T)`` -> ``(B, 256, F', T')``."""

    def __init__(self, config: OsvResNetConfig):
        super().__init__()
        self.conv1 = nn.Conv2d(1, config.stem_channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(config.stem_channels)
        in_planes = config.stem_channels
        for i, n_blocks in enumerate(config.num_blocks):
            planes = config.base_channels * 2**i
            blocks = [BasicBlock(in_planes if j == 0 else planes, planes, 2 if i > 0 and j == 0 else 1)
                      for j in range(n_blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            in_planes = planes

    def blocks(self) -> list[BasicBlock]:
        return [block for i in range(4) for block in getattr(self, f"layer{i + 1}")]

    def forward(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        out = conv_bn_relu(self.conv1, self.bn1, x, mask)
        for block in self.blocks():
            out, mask = block(out, mask)
        return out, mask


class StatsPooling(nn.Module):
    """``STP.StatsPooling`` (eval): keys ``embedding.0`` (Linear), ``embedding.2`` (BatchNorm1d)."""

    def __init__(self, pooled_dim: int, embed_dim: int):
        super().__init__()
        self.embedding = nn.Sequential(nn.Linear(pooled_dim, embed_dim), nn.ReLU(), nn.BatchNorm1d(embed_dim))

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        mean = masked_mean(x, mask)  # (B, C, F)
        std = masked_var(x, mask, unbiased=False).sqrt()
        return self.embedding(torch.cat([mean, std], dim=-1).flatten(1))


class OsvResNet(nn.Module):
    """``ImageClassifier.extract_feat``: features ``(B, T, 81)`` -> ``(B, embed_dim)``."""

    def __init__(self, config: OsvResNetConfig):
        super().__init__()
        self.config = config
        self.backbone = Backbone(config)
        self.neck = StatsPooling(config.pooled_dim, config.embed_dim)

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        """Every ``(conv, batchnorm)`` pair of the backbone, each BatchNorm directly after its conv
        (for :func:`asvbench.models.resnet2d.fold_for_inference`)."""
        pairs = [("backbone.conv1", "backbone.bn1")]
        for i in range(4):
            for j, block in enumerate(getattr(self.backbone, f"layer{i + 1}")):
                prefix = f"backbone.layer{i + 1}.{j}."
                pairs += [(prefix + c, prefix + b) for c, b in block.conv_bn_pairs()]
                if len(block.shortcut):
                    pairs.append((prefix + "shortcut.0", prefix + "shortcut.1"))
        return pairs

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings of ``feats`` ``(B, T, feat_dim)``; ``lengths`` ``(B,)`` = valid frames of each row."""
        x = feats.transpose(1, 2).unsqueeze(1)  # (B, 1, F, T)
        out, mask = self.backbone(x, frame_mask(lengths, x.shape[-1], x.device))
        return self.neck(out, mask)


def get_preset(name: str) -> OsvResNetConfig:
    """The config of preset ``name``; unknown: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_osv_resnet(config: OsvResNetConfig | str = "resnet34", **overrides: Any) -> OsvResNet:
    """Build the network from a config or a preset name (``PRESETS``), with field overrides; eval
    mode. Unknown preset: :class:`~asvbench.models._presets.UnknownPresetError`."""
    return OsvResNet(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


#: the population standard deviation of one frame is 0, not NaN: one Kaldi frame (400 samples) is enough
MIN_SAMPLES = 400


# ---------------------------------------------------------------- registry loader


def load_osv_resnet(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint (mmcv ``state_dict``
    wrapper, ``head.*`` dropped), refuse a checkpoint of another 2-D ResNet by name, load strictly."""
    from asvbench.models.resnet2d import fold_for_inference
    from asvbench.models.resnet2d_loader import load_2d_resnet

    return load_2d_resnet(entry, path, build_osv_resnet(preset), family=FAMILY, preset=preset, layout=layout,
                          fold=fold_for_inference)


__all__ = ["MIN_SAMPLES", "PRESETS", "OsvResNet", "OsvResNetConfig", "build_osv_resnet", "load_osv_resnet"]
