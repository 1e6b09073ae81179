"""Fold an eval-mode BatchNorm into the convolution before it (inference forms of the networks).

In eval mode ``BatchNorm(conv(x))`` is an affine map per output channel ``o``::

    scale[o] = gamma[o] / sqrt(running_var[o] + eps)
    W'[o]    = W[o] * scale[o]
    b'[o]    = (b[o] - running_mean[o]) * scale[o] + beta[o]     (b = 0 for a bias-free conv)

so one convolution with ``W'``, ``b'`` computes both (``gamma = 1, beta = 0`` for
``affine=False``). This holds for any ``Conv1d`` / ``Conv2d`` / ``Conv3d`` (stride, padding,
dilation, groups: ``W[o]`` is still output channel ``o``'s kernel) and only in eval mode: a
training-mode BatchNorm normalises with the batch's statistics, which no fixed map reproduces.

* :func:`fold_conv_bn` — one (conv, bn) pair -> a new convolution;
* :func:`fold_pairs` — replace named pairs inside a network (the BatchNorm becomes ``Identity``);
* :func:`fold_sequential_pairs` — every conv directly followed by a BatchNorm inside an
  ``nn.Sequential`` (e.g. ResNet shortcuts ``Sequential(Conv2d, BatchNorm2d)``).

Each returns a folded copy, or rewrites the network itself with ``in_place=True``. The scale is
computed in float64 and the result cast back to the convolution's dtype.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _check_pair(conv: nn.Module, bn: nn.Module) -> None:
    if not isinstance(conv, _CONVS):
        raise TypeError(f"fold_conv_bn folds a Conv1d/2d/3d, got {type(conv).__name__}")
    if not isinstance(bn, _BATCHNORMS):
        raise TypeError(f"fold_conv_bn folds a BatchNorm1d/2d/3d, got {type(bn).__name__}")
    if bn.training:
        raise ValueError("fold_conv_bn needs an eval-mode BatchNorm (training mode uses batch statistics)")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fold_conv_bn needs a BatchNorm with running statistics (track_running_stats=True)")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"BatchNorm of {bn.num_features} channels cannot follow a conv with "
                         f"{conv.out_channels} output channels")


@torch.no_grad()
def fold_conv_bn(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """A new convolution computing ``bn(conv(x))`` of the eval-mode ``bn`` (always with a bias)."""
    _check_pair(conv, bn)
    dtype = conv.weight.dtype
    var = bn.running_var.double()
    scale = torch.rsqrt(var + bn.eps)
    if bn.affine:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.affine:
        shift = shift + bn.bias.double()
    if conv.bias is not None:
        shift = shift + conv.bias.double() * scale
    folded = copy.deepcopy(conv)
    if folded.bias is None:
        folded.bias = nn.Parameter(torch.empty(conv.out_channels, dtype=dtype, device=conv.weight.device))
    view = (-1,) + (1,) * (conv.weight.dim() - 1)
    folded.weight.copy_((conv.weight.double() * scale.view(view)).to(dtype))
    folded.bias.copy_(shift.to(dtype))
    return folded.train(False)


def _parent(root: nn.Module, path: str) -> tuple[nn.Module, str]:
    head, _, name = path.rpartition(".")
    return (root.get_submodule(head) if head else root), name


def fold_pairs(model: nn.Module, pairs: Iterable[tuple[str, str]], *, in_place: bool = False) -> nn.Module:
    """``model`` with each ``(conv_path, bn_path)`` pair folded: the conv at ``conv_path``
    (a dotted submodule name, e.g. ``"layer1.0.conv1"``) is replaced by the folded conv and the
    BatchNorm at ``bn_path`` by ``nn.Identity``. The caller guarantees that the BatchNorm is
    applied directly to the conv's output (nothing in between) and nowhere else."""
    out = model if in_place else copy.deepcopy(model)
    for conv_path, bn_path in pairs:
        conv, bn = out.get_submodule(conv_path), out.get_submodule(bn_path)
        folded = fold_conv_bn(conv, bn)
        parent, name = _parent(out, conv_path)
        setattr(parent, name, folded)
        parent, name = _parent(out, bn_path)
        setattr(parent, name, nn.Identity())
    return out


def sequential_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """``(conv_path, bn_path)`` of every conv directly followed by a BatchNorm in an ``nn.Sequential``."""
    pairs = []
    for path, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (c_name, conv), (b_name, bn) in zip(children, children[1:]):
            if isinstance(conv, _CONVS) and isinstance(bn, _BATCHNORMS):
                prefix = f"{path}." if path else ""
                pairs.append((prefix + c_name, prefix + b_name))
    return pairs


def fold_sequential_pairs(model: nn.Module, *, in_place: bool = False) -> nn.Module:
    """:func:`fold_pairs` of :func:`sequential_pairs`: every ``Sequential(..., conv, bn, ...)`` folded.

    Inside a Sequential the output of one child is the input of the next only, so the pairing
    is safe without further knowledge of the network."""
    return fold_pairs(model, sequential_pairs(model), in_place=in_place)
