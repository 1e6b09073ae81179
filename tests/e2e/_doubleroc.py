"""The four ASV systems of the SASV2022 DoubleRoc table, as rule-B filled checkpoint files.

No released checkpoint of these systems is in ``../shared``, so each file is the architecture with
the deterministic weights of ``shared/parity/FILL_RULE.md`` (rule B), written in its source's own
layout, under the release's file name. Embeddings from them mean nothing as speaker models: tests
that use them check the pipeline, not the published EERs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# torch and the parity helpers are imported by the writers: the README test reads SYSTEMS without them


@dataclass(frozen=True)
class System:
    """One row of the DoubleRoc table: its name there, registry entry and release file name."""

    row: str
    entry: str
    checkpoint: str
    write: Callable[[Path, Path], Path]  # (shared_dir, path) -> path


def _taoruijie_ecapa(shared_dir: Path, path: Path) -> Path:
    import torch

    from asvbench.models.ecapa_tdnn import build_ecapa, get_preset
    from tests.models._parity import fill_state_dict

    # exps/pretrain.model = ECAPAModel.state_dict(): speaker_encoder.* + the AAM head speaker_loss.weight
    state = fill_state_dict(build_ecapa(get_preset("taoruijie-c1024")).state_dict(), "B")
    torch.save({**{f"speaker_encoder.{k}": v for k, v in state.items()},
                "speaker_loss.weight": torch.zeros(5, 192)}, path)
    return path


def _clovaai_resnetse34v2(shared_dir: Path, path: Path) -> Path:
    from tests.models._parity import parity_case
    from tests.models._resnet_se_osv import resnetse_filled, speakernet_file

    # baseline_v2_ap.model = SpeakerNet.state_dict(): __S__.* (+ front-end buffers) and the __L__ loss head
    return speakernet_file(resnetse_filled(parity_case(shared_dir, "voxceleb_trainer_resnetse34v2"), "B"), path)


def _doubleroc_res2net(preset: str) -> Callable[[Path, Path], Path]:
    def write(shared_dir: Path, path: Path) -> Path:
        import torch

        from asvbench.models.res2net import build_res2net
        from tests.models._parity import fill_state_dict

        # res2net50v2.model / res2next50.model: the plain state dict (front-end buffers included)
        state: dict[str, Any] = fill_state_dict(build_res2net(preset).state_dict(), "B")
        torch.save(state, path)
        return path

    return write


SYSTEMS = (
    System("ECAPA-TDNN", "ecapa-taoruijie-c1024", "pretrain.model", _taoruijie_ecapa),
    System("SE-ResNet-34", "resnetse34v2-doubleroc", "baseline_v2_ap.model", _clovaai_resnetse34v2),
    System("SE-Res2Net-50", "res2net50v2-doubleroc", "res2net50v2.model", _doubleroc_res2net("doubleroc-res2net50v2")),
    System("Res2NeXt-50", "res2next50-doubleroc", "res2next50.model", _doubleroc_res2net("doubleroc-res2next50")),
)


def write_checkpoints(shared_dir: Path, folder: Path) -> dict[str, Path]:
    """Every system's filled checkpoint under its release file name in ``folder``, by registry entry."""
    return {s.entry: s.write(shared_dir, folder / s.checkpoint) for s in SYSTEMS}
