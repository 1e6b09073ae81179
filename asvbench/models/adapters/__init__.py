"""Checkpoint adapters: a source's saved object -> a state dict with our key names.

An adapter takes what :func:`asvbench.models.base.load_state_dict_file` returned (a state dict,
or a dict wrapping one) and returns ``dict[str, Tensor]`` ready for
:func:`asvbench.models.base.load_strict`: wrappers unwrapped, ``module.`` (DataParallel / DDP)
prefixes stripped, training-only keys (margin heads, loss weights, optimizer state) dropped,
keys renamed. Adapters never guess silently: anything left over makes the strict load fail
with the missing and unexpected keys named.

Registered by layout name; the loader in :mod:`asvbench.models.registry` picks one by name.
Imports torch lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from asvbench.errors import AsvbenchError

Adapter = Callable[..., dict[str, Any]]

#: layout name -> (module, function); the function is ``adapt(obj, *, where) -> state dict``
ADAPTERS: dict[str, tuple[str, str]] = {
    "3dspeaker": ("asvbench.models.adapters.threedspeaker", "adapt_threedspeaker"),
    "wespeaker": ("asvbench.models.adapters.wespeaker", "adapt_wespeaker"),
    "taoruijie": ("asvbench.models.adapters.taoruijie", "adapt_taoruijie"),
    "speechbrain": ("asvbench.models.adapters.speechbrain", "adapt_speechbrain"),
    "clovaai-aasist": ("asvbench.models.adapters.clovaai_aasist", "adapt_clovaai_aasist"),
}

#: wrapper keys under which training scripts nest the network's state dict
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "embedding_model", "net", "network")


def get_adapter(layout: str) -> Adapter:
    """The adapter function registered for checkpoint ``layout``."""
    try:
        module, func = ADAPTERS[layout]
    except KeyError:
        raise AsvbenchError(f"unknown checkpoint layout {layout!r}",
                            hint=f"valid layouts: {', '.join(sorted(ADAPTERS))}") from None
    return getattr(importlib.import_module(module), func)


def _is_tensor_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, dict) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    )


def unwrap_state_dict(obj: Any, *, where: str | Path, wrapper_keys: Iterable[str] = WRAPPER_KEYS) -> dict[str, Any]:
    """The tensor dict in ``obj``: ``obj`` itself, or ``obj[k]`` for the first wrapper key ``k`` holding one.

    Non-tensor entries at the top level of a state dict (e.g. an ``epoch`` counter saved beside
    the weights) are dropped; a dict with no tensors at all is an error.
    """
    import torch

    if _is_tensor_dict(obj):
        return dict(obj)
    if isinstance(obj, dict):
        for key in wrapper_keys:
            if _is_tensor_dict(obj.get(key)):
                return dict(obj[key])
        tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    kind = f"a dict with keys {sorted(map(str, obj))[:8]}" if isinstance(obj, dict) else type(obj).__name__
    raise AsvbenchError(f"checkpoint holds no state dict of tensors ({kind})", where=where,
                        hint="pass the model checkpoint (.pt/.pth holding the network weights)")


def strip_prefix(state: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Remove ``prefix`` from every key that has it (``module.`` from DataParallel/DDP saves)."""
    return {k.removeprefix(prefix): v for k, v in state.items()}


def drop_prefixes(state: dict[str, Any], prefixes: Iterable[str]) -> dict[str, Any]:
    """Drop every key starting with one of ``prefixes`` (training heads, loss weights)."""
    pre = tuple(prefixes)
    return {k: v for k, v in state.items() if not k.startswith(pre)}


def counters_to_int64(state: dict[str, Any]) -> dict[str, Any]:
    """BatchNorm ``num_batches_tracked`` as int64 (averaged checkpoints store them as floats)."""
    import torch

    return {
        k: (v.round().to(torch.int64) if k.endswith("num_batches_tracked") and v.is_floating_point() else v)
        for k, v in state.items()
    }
