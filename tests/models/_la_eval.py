"""The 5 ASVspoof2019 LA eval files of ``../shared/audio/asvspoof2019_LA_eval_5utts`` (4 bona fide, 1 spoof),
read once per test module by the CM tests."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
import torch

from tests.conftest import shared_path

FOLDER = "audio/asvspoof2019_LA_eval_5utts"
UTTS = ("LA_E_4311043", "LA_E_8411060", "LA_E_8411845", "LA_E_9296375", "LA_E_9297933")
#: the one spoof (attack A10 in the official CM protocol)
SPOOF = "LA_E_8411845"


def read_la_eval(shared_dir: Path) -> dict[str, torch.Tensor]:
    """``utterance -> float32 waveform`` of the 5 files (16 kHz mono, checked)."""
    folder = shared_path(shared_dir, FOLDER)
    out = {}
    for u in UTTS:
        wav, sr = sf.read(folder / f"{u}.flac", dtype="float32")
        assert sr == 16000 and wav.ndim == 1
        out[u] = torch.from_numpy(wav)
    return out
