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

The attention of all three layouts starts with a 1x1 layer on ``[x, mean_t(x), std_t(x)]``
(global context: the utterance statistics repeated over time). Split by columns, ``W [x; m; s]
+ c = W_x x + (W_m m + W_s s + c)``: the bracket is constant over time, so it is one
matrix-vector product per utterance instead of two thirds of the layer's per-frame work
(:class:`ContextSplitAttention`; 3-6 % of an ECAPA's multiply-adds).

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
from asvbench.models.layers import _weighted_mean_std, masked_mean, masked_softmax, masked_var, zero_padded_frames

OPTIMISATIONS = ("inference form: conv-ReLU-BatchNorm units as one convolution + per-channel clamp; "
                 "head BatchNorm folded into the embedding layer; the attention's global-context "
                 "statistics through their own product once per utterance")


def _eval_bn(bn: nn.Module) -> nn.Module:
    if bn.training:
        raise ValueError("the ECAPA inference form needs eval-mode BatchNorms")
    return bn


def _clamp_bounds(module: nn.Module, scale: torch.Tensor, shift: torch.Tensor, dtype: torch.dtype,
                  ) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Register and return the per-channel bounds ``lo``, ``hi`` of ``s relu(z) + b`` as a clamp of
    ``s z + b`` (module docstring), and whether any ``s < 0`` (then the upper bound is needed)."""
    inf = torch.full_like(shift, float("inf"))
    module.register_buffer("lo", torch.where(scale > 0, shift, -inf).to(dtype)[:, None])
    module.register_buffer("hi", torch.where(scale < 0, shift, inf).to(dtype)[:, None])
    return module.lo, module.hi, bool((scale < 0).any())


def _clamp_(y: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, any_negative: bool) -> torch.Tensor:
    # two in-place one-bound passes: ~8x faster than one two-bound clamp_ with tensor bounds
    # (measured), and with all scales positive (the usual case) the upper one is skipped
    y = y.clamp_min_(lo.to(y.dtype))
    return y.clamp_max_(hi.to(y.dtype)) if any_negative else y


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
    ``"reflect"`` reflect-pads each row at its own end (SpeechBrain; ``conv`` then has no padding).
    ``reuse``: scale ``conv``'s own weights (the caller's copy of the network) instead of a copy's.

    The weights are scaled in place in their own dtype (one pass over them: the form of a 20 M
    parameter ECAPA took 1.4 s CPU with float64 copies, measured under load)."""

    def __init__(self, conv: nn.Conv1d, bn: nn.Module, pad: str = "zero", reflect: int = 0, *,
                 reuse: bool = False):
        super().__init__()
        scale, shift = _bn_affine(_eval_bn(bn))
        dtype = conv.weight.dtype
        bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
        self.conv = conv if reuse else copy.deepcopy(conv)
        with torch.no_grad():
            self.conv.weight.mul_(scale.to(dtype)[:, None, None])
            if self.conv.bias is None:
                self.conv.bias = nn.Parameter(torch.empty(conv.out_channels, dtype=dtype, device=conv.weight.device))
            self.conv.bias.copy_((bias * scale + shift).to(dtype))
        self.lo, self.hi, self.any_negative = _clamp_bounds(self, scale, shift, dtype)
        self.pad, self.reflect = pad, reflect
        self.wide = conv.kernel_size[0] > 1

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        if self.pad == "reflect":
            x = ecapa._reflect_pad(x, self.reflect, lengths)
        elif self.wide:
            x = zero_padded_frames(x, mask)
        return _clamp_(self.conv(x), self.lo, self.hi, self.any_negative)


class ContextSplitAttention(nn.Module):
    """A 1x1 layer ``W [x; m; s] + c`` on ``x`` (B, C, T) and its utterance statistics ``m``, ``s``
    (B, C) repeated over time, computed as ``W_x x + (W_m m + W_s s + c)`` (module docstring).

    ``bn``: the layer is followed by a ReLU and this eval-mode BatchNorm (TaoRuijie, SpeechBrain),
    folded in as :class:`ConvClamp` does; None: the plain affine layer (WeSpeaker)."""

    def __init__(self, conv: nn.Conv1d, bn: nn.Module | None = None):
        super().__init__()
        if conv.kernel_size[0] != 1 or conv.in_channels % 3:
            raise ValueError("the global-context attention layer is a 1x1 layer on 3 x C channels")
        dtype = conv.weight.dtype
        w = conv.weight.detach()[:, :, 0].double()
        c = conv.bias.detach().double() if conv.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        self.clamp = bn is not None
        if bn is not None:
            scale, shift = _bn_affine(_eval_bn(bn))
            w, c = w * scale[:, None], c * scale + shift
            self.lo, self.hi, self.any_negative = _clamp_bounds(self, scale, shift, dtype)
        channels = conv.in_channels // 3
        self.register_buffer("w_frames", w[:, :channels, None].to(dtype).contiguous())
        self.register_buffer("w_stats", w[:, channels:].t().to(dtype).contiguous())
        self.register_buffer("bias", c.to(dtype))

    def forward(self, x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        context = torch.addmm(self.bias.to(x.dtype), torch.cat((mean, std), dim=1).to(x.dtype),
                              self.w_stats.to(x.dtype))
        y = F.conv1d(x, self.w_frames.to(x.dtype)).add_(context[:, :, None])
        return _clamp_(y, self.lo, self.hi, self.any_negative) if self.clamp else y


class AstpInference(nn.Module):
    """WeSpeaker's global-context ``ASTP`` (:class:`~asvbench.models.layers.ASTP`) with its first
    layer split (:class:`ContextSplitAttention`): the same statistics, softmax and pooled output."""

    def __init__(self, pool: nn.Module):
        super().__init__()
        if not pool.global_context:
            raise ValueError("AstpInference is for the global-context ASTP")
        self.attention = ContextSplitAttention(pool.linear1)
        self.linear2 = pool.linear2

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        xf = x.float()
        mean = masked_mean(xf, mask)
        std = torch.sqrt(masked_var(xf, mask) + 1e-7)
        h = self.attention(x, mean.to(x.dtype), std.to(x.dtype))
        alpha = masked_softmax(self.linear2(torch.tanh(h)).float(), mask)
        return _weighted_mean_std(xf, alpha, 1e-7).to(x.dtype)


class AspInference(nn.Module):
    """TaoRuijie's global-context ``ASP`` (:class:`~asvbench.models.layers.ASP`: ReLU, BatchNorm,
    tanh) with its first layer split and the BatchNorm folded into it."""

    def __init__(self, pool: nn.Module):
        super().__init__()
        if not pool.global_context:
            raise ValueError("AspInference is for the global-context ASP")
        conv1, bn, conv2 = (pool._modules[k] for k in pool._layers)
        self.attention = ContextSplitAttention(conv1, bn)
        self.conv2, self.eps, self.tanh = conv2, pool.eps, pool.tanh

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        xf = x.float()
        mean = masked_mean(xf, mask)
        std = torch.sqrt(masked_var(xf, mask).clamp(min=self.eps))
        a = self.attention(x, mean.to(x.dtype), std.to(x.dtype))
        w = masked_softmax(self.conv2(torch.tanh(a) if self.tanh else a).float(), mask)
        return _weighted_mean_std(xf, w, self.eps).to(x.dtype)


class SbAspInference(nn.Module):
    """SpeechBrain's ``AttentiveStatisticsPooling`` (:class:`~asvbench.models.ecapa_tdnn.SbASP`)
    with its TDNN unit on ``[x, mean, std]`` split and folded."""

    def __init__(self, asp: "ecapa.SbASP"):
        super().__init__()
        self.attention = ContextSplitAttention(asp.tdnn.conv.conv, asp.tdnn.norm.norm)
        self.conv = asp.conv

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        xf = x.float()
        m = torch.ones_like(xf[:, :1, :]) if mask is None else mask.to(xf.dtype)
        mean, std = ecapa.SbASP._stats(xf, m / m.sum(dim=2, keepdim=True))
        a = self.attention(x, mean.to(x.dtype), std.to(x.dtype))
        attn = masked_softmax(self.conv(torch.tanh(a), None).float(), mask)
        mean, std = ecapa.SbASP._stats(xf, attn)
        return torch.cat((mean, std), dim=1).unsqueeze(2).to(x.dtype)


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
    return nn.ModuleList(ConvClamp(conv, bn, reuse=True) for conv, bn in zip(convs, bns))


# ---------------------------------------------------------------- WeSpeaker


class WsBlockInference(nn.Module):
    def __init__(self, block: "ecapa.WsBlock"):
        super().__init__()
        first, res2, last, se = block.se_res2block
        self.first = ConvClamp(first.conv, first.bn, reuse=True)
        self.width = res2.width
        self.res2 = _res2_units(res2.convs, res2.bns)
        self.last = ConvClamp(last.conv, last.bn, reuse=True)
        self.se = se

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = _res2_pass_last(self.first(x, mask), self.width, self.res2, mask)
        return x + self.se(self.last(out, mask), mask)


class WeSpeakerEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.WeSpeakerEcapa"):
        super().__init__()
        self.config = net.config
        self.layer1 = ConvClamp(net.layer1.conv, net.layer1.bn, reuse=True)
        self.blocks = nn.ModuleList(WsBlockInference(b) for b in (net.layer2, net.layer3, net.layer4))
        self.conv, self.pool = net.conv, AstpInference(net.pool)
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
        self.first = ConvClamp(block.conv1, block.bn1, reuse=True)
        self.width = block.width
        self.res2 = _res2_units(block.convs, block.bns)
        self.last = ConvClamp(block.conv3, block.bn3, reuse=True)
        self.se = block.se

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = _res2_pass_last(self.first(x, mask), self.width, self.res2, mask)
        return self.se(self.last(out, mask), mask) + x


class TaoRuijieEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.TaoRuijieEcapa"):
        super().__init__()
        self.config = net.config
        self.torchfbank = net.torchfbank
        self.stem = ConvClamp(net.conv1, net.bn1, reuse=True)
        self.blocks = nn.ModuleList(TaoBottleneckInference(b) for b in (net.layer1, net.layer2, net.layer3))
        self.layer4, self.attention = net.layer4, AspInference(net.attention)
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
    return ConvClamp(tdnn.conv.conv, tdnn.norm.norm, pad="reflect", reflect=tdnn.conv.pad, reuse=True)


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


class SpeechBrainEcapaInference(nn.Module):
    def __init__(self, net: "ecapa.SpeechBrainEcapa"):
        super().__init__()
        self.config = net.config
        self.stem = _sb_unit(net.blocks[0])
        self.blocks = nn.ModuleList(SbBlockInference(b) for b in net.blocks[1:])
        self.mfa = _sb_unit(net.mfa)
        self.asp = SbAspInference(net.asp)
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

    A new module; with ``in_place`` it reuses the submodules of ``network`` (their weights scaled
    in place) instead of a copy's, so ``network`` must not be used again."""
    if network.training:
        raise ValueError("the ECAPA inference form needs an eval-mode network")
    source = network if in_place else copy.deepcopy(network)
    return _INFERENCE[type(source)](source).eval()
