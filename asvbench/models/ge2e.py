"""GE2E d-vector: the Resemblyzer ``VoiceEncoder`` (3-layer LSTM on 40-band mel frames, 256-d).

Wan et al., "Generalized End-to-End Loss for Speaker Verification" (ICASSP 2018, arXiv:1710.10467),
as ``resemble-ai/Resemblyzer`` @ ``15d828ed`` implements it (``resemblyzer/voice_encoder.py``;
notes: ``shared/parity/resemblyzer_ge2e/README.md``), with its key names, so the released
``pretrained.pt`` loads unchanged (after the adapter unwraps ``model_state``):

* ``lstm``: ``LSTM(40, 256, num_layers=3, batch_first=True)``; the final hidden state of the last
  layer -> ``linear`` ``Linear(256, 256)`` -> ReLU -> L2 normalisation: one *partial* embedding
  per 160-frame (1.6 s) window of mel power frames (:mod:`asvbench.frontends.resemblyzer`);
* ``embed_utterance``: windows start every ``round(16000 / 1.3 / 160) = 77`` frames
  (:func:`partial_slices`); the last window is dropped when less than 75 % of it is covered by
  the waveform, unless it is the only one; the waveform is zero-padded to the end of the last
  window; the utterance embedding is the L2-normalised mean of the partial embeddings.

Before the windows, the waveform goes through ``preprocess_wav`` (volume normalisation to -30
dBFS, increase only; silence trimming, here with an energy stand-in for webrtcvad; see
:mod:`asvbench.frontends.resemblyzer`). Every window has the same size, so the windows of a
whole batch of utterances run through the LSTM as one batch: batching changes nothing but speed.

Published size (``shared/parity/resemblyzer_ge2e/README.md``, checked by the parity test):
1,423,616 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models import _presets

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from asvbench.frontends.resemblyzer import ResemblyzerMel, ResemblyzerPreprocessing
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "GE2E"


@dataclass(frozen=True)
class GE2EConfig:
    """Hyper-parameters of the Resemblyzer encoder and its partial windows (``hparams.py``,
    ``embed_utterance`` defaults ``rate=1.3``, ``min_coverage=0.75``)."""

    n_mels: int = 40
    hidden_size: int = 256
    num_layers: int = 3
    embed_dim: int = 256
    partial_frames: int = 160
    partials_per_second: float = 1.3
    min_coverage: float = 0.75
    hop_length: int = 160
    sample_rate: int = 16000

    def __post_init__(self) -> None:
        if not 0 < self.min_coverage <= 1:
            raise ValueError(f"min_coverage must lie in (0, 1], got {self.min_coverage}")
        if not 0 < self.frame_step <= self.partial_frames:
            raise ValueError(f"partials_per_second {self.partials_per_second} gives a window step of "
                             f"{self.frame_step} frames, outside 1..{self.partial_frames}")

    @property
    def frame_step(self) -> int:
        """Frames between window starts: ``round(16000 / 1.3 / 160) = round(76.92) = 77``."""
        return int(np.round(self.sample_rate / self.partials_per_second / self.hop_length))


PRESETS: dict[str, GE2EConfig] = {"resemblyzer": GE2EConfig()}


class GE2EEncoder(nn.Module):
    """Partial-window encoder: mel windows ``(N, frames, n_mels)`` -> unit-norm ``(N, embed_dim)``."""

    def __init__(self, config: GE2EConfig):
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.n_mels, config.hidden_size, config.num_layers, batch_first=True)
        self.linear = nn.Linear(config.hidden_size, config.embed_dim)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = F.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True)


def get_preset(name: str) -> GE2EConfig:
    """The preset ``name`` (:class:`~asvbench.models._presets.UnknownPresetError` listing the valid ones)."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_ge2e(config: GE2EConfig | str = "resemblyzer", **overrides: Any) -> GE2EEncoder:
    """Build the encoder from a config or a preset name (``PRESETS``), with field overrides; eval mode."""
    return GE2EEncoder(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def partial_slices(n_samples: int, config: GE2EConfig = PRESETS["resemblyzer"]) -> tuple[list[tuple[int, int]], int]:
    """Mel-frame ranges ``[start, end)`` of the partial windows of an ``n_samples`` waveform, and
    the length to zero-pad it to (``VoiceEncoder.compute_partial_slices`` + ``embed_utterance``).

    E.g. 48,000 samples: ``ceil(48001 / 160) = 301`` frames, starts ``0, 77, 154`` (range up to
    ``301 - 160 + 77 + 1 = 219``); the last window covers ``(48000 - 154 * 160) / 25600 = 0.91``
    >= 0.75 of its samples: kept; padded to ``314 * 160 = 50,240`` samples.
    """
    hop, size, step = config.hop_length, config.partial_frames, config.frame_step
    n_frames = -(-(n_samples + 1) // hop)  # ceil((n + 1) / hop)
    starts = list(range(0, max(1, n_frames - size + step + 1), step))
    coverage = (n_samples - starts[-1] * hop) / (size * hop)
    if coverage < config.min_coverage and len(starts) > 1:
        starts = starts[:-1]
    slices = [(s, s + size) for s in starts]
    return slices, max(n_samples, slices[-1][1] * hop)


def partial_windows(wav: torch.Tensor, frontend: "ResemblyzerMel", config: GE2EConfig) -> torch.Tensor:
    """The ``(P, partial_frames, n_mels)`` mel windows of one preprocessed waveform ``(N,)``."""
    slices, padded = partial_slices(int(wav.shape[0]), config)
    if padded > wav.shape[0]:
        wav = F.pad(wav, (0, padded - int(wav.shape[0])))
    mel = frontend.single(wav)
    return torch.stack([mel[s:e] for s, e in slices])


def utterance_embeddings(partials: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """L2-normalised mean of each utterance's partial embeddings (``counts[i]`` consecutive rows each)."""
    means = torch.stack([chunk.mean(dim=0) for chunk in torch.split(partials, counts)])
    return means / torch.norm(means, dim=1, keepdim=True)


def preprocess(wav: torch.Tensor, prep: "ResemblyzerPreprocessing", *, sample_rate: int, min_samples: int) -> torch.Tensor:
    """``preprocess_wav`` of one waveform (``frontends.resemblyzer.preprocess_wav``). When silence
    trimming leaves fewer than ``min_samples`` samples (no speech found), the volume-normalised
    waveform is used untrimmed (the reference would embed a window of zeros)."""
    from asvbench.frontends.resemblyzer import preprocess_wav

    x = wav.detach().to("cpu", torch.float32).numpy()
    out = preprocess_wav(x, sample_rate, prep)
    if out.shape[0] < max(min_samples, 1):
        out = preprocess_wav(x, sample_rate, replace(prep, trim_silence="none"))
    return torch.from_numpy(np.ascontiguousarray(out))


def ge2e_forward(module: GE2EEncoder, frontend: "ResemblyzerMel", prep: "ResemblyzerPreprocessing", *,
                 min_samples: int, sample_rate: int, name: str) -> "Callable[[torch.Tensor, torch.Tensor], torch.Tensor]":
    """``forward(wavs (B, T) in [-1, 1], lengths (B,)) -> (B, embed_dim)`` unit-norm embeddings.

    Each row is preprocessed and cut into windows on its own valid samples; the windows of all
    rows run through the encoder as one batch (all windows have the same size), so any mix of
    lengths gives each utterance's one-at-a-time embedding. Rows shorter than ``min_samples``
    raise :class:`~asvbench.errors.AsvbenchError`.
    """
    from asvbench.models.length_guard import require_min_length

    config = module.config

    def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        require_min_length(lengths.tolist(), min_samples, sample_rate, name)
        param = next(module.parameters())
        with torch.inference_mode():
            windows = [partial_windows(preprocess(wavs[i, :n], prep, sample_rate=sample_rate, min_samples=min_samples),
                                       frontend, config) for i, n in enumerate(lengths.tolist())]
            partials = module(torch.cat(windows).to(device=param.device, dtype=param.dtype))
            out = utterance_embeddings(partials.float(), [len(w) for w in windows])
        return out

    return forward


#: shortest waveform accepted: one full 25 ms analysis window (400 samples). The reference
#: zero-pads anything shorter than one 1.6 s window up to it, so nothing longer is refused.
MIN_SAMPLES = 400


def load_ge2e(entry: "ModelEntry", path: Path, *, preset: str, layout: str,
              trim_silence: str = "energy") -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode.

    ``trim_silence``: "energy" (default: the energy stand-in for webrtcvad) or "none".
    """
    from asvbench.frontends import get_frontend
    from asvbench.frontends.resemblyzer import RESEMBLYZER_PREPROCESSING
    from asvbench.models.base import LoadedModel
    from asvbench.models.glue import load_checkpoint

    module = load_checkpoint(build_ge2e(preset), path, layout=layout, family=f"{FAMILY} ({preset})")
    prep = replace(RESEMBLYZER_PREPROCESSING, trim_silence=trim_silence)
    forward = ge2e_forward(module, get_frontend(entry.frontend), prep, min_samples=max(entry.min_samples, MIN_SAMPLES),
                           sample_rate=entry.sample_rate, name=entry.name)
    return LoadedModel(entry, module, forward)


__all__ = ["MIN_SAMPLES", "PRESETS", "GE2EConfig", "GE2EEncoder", "build_ge2e", "ge2e_forward", "get_preset",
           "load_ge2e", "partial_slices", "partial_windows", "preprocess", "utterance_embeddings"]
