"""Parity runs shared by test_resnet_parity.py and test_gemini_parity.py (WeSpeaker 2-D ResNets).

One run per fixture folder: the reference-layout state dict filled by rule B is written as
WeSpeaker writes ``avg_model.pt`` (a plain state dict, BatchNorm counters averaged into floats,
plus the ArcMargin head ``projection.weight``), loaded through the registry loader (adapter,
preset check, strict load), then run on the two fixed inputs one at a time; the inference form
runs them as one zero-padded batch (so it also exercises the masking). Rule A (input a) then
goes through the same adapter into the same network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asvbench.frontends import get_frontend
from asvbench.models.adapters import get_adapter
from asvbench.models.base import LoadedModel, load_strict
from tests.models._batch import padded_batch
from tests.models._parity import ParityCase, cosine, parity_case


def wespeaker_checkpoint(state: dict[str, torch.Tensor], path: Path, n_classes: int = 3) -> Path:
    """``state`` saved as a released WeSpeaker ``avg_model.pt``: counters as floats, + ``projection.weight``."""
    out = {k: (v.float() if k.endswith("num_batches_tracked") else v) for k, v in state.items()}
    out["projection.weight"] = torch.zeros(n_classes, state["seg_1.weight"].shape[0])
    torch.save(out, path)
    return path


def rel(e: np.ndarray, ref: np.ndarray) -> float:
    """Relative L2 error ``||e - ref|| / ||ref||`` in float64."""
    e, ref = np.asarray(e, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(e - ref) / np.linalg.norm(ref))


@dataclass
class ParityRun:
    case: ParityCase
    model: LoadedModel  # as loaded (from the rule-B file; rule-A weights at the end)
    features: dict[str, np.ndarray]
    embeddings: dict[str, dict[str, np.ndarray]]  # rule -> input -> embedding (rule A: input a only)
    inference: dict[str, np.ndarray]  # rule B, inference form, a and b in one padded batch


def _one(model: LoadedModel, wav: np.ndarray) -> np.ndarray:
    return model.forward(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))[0].numpy()


def run_parity(shared_dir: Path, tmp: Path, folder: str,
               load: Callable[[Path], LoadedModel], frontend: str) -> ParityRun:
    """Load, run and collect everything the parity tests of ``folder`` assert on."""
    case = parity_case(shared_dir, folder)
    fe = get_frontend(frontend)
    features = {}
    for x, wav in case.inputs.items():
        w = torch.from_numpy(wav)[None]
        features[x] = fe(w, torch.tensor([w.shape[1]]))[0][0].numpy()
    model = load(wespeaker_checkpoint(case.filled("B"), tmp / f"{folder}_B.pt"))
    embeddings = {"B": {x: _one(model, wav) for x, wav in case.inputs.items()}}
    fast = model.for_inference()  # a copy: the model as loaded stays
    batch, lengths = padded_batch([torch.from_numpy(case.inputs["a"]), torch.from_numpy(case.inputs["b"])])
    out = fast.forward(batch, lengths).numpy()
    del fast
    # rule A (a secondary check): the same network with the other weights, through the same adapter
    rule_a = get_adapter("wespeaker")(case.filled("A"), where=folder)
    load_strict(model.module, rule_a, where=folder, family=folder)
    embeddings["A"] = {"a": _one(model, case.inputs["a"])}
    return ParityRun(case, model, features, embeddings, {"a": out[0], "b": out[1]})


def check_features(run: ParityRun) -> None:
    """Our front-end's features equal the reference's to 1e-4 absolute (the issue's figure)."""
    for x in ("a", "b"):
        np.testing.assert_allclose(run.features[x], run.case.features[x], rtol=0, atol=1e-4)


def check_embeddings(run: ParityRun, rule: str, tol: float) -> None:
    """Cosine >= 0.99999 and relative L2 <= ``tol`` against the fixture; under rule B the
    tolerance must also tell input b from input a (their distance > 10 tolerances)."""
    for x, e in run.embeddings[rule].items():
        ref = run.case.embeddings[rule][x]
        assert cosine(e, ref) >= 0.99999
        assert rel(e, ref) <= tol, (rule, x, rel(e, ref))
    if rule == "B":
        assert rel(run.embeddings["B"]["b"], run.case.embeddings["B"]["a"]) > 10 * tol


def check_inference_form(run: ParityRun) -> None:
    """The inference form (a padded batch) equals the network as loaded (one at a time):
    cosine >= 0.99999 (the issue's figure) and relative L2 <= 1e-5."""
    for x in ("a", "b"):
        assert cosine(run.inference[x], run.embeddings["B"][x]) >= 0.99999
        assert rel(run.inference[x], run.embeddings["B"][x]) <= 1e-5
