"""Every model family has one shape: frozen config, named presets, ``build_<family>(config | preset)``
in eval mode, one error for an unknown preset; adapters registered beside their definition."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from asvbench.errors import AsvbenchError
from asvbench.models import aasist, campplus, ecapa_tdnn, ge2e, lcnn
from asvbench.models._presets import UnknownPresetError
from asvbench.models.adapters import ADAPTERS, get_adapter, layouts, register_adapter
from asvbench.models.registry import MODELS

FAMILIES = [
    (campplus, campplus.build_campplus, campplus.CAMPPlusConfig, "wespeaker-e192"),
    (ecapa_tdnn, ecapa_tdnn.build_ecapa, ecapa_tdnn.EcapaConfig, "wespeaker-c512"),
    (aasist, aasist.build_aasist, aasist.AasistConfig, "AASIST-L"),
    (ge2e, ge2e.build_ge2e, ge2e.GE2EConfig, "resemblyzer"),
    (lcnn, lcnn.build_lcnn, lcnn.LcnnConfig, "nii-lfcc-lcnn-lstm-sig"),
]
IDS = ["campplus", "ecapa", "aasist", "ge2e", "lcnn"]


@pytest.mark.parametrize("module,build,config_cls,preset", FAMILIES, ids=IDS)
def test_unknown_preset_is_one_error_listing_the_valid_presets(module, build, config_cls, preset):
    for call in (lambda: module.get_preset("no-such-preset"), lambda: build("no-such-preset")):
        with pytest.raises(UnknownPresetError) as err:
            call()
        assert isinstance(err.value, AsvbenchError)  # the CLI turns it into exit code 2
        assert f"unknown {module.FAMILY} preset 'no-such-preset'" in str(err.value)
        assert all(name in err.value.hint for name in module.PRESETS)


@pytest.mark.parametrize("module,build,config_cls,preset", FAMILIES, ids=IDS)
def test_config_is_frozen_and_build_takes_a_preset_or_a_config(module, build, config_cls, preset):
    config = module.get_preset(preset)
    assert isinstance(config, config_cls) and dataclasses.is_dataclass(config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, dataclasses.fields(config)[0].name, None)
    by_name, by_config = build(preset), build(config)
    assert not by_name.training and not by_config.training
    assert by_name.config == by_config.config == config
    shapes = [{k: v.shape for k, v in m.state_dict().items()} for m in (by_name, by_config)]
    assert shapes[0] == shapes[1]


def test_build_applies_field_overrides():
    assert campplus.build_campplus("wespeaker-e192", embed_dim=16).config.embed_dim == 16
    assert ecapa_tdnn.build_ecapa("wespeaker-c512", embed_dim=16).config.embed_dim == 16


def test_adapters_register_beside_their_definition():
    assert set(layouts()) >= {"3dspeaker", "wespeaker", "taoruijie", "speechbrain", "clovaai-aasist"}
    from asvbench.models.adapters.wespeaker import adapt_wespeaker

    assert get_adapter("wespeaker") is adapt_wespeaker
    with pytest.raises(ValueError, match="registered twice"):
        register_adapter("wespeaker")(lambda obj, *, where: {})
    assert ADAPTERS.get("wespeaker") is adapt_wespeaker  # the first registration stands


def test_every_registry_entry_names_a_registered_layout_and_preset():
    families = {"campplus": campplus, "ecapa-tdnn": ecapa_tdnn, "aasist": aasist}
    valid = set(layouts())
    for name, entry in MODELS.items():
        kwargs = dict(getattr(entry.loader, "kwargs", ()))
        if "layout" in kwargs:
            assert kwargs["layout"] in valid, name
        module = families.get(entry.family)
        if module is not None and "preset" in kwargs:
            assert kwargs["preset"] in module.PRESETS, name


def test_cli_help_does_not_import_torch():
    # a rendered help (not the cached page), through the entry point a user runs: ``python -m asvbench``
    env = {**os.environ, "ASVBENCH_HELP_CACHE": "0"}
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "asvbench", "score", "--help"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--trials" in out.stdout
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" not in imported and "asvbench.models.layers" not in imported
