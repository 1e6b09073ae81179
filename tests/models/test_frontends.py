"""Front-ends: Kaldi fbank configurations, batching, registry, waveform preparation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.frontends import FRONTENDS, get_frontend, list_frontends, prepare_waveform
from asvbench.frontends.base import Frontend
from asvbench.frontends.kaldi import (
    THREEDSPEAKER_FBANK80,
    WESPEAKER_FBANK80,
    KaldiFbank,
    KaldiFbankConfig,
    kaldi_fbank,
    num_frames,
)
from tests.conftest import REPO
from tests.models._parity import make_input, parity_case


def _speechlike(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / 16000
    x = 0.2 * torch.sin(2 * torch.pi * 150 * t) * (1 + 0.5 * torch.sin(2 * torch.pi * 3 * t))
    return (x + 0.02 * torch.randn(n, generator=g, dtype=torch.float64)).float()


# ------------------------------------------------------------------ parity with the references


@pytest.mark.shared
@pytest.mark.parametrize(("folder", "name"), [
    ("3dspeaker_campplus_e192", "kaldi-fbank-80"),
    ("wespeaker_campplus_e192", "kaldi-fbank-80-wespeaker"),
    ("wespeaker_ecapa_tdnn_glob_c512", "kaldi-fbank-80-wespeaker"),
])
def test_features_match_reference(shared_dir, folder, name):
    case = parity_case(shared_dir, folder)
    fe = get_frontend(name)
    for x in ("a", "b"):
        w = torch.from_numpy(case.inputs[x])[None]
        feats, frames = fe(w, torch.tensor([w.shape[1]]))
        assert int(frames[0]) == case.features[x].shape[0]
        np.testing.assert_allclose(feats[0].numpy(), case.features[x], rtol=0, atol=1e-4)


def test_frame_count_formula():
    # snip_edges: 1 + (N - 400) // 160; input a: 1 + 47600 // 160 = 1 + 297 = 298; b: 1 + 26800 // 160 = 168
    assert num_frames(48000, THREEDSPEAKER_FBANK80) == 298
    assert num_frames(27200, THREEDSPEAKER_FBANK80) == 168
    assert num_frames(400, THREEDSPEAKER_FBANK80) == 1
    assert num_frames(399, THREEDSPEAKER_FBANK80) == 0
    assert num_frames(720, WESPEAKER_FBANK80) == 3  # 1 + 320 // 160
    for n in (400, 559, 560, 16000, 27200):
        assert kaldi_fbank(_speechlike(n), THREEDSPEAKER_FBANK80).shape == (num_frames(n, THREEDSPEAKER_FBANK80), 80)


def test_mean_normalisation_zeroes_bin_means():
    feats = kaldi_fbank(_speechlike(16000), WESPEAKER_FBANK80)
    assert feats.mean(0).abs().max() < 1e-5


def test_int16_scaling_adds_a_constant_above_the_floor():
    """x32768 multiplies mel energies by 32768^2, so log adds 2 ln 32768 = 20.79 to every bin ...

    ... except where the unscaled energy hits the log floor (float32 eps 1.19e-7): that is why
    the scale matters even after CMN. Compared where the unscaled log energy is > -10 (e^-10 =
    4.5e-5, far above the floor).
    """
    wav = _speechlike(16000)
    raw_s = kaldi_fbank(wav, KaldiFbankConfig(window_type="hamming", input_scale=32768.0, mean_norm=False))
    raw_p = kaldi_fbank(wav, KaldiFbankConfig(window_type="hamming", mean_norm=False))
    above = raw_p > -10
    assert above.float().mean() > 0.9
    torch.testing.assert_close((raw_s - raw_p)[above], torch.full_like(raw_s[above], 2 * np.log(32768.0)),
                               rtol=0, atol=1e-3)


def test_window_type_changes_features():
    wav = _speechlike(8000)
    assert not torch.allclose(kaldi_fbank(wav, THREEDSPEAKER_FBANK80),
                              kaldi_fbank(wav, KaldiFbankConfig(window_type="hamming")), atol=1e-3)


# ------------------------------------------------------------------ batching


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=400, max_value=6000), min_size=1, max_size=4))
def test_padded_batch_equals_single(lengths):
    fe = get_frontend("kaldi-fbank-80-wespeaker")
    t = max(lengths)
    wavs = torch.zeros(len(lengths), t)
    for i, n in enumerate(lengths):
        wavs[i, :n] = _speechlike(n, seed=i)
        wavs[i, n:] = 0.7  # garbage in the padding must not leak into valid frames
    feats, frames = fe(wavs, torch.tensor(lengths))
    assert feats.shape == (len(lengths), max(num_frames(n, WESPEAKER_FBANK80) for n in lengths), 80)
    for i, n in enumerate(lengths):
        single = kaldi_fbank(wavs[i, :n], WESPEAKER_FBANK80)
        assert int(frames[i]) == single.shape[0] == fe.num_frames(n)
        torch.testing.assert_close(feats[i, : frames[i]], single, rtol=0, atol=0)
        assert bool((feats[i, frames[i]:] == 0).all())


def test_bad_batches():
    fe = get_frontend("kaldi-fbank-80")
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        fe(torch.zeros(1000), torch.tensor([1000]))
    with pytest.raises(ValueError, match="lengths"):
        fe(torch.zeros(2, 1000), torch.tensor([1000]))
    with pytest.raises(ValueError, match="lengths must lie"):
        fe(torch.zeros(1, 1000), torch.tensor([1001]))
    with pytest.raises(ValueError, match="shorter than one 400-sample frame"):
        fe(torch.zeros(1, 1000), torch.tensor([399]))
    with pytest.raises(ValueError, match="window_type"):
        KaldiFbankConfig(window_type="hann")


# ------------------------------------------------------------------ registry


def test_registry_builds_frontends():
    names = [e.name for e in list_frontends()]
    assert {"kaldi-fbank-80", "kaldi-fbank-80-wespeaker"} <= set(names)
    for name in names:
        fe = get_frontend(name)
        assert isinstance(fe, Frontend)
        assert fe.name == name
    assert isinstance(get_frontend("kaldi-fbank-80"), KaldiFbank)
    assert get_frontend("kaldi-fbank-80").config == THREEDSPEAKER_FBANK80
    assert get_frontend("kaldi-fbank-80-wespeaker").config == WESPEAKER_FBANK80


def test_unknown_frontend_lists_valid_names():
    with pytest.raises(AsvbenchError, match="unknown front-end 'mfcc'") as exc:
        get_frontend("mfcc")
    assert "kaldi-fbank-80" in exc.value.hint
    assert "mfcc" not in FRONTENDS


def test_importing_frontends_does_not_import_torch():
    code = "import sys, asvbench.frontends, asvbench.frontends.base; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ prepare_waveform


def test_prepare_waveform_noop():
    x = make_input("b")
    y, notices = prepare_waveform(x, 16000, 16000)
    assert notices == []
    assert y.dtype == torch.float32 and y.shape == (27200,)
    np.testing.assert_array_equal(y.numpy(), x)


def test_prepare_waveform_downmix_channels_first_and_last():
    left, right = torch.ones(100), -torch.ones(100) * 0.5
    y, notices = prepare_waveform(torch.stack([left, right]), 16000, 16000)
    torch.testing.assert_close(y, torch.full((100,), 0.25))  # (1 - 0.5) / 2
    assert notices == ["down-mixed 2 channels to mono (channel mean)"]
    y2, _ = prepare_waveform(np.stack([left.numpy(), right.numpy()], axis=1), 16000, 16000, channels_first=False)
    torch.testing.assert_close(y2, y)
    mono2d, n2 = prepare_waveform(left[None], 16000, 16000)
    assert mono2d.shape == (100,) and n2 == []


def test_prepare_waveform_resample_keeps_pitch():
    sr, target, f0 = 8000, 16000, 440.0
    t = np.arange(sr) / sr  # 1 s
    y, notices = prepare_waveform(np.sin(2 * np.pi * f0 * t).astype(np.float32), sr, target)
    assert notices == ["resampled 8000 Hz to 16000 Hz"]
    assert y.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(y.numpy()))
    assert np.argmax(spectrum) * target / len(y) == pytest.approx(f0, abs=1.0)  # 1 Hz bins


def test_prepare_waveform_rejects_bad_input():
    with pytest.raises(AsvbenchError, match="float waveform"):
        prepare_waveform(np.zeros(10, dtype=np.int16), 16000, 16000)
    with pytest.raises(AsvbenchError, match="shape"):
        prepare_waveform(np.zeros((2, 2, 10), dtype=np.float32), 16000, 16000)
    with pytest.raises(AsvbenchError, match="sample rates"):
        prepare_waveform(np.zeros(10, dtype=np.float32), 0, 16000)
