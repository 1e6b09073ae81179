"""What the WeSpeaker-style 2-D ResNets share (``resnet.py``: ResNet18 .. ResNet293;
``gemini_dfresnet.py``: Gemini DF-ResNet 60 .. 237): the masked time axis of ``(B, C, F, T)``
maps, the TSTP + ``seg_1`` embedding head, the inference form and the registry loader.

Both families take features ``(B, T, F)``, view them as a one-channel image ``(B, 1, F, T)``
(frequency = height, time = width), run 2-D convolutions, pool the mean and standard deviation
of every (channel, frequency) row over time (WeSpeaker ``TSTP``: ``sqrt(unbiased var + 1e-7)``)
and map them to the embedding with ``seg_1`` (``Linear``); ``two_emb_layer`` (older configs)
adds ReLU, ``seg_bn_1`` (BatchNorm1d without affine parameters) and ``seg_2``. The reference
``forward`` returns ``(placeholder, embedding)``; ours returns the embedding.

Padded batches: a frame mask follows the time axis through every stride, every 3x3 convolution
sees zeros past a row's valid frames (what it sees at the end of the unpadded row) and the
pooling uses only valid frames, so a padded row gives its one-at-a-time embedding.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from asvbench.models.fold import fold_pairs
from asvbench.models.layers import TSTP, frame_mask, zero_padded_frames

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry

Mask = torch.Tensor | None


def strided_mask(mask: Mask, stride: int) -> Mask:
    """The frame mask after a time stride of a convolution with 'same' padding (3x3, padding 1,
    or 1x1, padding 0): output frame ``j`` is centred on input frame ``stride * j``, and it is
    valid exactly when that input frame is (the unpadded row of ``L`` frames has ``ceil(L /
    stride)`` output frames)."""
    return mask if mask is None or stride == 1 else mask[..., ::stride]


def min_frames_for_time_stride(total_stride: int) -> int:
    """Shortest input (frames) giving 2 frames at the pooling, where the unbiased variance of
    TSTP is defined: ``ceil(T / total_stride) >= 2``, i.e. ``T = total_stride + 1``."""
    return total_stride + 1


class WeSpeaker2dNet(nn.Module):
    """Base of the two families: ``forward(feats (B, T, F), lengths) -> (B, embed_dim)``.

    Subclasses build their trunk, then call :meth:`_add_head` (after the trunk, so that the
    state-dict keys come in the reference's order) and implement :meth:`trunk` and
    :meth:`conv_bn_pairs`."""

    pool: TSTP
    seg_1: nn.Linear

    def _add_head(self, pooled_dim: int, embed_dim: int, two_emb_layer: bool, std_eps: float) -> None:
        self.pool = TSTP(std_eps=std_eps)
        self.seg_1 = nn.Linear(pooled_dim, embed_dim)
        self.two_emb_layer = two_emb_layer
        if two_emb_layer:
            self.seg_bn_1: nn.Module = nn.BatchNorm1d(embed_dim, affine=False)
            self.seg_2: nn.Module = nn.Linear(embed_dim, embed_dim)
        else:  # as the reference: Identity modules, no keys
            self.seg_bn_1 = nn.Identity()
            self.seg_2 = nn.Identity()

    def trunk(self, x: torch.Tensor, mask: Mask) -> tuple[torch.Tensor, Mask]:
        """``(B, 1, F, T)`` -> the last feature map ``(B, C, F', T')`` and its frame mask."""
        raise NotImplementedError

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        """``(conv, batchnorm)`` submodule paths where the BatchNorm directly follows the conv."""
        raise NotImplementedError

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings of ``feats`` ``(B, T, F)``; ``lengths`` ``(B,)`` = valid frames of each row."""
        x = feats.transpose(1, 2).unsqueeze(1)  # (B, 1, F, T)
        mask = frame_mask(lengths, x.shape[-1], x.device)
        out, mask = self.trunk(x, mask)
        embed = self.seg_1(self.pool(out, mask))
        if self.two_emb_layer:
            embed = self.seg_2(self.seg_bn_1(F.relu(embed)))
        return embed


def conv_bn_relu(conv: nn.Module, bn: nn.Module, x: torch.Tensor, mask: Mask, *, relu: bool = True) -> torch.Tensor:
    """``relu(bn(conv(x)))`` with the padded frames of ``x`` zeroed first (in place on the new tensor)."""
    out = bn(conv(zero_padded_frames(x, mask)))
    return F.relu_(out) if relu else out


def fold_for_inference(model: nn.Module, *, in_place: bool = False) -> nn.Module:
    """The inference form of a 2-D network that lists its ``conv_bn_pairs()`` (the families here,
    and others built the same way): every BatchNorm folded into the convolution before it
    (:func:`asvbench.models.fold.fold_pairs`), weights channels-last (NHWC, the layout oneDNN
    runs 2-D convolutions fastest in on CPU). Equal to ``model`` up to float rounding."""
    out = fold_pairs(model if in_place else copy.deepcopy(model), model.conv_bn_pairs(), in_place=True).eval()
    return out.to(memory_format=torch.channels_last)


# ---------------------------------------------------------------- registry loader

#: what :func:`fold_for_inference` does, for the extraction manifest
OPTIMISATIONS = "inference form: BatchNorm folded into the preceding convolutions, channels-last weights"


#: the families whose checkpoints a loader compares against (label prefix, module, builder)
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("WeSpeaker ResNet", "asvbench.models.resnet", "build_resnet"),
    ("Gemini DF-ResNet", "asvbench.models.gemini_dfresnet", "build_gemini_dfresnet"),
)


def _preset_label(family: str, preset: str) -> str:
    return f"{family} preset {preset!r}"


def _candidates() -> list[tuple[str, dict[str, tuple[int, ...]]]]:
    """``(label, state-dict shapes)`` of every preset of :data:`FAMILIES`."""
    import importlib

    from asvbench.models.preset_fit import preset_shapes

    out = []
    for family, module_name, builder in FAMILIES:
        module = importlib.import_module(module_name)
        for preset in module.PRESETS:
            out.append((_preset_label(family, preset), preset_shapes(getattr(module, builder), preset)))
    return out


def _models_of(labels: Sequence[str], layout: str) -> list[str]:
    """Registry names whose loader reads the ``layout`` and builds one of the presets ``labels`` name."""
    from asvbench.models.registry import list_models

    names = []
    for entry in list_models():
        kwargs = dict(getattr(entry.loader, "kwargs", ()))
        family = next((f for f, module, _ in FAMILIES if getattr(entry.loader, "module", None) == module), None)
        if family is not None and kwargs.get("layout") == layout and \
                _preset_label(family, kwargs.get("preset", "")) in labels:
            names.append(entry.name)
    return names


def check_preset(state: dict[str, Any], *, family: str, preset: str, where: Path, layout: str = "wespeaker",
                 module: nn.Module | None = None) -> None:
    """Refuse a checkpoint of another preset of these families, naming the preset(s) it fits
    and the registry models that read it (``layout``, the one ``state`` was adapted from) into
    them. ``module``: the network built for ``preset`` (when the checkpoint fits it, the other
    presets are not built at all)."""
    from asvbench.models.preset_fit import fitting, refuse_other_presets, state_shapes

    if module is not None and state_shapes(state) == state_shapes(module.state_dict()):
        return
    candidates = _candidates()
    fits = fitting(state_shapes(state), candidates)
    models = _models_of(fits, layout)
    hint = f"use --model {' or '.join(models)}" if models else None
    refuse_other_presets(state, expected=_preset_label(family, preset), candidates=candidates, where=where, hint=hint)


def load_2d_family(entry: "ModelEntry", path: Path, *, family: str, build: Callable[[str], WeSpeaker2dNet],
                   preset: str, layout: str) -> "LoadedModel":
    """Registry loader of both families: build ``preset``, adapt the ``layout`` checkpoint,
    refuse another preset's checkpoint by name, load strictly, eval mode; the inference form
    folds the BatchNorms (:func:`fold_for_inference`)."""
    from asvbench.frontends import get_frontend
    from asvbench.models.adapters import get_adapter
    from asvbench.models.base import load_state_dict_file, load_strict
    from asvbench.models.glue import embedding_model

    module = build(preset)
    state = get_adapter(layout)(load_state_dict_file(path), where=path)
    check_preset(state, family=family, preset=preset, where=path, layout=layout, module=module)
    load_strict(module, state, where=path, family=f"{family} ({preset})")
    return embedding_model(entry, module.eval(), get_frontend(entry.frontend), inference_form=fold_for_inference,
                           optimisations=OPTIMISATIONS)
