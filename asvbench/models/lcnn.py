"""LFCC-LCNN-LSTM countermeasure (NII, sigmoid output), as the ASVspoof 2021 toy example lays it out.

Wang & Yamagishi, "A comparative study on recent neural spoofing countermeasures for synthetic
speech detection" (Interspeech 2021, arXiv:2103.11326); light CNN of Lavrentyeva et al.
(Interspeech 2019). Followed: ``nii-yamagishilab/project-NN-Pytorch-scripts`` @ ``112ec0ff``
``project/04-asvspoof2021-toy/lfcc-lcnn-lstm-sig_toy_example/model.py`` (``Model``) with
``sandbox/block_nn.py`` (``MaxFeatureMap2D``, ``BLSTMLayer``); notes:
``shared/parity/nii_lfcc_lcnn_lstm/README.md``. Key names are the reference's, so its
``trained_network.pt`` (a plain state dict) loads unchanged:

* ``input_mean/std``, ``output_mean/std`` (1,): frozen normalisation parameters the NII project
  template keeps; 0/1/0/1 and unused by the forward pass;
* ``m_frontend.0``: the LFCC front-end's constants (``lfcc_fb`` (257, 20), ``l_dct.weight``
  (20, 20); frozen parameters) -> :mod:`asvbench.frontends.lfcc`, 60 coefficients per frame;
* ``m_transform.0``: on the ``(B, 1, T, 60)`` feature image, conv 5x5 (64) - MFM - maxpool 2,
  then four blocks of [1x1 conv - MFM - BN - 3x3 conv - MFM] with BatchNorms (``affine=False``)
  and max-pools as in the reference Sequential (indices 0..28; MFM = max of the two channel
  halves; Dropout(0.7), inactive in eval) -> ``(B, 32, T // 16, 3)`` -> frames ``(B, T // 16, 96)``;
* ``m_before_pooling.0``: two bidirectional LSTM layers (96 -> 2 x 48), sequence-first;
* ``(lstm_out + cnn_out).mean(time)`` -> ``m_output_act.0`` Linear(96 -> 1): the score
  **before** the sigmoid (bona fide positive; training applies the sigmoid, inference prints this).

The network has no masking: a batch must hold utterances of one length (the loaded model groups
rows by length, so any batch gives each utterance's one-at-a-time score).

CM contract (``LoadedModel``: logits ``[spoof, bona fide]``): the one score ``s`` becomes the
logits ``[0, s]``, so the stored bona fide logit is ``s`` itself and the softmax bona fide
probability ``e^s / (1 + e^s)`` is exactly the reference's ``sigmoid(s)``.

Published size (the fixture README, checked by the parity test): 275,273 parameters (269,729 trainable).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from asvbench.frontends.lfcc import NII_LFCC60, NiiLfccConfig, dct_matrix, linear_filterbank, nii_lfcc
from asvbench.models import _presets

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from asvbench.frontends.lfcc import NiiLfcc
    from asvbench.models.base import LoadedModel, ModelEntry

FAMILY = "LFCC-LCNN-LSTM"


@dataclass(frozen=True)
class LcnnConfig:
    """Hyper-parameters of the NII LFCC-LCNN-LSTM (``model.py`` values)."""

    lfcc: NiiLfccConfig = NII_LFCC60
    dropout: float = 0.7
    embed_dim: int = 1  # ``v_emd_dim``: one score

    @property
    def lstm_dim(self) -> int:
        """Frame size after the CNN: 32 channels x (60 // 16) = 96."""
        return (self.lfcc.dim // 16) * 32


PRESETS: dict[str, LcnnConfig] = {"nii-lfcc-lcnn-lstm-sig": LcnnConfig()}

#: 4 max-pools of 2 along time: the CNN's output has ``T // 16`` frames; one needs T >= 16
TIME_STRIDE = 16


class MaxFeatureMap2D(nn.Module):
    """Max-feature-map over channels: ``(B, 2C, ...) -> (B, C, ...)``, the maximum of channel ``c``
    and channel ``c + C`` (the reference's ``view(B, 2, C, ...).max(1)``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[1] // 2
        return torch.maximum(x[:, :half], x[:, half:])


class BLSTMLayer(nn.Module):
    """Bidirectional LSTM keeping the frame count: ``(B, T, D_in) -> (B, T, D_out)`` (key ``l_blstm``)."""

    def __init__(self, input_dim: int, output_dim: int):
        super().__init__()
        if output_dim % 2:
            raise ValueError(f"BLSTMLayer needs an even output size, got {output_dim}")
        self.l_blstm = nn.LSTM(input_dim, output_dim // 2, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.l_blstm(x.permute(1, 0, 2))  # sequence-first, as the reference
        return out.permute(1, 0, 2)


class LfccConstants(nn.Module):
    """The reference ``LFCC`` module's state: the filterbank and the DCT (frozen parameters, loaded
    from checkpoints). ``forward(wav (N,))`` computes the features with them."""

    def __init__(self, config: NiiLfccConfig):
        super().__init__()
        self.config = config
        self.lfcc_fb = nn.Parameter(linear_filterbank(config), requires_grad=False)
        self.l_dct = nn.Linear(config.n_filters, config.n_filters, bias=False)
        with torch.no_grad():
            self.l_dct.weight.copy_(dct_matrix(config.n_filters))
        self.l_dct.weight.requires_grad_(False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return nii_lfcc(wav, self.config, filterbank=self.lfcc_fb, dct=self.l_dct.weight)


def _transform(dropout: float) -> nn.Sequential:
    """``m_transform.0``: the light CNN, indices as the reference Sequential (they are the key names)."""
    def bn(c: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(c, affine=False)

    def conv(i: int, o: int, k: int) -> nn.Conv2d:
        return nn.Conv2d(i, o, k, 1, padding=k // 2)

    mfm, pool = MaxFeatureMap2D, (lambda: nn.MaxPool2d(2, 2))
    return nn.Sequential(
        conv(1, 64, 5), mfm(), pool(),                                 # 0-2
        conv(32, 64, 1), mfm(), bn(32), conv(32, 96, 3), mfm(),        # 3-7
        pool(), bn(48),                                                # 8-9
        conv(48, 96, 1), mfm(), bn(48), conv(48, 128, 3), mfm(),       # 10-14
        pool(),                                                        # 15
        conv(64, 128, 1), mfm(), bn(64), conv(64, 64, 3), mfm(), bn(32),   # 16-21
        conv(32, 64, 1), mfm(), bn(32), conv(32, 64, 3), mfm(), pool(),    # 22-27
        nn.Dropout(dropout),                                           # 28
    )


class LCNN(nn.Module):
    """The NII LFCC-LCNN-LSTM: LFCC features ``(B, T, 60)`` of equal-length utterances -> ``(B,)``
    scores before the sigmoid."""

    def __init__(self, config: LcnnConfig):
        super().__init__()
        self.config = config
        frozen = {"requires_grad": False}
        self.input_mean = nn.Parameter(torch.zeros(1), **frozen)
        self.input_std = nn.Parameter(torch.ones(1), **frozen)
        self.output_mean = nn.Parameter(torch.zeros(1), **frozen)
        self.output_std = nn.Parameter(torch.ones(1), **frozen)
        dim = config.lstm_dim
        self.m_frontend = nn.ModuleList([LfccConstants(config.lfcc)])
        self.m_transform = nn.ModuleList([_transform(config.dropout)])
        self.m_output_act = nn.ModuleList([nn.Linear(dim, config.embed_dim)])
        self.m_before_pooling = nn.ModuleList([nn.Sequential(BLSTMLayer(dim, dim), BLSTMLayer(dim, dim))])

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        hidden = self.m_transform[0](feats.unsqueeze(1))  # (B, 32, T // 16, F // 16)
        hidden = hidden.permute(0, 2, 1, 3).contiguous()
        hidden = hidden.view(hidden.shape[0], hidden.shape[1], -1)  # (B, T // 16, 96), channel-major
        pooled = (self.m_before_pooling[0](hidden) + hidden).mean(dim=1)
        return self.m_output_act[0](pooled).squeeze(1)


def get_preset(name: str) -> LcnnConfig:
    """The preset ``name`` (:class:`~asvbench.models._presets.UnknownPresetError` listing the valid ones)."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def build_lcnn(config: LcnnConfig | str = "nii-lfcc-lcnn-lstm-sig", **overrides: Any) -> LCNN:
    """Build the network from a config or a preset name (``PRESETS``), with field overrides; eval mode."""
    return LCNN(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


def min_samples(config: LcnnConfig = PRESETS["nii-lfcc-lcnn-lstm-sig"]) -> int:
    """Shortest waveform with one frame after the CNN: ``1 + N // 160 >= 16`` -> ``N >= 2,400``
    samples (0.15 s); shorter ones would average over no frames (NaN)."""
    return config.lfcc.hop_length * (TIME_STRIDE - 1)


# ---------------------------------------------------------------- inference form

#: (conv, BatchNorm) index pairs of ``m_transform.0`` with only MFM / max-pool between them
MFM_BN_PAIRS = ((3, 5), (6, 9), (10, 12), (16, 18), (19, 21), (22, 24))


def _mfm_expanded(bn: nn.BatchNorm2d) -> nn.BatchNorm2d:
    """The BatchNorm over ``2C`` channels equal to ``bn`` (C channels) after an MFM: channels ``c``
    and ``c + C`` both get ``bn``'s channel-``c`` statistics."""
    out = nn.BatchNorm2d(2 * bn.num_features, eps=bn.eps, affine=False).eval()
    with torch.no_grad():
        out.running_mean.copy_(bn.running_mean.repeat(2))
        out.running_var.copy_(bn.running_var.repeat(2))
    return out.to(bn.running_mean.device)


def fuse_for_inference(model: LCNN, *, in_place: bool = False) -> LCNN:
    """An eval-mode LCNN with every BatchNorm folded into the convolution before it (a copy, or
    ``model`` itself when ``in_place``); the same function up to float rounding.

    Between each pair there are only MFMs and max-pools. An eval-mode BatchNorm without affine
    parameters is ``(x - mean) / sqrt(var + eps)`` per channel, an increasing map, so it commutes
    with taking maxima: ``BN(max(a, b)) = max(BN(a), BN(b))``; applied to both channel halves
    before the MFM (:func:`_mfm_expanded`) it is an ordinary conv-BN pair (:mod:`asvbench.models.fold`).
    """
    from asvbench.models.fold import fold_conv_bn

    fused = (model if in_place else copy.deepcopy(model)).eval()
    seq = fused.m_transform[0]
    for conv_i, bn_i in MFM_BN_PAIRS:
        bn = seq[bn_i]
        seq[conv_i] = fold_conv_bn(seq[conv_i], _mfm_expanded(bn))
        seq[bn_i] = nn.Identity()
    return fused


# ---------------------------------------------------------------- registry loader


def cm_logits(scores: torch.Tensor) -> torch.Tensor:
    """``(B,)`` sigmoid-model scores -> ``(B, 2)`` logits ``[spoof, bona fide] = [0, s]``: the bona
    fide logit is ``s`` and the softmax bona fide probability is ``sigmoid(s)``."""
    return torch.stack([torch.zeros_like(scores), scores], dim=1)


def lcnn_forward(module: LCNN, frontend: "NiiLfcc", *, min_samples: int, sample_rate: int,
                 name: str) -> "Callable[[torch.Tensor, torch.Tensor], torch.Tensor]":
    """``forward(wavs (B, T) in [-1, 1], lengths (B,)) -> (B, 2)`` logits ``[0, score]``.

    Rows are grouped by valid length and each group runs on its unpadded features (the network
    does not mask padding), so a batch of any lengths gives the one-at-a-time scores.
    """
    from asvbench.models.length_guard import require_min_length

    def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        require_min_length(lengths.tolist(), min_samples, sample_rate, name)
        param = next(module.m_output_act.parameters())
        scores = torch.zeros(len(lengths), dtype=torch.float32)
        groups: dict[int, list[int]] = {}
        for i, n in enumerate(lengths.tolist()):
            groups.setdefault(int(n), []).append(i)
        with torch.inference_mode():
            for n, rows in groups.items():
                feats = torch.stack([frontend.single(wavs[i, :n].float()) for i in rows])
                out = module(feats.to(device=param.device, dtype=param.dtype))
                scores[rows] = out.float().cpu()
        return cm_logits(scores)

    return forward


def load_lcnn(entry: "ModelEntry", path: Path, *, preset: str, layout: str) -> "LoadedModel":
    """Registry loader: build ``preset``, adapt the ``layout`` checkpoint, load strictly, eval mode.

    The front-end uses the checkpoint's stored LFCC constants (filterbank, DCT)."""
    from asvbench.frontends.lfcc import NiiLfcc
    from asvbench.models.base import LoadedModel
    from asvbench.models.glue import load_checkpoint

    module = load_checkpoint(build_lcnn(preset), path, layout=layout, family=f"{FAMILY} ({preset})")
    constants = module.m_frontend[0]
    frontend = NiiLfcc(module.config.lfcc, filterbank=constants.lfcc_fb, dct=constants.l_dct.weight, name=entry.frontend)
    minimum = max(entry.min_samples, min_samples(module.config))

    def with_network(network: LCNN) -> "Callable[[torch.Tensor, torch.Tensor], torch.Tensor]":
        return lcnn_forward(network, frontend, min_samples=minimum, sample_rate=entry.sample_rate, name=entry.name)

    def for_inference(in_place: bool = False) -> LoadedModel:
        fused = fuse_for_inference(module, in_place=in_place)
        model = LoadedModel(entry, fused, with_network(fused))
        model.optimisations = "inference form: each BatchNorm folded into the convolution before it (through MFM / max-pool)"
        return model

    return LoadedModel(entry, module, with_network(module), for_inference=for_inference)


__all__ = ["LCNN", "MFM_BN_PAIRS", "PRESETS", "BLSTMLayer", "LcnnConfig", "LfccConstants", "MaxFeatureMap2D",
           "build_lcnn", "cm_logits", "fuse_for_inference", "get_preset", "lcnn_forward", "load_lcnn", "min_samples"]
