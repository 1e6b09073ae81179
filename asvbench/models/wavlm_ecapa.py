"""WavLM-Large + ECAPA-TDNN speaker embeddings: the UniSpeech speaker-verification downstream.

Reference: microsoft/UniSpeech ``downstreams/speaker_verification/models/ecapa_tdnn.py``
(``ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large')``, the model of ``verification.py``
and of the SASV2022 DoubleRoc ``WavLMLarge.py``; ``shared/docs/models.md`` §4.5). The forward:

1. the waveform layer-normalised over the utterance (front-end ``wavlm-layernorm``);
2. WavLM-Large (Chen et al., "WavLM", IEEE JSTSP 2022, arXiv:2110.13900): a 7-layer conv stack
   (320-sample hop, 400-sample receptive field, LayerNorm mode), LayerNorm, projection to 1024,
   a weight-normalised positional convolution, 24 pre-LN transformer layers with gated relative
   position bias (computed in layer 0 and passed on). The transformer is torchaudio's
   (``torchaudio.models.wavlm_large`` building blocks); the adapter ``unispeech`` maps the
   fairseq key names of the UniSpeech checkpoint to it;
3. the 25 hidden states (the input of each layer and the final LayerNorm output) summed with
   weights ``softmax(feature_weight)``, ``+ 1e-6``, instance norm over time;
4. the UniSpeech ECAPA head (channels 512, no global context): ``layer1`` conv k5 -> ReLU -> BN,
   three SE-Res2 blocks (scale 8, dilation 2/3/4, identity shortcut), 1x1 ``conv`` over
   cat(out2, out3, out4) -> ReLU, attentive statistics ``pooling`` (sigma clamped at 1e-9),
   ``bn``, ``linear`` -> 256.

Parameters: 323,863,961 = WavLM 315,453,120 + head 8,410,841 (``shared/parity/
unispeech_wavlm_large_ecapa/README.md``; ``mask_emb`` is kept, unused in eval, so that the count
and the checkpoint's keys are the reference's).

Padded batches: each row's conv frames see only its own samples (valid frames never reach past a
row's end), padded frames are zeroed before the positional convolution (as WavLM does with a
padding mask) and masked as attention keys; the instance norm, the convolutions' borders, the SE
means and the attentive pooling use valid frames only. A padded row therefore gives its
one-at-a-time embedding up to float rounding.

Long utterances: self-attention memory grows with the square of the frames (50 per second; the
position bias alone is 16 x T x T floats, 575 MB at 60 s, 2.3 GB at 120 s). An utterance longer
than ``chunk_frames`` frames (default 3,000 = 60 s, :data:`CHUNK_SECONDS`) is cut into near-equal
windows of at most that many frames (:func:`windows`), aligned to the conv hop so that their conv
frames are exactly the whole utterance's; the transformer runs per window and the hidden states are
concatenated, so the instance norm and the head still see the whole utterance. Up to 60 s the
output is the reference's (which runs the whole utterance at once); beyond it only the
transformer's context is limited to its window, and memory stays that of a 60 s window plus what
is linear in the length. Measured on CPU (fp32, batch 1, rule-B weights, 2 threads): peak RSS
3.0 GB for one 60 s utterance run whole, of which 1.3 GB are the weights (``reports/benchmarks.md``,
WavLM-Large + ECAPA).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models._presets import get_preset as _get_preset
from asvbench.models._presets import resolve_config
from asvbench.models.ecapa_tdnn import WsConvReluBn, WsRes2
from asvbench.models.layers import SqueezeExcitation, frame_mask, masked_mean, masked_softmax, zero_padded_frames

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "WavLM-ECAPA"
Mask = torch.Tensor | None
#: conv stack of every WavLM / wav2vec 2.0: (channels, kernel, stride)
CONV_LAYERS: tuple[tuple[int, int, int], ...] = ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2
#: default window of the long-utterance path (seconds at 16 kHz; 50 WavLM frames per second)
CHUNK_SECONDS = 60.0


@dataclass(frozen=True)
class WavLMEcapaConfig:
    """Hyper-parameters (defaults: UniSpeech ``ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large')``
    with the WavLM-Large config of its s3prl upstream).

    ``chunk_frames``: the longest input (WavLM frames) the transformer runs at once; longer
    utterances take the windowed path (module docstring). None: never chunk."""

    encoder_layers: int = 24
    encoder_dim: int = 1024
    ffn_dim: int = 4096
    heads: int = 16
    num_buckets: int = 320
    max_distance: int = 800
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    conv_layers: tuple[tuple[int, int, int], ...] = CONV_LAYERS
    channels: int = 512
    res2_scale: int = 8
    block_kernel: int = 3
    block_dilations: tuple[int, ...] = (2, 3, 4)
    se_channels: int = 128
    mfa_channels: int = 1536
    attention_channels: int = 128
    embed_dim: int = 256
    #: AttentiveStatsPool: sigma = sqrt(clamp(sum a x^2 - mu^2, min=pool_eps))
    pool_eps: float = 1e-9
    chunk_frames: int | None = int(CHUNK_SECONDS * 50)

    def __post_init__(self) -> None:
        if self.encoder_dim % self.heads:
            raise ValueError(f"encoder_dim {self.encoder_dim} is not divisible by heads {self.heads}")
        if self.channels % self.res2_scale:
            raise ValueError(f"channels {self.channels} is not divisible by res2_scale {self.res2_scale}")
        if self.chunk_frames is not None and self.chunk_frames < 2:
            raise ValueError(f"chunk_frames must be >= 2 or None, got {self.chunk_frames}")

    @property
    def num_hidden(self) -> int:
        """Hidden states weighted by ``feature_weight``: the input of every layer + the output."""
        return self.encoder_layers + 1

    @property
    def hop(self) -> int:
        """Samples per WavLM frame (the product of the strides: 320)."""
        return math.prod(s for _, _, s in self.conv_layers)

    @property
    def receptive_field(self) -> int:
        """Samples one WavLM frame sees (400)."""
        field = 1
        for _, kernel, stride in reversed(self.conv_layers):
            field = (field - 1) * stride + kernel
        return field

    def num_frames(self, num_samples: int) -> int:
        """WavLM frames of ``num_samples`` samples: ``1 + (N - 400) // 320`` (0 when shorter)."""
        return 0 if num_samples < self.receptive_field else 1 + (num_samples - self.receptive_field) // self.hop

    def window_samples(self, frames: int) -> int:
        """Samples a window of ``frames`` conv frames spans."""
        return self.receptive_field + self.hop * (frames - 1)

    @property
    def min_samples(self) -> int:
        """Shortest input: two frames (720 samples, 0.045 s), so that the instance norm over time has a
        variance (with one frame every input gives the same embedding)."""
        return self.window_samples(2)


PRESETS: dict[str, WavLMEcapaConfig] = {
    # UniSpeech verification.py init_model('wavlm_large') = ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large')
    # -> ECAPA_TDNN(channels=512, emb_dim=256, global_context_att=False); s3prl 'wavlm_large' upstream
    "unispeech-wavlm-large": WavLMEcapaConfig(),
}


def get_preset(name: str) -> WavLMEcapaConfig:
    return _get_preset(FAMILY, PRESETS, name)


def windows(cfg: WavLMEcapaConfig, num_samples: int, max_frames: int) -> list[tuple[int, int]]:
    """``(start, end)`` sample ranges of the long-utterance windows: ``ceil(T / max_frames)``
    windows of near-equal frame counts (at most ``max_frames``) that tile the utterance's ``T``
    conv frames in order. A window of ``n`` frames starting at frame ``f`` spans samples
    ``[hop f, hop f + receptive_field + hop (n - 1))``, so its conv frames are frames ``f .. f + n - 1``
    of the whole utterance."""
    total = cfg.num_frames(num_samples)
    if total == 0:
        return []
    per_window = math.ceil(total / math.ceil(total / max_frames))
    return [(first * cfg.hop, first * cfg.hop + cfg.window_samples(min(per_window, total - first)))
            for first in range(0, total, per_window)]


# ---------------------------------------------------------------- WavLM-Large (torchaudio blocks)


class UniSpeechWavLM(nn.Module):
    """UniSpeech ``WavLM`` in eval mode, on torchaudio's blocks: ``feature_extractor`` (the conv
    stack), ``encoder`` (``feature_projection``: LayerNorm(512) + projection; ``transformer``:
    positional conv, 24 layers, final LayerNorm) and ``mask_emb`` (training only).

    Keys are torchaudio's; :mod:`asvbench.models.adapters.unispeech` maps the fairseq ones."""

    def __init__(self, cfg: WavLMEcapaConfig):
        super().__init__()
        from asvbench.check_install import require_torchaudio

        ta = require_torchaudio("models")
        model = ta.wavlm_model(
            extractor_mode="layer_norm", extractor_conv_layer_config=list(cfg.conv_layers), extractor_conv_bias=False,
            encoder_embed_dim=cfg.encoder_dim, encoder_projection_dropout=0.0,
            encoder_pos_conv_kernel=cfg.pos_conv_kernel, encoder_pos_conv_groups=cfg.pos_conv_groups,
            encoder_num_layers=cfg.encoder_layers, encoder_num_heads=cfg.heads, encoder_num_buckets=cfg.num_buckets,
            encoder_max_distance=cfg.max_distance, encoder_attention_dropout=0.0,
            encoder_ff_interm_features=cfg.ffn_dim, encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
            encoder_layer_norm_first=True, encoder_layer_drop=0.0, aux_num_out=None)
        self.mask_emb = nn.Parameter(torch.zeros(cfg.encoder_dim))
        self.feature_extractor = model.feature_extractor
        self.encoder = model.encoder

    def conv_frames(self, wavs: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, N)`` -> conv features ``(B, T, 512)`` and valid frames ``(B,)``."""
        return self.feature_extractor(wavs, lengths)

    def weighted_hidden(self, feats: torch.Tensor, frames: torch.Tensor | None, weights: torch.Tensor) -> torch.Tensor:
        """``sum_l weights[l] * H_l`` of the 25 hidden states, ``(B, T, 1024)``, accumulated layer by
        layer (the 25 states are never held at once)."""
        x = self.encoder.feature_projection(feats)
        key_mask = None  # additive: -inf on padded keys
        if frames is not None and bool((frames < x.shape[1]).any()):
            pad = torch.arange(x.shape[1], device=x.device)[None, :] >= frames.to(x.device)[:, None]
            x = x.masked_fill(pad[..., None], 0.0)  # WavLM zeroes padded frames before the positional conv
            key_mask = torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(pad, float("-inf"))
        transformer = self.encoder.transformer
        x = transformer._preprocess(x)
        total = weights[0] * x
        position_bias = None
        last = len(transformer.layers) - 1
        for i, layer in enumerate(transformer.layers):
            x, position_bias = layer(x, None, position_bias=position_bias, key_padding_mask=key_mask)
            total = total + weights[i + 1] * (transformer.layer_norm(x) if i == last else x)
        return total


# ---------------------------------------------------------------- UniSpeech ECAPA head


class SERes2Block(nn.Module):
    """UniSpeech ``SE_Res2Block`` (in = out channels, so no shortcut conv):
    ``x + SE(Conv1dReluBn2(Res2(Conv1dReluBn1(x))))``."""

    def __init__(self, cfg: WavLMEcapaConfig, dilation: int):
        super().__init__()
        c = cfg.channels
        self.Conv1dReluBn1 = WsConvReluBn(c, c)
        self.Res2Conv1dReluBn = WsRes2(c, cfg.block_kernel, dilation, cfg.res2_scale)
        self.Conv1dReluBn2 = WsConvReluBn(c, c)
        self.SE_Connect = SqueezeExcitation(c, cfg.se_channels)

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        out = self.Conv1dReluBn2(self.Res2Conv1dReluBn(self.Conv1dReluBn1(x, mask), mask), mask)
        return x + self.SE_Connect(out, mask)


class AttentiveStatsPool(nn.Module):
    """UniSpeech ``AttentiveStatsPool(global_context_att=False)``: ``a = softmax_t(linear2(tanh(linear1(x))))``,
    ``mu ++ sqrt(clamp(sum a x^2 - mu^2, eps))`` (statistics in float32)."""

    def __init__(self, channels: int, attention_channels: int, eps: float):
        super().__init__()
        self.eps = eps
        self.linear1 = nn.Conv1d(channels, attention_channels, 1)
        self.linear2 = nn.Conv1d(attention_channels, channels, 1)

    def forward(self, x: torch.Tensor, mask: Mask) -> torch.Tensor:
        alpha = masked_softmax(self.linear2(torch.tanh(self.linear1(x))).float(), mask)
        xf = x.float()
        mean = torch.sum(alpha * xf, dim=-1)
        var = torch.sum(alpha * xf**2, dim=-1) - mean**2
        return torch.cat([mean, torch.sqrt(var.clamp(min=self.eps))], dim=1).to(x.dtype)


def masked_instance_norm(x: torch.Tensor, mask: Mask, eps: float = 1e-5) -> torch.Tensor:
    """``InstanceNorm1d`` (no affine, biased variance) over the valid frames; padded frames zero."""
    xf = x.float()
    mean = masked_mean(xf, mask, keepdim=True)
    var = masked_mean((xf - mean) ** 2, mask, keepdim=True)
    return zero_padded_frames(((xf - mean) / torch.sqrt(var + eps)).to(x.dtype), mask)


# ---------------------------------------------------------------- the model


class WavLMEcapa(nn.Module):
    """UniSpeech ``ECAPA_TDNN`` on WavLM-Large hidden states: normalised waveform ``(B, N, 1)``
    (front-end ``wavlm-layernorm``) + valid samples ``(B,)`` -> ``(B, embed_dim)``.

    Keys: ``feature_weight`` (25), ``feature_extract.model.*`` (:class:`UniSpeechWavLM`),
    ``layer1``, ``layer2..4`` (:class:`SERes2Block`), ``conv``, ``pooling``, ``bn``, ``linear``."""

    def __init__(self, cfg: WavLMEcapaConfig):
        super().__init__()
        self.config = cfg
        self.feature_weight = nn.Parameter(torch.zeros(cfg.num_hidden))
        self.feature_extract = nn.Module()
        self.feature_extract.model = UniSpeechWavLM(cfg)
        c = cfg.channels
        self.layer1 = WsConvReluBn(cfg.encoder_dim, c, 5, 2)
        self.layer2 = SERes2Block(cfg, cfg.block_dilations[0])
        self.layer3 = SERes2Block(cfg, cfg.block_dilations[1])
        self.layer4 = SERes2Block(cfg, cfg.block_dilations[2])
        self.conv = nn.Conv1d(3 * c, cfg.mfa_channels, 1)
        self.pooling = AttentiveStatsPool(cfg.mfa_channels, cfg.attention_channels, cfg.pool_eps)
        self.bn = nn.BatchNorm1d(2 * cfg.mfa_channels)
        self.linear = nn.Linear(2 * cfg.mfa_channels, cfg.embed_dim)

    @property
    def wavlm(self) -> UniSpeechWavLM:
        return self.feature_extract.model

    # -- WavLM part

    def _hidden_whole(self, wavs: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        feats, frames = self.wavlm.conv_frames(wavs, lengths)
        if frames is None:
            frames = torch.full((wavs.shape[0],), feats.shape[1], dtype=torch.long)
        weights = torch.softmax(self.feature_weight.float(), dim=-1).to(feats.dtype)
        return self.wavlm.weighted_hidden(feats, frames, weights), frames

    def _hidden_windowed(self, wav: torch.Tensor) -> torch.Tensor:
        """One long utterance ``(N,)``: the transformer per window of :func:`windows`, hidden
        states concatenated ``(T, 1024)``."""
        assert self.config.chunk_frames is not None
        parts = [self._hidden_whole(wav[start:end][None], None)[0][0]
                 for start, end in windows(self.config, wav.shape[0], self.config.chunk_frames)]
        return torch.cat(parts, dim=0)

    def hidden(self, wavs: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Weighted sum of the hidden states ``(B, T, 1024)`` and valid frames ``(B,)``; rows longer
        than ``chunk_frames`` take the windowed path, one at a time."""
        cfg = self.config
        if lengths is None:
            lengths = torch.full((wavs.shape[0],), wavs.shape[1], dtype=torch.long)
        lengths = lengths.to(torch.long).cpu()
        frames = torch.tensor([cfg.num_frames(int(n)) for n in lengths], dtype=torch.long)
        if cfg.chunk_frames is None or int(frames.max()) <= cfg.chunk_frames:
            keep = cfg.window_samples(int(frames.max()))
            return self._hidden_whole(wavs[:, :keep], lengths if bool((lengths < wavs.shape[1]).any()) else None)
        rows = [self._hidden_windowed(wavs[i, : int(n)]) for i, n in enumerate(lengths)]
        return nn.utils.rnn.pad_sequence(rows, batch_first=True), frames

    def head_input(self, wavs: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, Mask]:
        """The ECAPA head's input: instance-normalised ``(B, 1024, T)`` and its frame mask."""
        hidden, frames = self.hidden(wavs, lengths)
        x = hidden.transpose(1, 2) + 1e-6
        mask = frame_mask(frames, x.shape[-1], x.device)
        return masked_instance_norm(x, mask), mask

    # -- head

    def head(self, x: torch.Tensor, mask: Mask = None) -> torch.Tensor:
        """ECAPA head: ``(B, 1024, T)`` -> ``(B, embed_dim)``."""
        out1 = self.layer1(x, mask)
        out2 = self.layer2(out1, mask)
        out3 = self.layer3(out2, mask)
        out4 = self.layer4(out3, mask)
        out = F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))
        return self.linear(self.bn(self.pooling(out, mask)))

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        wavs = feats[..., 0] if feats.dim() == 3 else feats
        x, mask = self.head_input(wavs, lengths)
        return self.head(x, mask)


def build_wavlm_ecapa(config: WavLMEcapaConfig | str = "unispeech-wavlm-large", **overrides: Any) -> WavLMEcapa:
    """Build from a config or a preset name (``PRESETS``) with field overrides; eval mode (random init)."""
    return WavLMEcapa(resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


# ---------------------------------------------------------------- registry loader


def load_wavlm_ecapa(entry: "ModelEntry", path: Path, *, preset: str, layout: str,
                     chunk_frames: int | None = None) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode.
    ``chunk_frames`` overrides the preset's long-utterance window. Inputs shorter than
    ``entry.min_samples`` raise an AsvbenchError (length in samples and seconds)."""
    from asvbench.frontends import get_frontend
    from asvbench.models.adapters import get_adapter
    from asvbench.models.base import load_state_dict_file, load_strict
    from asvbench.models.glue import embedding_model

    # the file is read and adapted before the network is built: a wrong file is refused at once
    state = get_adapter(layout)(load_state_dict_file(path), where=path)
    overrides = {} if chunk_frames is None else {"chunk_frames": chunk_frames}
    # (built on the CPU with its random init, 2-7 s: building on the meta device instead imports
    # torchaudio / sympy / dynamo modules under that device, whose module-level tensors then stay meta)
    module = build_wavlm_ecapa(preset, **overrides)
    load_strict(module, state, where=path, family=f"{FAMILY} ({preset})")
    del state
    module.eval()
    minimum = max(entry.min_samples, module.config.min_samples)
    return embedding_model(entry, module, get_frontend(entry.frontend), min_samples=minimum)


__all__ = ["CHUNK_SECONDS", "PRESETS", "AttentiveStatsPool", "SERes2Block", "UniSpeechWavLM", "WavLMEcapa",
           "WavLMEcapaConfig", "build_wavlm_ecapa", "get_preset", "load_wavlm_ecapa", "masked_instance_norm",
           "windows"]
