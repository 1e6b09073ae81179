"""Conv + BatchNorm folding (asvbench.models.fold): by hand, and against the unfolded pair."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asvbench.models.fold import fold_conv_bn, fold_pairs, fold_sequential_pairs, sequential_pairs

pytestmark = pytest.mark.usefixtures("two_torch_threads")


def _bn(channels: int, dims: int, *, affine: bool = True, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    bn = (nn.BatchNorm1d, nn.BatchNorm2d)[dims - 1](channels, affine=affine, eps=1e-5)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(channels, generator=g))
        bn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
        if affine:
            bn.weight.copy_(torch.randn(channels, generator=g))
            bn.bias.copy_(torch.randn(channels, generator=g))
    return bn.eval()


def test_fold_by_hand():
    # y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta with conv(x) = 2x (no bias),
    # mean 1, var 3, eps 1, gamma 4, beta 5: y = 4 * (2x - 1) / 2 + 5 = 4x + 3
    conv = nn.Conv1d(1, 1, 1, bias=False)
    bn = nn.BatchNorm1d(1, eps=1.0).eval()
    with torch.no_grad():
        conv.weight.fill_(2.0)
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(3.0)
        bn.weight.fill_(4.0)
        bn.bias.fill_(5.0)
    folded = fold_conv_bn(conv, bn)
    assert folded.weight.item() == 4.0 and folded.bias.item() == 3.0
    assert conv.bias is None and conv.weight.item() == 2.0  # the original is untouched
    # with a conv bias 0.5: conv(x) = 2x + 0.5 -> y = 4 * (2x - 0.5) / 2 + 5 = 4x + 4
    conv2 = nn.Conv1d(1, 1, 1)
    with torch.no_grad():
        conv2.weight.fill_(2.0)
        conv2.bias.fill_(0.5)
    assert fold_conv_bn(conv2, bn).bias.item() == 4.0
    # affine=False: gamma 1, beta 0: y = (2x - 1) / 2 = x - 0.5
    plain = nn.BatchNorm1d(1, eps=1.0, affine=False).eval()
    with torch.no_grad():
        plain.running_mean.fill_(1.0)
        plain.running_var.fill_(3.0)
    f = fold_conv_bn(conv, plain)
    assert f.weight.item() == 1.0 and f.bias.item() == -0.5


@pytest.mark.parametrize("conv", [
    nn.Conv2d(8, 16, 3, stride=(2, 1), padding=1, bias=False),
    nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False),  # depthwise
    nn.Conv2d(8, 16, 1, stride=2),
    nn.Conv1d(8, 16, 5, dilation=2, padding=4, bias=False),
    nn.Conv1d(8, 16, 3, stride=2, padding=1, groups=4),
])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_equals_conv_then_batchnorm(conv, affine):
    dims = conv.weight.dim() - 2
    bn = _bn(conv.out_channels, dims, affine=affine, seed=conv.out_channels + dims)
    x = torch.randn((2, conv.in_channels) + (12,) * dims, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = bn(conv.eval()(x))
        got = fold_conv_bn(conv, bn)(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, 6, 3, padding=1, bias=False)
        self.bn1 = _bn(6, 2, seed=1)
        self.shortcut = nn.Sequential(nn.Conv2d(4, 6, 1, bias=False), _bn(6, 2, seed=2))
        self.empty = nn.Sequential()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn1(self.conv1(x))) + self.shortcut(x) + self.empty(x).sum()


def test_fold_pairs_and_sequential_pairs_copy_or_in_place():
    block = _Block().eval()
    x = torch.randn(2, 4, 7, 9, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = block(x)
    assert sequential_pairs(block) == [("shortcut.0", "shortcut.1")]
    folded = fold_sequential_pairs(fold_pairs(block, [("conv1", "bn1")]))
    assert isinstance(folded.bn1, nn.Identity) and isinstance(folded.shortcut[1], nn.Identity)
    assert isinstance(block.bn1, nn.BatchNorm2d)  # a copy: the original keeps its BatchNorms
    with torch.no_grad():
        torch.testing.assert_close(folded(x), expected, rtol=1e-5, atol=1e-5)
    same = fold_pairs(block, [("conv1", "bn1")], in_place=True)
    assert same is block and isinstance(block.bn1, nn.Identity)


def test_fold_refuses_what_it_cannot_fold():
    conv = nn.Conv2d(2, 3, 1)
    with pytest.raises(ValueError, match="eval-mode"):
        fold_conv_bn(conv, nn.BatchNorm2d(3).train())
    with pytest.raises(ValueError, match="running statistics"):
        fold_conv_bn(conv, nn.BatchNorm2d(3, track_running_stats=False).eval())
    with pytest.raises(ValueError, match="3 output channels"):
        fold_conv_bn(conv, nn.BatchNorm2d(4).eval())
    with pytest.raises(TypeError, match="Conv1d/2d/3d"):
        fold_conv_bn(nn.Linear(2, 3), nn.BatchNorm1d(3).eval())
