"""Checkpoint files in the clovaai voxceleb_trainer and open-speaker-verification layouts, written
from the parity fixtures' filled state dicts (shared by the ResNetSE34V2 and OSV ResNet tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from asvbench.models.resnet_se import build_resnet_se
from tests.models._parity import ParityCase, fill_state_dict


def resnetse_filled(case: ParityCase, rule: str) -> dict[str, Any]:
    """The voxceleb_trainer_resnetse34v2 reference-layout state dict under ``rule``; the front-end
    buffers (skipped by the fill) at their constructed values, as a real checkpoint stores them."""
    template = case.template()
    constructed = build_resnet_se().state_dict()
    for key in template:
        if key.startswith("torchfb."):
            template[key] = constructed[key].clone()
    return fill_state_dict(template, rule)


def speakernet_file(state: dict[str, Any], path: Path, *, wrapped: bool = False) -> Path:
    """``state`` saved as voxceleb_trainer saves ``SpeakerNet.state_dict()`` (the network under
    ``__S__.``, a softmaxproto loss head under ``__L__.``); ``wrapped``: inside the 2026
    ``{"model_state_dict": ..., "optimizer_state_dict": ..., ...}`` of ``saveParameters``."""
    speakernet = {**{f"__S__.{k}": v for k, v in state.items()},
                  "__L__.softmax.fc.weight": torch.zeros(7, 512), "__L__.softmax.fc.bias": torch.zeros(7),
                  "__L__.angleproto.w": torch.tensor(10.0), "__L__.angleproto.b": torch.tensor(-5.0)}
    if wrapped:
        speakernet = {"model_state_dict": speakernet, "optimizer_state_dict": {"state": {}, "param_groups": []},
                      "scheduler_state_dict": {}, "epoch": 3}
    torch.save(speakernet, path)
    return path


def mmcv_file(state: dict[str, Any], path: Path) -> Path:
    """``state`` saved as mmcv ``save_checkpoint`` saves the classifier (with the AM head ``head.W``)."""
    torch.save({"meta": {"mmcls_version": "0.6.0", "epoch": 16},
                "state_dict": {**state, "head.W": torch.zeros(5994, 256)}}, path)
    return path
