"""Loader glue shared by the families: a checkpoint into a network, a network and its front-end
into the ``forward(wavs, lengths)`` of :class:`~asvbench.models.base.LoadedModel`.

Imported by the family modules' registry loaders (after torch); importing it does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from asvbench.frontends.base import Frontend
    from asvbench.models.base import LoadedModel, ModelEntry

Forward = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
#: ``inference_form(network, *, in_place) -> network``: the network rewritten for inference
InferenceForm = Callable[..., "torch.nn.Module"]


def load_checkpoint(module: "torch.nn.Module", path: Path, *, layout: str, family: str) -> "torch.nn.Module":
    """Adapt the ``layout`` checkpoint at ``path``, load it strictly into ``module``, eval mode.

    ``family`` names the architecture in the error when keys or shapes do not fit (e.g.
    ``"CAM++ (wespeaker-e192)"``)."""
    from asvbench.models.adapters import get_adapter
    from asvbench.models.base import load_state_dict_file, load_strict

    state = get_adapter(layout)(load_state_dict_file(path), where=path)
    load_strict(module, state, where=path, family=family)
    return module.eval()


def require_min_samples(lengths: "torch.Tensor", min_samples: int, name: str, sample_rate: int = 16000) -> None:
    """The minimum-length guard on a lengths tensor (:func:`~asvbench.models.length_guard.require_min_length`:
    the message gives samples and seconds)."""
    from asvbench.models.length_guard import require_min_length

    require_min_length(lengths.tolist(), min_samples, sample_rate, name)


def frames_to_samples(frames: int, frontend: str) -> int:
    """Shortest 16 kHz waveform giving ``frames`` feature frames with the named front-end (10 ms
    hop, 25 ms window): Kaldi fbank (``snip_edges``) has ``1 + (N - 400) // 160`` frames, a
    centred STFT ``1 + N // 160``; the TaoRuijie front-end also needs its own minimum."""
    if frontend.startswith("kaldi-fbank"):
        return 400 + 160 * (frames - 1)
    if frontend == "taoruijie-mel-80":
        from asvbench.frontends.taoruijie import TAORUIJIE_MEL80

        return max(TAORUIJIE_MEL80.min_samples, 160 * (frames - 1))
    return 160 * (frames - 1)


def frontend_network_forward(frontend: "Frontend", module: "torch.nn.Module", *, min_samples: int = 0,
                             name: str = "model") -> Forward:
    """``forward(wavs (B, T) in [-1, 1], lengths (B,)) -> (B, D)`` for a feature-based embedding model.

    Batching contract: features are computed per utterance on its valid samples (see the
    front-end), zero-padded, and the network masks padded frames (``module(feats, frame_lengths)``),
    so a padded batch gives each utterance's one-at-a-time embedding up to float rounding: the
    engine may batch utterances of different lengths (bucketing by length only saves compute).
    Features are computed in float32 and cast to the network's dtype; output is float32.
    Rows shorter than ``min_samples`` raise :class:`AsvbenchError` (the engine should skip and
    record them before batching).
    """
    import torch

    def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        require_min_samples(lengths, min_samples, name)
        param = next(module.parameters())
        with torch.inference_mode():
            feats, frames = frontend(wavs.to(torch.float32), lengths)
            out = module(feats.to(device=param.device, dtype=param.dtype), frames.to(param.device))
        return out.float()

    return forward


def embedding_model(entry: "ModelEntry", module: "torch.nn.Module", frontend: "Frontend", *,
                    min_samples: int | None = None, inference_form: InferenceForm | None = None,
                    optimisations: str = "") -> "LoadedModel":
    """The :class:`~asvbench.models.base.LoadedModel` of a feature-based embedding network.

    ``forward`` is :func:`frontend_network_forward` guarded by ``min_samples`` (default
    ``entry.min_samples``). With ``inference_form``, ``for_inference(in_place=...)`` returns the
    model of ``inference_form(module, in_place=...)``, its ``optimisations`` set to describe it.
    """
    from asvbench.models.base import LoadedModel

    minimum = entry.min_samples if min_samples is None else min_samples

    def with_network(network: "torch.nn.Module") -> Forward:
        return frontend_network_forward(frontend, network, min_samples=minimum, name=entry.name)

    if inference_form is None:
        return LoadedModel(entry, module, with_network(module))

    def for_inference(in_place: bool = False) -> LoadedModel:
        network = inference_form(module, in_place=in_place)
        model = LoadedModel(entry, network, with_network(network))
        model.optimisations = optimisations
        return model

    return LoadedModel(entry, module, with_network(module), for_inference=for_inference)
