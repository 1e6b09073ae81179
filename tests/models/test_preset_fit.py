"""preset_fit: which preset a state dict's keys and shapes fit (tiny networks, shapes by hand)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asvbench.errors import AsvbenchError
from asvbench.models.preset_fit import fitting, preset_shapes, refuse_other_presets, state_shapes

#: preset -> (hidden width, depth): "narrow" and "wide" differ in shapes, "deep" in keys
PRESETS = {"narrow": (3, 1), "wide": (5, 1), "deep": (3, 2)}


def build(preset: str) -> nn.Module:
    width, depth = PRESETS[preset]
    return nn.Sequential(*(nn.Linear(2 if i == 0 else width, width) for i in range(depth)))


def _candidates() -> list:
    return [(p, preset_shapes(build, p)) for p in PRESETS]


def test_preset_shapes_are_built_on_the_meta_device_by_hand():
    # Linear(2, 3): weight (3, 2), bias (3,); the second layer of "deep": Linear(3, 3)
    assert preset_shapes(build, "narrow") == {"0.weight": (3, 2), "0.bias": (3,)}
    assert preset_shapes(build, "deep") == {"0.weight": (3, 2), "0.bias": (3,), "1.weight": (3, 3), "1.bias": (3,)}
    assert state_shapes(build("wide").state_dict()) == {"0.weight": (5, 2), "0.bias": (5,)}


def test_fitting_needs_the_same_keys_and_shapes():
    assert fitting(state_shapes(build("wide").state_dict()), _candidates()) == ["wide"]
    assert fitting({"0.weight": (3, 2)}, _candidates()) == []  # a key missing: fits nothing


def test_refuse_names_the_preset_the_shapes_fit():
    state = build("deep").state_dict()
    refuse_other_presets(state, expected="deep", candidates=_candidates(), where="x.pt")  # its own: silent
    with pytest.raises(AsvbenchError, match="x.pt: checkpoint is not a narrow: its 4 tensors fit deep") as err:
        refuse_other_presets(state, expected="narrow", candidates=_candidates(), where="x.pt")
    assert "asvbench models list" in str(err.value)  # the default hint
    odd = {"0.weight": torch.zeros(7, 2)}
    refuse_other_presets(odd, expected="narrow", candidates=_candidates(), where="x.pt")  # fits nothing: silent
