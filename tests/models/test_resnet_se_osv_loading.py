"""Bad input to the clovaai ResNetSE and OSV ResNet loaders: another 2-D ResNet's checkpoint is
named (preset and registry models), an unrelated one gets the strict load's key report, an
unknown preset lists the valid ones. Checkpoints are written in each source's own layout from the
fixtures' key lists (zero tensors: only names and shapes matter here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.models import osv_resnet, resnet_se
from asvbench.models._presets import UnknownPresetError
from asvbench.models.registry import get_model
from tests.conftest import shared_path
from tests.models._parity import parity_case

pytestmark = pytest.mark.shared


def _zeros(shared_dir: Path, folder: str) -> dict[str, torch.Tensor]:
    return parity_case(shared_dir, folder).template()


@pytest.fixture(scope="module")
def files(shared_dir, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpts")
    osv = _zeros(shared_dir, "osv_resnet34_am")
    se = _zeros(shared_dir, "voxceleb_trainer_resnetse34v2")
    out = {
        # mmcv save_checkpoint: meta + state_dict with the AM-softmax head
        "osv": {"meta": {}, "state_dict": {**osv, "head.W": torch.zeros(5994, 256)}},
        # voxceleb_trainer SpeakerNet.state_dict(): __S__ network + __L__ loss head
        "resnetse": {**{f"__S__.{k}": v for k, v in se.items()}, "__L__.fc.weight": torch.zeros(5994, 512)},
        # WeSpeaker avg_model.pt: the network + the ArcMargin head projection.weight
        "wespeaker-resnet34": {**_zeros(shared_dir, "wespeaker_resnet34"), "projection.weight": torch.zeros(5994, 256)},
        "gemini-dfresnet114": {**_zeros(shared_dir, "wespeaker_gemini_dfresnet114"),
                               "projection.weight": torch.zeros(5994, 256)},
    }
    paths = {}
    for name, obj in out.items():
        paths[name] = root / f"{name}.pt"
        torch.save(obj, paths[name])
    return paths


def _refused(entry: str, path: Path) -> AsvbenchError:
    with pytest.raises(AsvbenchError) as err:
        get_model(entry).loader(path)
    return err.value


def test_osv_checkpoint_given_to_resnetse_is_named(files):
    err = _refused("resnetse34v2-clovaai-ap", files["osv"])
    assert "not the clovaai ResNetSE preset 'resnetse34v2'" in err.what
    assert "OSV ResNet preset 'resnet34'" in err.what
    assert "osv-resnet34-am" in err.hint and str(files["osv"]) == err.where


def test_resnetse_checkpoint_given_to_osv_is_named(files):
    err = _refused("osv-resnet34-am", files["resnetse"])
    assert "not the OSV ResNet preset 'resnet34'" in err.what
    assert "clovaai ResNetSE preset 'resnetse34v2'" in err.what
    assert "resnetse34v2-clovaai-ap" in err.hint and "resnetse34v2-doubleroc" in err.hint


@pytest.mark.parametrize(("file", "fits"), [
    ("wespeaker-resnet34", "WeSpeaker ResNet preset 'resnet34'"),
    ("gemini-dfresnet114", "Gemini DF-ResNet preset"),
])
@pytest.mark.parametrize("entry", ["osv-resnet34-am", "resnetse34v2-clovaai-ap"])
def test_wespeaker_checkpoints_are_named(files, entry, file, fits):
    err = _refused(entry, files[file])
    assert fits in err.what and "--model" in err.hint


def test_unrelated_checkpoint_gets_the_key_report(shared_dir):
    aasist = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    err = _refused("osv-resnet34-am", aasist)
    # all 223 of our keys missing, all 229 AASIST keys unexpected
    assert "223 missing keys" in err.what and "229 unexpected keys" in err.what


def test_own_checkpoints_load(files):
    for entry, file in (("osv-resnet34-am", "osv"), ("resnetse34v2-clovaai-ap", "resnetse")):
        assert get_model(entry).loader(files[file]).entry.name == entry


@pytest.mark.parametrize("module", [resnet_se, osv_resnet], ids=["resnet_se", "osv_resnet"])
def test_family_shape(module):
    build = module.build_resnet_se if module is resnet_se else module.build_osv_resnet
    for call in (lambda: module.get_preset("no-such-preset"), lambda: build("no-such-preset")):
        with pytest.raises(UnknownPresetError) as err:
            call()
        assert f"unknown {module.FAMILY} preset 'no-such-preset'" in str(err.value)
        assert all(name in err.value.hint for name in module.PRESETS)
    (name,) = module.PRESETS
    config = module.get_preset(name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.embed_dim = 1
    by_name, by_config = build(name), build(config)
    assert not by_name.training and by_name.config == by_config.config == config
    assert build(name, embed_dim=16).config.embed_dim == 16
