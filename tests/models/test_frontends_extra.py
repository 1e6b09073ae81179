"""The TaoRuijie mel and SpeechBrain fbank front-ends: reference features, independent
re-computations, frame counts, lengths-aware batching, registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.frontends import FRONTENDS, get_frontend
from asvbench.frontends.base import Frontend
from asvbench.frontends.speechbrain import SPEECHBRAIN_FBANK80, mel_matrix, speechbrain_fbank
from asvbench.frontends.taoruijie import TAORUIJIE_MEL80, TaoRuijieMel, build_fbank_module
from tests.models._batch import padded_batch
from tests.models._parity import make_input, parity_case


@pytest.mark.parametrize("name", ["taoruijie-mel-80", "speechbrain-fbank-80"])
def test_registered_and_follow_the_contract(name):
    assert name in FRONTENDS
    fe = get_frontend(name)
    assert isinstance(fe, Frontend) and fe.name == name


def test_taoruijie_features_match_reference(shared_dir):
    case = parity_case(shared_dir, "taoruijie_ecapa_c1024")
    fe = get_frontend("taoruijie-mel-80")
    for x in ("a", "b"):
        ours = fe.single(torch.from_numpy(case.inputs[x])).numpy()
        assert ours.shape == case.features[x].T.shape  # reference stores (80, T): (80, 301) / (80, 171)
        assert np.abs(ours - case.features[x].T).max() <= 1e-4


def test_speechbrain_features_match_reference(shared_dir):
    case = parity_case(shared_dir, "speechbrain_ecapa_c1024")
    fe = get_frontend("speechbrain-fbank-80")
    for x in ("a", "b"):
        ours = fe.single(torch.from_numpy(case.inputs[x])).numpy()
        assert ours.shape == case.features[x].shape  # (301, 80) / (171, 80)
        assert np.abs(ours - case.features[x]).max() <= 1e-4


def test_frame_counts_by_hand():
    tao, sb = get_frontend("taoruijie-mel-80"), get_frontend("speechbrain-fbank-80")
    # centred STFT, hop 160: 1 + N // 160 -> 48,000 samples: 301 frames; 27,200: 171
    assert tao.num_frames(48000) == 301 and sb.num_frames(48000) == 301
    assert tao.num_frames(27200) == 171 and sb.num_frames(27200) == 171
    # TaoRuijie needs > 256 samples (reflect padding of n_fft // 2 = 256): 256 -> 0 frames
    assert tao.num_frames(256) == 0 and tao.num_frames(257) == 2
    assert sb.num_frames(0) == 0 and sb.num_frames(1) == 1


def test_speechbrain_mel_matrix_independent_float64():
    # 82 mel points 0..8000 Hz; filter i: triangle centred at hz[i+1] with half-width hz[i+1] - hz[i],
    # evaluated on 201 bins linspace(0, 8000, 201); float32 vs float64 rounding only
    mel = lambda f: 2595 * math.log10(1 + f / 700)  # noqa: E731
    pts = np.linspace(mel(0.0), mel(8000.0), 82)
    hz = 700 * (10 ** (pts / 2595) - 1)
    freqs = np.linspace(0, 8000, 201)
    centre, half = hz[1:-1], hz[1:-1] - hz[:-2]
    expect = np.maximum(0, 1 - np.abs(freqs[None, :] - centre[:, None]) / half[:, None]).T
    got = mel_matrix(SPEECHBRAIN_FBANK80).numpy()
    assert got.shape == (201, 80)
    assert np.abs(got - expect).max() <= 1e-4


def test_speechbrain_fbank_independent_numpy():
    # independent numpy STFT (zero-padded centre, periodic hamming 400), power, mel, dB, top_db, mean
    wav = make_input("b")
    x = np.pad(wav.astype(np.float64), (200, 200))
    n = np.arange(400)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * n / 400)  # periodic Hamming
    frames = np.stack([x[i * 160 : i * 160 + 400] * window for i in range(1 + len(wav) // 160)])
    power = np.abs(np.fft.rfft(frames, n=400)) ** 2
    db = 10 * np.log10(np.maximum(power @ mel_matrix().numpy().astype(np.float64), 1e-10))
    db = np.maximum(db, db.max() - 80)
    expect = db - db.mean(axis=0)
    got = speechbrain_fbank(torch.from_numpy(wav)).numpy()
    assert np.abs(got - expect).max() <= 1e-3


def test_taoruijie_preemphasis_and_log_floor_independent():
    # y[t] = x[t] - 0.97 x[t-1], x[-1] := x[1]; torchaudio-free numpy STFT (reflect centre, periodic
    # hamming 400 zero-padded to 512), mel bank from the module, log(+1e-6), mean over time removed
    wav = make_input("b")[:8000].astype(np.float64)
    y = wav - 0.97 * np.concatenate([[wav[1]], wav[:-1]])
    x = np.pad(y, (256, 256), mode="reflect")
    n = np.arange(400)
    win = np.zeros(512)
    win[56:456] = 0.54 - 0.46 * np.cos(2 * np.pi * n / 400)  # centred in the 512-point frame
    frames = np.stack([x[i * 160 : i * 160 + 512] * win for i in range(1 + len(y) // 160)])
    power = np.abs(np.fft.rfft(frames)) ** 2
    fb = build_fbank_module()[1].mel_scale.fb.numpy().astype(np.float64)
    logmel = np.log(power @ fb + 1e-6)
    expect = logmel - logmel.mean(axis=0)
    got = get_frontend("taoruijie-mel-80").single(torch.from_numpy(wav.astype(np.float32))).numpy()
    assert np.abs(got - expect).max() <= 1e-3


@settings(max_examples=10, deadline=None)
@given(lengths=st.lists(st.integers(300, 4000), min_size=1, max_size=4),
       name=st.sampled_from(["taoruijie-mel-80", "speechbrain-fbank-80"]))
def test_batch_rows_equal_single_utterances(lengths, name):
    fe = get_frontend(name)
    g = torch.Generator().manual_seed(sum(lengths))
    wavs = [0.1 * torch.randn(n, generator=g) for n in lengths]
    batch, lens = padded_batch(wavs)
    feats, frames = fe(batch, lens)
    assert frames.tolist() == [fe.num_frames(n) for n in lengths]
    for i, w in enumerate(wavs):
        f = int(frames[i])
        assert torch.equal(feats[i, :f], fe.single(w))
        assert not feats[i, f:].any()  # padded frames are zero


def test_taoruijie_constants_stay_float32_after_model_cast():
    fbank = build_fbank_module()
    fe = TaoRuijieMel(fbank)
    wav = torch.from_numpy(make_input("a")[:16000])
    before = fe.single(wav)
    fbank.to(torch.bfloat16)  # what LoadedModel.to(dtype=bfloat16) does to the model's buffers
    assert torch.equal(fe.single(wav), before)


def test_taoruijie_module_buffers_are_the_reference_constants():
    fbank = build_fbank_module()
    assert torch.equal(fbank[0].flipped_filter, torch.tensor([[[-0.97, 1.0]]]))
    assert torch.equal(fbank[1].spectrogram.window, torch.hamming_window(400))  # periodic
    assert tuple(fbank[1].mel_scale.fb.shape) == (257, 80)
    assert set(fbank.state_dict()) == {"0.flipped_filter", "1.spectrogram.window", "1.mel_scale.fb"}
    assert TAORUIJIE_MEL80.min_samples == 257


def test_too_short_inputs_raise():
    with pytest.raises(ValueError):
        get_frontend("taoruijie-mel-80").single(torch.zeros(256))
    with pytest.raises(ValueError):
        speechbrain_fbank(torch.zeros(0))
