"""Checkpoint adapters: a source's saved object -> a state dict with our key names.

An adapter takes what :func:`asvbench.models.base.load_state_dict_file` returned (a state dict,
or a dict wrapping one) and returns ``dict[str, Tensor]`` ready for
:func:`asvbench.models.base.load_strict`: wrappers unwrapped, ``module.`` (DataParallel / DDP)
prefixes stripped, training-only keys (margin heads, loss weights, optimizer state) dropped,
keys renamed. Adapters never guess silently: anything left over makes the strict load fail
with the missing and unexpected keys named.

Each adapter module registers its function beside its definition with
``@register_adapter("<layout>")``; :func:`get_adapter` imports every module of this package
once and looks the layout up, so a new source is one new file here. Imports torch lazily.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from asvbench._registry import Registry
from asvbench.errors import AsvbenchError

#: ``adapt(obj, *, where) -> state dict``
Adapter = Callable[..., dict[str, Any]]

#: layout name -> adapter function, filled by :func:`register_adapter` as the modules are imported
ADAPTERS: Registry[Adapter] = Registry("checkpoint layout")

#: wrapper keys under which training scripts nest the network's state dict
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "embedding_model", "net", "network")


def register_adapter(layout: str) -> Callable[[Adapter], Adapter]:
    """Decorator: register the adapter function for checkpoint ``layout`` (once per layout)."""

    def register(func: Adapter) -> Adapter:
        return ADAPTERS.register(layout, func)

    return register


def _import_adapter_modules() -> None:
    """Import every adapter module of this package once (each registers its layouts on import)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def layouts() -> list[str]:
    """Every registered checkpoint layout, sorted."""
    _import_adapter_modules()
    return ADAPTERS.names()


def get_adapter(layout: str) -> Adapter:
    """The adapter function registered for checkpoint ``layout`` (an error listing the valid ones)."""
    if layout not in ADAPTERS:
        _import_adapter_modules()
    return ADAPTERS.get(layout)


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


def clean_state(obj: Any, *, where: str | Path, strip: Iterable[str] = (), drop: Iterable[str] = (),
                wrapper_keys: Iterable[str] = WRAPPER_KEYS) -> dict[str, Any]:
    """The steps most adapters are made of, in this order: :func:`unwrap_state_dict`, strip a
    ``module.`` prefix (DataParallel / DDP), strip each of ``strip`` in turn, drop every key
    under ``drop``, :func:`counters_to_int64`."""
    state = strip_prefix(unwrap_state_dict(obj, where=where, wrapper_keys=wrapper_keys), "module.")
    for prefix in strip:
        state = strip_prefix(state, prefix)
    return counters_to_int64(drop_prefixes(state, drop))
