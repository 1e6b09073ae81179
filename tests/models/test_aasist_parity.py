"""AASIST / AASIST-L: parity with clovaai/aasist @ a04c9863 (``../shared/parity/aasist*_clovaai``),
input handling (``data_utils.pad``), configs, and CM score helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.models.aasist import (
    PRESETS,
    build_aasist,
    cm_scores,
    config_from_conf_file,
    fixed_length_input,
    get_preset,
    sinc_filters,
)
from asvbench.models.adapters import get_adapter
from asvbench.models.base import load_strict
from tests.models._batch import padded_batch
from tests.models._parity import fill_state_dict, parity_case

pytestmark = pytest.mark.usefixtures("two_torch_threads")

CASES = [("aasist_clovaai", "AASIST"), ("aasist_l_clovaai", "AASIST-L")]


def _filled(preset: str, rule: str) -> torch.nn.Module:
    module = build_aasist(get_preset(preset)).eval()
    # released files are plain state dicts; a DataParallel save adds `module.` (stripped by the adapter)
    ckpt = {f"module.{k}": v for k, v in fill_state_dict(module.state_dict(), rule).items()}
    load_strict(module, get_adapter("clovaai-aasist")(ckpt, where="<filled>"), where="<filled>", family=preset)
    return module


@pytest.mark.parametrize("folder,preset", CASES)
def test_keys_shapes_and_parameter_count(shared_dir, folder, preset):
    case = parity_case(shared_dir, folder)
    module = build_aasist(get_preset(preset))
    ours = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in module.state_dict().items()}
    assert ours == case.keys
    assert len(ours) == 229
    # README: 297,866 (AASIST) / 85,306 (AASIST-L, also the clovaai README figure)
    assert sum(p.numel() for p in module.parameters()) == case.n_params


@pytest.mark.parametrize("folder,preset", CASES)
def test_sinc_bank_matches_reference(shared_dir, folder, preset):
    case = parity_case(shared_dir, folder)
    ref = case.arrays["A"]["sinc_filters"]  # (70, 129), computed in the reference CONV.__init__
    assert np.abs(sinc_filters(get_preset(preset)).numpy() - ref).max() <= 1e-7


def test_sinc_bank_independent_float64():
    # independent float64 construction of the same filters (differs only by float32 rounding):
    # edges on the mel scale between mel(0) and mel(8000); filter = hamming(129) * (lp(hi) - lp(lo))
    sr, taps = 16000, 129
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    edges = 700 * (10 ** (np.linspace(mel(0.0), mel(8000.0), 71) / 2595) - 1)
    n = np.arange(-64, 65, dtype=np.float64)
    lp = lambda fc: 2 * fc / sr * np.sinc(2 * fc * n / sr)  # noqa: E731
    expect = np.stack([np.hamming(taps) * (lp(edges[i + 1]) - lp(edges[i])) for i in range(70)])
    assert np.abs(sinc_filters().numpy() - expect).max() <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("folder,preset", CASES)
@pytest.mark.parametrize("rule", ["B", "A"])
def test_logits_and_hidden_match_reference(shared_dir, folder, preset, rule):
    case = parity_case(shared_dir, folder)
    module = _filled(preset, rule)
    for x in ("a", "b"):
        wav = fixed_length_input(torch.from_numpy(case.inputs[x]))
        with torch.no_grad():
            hidden, logits = module.forward_with_hidden(wav.unsqueeze(0))
        ref_logits = case.embeddings[rule][x]  # [spoof, bona fide]
        ref_hidden = case.arrays[rule][f"last_hidden_{x}"]
        # reference noise 3e-7 relative; rule-B input sensitivity 8.7e-3 (AASIST) / 3.0e-3 (AASIST-L)
        assert np.abs(logits[0].numpy() - ref_logits).max() <= 1e-5
        assert np.abs(hidden[0].numpy() - ref_hidden).max() <= 1e-5


def test_fixed_length_input_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0])
    # N = 3 < 8: tile int(8 / 3) + 1 = 3 times -> 1 2 3 1 2 3 1 2 3, cut to 8
    assert fixed_length_input(x, 8).tolist() == [1, 2, 3, 1, 2, 3, 1, 2]
    # N >= nb_samp: the first nb_samp samples
    assert fixed_length_input(torch.arange(10.0), 4).tolist() == [0, 1, 2, 3]
    assert fixed_length_input(torch.arange(4.0), 4).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        fixed_length_input(torch.zeros(0), 4)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 50), nb=st.integers(1, 120))
def test_fixed_length_input_matches_numpy_tile(n, nb):
    # data_utils.pad: np.tile(x, (1, int(nb / n) + 1))[:, :nb][0] (eval), or x[:nb]
    x = np.arange(n, dtype=np.float32) * 0.5 - 3
    expect = x[:nb] if n >= nb else np.tile(x, (1, int(nb / n) + 1))[:, :nb][0]
    got = fixed_length_input(torch.from_numpy(x), nb).numpy()
    assert got.shape == (nb,)
    np.testing.assert_array_equal(got, expect)


def test_cm_scores():
    logits = torch.tensor([[0.0, 0.0], [-1.0, 2.0]])
    bona, prob = cm_scores(logits)
    assert bona.tolist() == [0.0, 2.0]
    # softmax bona fide probability = 1 / (1 + exp(spoof - bona)): 0.5 and 1 / (1 + e^-3) = 0.952574
    assert prob[0].item() == pytest.approx(0.5)
    assert prob[1].item() == pytest.approx(1 / (1 + np.exp(-3.0)), abs=1e-6)


@pytest.mark.parametrize("conf,preset", [("AASIST.conf", "AASIST"), ("AASIST-L.conf", "AASIST-L")])
def test_presets_equal_released_conf_files(shared_dir, conf, preset):
    path = shared_dir / "models" / "aasist_clovaai" / conf
    if not path.is_file():
        pytest.skip(f"needs ../shared: models/aasist_clovaai/{conf}")
    assert config_from_conf_file(path) == PRESETS[preset]


def test_asvspoof5_conf_is_the_aasist_architecture(shared_dir):
    path = shared_dir / "models" / "aasist_asvspoof5" / "AASIST_ASVspoof5.conf"
    if not path.is_file():
        pytest.skip("needs ../shared: models/aasist_asvspoof5/AASIST_ASVspoof5.conf")
    assert config_from_conf_file(path) == PRESETS["AASIST"]


def test_bad_conf_file_is_a_user_error(tmp_path):
    from asvbench.errors import AsvbenchError

    bad = tmp_path / "x.conf"
    bad.write_text(json.dumps({"model_config": {"architecture": "RawNet2"}}))
    with pytest.raises(AsvbenchError, match="not a readable AASIST config"):
        config_from_conf_file(bad)


def test_min_model_samples_is_2315():
    # 129 taps: N - 128 samples after the sinc conv, then /3 (first pool) and /3 six times (encoder)
    # -> need N - 128 >= 3**7 = 2187, N >= 2315 (shared/docs/models.md §5.1 gives the same figure)
    cfg = get_preset("AASIST")
    assert cfg.min_model_samples == 2315
    module = build_aasist(cfg).eval()
    with torch.no_grad():
        assert module(torch.zeros(1, 2315)).shape == (1, 2)
        with pytest.raises(RuntimeError):
            module(torch.zeros(1, 2314))


def test_loaded_forward_batches_any_lengths_and_refuses_empty_audio():
    from dataclasses import replace

    from asvbench.errors import AsvbenchError
    from asvbench.models.aasist import fixed_length_forward

    cfg = replace(get_preset("AASIST-L"), nb_samp=3000)  # short fixed length keeps this test fast
    module = build_aasist(cfg).eval()
    module.load_state_dict(fill_state_dict(module.state_dict(), "B"))
    forward = fixed_length_forward(module, nb_samp=cfg.nb_samp, name="aasist-l")
    g = torch.Generator().manual_seed(3)
    wavs = [0.1 * torch.randn(n, generator=g) for n in (5000, 700, 3000)]
    batch, lengths = padded_batch(wavs)
    assert lengths.tolist() == [5000, 700, 3000]
    logits = forward(batch, lengths)
    for i, w in enumerate(wavs):
        assert torch.allclose(forward(w.unsqueeze(0), torch.tensor([len(w)]))[0], logits[i], atol=1e-5)
    with pytest.raises(AsvbenchError, match="at least 1 samples"):
        forward(batch, torch.tensor([5000, 0, 3000]))
