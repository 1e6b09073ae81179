"""Shared layers (asvbench/models/layers.py): masked statistics and pooling by hand, key names
against the parity fixtures' key lists, padded rows equal to the rows alone."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from asvbench.models.layers import (
    ASP,
    ASTP,
    TAP,
    TSTP,
    SqueezeExcitation,
    count_parameters,
    frame_mask,
    lengths_to_mask,
    masked_mean,
    masked_softmax,
    masked_var,
    zero_padded_frames,
)
from tests.models._parity import parity_case

pytestmark = pytest.mark.usefixtures("two_torch_threads")

X = torch.tensor([[[1.0, 2.0, 3.0, 50.0]]])  # one row, one channel; frame 4 is padding below
MASK = torch.tensor([[[1.0, 1.0, 1.0, 0.0]]])


def test_masks_by_hand():
    assert lengths_to_mask(torch.tensor([2, 4]), 4).tolist() == [[[1, 1, 0, 0]], [[1, 1, 1, 1]]]
    assert frame_mask(None, 4, torch.device("cpu")) is None
    assert frame_mask(torch.tensor([4, 4]), 4, torch.device("cpu")) is None  # every row full
    assert frame_mask(torch.tensor([3]), 4, torch.device("cpu")).tolist() == MASK.tolist()
    assert zero_padded_frames(X, MASK).tolist() == [[[1.0, 2.0, 3.0, 0.0]]]
    assert zero_padded_frames(X, None) is X


def test_masked_statistics_by_hand():
    # valid frames [1, 2, 3]: mean 2; squared deviations 1 + 0 + 1 = 2 -> unbiased 2 / 2 = 1, biased 2 / 3
    assert masked_mean(X, MASK).item() == 2.0
    assert masked_mean(X, MASK[:, 0]).item() == 2.0  # a (B, T) mask works too
    assert masked_var(X, MASK).item() == 1.0
    assert masked_var(X, MASK, unbiased=False).item() == pytest.approx(2 / 3)
    assert masked_mean(X, None).item() == (1 + 2 + 3 + 50) / 4
    assert masked_var(X, MASK, keepdim=True).shape == (1, 1, 1)
    # softmax of equal logits over the 3 valid frames: 1/3 each, 0 on the padded frame
    assert masked_softmax(torch.zeros(1, 1, 4), MASK)[0, 0].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])


def test_tap_and_tstp_by_hand_on_2d_maps():
    # (B=1, C=2, F=2, T=3); WeSpeaker flattens (C, F) channel-major: rows c0f0, c0f1, c1f0, c1f1
    x = torch.tensor([[[[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]], [[4.0, 4.0, 4.0], [-1.0, 1.0, 0.0]]]])
    assert TAP()(x).tolist() == [[2.0, 2.0, 4.0, 0.0]]
    # unbiased variances: [1,2,3] -> 1; [0,0,6] -> (4+4+16)/2 = 12; [4,4,4] -> 0; [-1,1,0] -> (1+1+0)/2 = 1
    out = TSTP(std_eps=None)(x)
    assert out[0].tolist() == pytest.approx([2.0, 2.0, 4.0, 0.0, 1.0, math.sqrt(12), 0.0, 1.0])
    assert TSTP()(x)[0, 6].item() == pytest.approx(math.sqrt(1e-7))  # WeSpeaker: sqrt(var + 1e-7)
    # masked to the first 2 frames: [1,2] mean 1.5, var 0.5
    masked = TSTP(std_eps=None)(x, lengths_to_mask(torch.tensor([2]), 3))
    assert masked[0, 0].item() == 1.5 and masked[0, 4].item() == pytest.approx(math.sqrt(0.5))


def _uniform_attention(pool: nn.Module, second: nn.Conv1d) -> nn.Module:
    """Zero the last 1x1 map: equal logits, so the attention weights are uniform over valid frames."""
    with torch.no_grad():
        second.weight.zero_()
        second.bias.zero_()
    return pool.eval()


@pytest.mark.parametrize("global_context", [False, True])
def test_astp_uniform_attention_gives_mean_and_population_std(global_context):
    pool = ASTP(1, 4, global_context=global_context)
    pool = _uniform_attention(pool, pool.linear2)
    # valid [1, 2, 3], uniform weights: mu = 2, sum w x^2 - mu^2 = 14/3 - 4 = 2/3
    out = pool(X, MASK)
    assert out[0].tolist() == pytest.approx([2.0, math.sqrt(2 / 3)], rel=1e-6)


def test_asp_uniform_attention_and_clamp():
    pool = ASP(1, 4)
    pool = _uniform_attention(pool, pool._modules["3"])
    assert pool(X, MASK)[0].tolist() == pytest.approx([2.0, math.sqrt(2 / 3)], rel=1e-6)
    # a constant signal: variance 0, clamped to eps = 1e-5 (clovaai)
    assert pool(torch.full((1, 1, 5), 7.0))[0, 1].item() == pytest.approx(math.sqrt(1e-5))


def test_squeeze_excitation_zero_gate_halves():
    se = SqueezeExcitation(2, 1)
    with torch.no_grad():
        se.linear2.weight.zero_()
        se.linear2.bias.zero_()
    x = torch.randn(1, 2, 5)
    torch.testing.assert_close(se(x), x * 0.5)  # sigmoid(0) = 1/2


def _keys_and_shapes(module: nn.Module, prefix: str) -> dict[str, tuple[int, ...]]:
    return {prefix + k: tuple(v.shape) for k, v in module.state_dict().items()}


def _fixture_keys(shared_dir, folder: str, prefix: str) -> dict[str, tuple[int, ...]]:
    keys = parity_case(shared_dir, folder).keys
    return {k: shape for k, (shape, _) in keys.items() if k.startswith(prefix)}


def test_pooling_and_se_key_names_match_the_references(shared_dir):
    # clovaai ResNetSE34V2: attention over 256 * 64 / 8 = 2048 channels, SE of layer1.0: 32 -> 32 / 8
    assert _keys_and_shapes(ASP(2048, 128), "attention.") == _fixture_keys(
        shared_dir, "voxceleb_trainer_resnetse34v2", "attention.")
    se = SqueezeExcitation(32, 4, dims=2, names=("fc.0", "fc.2"))
    assert _keys_and_shapes(se, "layer1.0.se.") == _fixture_keys(
        shared_dir, "voxceleb_trainer_resnetse34v2", "layer1.0.se.")
    # TaoRuijie ECAPA: global-context attention 3 * 1536 -> 256 -> 1536 with a tanh; SE via 1x1 convs
    tao = ASP(1536, 256, eps=1e-4, global_context=True, tanh=True)
    assert _keys_and_shapes(tao, "attention.") == _fixture_keys(shared_dir, "taoruijie_ecapa_c1024", "attention.")
    tao_se = SqueezeExcitation(1024, 128, conv=True, names=("se.1", "se.3"))
    assert _keys_and_shapes(tao_se, "layer1.se.") == _fixture_keys(shared_dir, "taoruijie_ecapa_c1024", "layer1.se.")
    # WeSpeaker ECAPA c512: ASTP with global context over the 1536-channel MFA output
    astp = ASTP(1536, 128, global_context=True)
    assert _keys_and_shapes(astp, "pool.") == _fixture_keys(shared_dir, "wespeaker_ecapa_tdnn_glob_c512", "pool.")


@pytest.mark.parametrize("make", [
    lambda: ASTP(3, 4, global_context=True),
    lambda: ASP(3, 4, eps=1e-4, global_context=True, tanh=True),
    lambda: TSTP(),
    lambda: SqueezeExcitation(3, 2),
])
def test_padded_row_equals_the_row_alone(make):
    torch.manual_seed(0)
    pool = make().eval()
    short, long = torch.randn(1, 3, 5), torch.randn(1, 3, 9)
    batch = torch.cat([torch.nn.functional.pad(short, (0, 4)), long])
    mask = lengths_to_mask(torch.tensor([5, 9]), 9)
    with torch.no_grad():
        out = pool(batch, mask)
        first = out[0, ..., :5] if out.dim() == 3 else out[0]  # SE keeps time: compare the valid frames
        torch.testing.assert_close(first, pool(short)[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out[1], pool(long)[0], atol=1e-6, rtol=1e-5)


def test_se_2d_squeezes_frequency_and_time():
    se = SqueezeExcitation(1, 1, dims=2)
    x = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    assert se.squeeze(x, None).item() == 3.0  # (1 + 2 + 3 + 6) / 4
    assert se.squeeze(x, lengths_to_mask(torch.tensor([1]), 2)).item() == 2.0  # frame 0 only: (1 + 3) / 2


def test_count_parameters_by_hand():
    assert count_parameters(nn.Linear(3, 2)) == 3 * 2 + 2
    assert count_parameters(nn.BatchNorm1d(4)) == 8  # weight + bias; running stats are buffers
