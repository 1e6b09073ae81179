"""ECAPA-TDNN's inference form: every ``conv -> ReLU -> BatchNorm`` unit as one convolution and one clamp.

All three layouts (:mod:`asvbench.models.ecapa_tdnn`) build their stem, their Res2 convolutions
and their 1x1 block convolutions as ``bn(relu(W x + c))`` with an eval-mode BatchNorm ``s * u + b``
per channel. The BatchNorm follows the ReLU, so it cannot be folded into the convolution as
:func:`~asvbench.models.fold.fold_conv_bn` does, but per channel ``o``::

    s relu(z) + b = max(s z + b, b)    (s > 0)
                  = min(s z + b, b)    (s < 0)
                  = b                  (s = 0: either form)

so the unit is the convolution with ``W' = diag(s) W``, ``c' = s c + b`` followed by one clamp
``clamp(y, lo, hi)`` with per-channel bounds (``lo = b, hi = +inf`` where ``s > 0``; ``lo = -inf,
hi = b`` where ``s < 0``): one elementwise pass instead of two (ReLU, BatchNorm), the same
function up to float rounding, exact for every sign of ``s``. The affine head
(``BatchNorm -> Linear [-> BatchNorm]``, SpeechBrain ``BatchNorm -> 1x1 conv``) becomes one
linear map. Masking of padded frames is unchanged (it acts on the inputs of the convolutions,
which are the same here), so padded batches still give the one-at-a-time embeddings.

The 1x1 convolutions stay convolutions: on this CPU (AVX2, one thread, batch 1) PyTorch's
default 1x1 path, oneDNN (``torch.mkldnn_convolution``) and a plain GEMM (``addmm``) run at the
same GFLOP/s (measured, ``reports/benchmarks.md``), so nothing is gained by rerouting them.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import ecapa_tdnn as ecapa
from asvbench.models.layers import zero_padded_frames

OPTIMISATIONS = ("inference form: conv-ReLU-BatchNorm units as one convolution + per-channel clamp; "
                 "head BatchNorm folded into the embedding layer")


def _bn_affine(bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``s * x + b`` per channel, float64."""
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    shift = -bn.running_mean.double() * scale
    if bn.affine:
        scale, shift = scale * bn.weight.double(), shift * bn.weight.double() + bn.bias.double()
    return scale, shift


class ConvClamp(nn.Module):
    """``bn(relu(conv(x)))`` of an eval-mode ``bn`` as ``clamp(conv'(x), lo, hi)`` (module docstring).

    ``pad``: ``"zero"`` zeroes padded frames before a kernel wider than 1 (WeSpeaker, TaoRuijie),
    ``"reflect"`` reflect-pads each row at its own end (SpeechBrain; ``conv`` then has no padding)."""

    def __init__(self, conv: nn.Conv1d, bn: nn.Module, pad: str = "zero", reflect: int = 0):
        super().__init__()
        if bn.training:
            raise ValueError("the ECAPA inference form needs eval-mode BatchNorms")
        scale, shift = _bn_affine(bn)
        dtype = conv.weight.dtype
        self.conv = copy.deepcopy(conv)
        bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
        with torch.no_grad():
            self.conv.weight.copy_((conv.weight.double() * scale[:, None, None]).to(dtype))
            if self.conv.bias is None:
                self.conv.bias = nn.Parameter(torch.empty(conv.out_channels, dtype=dtype, device=conv.weight.device))
            self.conv.bias.copy_((bias * scale + shift).to(dtype))
        inf = torch.full_like(shift, float("inf"))
        self.register_buffer("lo", torch.where(scale > 0, shift, -inf).to(dtype)[:, None])
        self.register_buffer("hi", torch.where(scale < 0, shift, inf).to(dtype)[:, None])
        self.any_negative = bool((scale < 0).any())
        self.pad, self.reflect = pad, reflect
        self.wide = conv.kernel_size[0] > 1

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        if self.pad == "reflect":
            x = ecapa._reflect_pad(x, self.reflect, lengths)
        elif self.wide:
            x = zero_padded_frames(x, mask)
        y = self.conv(x)
        # two in-place one-bound passes: ~8x faster than one two-bound clamp_ with tensor bounds
        # (measured), and with all scales positive (the usual case) the upper one is skipped
        y = y.clamp_min_(self.lo.to(y.dtype))
        return y.clamp_max_(self.hi.to(y.dtype)) if self.any_negative else y


def _folded_linear(bn: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None,
                   after: nn.Module | None = None) -> nn.Linear:
    """``after(W bn(p) + c)`` (``after`` an eval-mode BatchNorm or None) as one ``nn.Linear``."""
    s, b = _bn_affine(bn)
    w = weight.detach().double()
    c = bias.detach().double() if bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    w, c = w * s[None, :], c + w @ b
    if after is not None:
        s2, b2 = _bn_affine(after)
        w, c = w * s2[:, None], c * s2 + b2
    out = nn.Linear(w.shape[1], w.shape[0]).to(device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        out.weight.copy_(w.to(weight.dtype))
        out.bias.copy_(c.to(weight.dtype))
    return out


def _res2_pass_last(x: torch.Tensor, width: int, units: nn.ModuleList, mask: torch.Tensor | None) -> torch.Tensor:
    """WeSpeaker / TaoRuijie Res2 cascade (``ecapa_tdnn._res2_pass_last``) with folded units."""
    chunks = torch.split(x, width, dim=1)
    out = []
    sp = chunks[0]
    for i, unit in enumerate(units):
        if i >= 1:
            sp = sp + chunks[i]
        sp = unit(sp, mask)
        out.append(sp)
    out.append(chunks[len(units)])
    return torch.cat(out, dim=1)


def _res2_units(convs: nn.ModuleList, bns: nn.ModuleList) -> nn.ModuleList:
    return nn.ModuleList(ConvClamp(conv, bn) for conv, bn in zip(convs, bns))


# ---------------------------------------------------------------- WeSpeaker


class WsBlockInference(nn.Module):
    def __init__(self, block: "ecapa.WsBlock"):
        super().__init__()
        first, res2, last, se = block.se_res2block
        self.first = ConvClamp(first.conv, first.bn)
        self.width = res2.width
        self.res2 = _res2_units(res2.convs, res2.bns)
        self.last = ConvClamp(last.conv, last.bn)
        self.se = se

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = _res2_pass_last(self.first(x, mask), self.width, self.res2, mask)
        return x + self.se(self.last(out, mask), mask)


class WeSpeakerEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.WeSpeakerEcapa"):
        super().__init__()
        self.config = net.config
        self.layer1 = ConvClamp(net.layer1.conv, net.layer1.bn)
        self.blocks = nn.ModuleList(WsBlockInference(b) for b in (net.layer2, net.layer3, net.layer4))
        self.conv, self.pool = net.conv, net.pool
        self.head = _folded_linear(net.bn, net.linear.weight, net.linear.bias)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)
        mask = ecapa.frame_mask(lengths, x.shape[-1], x.device)
        x = self.layer1(x, mask)
        outs = []
        for block in self.blocks:
            x = block(x, mask)
            outs.append(x)
        out = F.relu_(self.conv(torch.cat(outs, dim=1)))
        return self.head(self.pool(out, mask))


# ---------------------------------------------------------------- TaoRuijie


class TaoBottleneckInference(nn.Module):
    def __init__(self, block: "ecapa.TaoBottle2neck"):
        super().__init__()
        self.first = ConvClamp(block.conv1, block.bn1)
        self.width = block.width
        self.res2 = _res2_units(block.convs, block.bns)
        self.last = ConvClamp(block.conv3, block.bn3)
        self.se = block.se

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = _res2_pass_last(self.first(x, mask), self.width, self.res2, mask)
        return self.se(self.last(out, mask), mask) + x


class TaoRuijieEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.TaoRuijieEcapa"):
        super().__init__()
        self.config = net.config
        self.torchfbank = net.torchfbank
        self.stem = ConvClamp(net.conv1, net.bn1)
        self.blocks = nn.ModuleList(TaoBottleneckInference(b) for b in (net.layer1, net.layer2, net.layer3))
        self.layer4, self.attention = net.layer4, net.attention
        self.head = _folded_linear(net.bn5, net.fc6.weight, net.fc6.bias, after=net.bn6)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)
        mask = ecapa.frame_mask(lengths, x.shape[-1], x.device)
        x = self.stem(x, mask)
        x1 = self.blocks[0](x, mask)
        x2 = self.blocks[1](x + x1, mask)
        x3 = self.blocks[2](x + x1 + x2, mask)
        h = F.relu_(self.layer4(torch.cat((x1, x2, x3), dim=1)))
        return self.head(self.attention(h, mask))


# ---------------------------------------------------------------- SpeechBrain


def _sb_unit(tdnn: "ecapa.SbTDNN") -> ConvClamp:
    return ConvClamp(tdnn.conv.conv, tdnn.norm.norm, pad="reflect", reflect=tdnn.conv.pad)


class SbRes2Inference(nn.Module):
    def __init__(self, res2: "ecapa.SbRes2"):
        super().__init__()
        self.scale = res2.scale
        self.units = nn.ModuleList(_sb_unit(b) for b in res2.blocks)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        chunks = torch.chunk(x, self.scale, dim=1)
        ys = [chunks[0]]
        y = None
        for i, xi in enumerate(chunks[1:]):
            y = self.units[i](xi if i == 0 else xi + y, lengths=lengths)
            ys.append(y)
        return torch.cat(ys, dim=1)


class SbBlockInference(nn.Module):
    def __init__(self, block: "ecapa.SbSERes2Block"):
        super().__init__()
        self.first = _sb_unit(block.tdnn1)
        self.res2 = SbRes2Inference(block.res2net_block)
        self.last = _sb_unit(block.tdnn2)
        self.se = block.se_block

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
        out = self.last(self.res2(self.first(x, lengths=lengths), lengths), lengths=lengths)
        return self.se(out, mask) + x


class _SbTDNNAsUnit(nn.Module):
    """A folded unit behind SpeechBrain's ``TDNNBlock`` call signature ``(x, lengths)``."""

    def __init__(self, tdnn: "ecapa.SbTDNN"):
        super().__init__()
        self.unit = _sb_unit(tdnn)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        return self.unit(x, lengths=lengths)


class SpeechBrainEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.SpeechBrainEcapa"):
        super().__init__()
        self.config = net.config
        self.stem = _sb_unit(net.blocks[0])
        self.blocks = nn.ModuleList(SbBlockInference(b) for b in net.blocks[1:])
        self.mfa = _sb_unit(net.mfa)
        self.asp = net.asp
        self.asp.tdnn = _SbTDNNAsUnit(net.asp.tdnn)
        fc = net.fc.conv
        self.head = _folded_linear(net.asp_bn.norm, fc.weight[:, :, 0], fc.bias)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = feats.transpose(1, 2)
        mask = ecapa.frame_mask(lengths, x.shape[-1], x.device)
        lens = None if mask is None else lengths.to(x.device)
        x = self.stem(x, lengths=lens)
        outs = []
        for block in self.blocks:
            x = block(x, lens, mask)
            outs.append(x)
        x = self.mfa(torch.cat(outs, dim=1), lengths=lens)
        return self.head(self.asp(x, mask).squeeze(2))


_INFERENCE: dict[type, type[nn.Module]] = {
    ecapa.WeSpeakerEcapa: WeSpeakerEcapaInference,
    ecapa.TaoRuijieEcapa: TaoRuijieEcapaInference,
    ecapa.SpeechBrainEcapa: SpeechBrainEcapaInference,
}


@torch.no_grad()
def ecapa_for_inference(network: nn.Module, *, in_place: bool = False) -> nn.Module:
    """The inference form of an eval-mode ECAPA network of any layout (the module docstring).

    A new module; with ``in_place`` it reuses the unchanged submodules of ``network`` (pooling,
    SE, MFA convolution) instead of copies, so ``network`` must not be used again."""
    if network.training:
        raise ValueError("the ECAPA inference form needs an eval-mode network")
    source = network if in_place else copy.deepcopy(network)
    return _INFERENCE[type(source)](source).eval()
