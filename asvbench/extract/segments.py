"""Which samples of an utterance go into the model: truncation and fixed evaluation crops.

Crops follow the TaoRuijie ECAPA-TDNN / DoubleRoc evaluation protocol (``ECAPAModel.eval_network``):
a waveform shorter than the crop length is first wrap-padded to it (``numpy.pad(x, (0, short),
"wrap")``: the utterance repeated from its start); then ``n`` crops of ``crop`` samples start at
``int(s)`` for ``s`` in ``numpy.linspace(0, len(x) - crop, n)``, i.e. evenly spaced from the
start to the end of the utterance.
"""

from __future__ import annotations

import numpy as np


def seconds_to_samples(seconds: float, sample_rate: int) -> int:
    """``round(seconds * rate)``: 3.015 s at 16 kHz -> 48,240 samples."""
    return int(round(seconds * sample_rate))


def truncate(wav: np.ndarray, max_samples: int | None) -> np.ndarray:
    """The first ``max_samples`` samples (all of them when None or the utterance is shorter)."""
    if max_samples is None or wav.shape[0] <= max_samples:
        return wav
    return wav[:max_samples]


def wrap_pad(wav: np.ndarray, length: int) -> np.ndarray:
    """Repeat ``wav`` from its start until it is ``length`` samples long (unchanged if longer)."""
    if wav.shape[0] >= length:
        return wav
    return np.pad(wav, (0, length - wav.shape[0]), mode="wrap")


def crop_starts(n_samples: int, crop: int, n_crops: int) -> np.ndarray:
    """Start samples of ``n_crops`` evenly spaced crops (after wrap-padding to ``crop``)."""
    span = max(n_samples, crop) - crop
    return np.linspace(0, span, num=n_crops).astype(np.int64)  # astype truncates like int()


def fixed_crops(wav: np.ndarray, crop: int, n_crops: int) -> np.ndarray:
    """``(n_crops, crop)`` float32: the evaluation crops of ``wav`` (see the module docstring)."""
    padded = wrap_pad(wav, crop)
    starts = crop_starts(wav.shape[0], crop, n_crops)
    return np.stack([padded[s : s + crop] for s in starts]).astype(np.float32, copy=False)
