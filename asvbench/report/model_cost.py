"""Parameter and FLOP counts of the model behind an embedding store, for the record's metadata.

``score --save-result`` on a store written by ``extract`` reads the model name and checkpoint
from the store's manifest, loads that model once per process, and counts its parameters and the
FLOPs of one forward pass of :data:`COST_SECONDS` seconds of audio (torch's ``FlopCounterMode``:
a multiply-add counts 2; the front-end's FFTs are not counted). Stores without a manifest, or
whose checkpoint file is gone, get no counts (``--meta params=... flops=...`` can say them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: the input the FLOPs are counted for
COST_SECONDS = 10.0


@dataclass(frozen=True)
class ModelCost:
    params: int
    flops: int
    seconds: float = COST_SECONDS

    def to_meta(self) -> dict[str, int | str]:
        return {"params": self.params, "flops": self.flops,
                "flops_input": f"{self.seconds:g} s, one utterance, FlopCounterMode (multiply-add = 2)"}


def count_cost(loaded, seconds: float = COST_SECONDS) -> ModelCost:
    """Parameters of ``loaded.module`` and FLOPs of one ``seconds``-long all-zero waveform."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    n = int(round(seconds * loaded.entry.sample_rate))
    wavs = torch.zeros(1, n)
    lengths = torch.tensor([n])
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        loaded.forward(wavs, lengths)
    params = sum(p.numel() for p in loaded.module.parameters())
    return ModelCost(params=int(params), flops=int(counter.get_total_flops()), seconds=seconds)


@lru_cache(maxsize=8)
def _cost_of_checkpoint(model: str, checkpoint: str, sha256: str | None) -> ModelCost:
    from asvbench.models.registry import get_model

    return count_cost(get_model(model).loader(Path(checkpoint)))


def store_model_cost(store: str | Path | None) -> ModelCost | None:
    """The cost of the model named in a native store's manifest, or None when it cannot be known."""
    from asvbench.io.embeddings import read_manifest

    if store is None or not Path(store).is_dir():
        return None
    manifest = read_manifest(store) or {}
    model, checkpoint = manifest.get("model"), manifest.get("checkpoint")
    if not model or not checkpoint or not Path(checkpoint).is_file() or manifest.get("kind") == "cm":
        return None
    return _cost_of_checkpoint(str(model), str(checkpoint), manifest.get("checkpoint_sha256"))
