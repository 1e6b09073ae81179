"""CAM++ network: structure, masking of padded batches, minimum length, dtypes (no ../shared needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.frontends import get_frontend
from asvbench.models.base import LoadedModel, ModelEntry
from asvbench.models.campplus import (
    MIN_FRAMES,
    PRESETS,
    CAMPPlusConfig,
    _segment_mean,
    build_campplus,
)
from asvbench.models.glue import frontend_network_forward
from asvbench.models.layers import count_parameters
from asvbench.models.layers import mean_std as _stats_pool
from tests.models._parity import fill_state_dict

pytestmark = pytest.mark.usefixtures("two_torch_threads")


def _filled(model: torch.nn.Module) -> torch.nn.Module:
    """Rule-B weights (FILL_RULE.md): full-rank, input-sensitive, deterministic."""
    model.load_state_dict(fill_state_dict(model.state_dict(), "B"))
    return model.eval()


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1))


def _wave(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / 16000
    f = 100 + 40 * seed
    return (0.3 * torch.sin(2 * torch.pi * f * t) + 0.03 * torch.randn(n, generator=g, dtype=torch.float64)).float()


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize(("preset", "n_params"), [
    # published counts: shared/parity/*campplus_e192/README.md 6,848,544; WeSpeaker / 3D-Speaker CAM++ (embed 512) 7.18 M,
    # exactly 7,176,224 in shared/parity/*campplus_e512/README.md and docs/models.md §2.7
    ("3dspeaker-e192", 6_848_544), ("wespeaker-e192", 6_848_544),
    ("3dspeaker-e512", 7_176_224), ("wespeaker-e512", 7_176_224),
])
def test_parameter_counts(preset, n_params):
    model = build_campplus(preset)
    assert count_parameters(model) == n_params
    keys = list(model.state_dict())
    assert len(keys) == 937  # docs/models.md §2.7: "Total 937 keys"
    assert sum(k.endswith("num_batches_tracked") for k in keys) == 122
    assert "xvector.dense.nonlinear.batchnorm.weight" not in keys  # BatchNorm1d(affine=False)
    assert model.xvector.dense.linear.weight.shape == (PRESETS[preset].embed_dim, 1024, 1)
    assert not model.training


def test_presets_differ_only_in_pooling_epsilon_and_size():
    assert PRESETS["3dspeaker-e192"].std_eps is None and PRESETS["wespeaker-e192"].std_eps == 1e-7
    assert PRESETS["3dspeaker-e512"].embed_dim == PRESETS["wespeaker-e512"].embed_dim == 512


def test_bad_config_and_preset():
    with pytest.raises(AsvbenchError, match="unknown CAM\\+\\+ preset"):
        build_campplus("campplus-huge")
    with pytest.raises(ValueError, match="multiple of 8"):
        CAMPPlusConfig(feat_dim=81)
    with pytest.raises(ValueError, match="odd"):
        CAMPPlusConfig(kernel_size=4)


# ------------------------------------------------------------------ masked pieces, by hand


def test_segment_mean_by_hand():
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    # segments of 2: [1, 2] -> 1.5, [3, 4] -> 3.5, [5] -> 5 (last partial segment: mean of what it holds)
    expected = torch.tensor([[[1.5, 1.5, 3.5, 3.5, 5.0]]])
    torch.testing.assert_close(_segment_mean(x, 2, None), expected)
    # masked: frames 4..5 padded (valid length 3): [1, 2] -> 1.5, [3] -> 3, padded frames don't count
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0]])
    out = _segment_mean(torch.tensor([[[1.0, 2.0, 3.0, 99.0, 99.0]]]), 2, mask)
    torch.testing.assert_close(out[..., :3], torch.tensor([[[1.5, 1.5, 3.0]]]))


def test_stats_pool_by_hand():
    x = torch.tensor([[[1.0, 2.0, 3.0, 50.0]]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    # valid [1, 2, 3]: mean 2, unbiased var ((1)^2 + 0 + (1)^2) / (3 - 1) = 1, std 1
    torch.testing.assert_close(_stats_pool(x, mask, None), torch.tensor([[2.0, 1.0]]))
    torch.testing.assert_close(_stats_pool(x[..., :3], None, None), torch.tensor([[2.0, 1.0]]))
    # WeSpeaker TSTP: sqrt(var + 1e-7)
    torch.testing.assert_close(_stats_pool(x, mask, 1e-7), torch.tensor([[2.0, float(np.sqrt(1 + 1e-7))]]))


# ------------------------------------------------------------------ padded batches == one at a time


_SMALL = CAMPPlusConfig(embed_dim=16, block_layers=(2, 1, 1), block_dilations=(1, 2, 2), seg_len=4, std_eps=1e-7)


@pytest.fixture(scope="module")
def small_model() -> torch.nn.Module:
    return _filled(build_campplus(_SMALL))


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(min_value=MIN_FRAMES, max_value=40), min_size=2, max_size=4), seed=st.integers(0, 99))
def test_network_padding_does_not_change_embeddings(small_model, lengths, seed):
    """Padded frames hold garbage; each row must still equal its unpadded run (seg_len 4: partial segments)."""
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    feats = torch.randn(len(lengths), t, 80, generator=g)
    with torch.no_grad():
        batched = small_model(feats, torch.tensor(lengths))
        for i, n in enumerate(lengths):
            single = small_model(feats[i : i + 1, :n])
            torch.testing.assert_close(batched[i], single[0], rtol=1e-4, atol=1e-5)


def test_full_lengths_take_the_unmasked_path(small_model):
    feats = torch.randn(2, 30, 80, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(small_model(feats, torch.tensor([30, 30])), small_model(feats))


@pytest.fixture(scope="module")
def loaded_e192() -> LoadedModel:
    module = _filled(build_campplus("3dspeaker-e192"))
    entry = _entry(module)
    return LoadedModel(entry, module, frontend_network_forward(get_frontend("kaldi-fbank-80"), module,
                                                               min_samples=720, name="test"))


def _entry(module: torch.nn.Module) -> ModelEntry:
    return ModelEntry(name="test", family="campplus", kind="embedding", source="test", embed_dim=192,
                      sample_rate=16000, frontend="kaldi-fbank-80", licence="-", loader=lambda p: None,
                      min_samples=720)


def test_batched_extraction_equals_one_at_a_time(loaded_e192):
    lengths = [720, 16000, 3999, 40000, 25601]  # 720 = shortest allowed; 40,000 spans several 100-frame segments
    wavs = torch.full((len(lengths), max(lengths)), 0.3)  # non-zero padding
    for i, n in enumerate(lengths):
        wavs[i, :n] = _wave(n, i)
    batched = loaded_e192.forward(wavs, torch.tensor(lengths))
    assert batched.shape == (5, 192) and batched.dtype == torch.float32
    for i, n in enumerate(lengths):
        single = loaded_e192.forward(wavs[i : i + 1, :n], torch.tensor([n]))[0]
        assert _cos(batched[i], single) >= 0.9999
        assert float((batched[i] - single).norm() / single.norm()) < 1e-5  # 10x below the input sensitivity


def test_embeddings_depend_on_input(loaded_e192):
    """Two different inputs move the rule-B embedding >= 10x more than the batching tolerance (1e-5).

    (CAM++ under fill rule B is weakly input-sensitive: measured 1.4e-4 here; README 8.8e-4 on the fixtures.)
    """
    a = loaded_e192.forward(_wave(16000, 1)[None], torch.tensor([16000]))[0]
    b = loaded_e192.forward(_wave(16000, 2)[None], torch.tensor([16000]))[0]
    assert float((a - b).norm() / a.norm()) > 1e-4


def test_minimum_length(loaded_e192):
    # 720 samples -> 3 frames -> ceil(3/2) = 2 frames after the stride-2 TDNN: unbiased std defined
    ok = loaded_e192.forward(_wave(720, 3)[None], torch.tensor([720]))
    assert torch.isfinite(ok).all()
    with pytest.raises(AsvbenchError, match="at least 720 samples"):
        loaded_e192.forward(_wave(719, 3)[None], torch.tensor([719]))
    # why: with 2 frames (1 after the TDNN) the unbiased std of one frame is NaN
    with torch.no_grad(), pytest.warns(UserWarning, match="degrees of freedom"):
        two = loaded_e192.module(torch.randn(1, 2, 80))
    assert torch.isnan(two).any()


def test_bfloat16_runs_and_stays_close(loaded_e192):
    module = _filled(build_campplus("3dspeaker-e192"))
    fwd32 = frontend_network_forward(get_frontend("kaldi-fbank-80"), module, min_samples=720)
    wav = _wave(16000, 4)[None]
    e32 = fwd32(wav, torch.tensor([16000]))[0]
    module.to(torch.bfloat16)
    e16 = frontend_network_forward(get_frontend("kaldi-fbank-80"), module, min_samples=720)(wav, torch.tensor([16000]))
    assert e16.dtype == torch.float32
    assert _cos(e16[0], e32) > 0.99
