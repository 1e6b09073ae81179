"""Layers and masked numerics shared by every model family.

Conventions: activations are channel-major with time on the last axis, ``(B, C, T)`` (1-D
families) or ``(B, C, F, T)`` (2-D families). A frame mask is float32 of 0/1 (1 = valid frame),
``(B, 1, T)`` as :func:`lengths_to_mask` makes it (it broadcasts over the channels of ``(B, C,
T)``); every function here also takes a ``(B, T)`` mask. ``None`` means "every frame is valid":
then every function runs the reference's unmasked computation (so a full batch is the
reference). Masks are cast to the activation's dtype where they are used (autocast-safe).

Padded-batch contract: with a mask, every statistic over time uses only the valid frames, so a
zero-padded row gives the statistics of the row alone (up to float rounding).

Key names: pooling and SE modules keep the parameter names of the checkpoints they come from
(written in each docstring); a family whose source names them otherwise builds them with the
``*_names`` arguments, or maps the keys in its adapter.

This module imports torch: import it from family modules only (loaders import those lazily).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- masks and masked statistics


def lengths_to_mask(lengths: torch.Tensor, num_frames: int, *, device: torch.device | None = None) -> torch.Tensor:
    """``(B, 1, num_frames)`` float32 mask, 1 where ``frame < lengths[b]``."""
    device = lengths.device if device is None else device
    steps = torch.arange(num_frames, device=device)
    return (steps[None, :] < lengths.to(device)[:, None]).to(torch.float32).unsqueeze(1)


def frame_mask(lengths: torch.Tensor | None, num_frames: int, device: torch.device) -> torch.Tensor | None:
    """:func:`lengths_to_mask`, or ``None`` when ``lengths`` is None or every row is full
    (then the unmasked reference path runs)."""
    if lengths is None:
        return None
    lengths = lengths.to(device)
    if bool((lengths >= num_frames).all()):
        return None
    return lengths_to_mask(lengths, num_frames, device=device)


def mask_rows(mask: torch.Tensor) -> torch.Tensor:
    """A ``(B, 1, T)`` or ``(B, T)`` mask as ``(B, T)``."""
    return mask.reshape(mask.shape[0], mask.shape[-1])


def mask_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Valid frames per row ``(B,)`` as int64."""
    return mask_rows(mask).sum(-1, dtype=torch.float32).long()


def _mask_view(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``mask`` as ``(B, 1, ..., T)`` broadcastable to ``x``, in ``x``'s dtype."""
    shape = (mask.shape[0],) + (1,) * (x.dim() - 2) + (mask.shape[-1],)
    return mask.to(x.dtype).reshape(shape)


def zero_padded_frames(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` with its padded frames (last axis) set to zero: what a zero-padded convolution sees
    past a row's end. ``x`` is ``(B, C, T)`` or ``(B, C, F, T)``."""
    return x if mask is None else x * _mask_view(mask, x)


def frame_counts(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Valid frames per row ``(B,)``, summed in float32 (exact) and cast to ``like``'s dtype."""
    return mask_rows(mask).sum(-1, dtype=torch.float32).to(like.dtype)


def _counts_view(mask: torch.Tensor, x: torch.Tensor, keepdim: bool) -> torch.Tensor:
    n = frame_counts(mask, x)
    return n.view((n.shape[0],) + (1,) * (x.dim() - (1 if keepdim else 2)))


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None, *, keepdim: bool = False) -> torch.Tensor:
    """Mean over the valid frames of the last axis (``x.mean(-1)`` when ``mask`` is None)."""
    if mask is None:
        return x.mean(-1, keepdim=keepdim)
    return (x * _mask_view(mask, x)).sum(-1, keepdim=keepdim) / _counts_view(mask, x, keepdim)


def masked_var(x: torch.Tensor, mask: torch.Tensor | None, *, keepdim: bool = False,
               unbiased: bool = True) -> torch.Tensor:
    """Variance over the valid frames of the last axis, ``N - 1`` denominator when ``unbiased``
    (``torch.var`` semantics; ``x.var(-1)`` when ``mask`` is None)."""
    if mask is None:
        return x.var(-1, keepdim=keepdim, unbiased=unbiased)
    m = _mask_view(mask, x)
    n = _counts_view(mask, x, True)
    mean = (x * m).sum(-1, keepdim=True) / n
    var = (((x - mean) ** 2) * m).sum(-1, keepdim=True) / (n - 1 if unbiased else n)
    return var if keepdim else var.squeeze(-1)


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over time (last axis) giving padded frames zero weight."""
    if mask is not None:
        logits = logits.masked_fill(_mask_view(mask, logits) == 0, float("-inf"))
    return torch.softmax(logits, dim=-1)


def mean_std(x: torch.Tensor, mask: torch.Tensor | None, std_eps: float | None) -> torch.Tensor:
    """``mean ++ std`` over valid frames, ``(B, 2 * C)`` from ``(B, C, T)``; the std is the
    unbiased one, ``sqrt(var)`` when ``std_eps`` is None (3D-Speaker ``StatsPool``) or
    ``sqrt(var + std_eps)`` (WeSpeaker ``TSTP``, 1e-7)."""
    mean = masked_mean(x, mask)
    var = masked_var(x, mask)
    std = var.sqrt() if std_eps is None else (var + std_eps).sqrt()
    return torch.cat([mean, std], dim=-1)


def _flatten_freq(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, F, T)`` -> ``(B, C * F, T)`` (channel-major, as WeSpeaker's ``reshape``); 3-D unchanged."""
    return x.reshape(x.shape[0], -1, x.shape[-1]) if x.dim() == 4 else x


def count_parameters(module: nn.Module) -> int:
    """``sum(p.numel() for p in module.parameters())`` (buffers excluded): the count the
    references and the parity READMEs give."""
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- pooling


class TAP(nn.Module):
    """Temporal average pooling (WeSpeaker ``pooling_layers.TAP``): mean over time, ``(B, C[, F], T)``
    -> ``(B, C[*F])``. No parameters (no keys)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return masked_mean(_flatten_freq(x), mask)


class TSTP(nn.Module):
    """Temporal statistics pooling (WeSpeaker ``pooling_layers.TSTP``, "x-vector" stats):
    ``mean ++ sqrt(unbiased var + eps)`` over time, ``(B, C[, F], T)`` -> ``(B, 2 C[*F])``.

    ``std_eps=None`` gives ``sqrt(unbiased var)`` (3D-Speaker ``StatsPool``). No parameters (no keys).
    """

    def __init__(self, std_eps: float | None = 1e-7):
        super().__init__()
        self.std_eps = std_eps

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return mean_std(_flatten_freq(x), mask, self.std_eps)


def _context(x: torch.Tensor, mask: torch.Tensor | None, std: torch.Tensor) -> torch.Tensor:
    """``[x, mean, std]`` along channels, the utterance statistics repeated over time."""
    t = x.shape[-1]
    mean = masked_mean(x.float(), mask, keepdim=True)
    return torch.cat((x, mean.to(x.dtype).expand(-1, -1, t), std.to(x.dtype).expand(-1, -1, t)), dim=1)


def _weighted_mean_std(xf: torch.Tensor, weights: torch.Tensor, eps: float) -> torch.Tensor:
    """``mu = sum_t w x``, ``sigma = sqrt(max(sum_t w x^2 - mu^2, eps))``; ``(B, 2 C)``."""
    mu = torch.sum(weights * xf, dim=-1)
    var = torch.sum(weights * xf**2, dim=-1) - mu**2
    return torch.cat([mu, torch.sqrt(var.clamp(min=eps))], dim=1)


class ASTP(nn.Module):
    """Attentive statistics pooling, WeSpeaker ``pooling_layers.ASTP`` (Okabe et al. 2018;
    ``global_context_att`` as in ECAPA-TDNN, Desplanques et al. 2020).

    ``alpha = softmax_t(linear2(tanh(linear1(h))))`` with ``h = x`` or, with
    ``global_context``, ``h = [x, mean_t(x), sqrt(var_t(x) + 1e-7)]`` (unbiased variance);
    output ``mu ++ sqrt(max(sum_t alpha x^2 - mu^2, 1e-7))``, ``(B, 2 C[*F])``. Statistics are
    computed in float32 (a variance in bfloat16 cancels badly) and cast back.

    Keys: ``linear1.{weight,bias}`` (Conv1d 1x1, ``C`` or ``3 C`` -> bottleneck),
    ``linear2.{weight,bias}`` (bottleneck -> ``C``).
    """

    def __init__(self, in_dim: int, bottleneck_dim: int = 128, *, global_context: bool = False):
        super().__init__()
        self.global_context = global_context
        self.linear1 = nn.Conv1d(in_dim * 3 if global_context else in_dim, bottleneck_dim, 1)
        self.linear2 = nn.Conv1d(bottleneck_dim, in_dim, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _flatten_freq(x)
        xf = x.float()
        h = x
        if self.global_context:
            h = _context(x, mask, torch.sqrt(masked_var(xf, mask, keepdim=True) + 1e-7))
        alpha = masked_softmax(self.linear2(torch.tanh(self.linear1(h))).float(), mask)
        return _weighted_mean_std(xf, alpha, 1e-7).to(x.dtype)


class ASP(nn.Module):
    """Attentive statistics pooling as clovaai voxceleb_trainer writes it (``ResNetSE34V2`` with
    ``encoder_type="ASP"``; the same form in the SASV2022 DoubleRoc ResNet/Res2Net models):

    ``w = softmax_t(conv2(BN(relu(conv1(h)))))``, output ``mu ++ sqrt(max(sum_t w x^2 - mu^2,
    eps))`` with ``mu = sum_t w x``, ``(B, 2 C[*F])``; clovaai: ``h = x``, ``eps = 1e-5``.

    With ``tanh=True`` a tanh follows the BatchNorm and with ``global_context=True`` ``h = [x,
    mean_t(x), sqrt(max(var_t(x), eps))]`` (unbiased variance): TaoRuijie/ECAPA-TDNN's
    ``attention`` block (``eps = 1e-4``). Statistics in float32, cast back.

    Keys (the indices of the reference's ``nn.Sequential``, so mount this module as the
    family's ``attention`` attribute): ``0.{weight,bias}`` (Conv1d 1x1), ``2.*`` (BatchNorm1d),
    then ``3.{weight,bias}`` (Conv1d 1x1), or ``4.*`` when ``tanh`` (index 3 is the tanh).
    """

    def __init__(self, in_dim: int, bottleneck_dim: int = 128, *, eps: float = 1e-5,
                 global_context: bool = False, tanh: bool = False):
        super().__init__()
        self.eps = eps
        self.global_context = global_context
        self.tanh = tanh
        self.add_module("0", nn.Conv1d(in_dim * 3 if global_context else in_dim, bottleneck_dim, 1))
        self.add_module("2", nn.BatchNorm1d(bottleneck_dim))
        self.add_module("4" if tanh else "3", nn.Conv1d(bottleneck_dim, in_dim, 1))
        self._layers = ("0", "2", "4" if tanh else "3")

    def attention_logits(self, h: torch.Tensor) -> torch.Tensor:
        conv1, bn, conv2 = (self._modules[k] for k in self._layers)
        a = bn(F.relu(conv1(h)))
        return conv2(torch.tanh(a) if self.tanh else a)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _flatten_freq(x)
        xf = x.float()
        h = x
        if self.global_context:
            h = _context(x, mask, torch.sqrt(masked_var(xf, mask, keepdim=True).clamp(min=self.eps)))
        w = masked_softmax(self.attention_logits(h).float(), mask)
        return _weighted_mean_std(xf, w, self.eps).to(x.dtype)


# ---------------------------------------------------------------- squeeze-excitation


def _set_path(root: nn.Module, path: str, module: nn.Module) -> None:
    """Register ``module`` at dotted ``path`` under ``root`` (making plain containers on the way),
    so key names such as ``fc.0`` or ``se.1`` come out as the source's ``nn.Sequential`` wrote them."""
    *parents, leaf = path.split(".")
    node = root
    for name in parents:
        if name not in node._modules:
            node.add_module(name, nn.Module())
        node = node._modules[name]
    node.add_module(leaf, module)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018, arXiv:1709.01507), 1-D or 2-D:
    ``x * sigmoid(W2 [BN] relu(W1 mean(x) + b1) + b2)``, the mean over time (``dims=1``,
    ``(B, C, T)``; masked) or over frequency and time (``dims=2``, ``(B, C, F, T)``; masked in time).

    ``W1``/``W2`` are ``nn.Linear`` or, with ``conv=True``, 1x1 convolutions; ``bn_name`` adds a
    BatchNorm after the ReLU (DoubleRoc Res2Net). Keys: ``<names[0]>.{weight,bias}``,
    ``[<bn_name>.*]``, ``<names[1]>.{weight,bias}``; dotted names nest. Defaults give WeSpeaker
    ``SE_Connect`` (``linear1``/``linear2``); clovaai ``SELayer``: ``names=("fc.0", "fc.2")``;
    TaoRuijie ``SEModule``: ``names=("se.1", "se.3"), conv=True``; SpeechBrain ``SEBlock``:
    ``names=("conv1.conv", "conv2.conv"), conv=True``; DoubleRoc Res2Net: ``names=("se.1",
    "se.4"), bn_name="se.3", conv=True, dims=2``.
    """

    def __init__(self, channels: int, bottleneck: int, *, dims: int = 1, conv: bool = False,
                 names: tuple[str, str] = ("linear1", "linear2"), bn_name: str | None = None):
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims}")
        self.dims = dims
        self.conv = conv
        conv_cls = nn.Conv1d if dims == 1 else nn.Conv2d
        make = (lambda i, o: conv_cls(i, o, 1)) if conv else nn.Linear
        _set_path(self, names[0], make(channels, bottleneck))
        if bn_name is not None:
            _set_path(self, bn_name, (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(bottleneck))
        _set_path(self, names[1], make(bottleneck, channels))
        self._paths = (names[0], bn_name, names[1])

    def squeeze(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """The mean ``(B, C, 1[, 1])`` the gate is computed from."""
        if self.dims == 1:
            return masked_mean(x, mask, keepdim=True)
        if mask is None:
            return x.mean((-2, -1), keepdim=True)
        return masked_mean(x, mask, keepdim=True).mean(-2, keepdim=True)

    def gate(self, s: torch.Tensor) -> torch.Tensor:
        """``sigmoid(W2 [BN] relu(W1 s))`` of the squeezed ``(B, C, 1[, 1])``."""
        first, bn, second = (None if p is None else self.get_submodule(p) for p in self._paths)
        flat = not self.conv
        h = first(s.flatten(1) if flat else s)
        h = F.relu(h)
        if bn is not None:
            h = bn(h)
        g = torch.sigmoid(second(h))
        return g.view(g.shape + (1,) * (s.dim() - 2)) if flat else g

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return x * self.gate(self.squeeze(x, mask))


# ---------------------------------------------------------------- Res2Net (res2net.py: sonic-cipher SE-Res2Net50 v1b)


def bias_free(se: SqueezeExcitation) -> SqueezeExcitation:
    """``se`` with its two maps bias-free (their ``bias`` keys gone), in place: sonic-cipher's
    ``SELayer`` builds them as ``nn.Linear(..., bias=False)`` (keys ``fc.0.weight``, ``fc.2.weight``)."""
    for path in (se._paths[0], se._paths[2]):
        se.get_submodule(path).bias = None
    return se
