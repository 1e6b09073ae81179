"""Resemblyzer ``preprocess_wav`` steps (volume normalisation, silence trimming), by hand and against
independent implementations (scipy's binary dilation, numpy's convolution)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from asvbench.frontends.resemblyzer import (
    RESEMBLYZER_PREPROCESSING,
    ResemblyzerPreprocessing,
    _dilate,
    _moving_average,
    energy_voice_flags,
    normalize_volume,
    preprocess_wav,
    trim_long_silences,
    voiced_window_mask,
)

SR = 16000
WINDOW = 480  # 30 ms at 16 kHz


def _tone(n: int, amplitude: float) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * 440 * np.arange(n) / SR)).astype(np.float32)


def test_normalize_volume_to_minus_30_dbfs_by_hand():
    x = _tone(SR, 0.01)
    # RMS 0.01 / sqrt(2) = 0.0070711 of full scale (-43.01 dBFS); -30 dBFS = 10^-1.5 = 0.031623: gain sqrt(20)
    y = normalize_volume(x, -30.0)
    assert float(y[100] / x[100]) == pytest.approx(np.sqrt(20), rel=1e-4)
    assert float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) == pytest.approx(10 ** -1.5, rel=1e-3)


def test_normalize_volume_only_increases_and_leaves_silence_alone():
    loud = _tone(SR, 0.5)  # -9 dBFS: above the target, unchanged (increase_only)
    assert np.array_equal(normalize_volume(loud, -30.0), loud)
    silent = np.zeros(SR, np.float32)
    assert np.array_equal(normalize_volume(silent, -30.0), silent)


def test_dilation_equals_scipy():
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = rng.random(rng.integers(1, 60)) < 0.2
        for radius in (0, 1, 3):
            assert np.array_equal(_dilate(mask, radius), binary_dilation(mask, np.ones(2 * radius + 1))), radius


def test_moving_average_equals_a_centred_convolution():
    rng = np.random.default_rng(4)
    flags = rng.random(37) < 0.5
    # reference: zeros (width - 1) // 2 = 3 before, width // 2 = 4 after, then a width-8 box mean
    expected = np.convolve(np.concatenate((np.zeros(3), flags, np.zeros(4))), np.ones(8) / 8, mode="valid")
    assert np.allclose(_moving_average(flags, 8), expected)


def test_energy_flags_against_the_loudest_window():
    x = np.concatenate([_tone(WINDOW, 0.3), _tone(WINDOW, 0.03), _tone(WINDOW, 0.0003), np.zeros(WINDOW, np.float32)])
    # energies relative to the first window: -20 dB (voiced), -60 dB (not, threshold 40 dB), digital zero (not)
    assert energy_voice_flags(x, WINDOW, 40.0).tolist() == [True, True, False, False]


def test_trim_long_silences_by_hand():
    # 40 windows of tone, 20 of digital silence, 40 of tone (100 windows of 480 = 48,000 samples)
    x = np.concatenate([_tone(40 * WINDOW, 0.1), np.zeros(20 * WINDOW, np.float32), _tone(40 * WINDOW, 0.1)])
    flags = energy_voice_flags(x, WINDOW, 40.0)
    assert flags.tolist() == [True] * 40 + [False] * 20 + [True] * 40
    # moving average over windows i-3 .. i+4, rounded half to even: window 38 sees 5 voiced (kept), 39 sees
    # 4 = 0.5 (dropped), 59 sees 4 (dropped), 60 sees 5 (kept), 99 sees 4 (dropped); then dilation by 3
    # each side gives back 39-41, 57-59 and 99: windows 42..56 (15 x 480 = 7,200 samples) are cut
    keep = voiced_window_mask(flags)
    assert np.flatnonzero(~keep).tolist() == list(range(42, 57))
    out = trim_long_silences(x, SR)
    assert out.shape == (48000 - 7200,)
    assert np.array_equal(out, np.concatenate([x[: 42 * WINDOW], x[57 * WINDOW:]]))


def test_trim_drops_the_tail_beyond_whole_windows():
    x = _tone(10 * WINDOW + 123, 0.1)  # every window voiced; 123 samples beyond the 10th window
    assert trim_long_silences(x, SR).shape == (10 * WINDOW,)


def test_preprocess_wav_order_and_switch():
    x = np.concatenate([_tone(40 * WINDOW, 0.01), np.zeros(20 * WINDOW, np.float32), _tone(40 * WINDOW, 0.01)])
    full = preprocess_wav(x, SR)
    assert full.shape == (48000 - 7200,)  # trimmed as above
    # the tone parts were raised to -30 dBFS first: RMS of the whole input with its 20 % silence
    # is 0.01 / sqrt(2) * sqrt(0.8) -> gain 10^-1.5 / 0.0063246 = 5.0
    assert float(full[100] / x[100]) == pytest.approx(5.0, rel=1e-4)
    untrimmed = preprocess_wav(x, SR, ResemblyzerPreprocessing(trim_silence="none"))
    assert untrimmed.shape == x.shape
    with pytest.raises(ValueError, match="trim_silence"):
        ResemblyzerPreprocessing(trim_silence="webrtc")
    assert RESEMBLYZER_PREPROCESSING.trim_silence == "energy"
