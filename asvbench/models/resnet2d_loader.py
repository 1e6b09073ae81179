"""The registry loader of the 2-D ResNet families whose front-end or inference form is their own
(clovaai ResNetSE, open-speaker-verification ResNet): adapt, refuse another 2-D ResNet's
checkpoint by name, load strictly, wire the front-end, offer the folded inference form.

Naming what a wrong checkpoint is: every registry entry of a 2-D ResNet family (WeSpeaker ResNet,
Gemini DF-ResNet, ResNetSE, OSV ResNet) names its preset and checkpoint layout. The file is read
through each such layout's adapter and the result compared with that preset's state-dict shapes
(networks built on the meta device, :mod:`asvbench.models.preset_fit`); an exact fit names the
preset and the registry models built from it. Reading the file through the *other* family's
adapter matters: an mmcls checkpoint still holds ``head.W`` after the voxceleb_trainer adapter.

Imported by those families' loaders only (after torch).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from asvbench.frontends.base import Frontend
    from asvbench.models.base import LoadedModel, ModelEntry

#: ours, beside :data:`asvbench.models.resnet2d.FAMILIES` (label, module, builder)
OWN_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("clovaai ResNetSE", "asvbench.models.resnet_se", "build_resnet_se"),
    ("OSV ResNet", "asvbench.models.osv_resnet", "build_osv_resnet"),
)


def _families() -> tuple[tuple[str, str, str], ...]:
    from asvbench.models.resnet2d import FAMILIES

    return tuple(FAMILIES) + OWN_FAMILIES


def fitting_models(obj: Any, *, where: str | Path) -> list[tuple[str, str]]:
    """``(family preset label, registry model)`` of every 2-D ResNet entry whose preset's shapes the
    checkpoint object ``obj`` fits exactly when read through that entry's layout adapter."""
    from asvbench.errors import AsvbenchError
    from asvbench.models.adapters import get_adapter
    from asvbench.models.preset_fit import preset_shapes, state_shapes
    from asvbench.models.registry import list_models

    builders = {module: (label, builder) for label, module, builder in _families()}
    read: dict[str, dict[str, tuple[int, ...]] | None] = {}  # layout -> shapes of the adapted file
    fits = []
    for entry in list_models():
        module = getattr(entry.loader, "module", None)
        kwargs = dict(getattr(entry.loader, "kwargs", ()))
        if module not in builders or "preset" not in kwargs or "layout" not in kwargs:
            continue
        layout, preset = kwargs["layout"], kwargs["preset"]
        if layout not in read:
            try:
                read[layout] = state_shapes(get_adapter(layout)(obj, where=where))
            except AsvbenchError:  # not readable as that layout at all
                read[layout] = None
        label, builder = builders[module]
        build = getattr(importlib.import_module(module), builder)
        if read[layout] is not None and read[layout] == preset_shapes(build, preset):
            fits.append((f"{label} preset {preset!r}", entry.name))
    return fits


def refuse_other_models(obj: Any, state: dict[str, Any], module: "nn.Module", *, family: str, preset: str,
                        where: str | Path) -> None:
    """:class:`AsvbenchError` naming the 2-D ResNet preset(s) and models ``obj`` fits, when its
    adapted ``state`` does not fit ``module``; silent when it fits ``module`` or nothing known
    (the strict load then names the missing and unexpected keys)."""
    from asvbench.errors import AsvbenchError
    from asvbench.models.preset_fit import state_shapes

    if state_shapes(state) == state_shapes(module.state_dict()):
        return
    fits = fitting_models(obj, where=where)
    if not fits:
        return
    labels = " / ".join(dict.fromkeys(label for label, _ in fits))
    models = " or ".join(name for _, name in fits)
    raise AsvbenchError(f"checkpoint is not the {family} preset {preset!r}: its tensors fit {labels}",
                        where=where, hint=f"use --model {models}")


def load_2d_resnet(entry: "ModelEntry", path: Path, module: "nn.Module", *, family: str, preset: str, layout: str,
                   fold: Callable[..., "nn.Module"],
                   frontend: "Callable[[], Frontend] | None" = None) -> "LoadedModel":
    """Load the ``layout`` checkpoint at ``path`` into ``module`` (built from ``preset``), eval mode.

    ``frontend`` builds the front-end after the load (e.g. from the checkpoint's buffers);
    default: ``entry.frontend``. ``fold(network, in_place=...)`` gives the inference form."""
    from asvbench.frontends import get_frontend
    from asvbench.models.adapters import get_adapter
    from asvbench.models.base import load_state_dict_file, load_strict
    from asvbench.models.glue import embedding_model

    obj = load_state_dict_file(path)
    state = get_adapter(layout)(obj, where=path)
    refuse_other_models(obj, state, module, family=family, preset=preset, where=path)
    load_strict(module, state, where=path, family=f"{family} ({preset})")
    module.eval()
    fe = frontend() if frontend is not None else get_frontend(entry.frontend)
    return embedding_model(entry, module, fe, inference_form=fold,
                           optimisations="inference form: BatchNorm folded into the preceding convolutions, "
                                         "channels-last weights")
