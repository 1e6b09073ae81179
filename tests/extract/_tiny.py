"""A tiny model wrapped in a real ModelEntry, for engine tests that must not depend on a family.

``TinyNet``: a strided Conv1d over 10 ms frames (160 samples), tanh, mean+std pooling over
frames, a linear layer. With ``masked=True`` the pooling uses only the frames inside each
row's valid length (padding provably has no effect); with ``masked=False`` it pools over all
frames of the padded batch, like most real speaker models (padding changes the result).
``kind="cm"`` gives 2 logits. ``TINY_SLEEP`` (seconds) slows each forward, for kill tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from asvbench.models.base import LoadedModel, ModelEntry, load_state_dict_file, load_strict

FRAME = 160


class TinyNet(torch.nn.Module):
    def __init__(self, out_dim: int = 8, masked: bool = False):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 6, kernel_size=FRAME, stride=FRAME)
        self.proj = torch.nn.Linear(12, out_dim)
        self.masked = masked

    def forward(self, wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.conv(wavs[:, None, :] * 10.0))  # (B, 6, F)
        n_frames = lengths // FRAME
        if self.masked:
            mask = (torch.arange(h.shape[2])[None, :] < n_frames[:, None]).to(h.dtype)[:, None, :]
            count = mask.sum(dim=2)
            mean = (h * mask).sum(dim=2) / count
            var = (((h - mean[:, :, None]) ** 2) * mask).sum(dim=2) / count
        else:
            mean = h.mean(dim=2)
            var = h.var(dim=2, unbiased=False)
        return self.proj(torch.cat([mean, var.clamp_min(1e-8).sqrt()], dim=1))


def tiny_entry(name: str = "tiny", *, kind: str = "embedding", masked: bool = False, min_samples: int = 400,
               family: str = "tiny") -> ModelEntry:
    out_dim = 2 if kind == "cm" else 8

    def loader(path: Path) -> LoadedModel:
        module = TinyNet(out_dim, masked)
        state = load_state_dict_file(path)
        load_strict(module, state, where=path, family=family)
        module.eval()
        sleep = float(os.environ.get("TINY_SLEEP", "0"))

        def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            if sleep:
                time.sleep(sleep)
            return module(wavs, lengths)

        return LoadedModel(entry, module, forward)

    entry = ModelEntry(name=name, family=family, kind=kind, source="tests", embed_dim=out_dim, sample_rate=16000,
                       frontend="none", licence="CC0", loader=loader, min_samples=min_samples)
    return entry


def save_checkpoint(path: Path, *, kind: str = "embedding", seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = TinyNet(2 if kind == "cm" else 8)
    torch.save(net.state_dict(), path)
    return path


def reference_forward(checkpoint: Path, wav: np.ndarray, *, kind: str = "embedding") -> np.ndarray:
    """The tiny model applied to one utterance, outside the engine: (D,) float64."""
    net = TinyNet(2 if kind == "cm" else 8)
    net.load_state_dict(torch.load(checkpoint, weights_only=True))
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(wav, np.float32))[None]
        return net(x, torch.tensor([x.shape[1]])).double().numpy()[0]


def synth(seed: int, n: int, sr: int = 16000) -> np.ndarray:
    """A reproducible speech-like test signal: a chirp plus noise, in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f0 = 100 + 40 * seed % 300
    x = 0.3 * np.sin(2 * np.pi * (f0 + 50 * t) * t) + 0.05 * rng.standard_normal(n)
    return np.clip(x, -0.5, 0.5).astype(np.float32)


def write_corpus(root: Path, lengths: list[int], sr: int = 16000, fmt: str = "wav") -> list[Path]:
    """Files ``spkK/uttJ.<fmt>`` with the given sample counts (speaker = index // 4)."""
    paths = []
    for i, n in enumerate(lengths):
        p = root / f"spk{i // 4}" / f"utt{i:03d}.{fmt}"
        p.parent.mkdir(parents=True, exist_ok=True)
        sf.write(p, synth(i, n, sr), sr)
        paths.append(p)
    return paths
