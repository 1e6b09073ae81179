"""Numerical parity of the three Res2Net checkpoints' networks with their reference implementations.

Expected values are the reference code's own outputs in ``../shared/parity/<family>/``
(SASV2022 DoubleRoc @ 4309cd4e ``ASV/models/Res2Net50V2.py`` and ``Res2NeXt50.py``; PyPI
sonic-cipher 1.0.0 ``ASV_System``), produced with the deterministic weight fill of
``FILL_RULE.md``. Our model is loaded **through the registry loader and our adapter** from a
checkpoint file written in the source's own layout (DoubleRoc: the plain state dict that
``resume_spk_model`` loads strictly, front-end buffers included; sonic-cipher: the training
checkpoint ``{epoch, model_state_dict (with the AAM head weight), optimizer_state_dict,
scheduler_state_dict, best_val_loss, val_accuracy}``).

Tolerances (relative L2 of the embedding), from each fixture README's table: thread noise of the
reference (1 vs 2 threads) and input sensitivity ||e_a - e_b|| / ||e_a||:

==============  ===========  ======================  =============================  ===========
fixture         noise        sensitivity B (A)        tolerance (B / A)               measured B
==============  ===========  ======================  =============================  ===========
Res2Net50V2     1.6e-6       3.9e-2 (3.2e-4)          1e-4 / 3e-5: >= 19x noise,       1.5e-6
                                                      >= 10x below the sensitivity
Res2NeXt50      5.0e-6       8.8e-2 (1.9e-3)          1e-4 / 1e-4: 20x noise,          1.4e-6
                                                      >= 19x below
sonic           2.3e-6 (B)   3.2e-2 (1.4e-3);         1e-4 / 1e-4: >= 8x noise,        2.0e-6
                8.6e-6 (A)   mean-norm B 7.7e-3       >= 14x below
==============  ===========  ======================  =============================  ===========
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from asvbench.frontends import get_frontend
from asvbench.frontends.speechbrain_mfcc import SpeechBrainMfcc, SpeechBrainMfccConfig
from asvbench.models.base import ModelEntry
from asvbench.models.layers import count_parameters
from asvbench.models.registry import get_model
from asvbench.models.res2net import build_res2net, fold_for_inference
from tests.models._batch import padded_batch
from tests.models._parity import cosine, fill_state_dict, parity_case

pytestmark = pytest.mark.usefixtures("two_torch_threads")

#: sonic-cipher's AAM-softmax head `weight`: 1211 classes x 512 = 620,032 parameters (README)
AAM_HEAD = (1211, 512)


def _doubleroc_file(state: dict[str, Any]) -> dict[str, Any]:
    # res2net50v2.model / res2next50.model: the plain state dict (resume_spk_model loads it strictly)
    return dict(state)


def _sonic_file(state: dict[str, Any]) -> dict[str, Any]:
    # Weights/ASV_model.pth: a training checkpoint; the network's state dict starts with the AAM head
    optimizer = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(3)}},
                 "param_groups": [{"lr": 1e-3, "params": [0]}]}
    return {"epoch": 148, "model_state_dict": state, "optimizer_state_dict": optimizer,
            "scheduler_state_dict": {"last_epoch": 148}, "best_val_loss": 0.5, "val_accuracy": 95.2}


@dataclass(frozen=True)
class Fixture:
    folder: str
    entry: str
    preset: str
    to_file: Callable[[dict[str, Any]], dict[str, Any]]
    tol_a: float
    time_major: bool  # features stored (T, D) (sonic) rather than (D, T)

    @property
    def sonic(self) -> bool:
        return self.preset.startswith("sonic")


FIXTURES = [
    Fixture("doubleroc_res2net50v2", "res2net50v2-doubleroc", "doubleroc-res2net50v2", _doubleroc_file, 3e-5, False),
    Fixture("doubleroc_res2next50", "res2next50-doubleroc", "doubleroc-res2next50", _doubleroc_file, 1e-4, False),
    Fixture("sonic_cipher_se_res2net50", "se-res2net50-sonic-cipher", "sonic-se-res2net50-v1b", _sonic_file, 1e-4,
            True),
]
IDS = [f.folder for f in FIXTURES]


def _reference_template(fx: Fixture) -> dict[str, torch.Tensor]:
    """Our module's state dict in the reference's key order (its constructed front-end buffers are
    the FILL_RULE §2 skipped keys), plus sonic-cipher's AAM head first, as its checkpoint has it."""
    state = build_res2net(fx.preset).state_dict()
    return {"weight": torch.zeros(AAM_HEAD), **state} if fx.sonic else state


def _loaded(fx: Fixture, rule: str, tmp_path: Path, entry: ModelEntry | None = None):
    """The registry entry's loader run on a filled checkpoint file in the source's layout."""
    path = tmp_path / f"{fx.folder}_{rule}.pth"
    torch.save(fx.to_file(fill_state_dict(_reference_template(fx), rule)), path)
    return (entry or get_model(fx.entry)).loader(path)


def _embed(model, wav: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(wav))
    return model.forward(x[None], torch.tensor([len(wav)]))[0].numpy()


def _rel(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))


@pytest.mark.parametrize("fx", FIXTURES, ids=IDS)
def test_state_dict_keys_shapes_order_and_parameter_count(shared_dir, fx):
    case = parity_case(shared_dir, fx.folder)
    module = build_res2net(fx.preset)
    ours = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in module.state_dict().items()}
    ref = dict(case.keys)
    if fx.sonic:  # the AAM head is training-only: not part of our network (the adapter drops it)
        assert ref.pop("weight") == (AAM_HEAD, "float32")
    assert list(ours) == list(ref)  # same names, same order
    assert ours == ref
    # READMEs: 11,156,200 / 6,346,048 / 1,872,476 - 1211 * 512 = 1,872,476 - 620,032 = 1,252,444
    head = AAM_HEAD[0] * AAM_HEAD[1] if fx.sonic else 0
    assert count_parameters(module) == case.n_params - head
    assert len(case.keys) == {"doubleroc_res2net50v2": 674, "doubleroc_res2next50": 530,
                              "sonic_cipher_se_res2net50": 571}[fx.folder]


@pytest.mark.parametrize("fx", FIXTURES, ids=IDS)
def test_frontend_features_match_reference(shared_dir, fx):
    case = parity_case(shared_dir, fx.folder)
    variants = [(get_frontend(get_model(fx.entry).frontend), "features_")]
    if fx.sonic:
        variants.append((SpeechBrainMfcc(SpeechBrainMfccConfig(mean_norm=True)), "features_meannorm_"))
    for fe, stem in variants:
        for x in ("a", "b"):
            ours = fe.single(torch.from_numpy(case.inputs[x])).numpy()
            ref = case.arrays["A"][stem + x]
            ref = ref if fx.time_major else ref.T
            assert ours.shape == ref.shape
            assert np.abs(ours - ref).max() <= 1e-4
            assert fe.num_frames(len(case.inputs[x])) == ref.shape[0]  # 301 / 171 frames


@pytest.mark.slow
@pytest.mark.parametrize("fx", FIXTURES, ids=IDS)
def test_embeddings_match_reference_rule_b(shared_dir, tmp_path, fx):
    case = parity_case(shared_dir, fx.folder)
    model = _loaded(fx, "B", tmp_path)
    ref = case.embeddings["B"]
    ours = {x: _embed(model, case.inputs[x]) for x in ("a", "b")}
    for x in ("a", "b"):
        assert ours[x].shape == (get_model(fx.entry).embed_dim,)
        assert _rel(ours[x], ref[x]) <= 1e-4
    # the check can fail: the two inputs' reference embeddings are far apart under rule B
    assert _rel(ours["a"], ref["b"]) > 1e-2
    if fx.sonic:
        for x in ("a", "b"):
            assert np.linalg.norm(ours[x]) == pytest.approx(1.0, abs=1e-6)  # Projection L2-normalises
    else:
        # SASV protocol crops (ASV/test_dataset.py): both inputs are shorter than 48,240 samples ->
        # numpy 'wrap' padding, then 5 identical crops; our embedding of the wrap-padded input
        for x in ("a", "b"):
            crops = case.arrays["B"][f"embedding_crops_{x}"]
            assert crops.shape == (5, ref[x].shape[0])
            padded = np.pad(case.inputs[x], (0, 48240 - len(case.inputs[x])), mode="wrap")
            ours_crop = _embed(model, padded)
            for row in crops:
                assert _rel(ours_crop, row) <= 1e-4


@pytest.mark.slow
def test_sonic_mean_normalised_variant_rule_b(shared_dir, tmp_path):
    # the fixture's `_meannorm_` outputs: the same network on mean-normalised MFCCs (what the code meant)
    fx = FIXTURES[2]
    case = parity_case(shared_dir, fx.folder)
    model = _loaded(fx, "B", tmp_path)
    fe = SpeechBrainMfcc(SpeechBrainMfccConfig(mean_norm=True))
    for x in ("a", "b"):
        with torch.no_grad():
            ours = model.module(fe.single(torch.from_numpy(case.inputs[x])).unsqueeze(0))[0].numpy()
        assert _rel(ours, case.arrays["B"][f"embedding_meannorm_{x}"]) <= 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("fx", FIXTURES, ids=IDS)
def test_embeddings_match_reference_rule_a(shared_dir, tmp_path, fx):
    # secondary check (rule A outputs barely depend on the input; tolerances in the module docstring)
    case = parity_case(shared_dir, fx.folder)
    model = _loaded(fx, "A", tmp_path)
    for x in ("a", "b"):
        assert _rel(_embed(model, case.inputs[x]), case.embeddings["A"][x]) <= fx.tol_a


@pytest.mark.slow
@pytest.mark.parametrize("fx", FIXTURES, ids=IDS)
def test_inference_form_equals_the_network(shared_dir, tmp_path, fx):
    case = parity_case(shared_dir, fx.folder)
    model = _loaded(fx, "B", tmp_path)
    fast = model.for_inference()
    assert fast is not model and "BatchNorm folded" in fast.optimisations
    n_bns = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.module.modules())
    left = sum(isinstance(m, torch.nn.BatchNorm2d) for m in fast.module.modules())
    # sonic: every BatchNorm2d directly follows a conv (all folded); DoubleRoc: each follows a ReLU
    # (conv -> ReLU -> BN) except Res2NeXt's 4 shortcut BNs (conv -> BN)
    assert n_bns - left == {"doubleroc_res2net50v2": 0, "doubleroc_res2next50": 4,
                            "sonic_cipher_se_res2net50": n_bns}[fx.folder]
    for x in ("a", "b"):
        folded = _embed(fast, case.inputs[x])
        assert cosine(folded, _embed(model, case.inputs[x])) >= 0.99999
        assert _rel(folded, case.embeddings["B"][x]) <= 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["doubleroc-res2net50v2", "doubleroc-res2next50", "sonic-se-res2net50-v1b"])
def test_padded_batch_gives_each_row_its_own_embedding(preset):
    # frame counts with every residue mod 16 the strides see (odd lengths exercise the ceil-mode
    # shortcut pooling of sonic's v1b blocks and the last partial window of each stride)
    module = build_res2net(preset)
    module.load_state_dict(fill_state_dict(module.state_dict(), "B"))
    lengths = [37, 50, 77]  # 5, 2 and 13 mod 16
    torch.manual_seed(0)
    feats = [torch.randn(n, module.config.feat_dim) for n in lengths]
    batch = torch.zeros(len(lengths), max(lengths), module.config.feat_dim)
    for i, f in enumerate(feats):
        batch[i, : len(f)] = f

    def cos(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(torch.nn.functional.cosine_similarity(a, b, dim=0))

    with torch.no_grad():
        for net in (module, fold_for_inference(module)):
            padded = net(batch, torch.tensor(lengths))
            alone = [net(f[None])[0] for f in feats]
            assert min(cos(padded[i], alone[i]) for i in range(len(feats))) >= 0.99999
        # the check can fail: read as signal, the padding changes the short rows
        assert cos(module(batch)[0], module(feats[0][None])[0]) < 0.9999


def test_padded_waveform_batch_through_the_loader(shared_dir, tmp_path):
    # the LoadedModel path the engine uses: waveforms of different lengths, zero-padded together
    fx = FIXTURES[2]
    case = parity_case(shared_dir, fx.folder)
    model = _loaded(fx, "B", tmp_path)
    wavs = [torch.from_numpy(case.inputs["a"]), torch.from_numpy(case.inputs["b"])]
    batch, lengths = padded_batch(wavs)
    both = model.forward(batch, lengths).numpy()
    for i, w in enumerate(wavs):
        assert cosine(both[i], _embed(model, w.numpy())) >= 0.99999
