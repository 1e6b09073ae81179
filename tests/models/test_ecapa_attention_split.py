"""The ECAPA inference form's global-context attention (``ContextSplitAttention`` and the three
pooling forms built on it) computes what the plain pooling layers compute, and the whole
inference form of each layout reproduces the reference implementations' embeddings of the
parity fixtures (``../shared/parity``) to the bounds the plain network is held to there.

The split ``W [x; m; s] + c = W_x x + (W_m m + W_s s + c)`` only reorders float32 sums, so the
bound is a rounding one: the pooled outputs agree to a max absolute difference <= 1e-5 of the
largest component (measured ~1e-7) on masked and unmasked batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from asvbench.models import ecapa_tdnn as ecapa
from asvbench.models.ecapa_inference import (
    AspInference,
    AstpInference,
    ContextSplitAttention,
    ConvClamp,
    SbAspInference,
    ecapa_for_inference,
)
from asvbench.models.layers import ASP, ASTP, lengths_to_mask
from tests.models._parity import cosine, parity_case
from tests.models.test_ecapa_parity import IDS, LAYOUTS, _embed, _filled_module, _frontend

pytestmark = pytest.mark.usefixtures("two_torch_threads")


def _random_state(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights and BatchNorm statistics, gammas of both signs (so both clamp bounds occur)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(0.2 + 2 * torch.rand(tensor.shape, generator=g))
            elif tensor.dim() == 1:
                tensor.copy_(torch.randn(tensor.shape, generator=g))
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=g) / tensor[0].numel() ** 0.5)
    return module.eval()


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    assert float((a - b).abs().max()) <= 1e-5 * float(a.abs().max())


def test_split_layer_by_hand():
    # C = 1, one output: W = [2, 3, -1], c = 0.5, so y_t = 2 x_t + 3 m - s + 0.5;
    # x = (1, 4), m = 2, s = 1 -> y = (2 + 6 - 1 + 0.5, 8 + 6 - 1 + 0.5) = (7.5, 13.5)
    conv = torch.nn.Conv1d(3, 1, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[2.0], [3.0], [-1.0]]]))
        conv.bias.fill_(0.5)
    x = torch.tensor([[[1.0, 4.0]]])
    mean, std = torch.tensor([[2.0]]), torch.tensor([[1.0]])
    assert ContextSplitAttention(conv)(x, mean, std).flatten().tolist() == [7.5, 13.5]
    # then ReLU and a BatchNorm with mean 10, var 4 - eps, gamma -2, beta 1: bn(u) = -(u - 10) + 1
    # relu(7.5, 13.5) = (7.5, 13.5) -> (3.5, -2.5)
    bn = torch.nn.BatchNorm1d(1).eval()
    with torch.no_grad():
        bn.running_mean.fill_(10.0)
        bn.running_var.fill_(4.0 - bn.eps)
        bn.weight.fill_(-2.0)
        bn.bias.fill_(1.0)
    assert ContextSplitAttention(conv, bn)(x, mean, std).flatten().tolist() == pytest.approx([3.5, -2.5], abs=1e-6)


@pytest.mark.parametrize("with_bn", [False, True])
def test_split_layer_equals_the_layer_on_the_context(with_bn):
    channels, out = 12, 5
    conv = _random_state(torch.nn.Conv1d(3 * channels, out, 1), 1)
    bn = _random_state(torch.nn.BatchNorm1d(out), 2) if with_bn else None
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, channels, 9, generator=g)
    mean, std = torch.randn(2, channels, generator=g), torch.rand(2, channels, generator=g)
    context = torch.cat((x, mean[:, :, None].expand(-1, -1, 9), std[:, :, None].expand(-1, -1, 9)), dim=1)
    expected = conv(context) if bn is None else bn(F.relu(conv(context)))
    with torch.no_grad():
        _close(expected, ContextSplitAttention(conv, bn)(x, mean, std))


def test_split_layer_refuses_what_it_cannot_split():
    with pytest.raises(ValueError, match="1x1 layer on 3 x C"):
        ContextSplitAttention(torch.nn.Conv1d(10, 4, 1))
    with pytest.raises(ValueError, match="1x1 layer on 3 x C"):
        ContextSplitAttention(torch.nn.Conv1d(12, 4, 3))
    with pytest.raises(ValueError, match="eval-mode"):
        ContextSplitAttention(torch.nn.Conv1d(12, 4, 1), torch.nn.BatchNorm1d(4).train())


def _pools() -> list[tuple[str, torch.nn.Module, type]]:
    return [("wespeaker ASTP", ASTP(16, 6, global_context=True), AstpInference),
            ("taoruijie ASP", ASP(16, 6, eps=1e-4, global_context=True, tanh=True), AspInference),
            ("speechbrain ASP", ecapa.SbASP(16, 6), SbAspInference)]


@pytest.mark.parametrize("case", range(3), ids=[name for name, _, _ in _pools()])
def test_pooling_forms_equal_the_pooling_layers(case):
    _, pool, form_of = _pools()[case]
    pool = _random_state(pool, 10 + case)
    form = form_of(pool).eval()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(3, 16, 30, generator=g)
    mask = lengths_to_mask(torch.tensor([30, 17, 5]), 30)
    with torch.no_grad():
        for m in (None, mask):
            _close(pool(x, m), form(x, m))


def test_conv_clamp_reuse_scales_the_given_convolution():
    conv = _random_state(torch.nn.Conv1d(4, 6, 3, padding=1), 5)
    bn = _random_state(torch.nn.BatchNorm1d(6), 6)
    x = torch.randn(1, 4, 11, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = bn(F.relu(conv(x)))
        weight = conv.weight.clone()
        copied = ConvClamp(conv, bn)
        assert torch.equal(conv.weight, weight)  # without reuse the given convolution is left as it was
        reused = ConvClamp(conv, bn, reuse=True)
        assert reused.conv is conv
        assert torch.equal(reused(x), copied(x))  # the same arithmetic on the same weights
        _close(expected, reused(x))


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS, ids=IDS)
def test_inference_form_matches_reference_embeddings(shared_dir, layout):
    # the bounds of test_ecapa_parity's rule-B and rule-A checks of the plain network
    case = parity_case(shared_dir, layout.folder)
    for rule in ("B", "A"):
        module = _filled_module(case, layout, rule)
        frontend = _frontend(layout, module)
        form = ecapa_for_inference(module, in_place=True)
        for x in ("a", "b"):
            ours, ref = _embed(form, frontend, case.inputs[x]), case.embeddings[rule][x]
            assert np.linalg.norm(ours - ref) / np.linalg.norm(ref) <= 1e-4
            if rule == "B":
                assert cosine(ours, ref) >= 0.99999
