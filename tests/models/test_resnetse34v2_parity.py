"""clovaai voxceleb_trainer ResNetSE34V2 (= SASV2022 DoubleRoc SE-ResNet-34) against the reference
code's outputs in ``../shared/parity/voxceleb_trainer_resnetse34v2`` (voxceleb_trainer @ f51bab8).

The filled reference state dict is written **as the released file is**: ``SpeakerNet.state_dict()``
= the network under ``__S__.`` plus the loss head under ``__L__.`` (``baseline_v2_ap.model``), or
the 2026 ``{"model_state_dict": ..., "optimizer_state_dict": ..., "epoch": ...}`` form, saved with
``torch.save`` and loaded through the registry entry (our adapter, strict load, our front-end).

Tolerances (README: input sensitivity ||e_a - e_b|| / ||e_a|| = 9.08e-2 under rule B, 4.76e-3 under
rule A; the reference's own 1-vs-2-thread noise 2.0e-5): relative L2 <= 2e-4 = 10 x the noise,
still 24x (rule A) / 450x (rule B) below the sensitivity, so input b's embedding cannot pass for a's.
Features: tests/models/test_clovaai_osv_frontends.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.frontends import get_frontend
from asvbench.models.layers import count_parameters
from asvbench.models.registry import get_model
from asvbench.models.resnet_se import build_resnet_se, min_samples
from tests.models._batch import assert_batch_equals_one_at_a_time, speechlike
from tests.models._parity import cosine, parity_case
from tests.models._resnet_se_osv import resnetse_filled, speakernet_file

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("two_torch_threads")]

FOLDER = "voxceleb_trainer_resnetse34v2"
ENTRY = "resnetse34v2-clovaai-ap"
REL_TOL = 2e-4


def _rel(e: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(e.astype(np.float64) - ref) / np.linalg.norm(ref))


def _embed(model, wav: np.ndarray) -> np.ndarray:
    w = torch.from_numpy(wav)
    return model.forward(w[None], torch.tensor([len(w)]))[0].numpy()


@pytest.fixture(scope="module")
def case(shared_dir):
    return parity_case(shared_dir, FOLDER)


@pytest.fixture(scope="module")
def checkpoint(case, tmp_path_factory) -> Path:
    return speakernet_file(resnetse_filled(case, "B"), tmp_path_factory.mktemp("ckpt") / "baseline_v2_ap.model")


@pytest.fixture(scope="module")
def loaded(checkpoint):
    return get_model(ENTRY).loader(checkpoint)


def test_keys_shapes_and_parameter_count(case):
    model = build_resnet_se()
    ours = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in model.state_dict().items()}
    assert list(ours) == list(case.keys)  # the reference's names, in its order
    assert ours == case.keys
    assert count_parameters(model) == 8_028_492 == case.n_params  # README / models.md §4.2


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["B", "A"])
def test_embeddings_match_reference(case, tmp_path, rule):
    path = speakernet_file(resnetse_filled(case, rule), tmp_path / "baseline_v2_ap.model")
    model = get_model(ENTRY).loader(path)
    ours = {x: _embed(model, case.inputs[x]) for x in ("a", "b")}
    for x in ("a", "b"):
        ref = case.embeddings[rule][x]
        assert ours[x].shape == (512,)
        assert cosine(ours[x], ref) >= 0.99999
        assert _rel(ours[x], ref) <= REL_TOL, (rule, x, _rel(ours[x], ref))
    # the tolerance discriminates: our e_b is far more than 10 tolerances from the reference e_a
    assert _rel(ours["b"], case.embeddings[rule]["a"]) > 10 * REL_TOL


@pytest.mark.slow
def test_2026_checkpoint_format_and_doubleroc_entry_load_the_same(case, tmp_path, loaded):
    """The ``model_state_dict`` wrapper of today's saveParameters, and the DoubleRoc entry (the
    same file as resnet34v2.model, x32768 inside its forward = our front-end), give the same embedding."""
    wrapped = speakernet_file(resnetse_filled(case, "B"), tmp_path / "model000000003.model", wrapped=True)
    doubleroc = get_model("resnetse34v2-doubleroc").loader(wrapped)
    a = case.inputs["a"]
    np.testing.assert_array_equal(_embed(doubleroc, a), _embed(loaded, a))


@pytest.mark.slow
def test_frontend_buffers_come_from_the_checkpoint(case, tmp_path):
    # a checkpoint with a zero STFT window: every mel energy is 0, every log-mel log(1e-6), constant
    # over time, so the instance norm gives zero features (up to the rounding of a constant's mean,
    # amplified by 1 / sqrt(1e-5)); the constructed window would not
    state = resnetse_filled(case, "B")
    state["torchfb.1.spectrogram.window"] = torch.zeros(400)
    model = get_model(ENTRY).loader(speakernet_file(state, tmp_path / "zero_window.model"))
    emb = _embed(model, case.inputs["a"])
    with torch.no_grad():
        on_zeros = model.module(torch.zeros(1, 301, 64))[0].numpy()
    assert cosine(emb, on_zeros) >= 0.99999
    assert _rel(emb, case.embeddings["B"]["a"]) > 10 * REL_TOL


@pytest.mark.slow
def test_inference_form_equals_the_network_as_loaded(case, loaded):
    fast = loaded.for_inference()
    assert fast is not loaded and fast.optimisations
    # folded: each block's bn2 and every shortcut BatchNorm (16 + 3); the stem's and blocks' bn1
    # follow a ReLU and stay
    bns = lambda m: sum(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())  # noqa: E731
    assert bns(loaded.module) == 36 and bns(fast.module) == 17
    for x in ("a", "b"):
        assert cosine(_embed(fast, case.inputs[x]), _embed(loaded, case.inputs[x])) >= 0.99999
        assert cosine(_embed(fast, case.inputs[x]), case.embeddings["B"][x]) >= 0.99999


@pytest.mark.slow
@pytest.mark.parametrize("form", ["as loaded", "inference"])
def test_padded_batch_equals_one_at_a_time(loaded, form):
    model = loaded if form == "as loaded" else loaded.for_inference()
    lengths = [min_samples(), 1601, 4000, 9001, 16000]  # 2, 11, 26, 57, 101 frames: every stride parity
    assert_batch_equals_one_at_a_time(model, lengths, 512)


def test_minimum_length_guard(loaded):
    # the centred STFT reflect-pads 256 samples (needs N > 256) and the instance norm needs
    # 1 + N // 160 >= 2 frames: N >= 257
    n = min_samples()
    assert n == 257 == get_model(ENTRY).min_samples
    assert get_frontend("clovaai-mel-64-x32768").num_frames(n) == 2
    assert torch.isfinite(loaded.forward(speechlike(n, 1)[None], torch.tensor([n]))).all()
    with pytest.raises(AsvbenchError, match="at least 257 samples"):
        loaded.forward(speechlike(n - 1, 1)[None], torch.tensor([n - 1]))
