"""Numerical parity of the NII LFCC-LCNN-LSTM countermeasure with its reference.

Expected values are the reference code's own outputs in ``../shared/parity/nii_lfcc_lcnn_lstm/``
(project-NN-Pytorch-scripts @ 112ec0ff), produced with the deterministic weight fill of
``FILL_RULE.md``, with the two LFCC constants (``m_frontend.0.lfcc_fb``, ``m_frontend.0.l_dct.weight``)
left at their constructed values as the fixture did (its README). The filled state dict is saved
in the layouts NII's scripts write (the plain ``trained_network.pt``; a training checkpoint with
``state_dict`` + ``optimizer``; a DataParallel ``module.`` save) and loaded through the registry
loader (the ``nii`` adapter, strict load).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.frontends import get_frontend
from asvbench.frontends.lfcc import dct_matrix, delta, linear_filterbank
from asvbench.models.layers import count_parameters
from asvbench.models.lcnn import build_lcnn, cm_logits, fuse_for_inference
from asvbench.models.registry import get_model
from tests.models._batch import padded_batch
from tests.models._parity import fill_state_dict, parity_case

pytestmark = pytest.mark.usefixtures("two_torch_threads")

FOLDER = "nii_lfcc_lcnn_lstm"
NAME = "lcnn-nii-toy"
CONSTANTS = ("m_frontend.0.lfcc_fb", "m_frontend.0.l_dct.weight")

# Score tolerance (absolute): the reference's thread noise is 2.4e-7 / 4.6e-7 relative (README), i.e.
# <= 1.4e-7 on scores of 0.28-0.30; 1.5e-6 is 10x that and 9,000x below the rule-B input sensitivity
# |s_a - s_b| = 0.0136 (README: 4.57e-2 relative). Measured: <= 6e-8.
SCORE_ATOL = 1.5e-6


@pytest.fixture(scope="module")
def case(shared_dir):
    return parity_case(shared_dir, FOLDER)


def _filled(rule: str) -> "OrderedDict[str, torch.Tensor]":
    template = build_lcnn().state_dict()
    filled = fill_state_dict({k: v for k, v in template.items() if k not in CONSTANTS}, rule)
    return OrderedDict((k, template[k].clone() if k in CONSTANTS else filled[k]) for k in template)


def _save(obj, path: Path) -> Path:
    torch.save(obj, path)
    return path


LAYOUTS = {
    # __pretrained/trained_network.pt: a plain OrderedDict state dict
    "plain": lambda state: state,
    # nn_manager.py epoch checkpoints: {state_dict, info, optimizer, train_log, val_log, lr_scheduler}
    "training": lambda state: {"state_dict": state, "info": "epoch 3", "optimizer": {"state": {}, "param_groups": []},
                               "train_log": "", "val_log": "", "lr_scheduler": {}},
    "dataparallel": lambda state: OrderedDict((f"module.{k}", v) for k, v in state.items()),
}


def test_state_dict_keys_shapes_and_parameter_counts(case):
    module = build_lcnn("nii-lfcc-lcnn-lstm-sig")
    ours = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in module.state_dict().items()}
    assert list(ours) == list(case.keys)  # same names, same order (60 keys)
    assert ours == case.keys
    assert count_parameters(module) == case.n_params == 275_273
    # 5,544 frozen: input/output mean/std 4 + filterbank 257 x 20 = 5,140 + DCT 20 x 20 = 400
    assert sum(p.numel() for p in module.parameters() if p.requires_grad) == case.meta["n_params_trainable"] == 269_729


def test_frontend_features_match_reference(case):
    fe = get_frontend("nii-lfcc-60")
    for x in ("a", "b"):
        ours = fe.single(torch.from_numpy(case.inputs[x])).numpy()
        ref = case.features[x]
        assert ours.shape == ref.shape  # (301, 60) / (171, 60)
        assert fe.num_frames(len(case.inputs[x])) == ref.shape[0]
        assert np.abs(ours - ref).max() <= 1e-4  # measured 3.8e-6 (values up to 9.2)


def test_linear_filterbank_by_hand():
    fb = linear_filterbank().double()
    assert fb.shape == (257, 20)
    # bin k sits at 8000 k / 256 = 31.25 k Hz; band edges every 8000 / 21 = 380.95 Hz
    assert fb[0, 0] == 0.0  # 0 Hz is filter 0's left foot
    assert fb[1, 0] == pytest.approx(31.25 / (8000 / 21), abs=1e-6)  # 0.08203 on the rise
    # 1000 Hz (bin 32) lies between edges 2 (761.9) and 3 (1142.9): filter 1 falls, filter 2 rises
    assert fb[32, 1] == pytest.approx((3 * 8000 / 21 - 1000) / (8000 / 21), abs=1e-6)  # 0.375
    assert fb[32, 2] == pytest.approx((1000 - 2 * 8000 / 21) / (8000 / 21), abs=1e-6)  # 0.625
    # linear spacing: the rising and falling slopes add up to 1 between the first and last centre
    inner = torch.arange(257) * 31.25
    inner = (inner > 8000 / 21) & (inner < 20 * 8000 / 21)
    assert torch.allclose(fb[inner].sum(dim=1), torch.ones(int(inner.sum()), dtype=torch.float64), atol=1e-6)


def test_dct_matrix_is_orthonormal_dct2():
    c = dct_matrix(20).double()
    assert torch.allclose(c @ c.t(), torch.eye(20, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(c[0], torch.full((20,), 1 / math.sqrt(20), dtype=torch.float64))  # 0.2236
    # DCT-II of a cosine at coefficient 3 is a spike at 3: x[m] = cos(pi (2m + 1) 3 / 40)
    m = torch.arange(20, dtype=torch.float64)
    y = c @ torch.cos(math.pi * (2 * m + 1) * 3 / 40)
    assert int(y.abs().argmax()) == 3 and y[3] == pytest.approx(math.sqrt(10), abs=1e-6)  # ||x|| = sqrt(20 / 2)


def test_delta_repeats_the_edge_frames():
    x = torch.tensor([[1.0], [4.0], [9.0], [16.0]])
    # padded 1, 1, 4, 9, 16, 16 -> d[t] = x[t+1] - x[t-1]: 4-1, 9-1, 16-4, 16-9
    assert delta(x).flatten().tolist() == [3.0, 8.0, 12.0, 7.0]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_scores_match_reference_through_the_adapter(case, tmp_path, layout):
    ckpt = _save(LAYOUTS[layout](_filled("B")), tmp_path / "trained_network.pt")
    model = get_model(NAME).loader(ckpt)
    batch, lengths = padded_batch([torch.from_numpy(case.inputs[x]) for x in ("a", "b")])
    logits = model.forward(batch, lengths)  # one padded batch of 48,000 and 27,200 samples
    assert logits.shape == (2, 2)
    assert torch.equal(logits[:, 0], torch.zeros(2))
    for row, x in enumerate(("a", "b")):
        assert float(logits[row, 1]) == pytest.approx(float(case.embeddings["B"][x][0]), abs=SCORE_ATOL), x


def test_rule_a_scores_and_sigmoid(case, tmp_path):
    ckpt = _save(_filled("A"), tmp_path / "trained_network.pt")
    model = get_model(NAME).loader(ckpt)
    for x in ("a", "b"):
        wav = torch.from_numpy(case.inputs[x])[None]
        logits = model.forward(wav, torch.tensor([wav.shape[1]]))
        assert float(logits[0, 1]) == pytest.approx(case.meta["outputs"][x]["score"], abs=SCORE_ATOL)
        # softmax of [0, s] is the reference's training output sigmoid(s) (meta: 0.5158 / 0.5163)
        prob = float(torch.softmax(logits, dim=1)[0, 1])
        assert prob == pytest.approx(case.meta["outputs"][x]["sigmoid_score"], abs=1e-6)


def test_cm_logits_softmax_is_the_sigmoid():
    logits = cm_logits(torch.tensor([2.0, -1.0]))
    assert logits.tolist() == [[0.0, 2.0], [0.0, -1.0]]
    # e^2 / (1 + e^2) = 0.880797; e^-1 / (1 + e^-1) = 0.268941
    assert torch.softmax(logits, dim=1)[:, 1].tolist() == pytest.approx([0.880797, 0.268941], abs=1e-6)


def test_inference_form_folds_every_batchnorm_and_agrees(case):
    module = build_lcnn()
    module.load_state_dict(_filled("B"))
    fused = fuse_for_inference(module)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules())  # a copy: the original is intact
    fe = get_frontend("nii-lfcc-60")
    for x in ("a", "b"):
        feats = fe.single(torch.from_numpy(case.inputs[x]))[None]
        with torch.no_grad():
            assert float(fused(feats)) == pytest.approx(float(module(feats)), abs=1e-5)
            assert float(fused(feats)) == pytest.approx(float(case.embeddings["B"][x][0]), abs=1e-5)


def test_checkpoint_of_another_model_names_the_keys(tmp_path):
    state = _filled("B")
    del state["m_output_act.0.bias"]
    state["m_output_act.0.extra"] = torch.zeros(1)
    with pytest.raises(AsvbenchError, match=r"1 missing keys: m_output_act\.0\.bias; 1 unexpected keys: m_output_act\.0\.extra"):
        get_model(NAME).loader(_save(state, tmp_path / "bad.pt"))


def test_minimum_length_guard_states_seconds(tmp_path):
    model = get_model(NAME).loader(_save(_filled("B"), tmp_path / "t.pt"))
    # 16 frames = 1 frame after the CNN's 4 time pools: 1 + N // 160 >= 16 -> N >= 2,400 (0.15 s)
    with pytest.raises(AsvbenchError, match=r"at least 2400 samples \(0\.150 s at 16000 Hz\).*got 1600 samples \(0\.100 s\)"):
        model.forward(torch.zeros(1, 1600), torch.tensor([1600]))
    out = model.forward(torch.full((1, 2400), 0.01), torch.tensor([2400]))
    assert torch.isfinite(out).all()


def test_preset_constants():
    # the shape every family shares is in tests/models/test_family_shape.py; these are LCNN's own
    from asvbench.models import lcnn

    config = lcnn.get_preset("nii-lfcc-lcnn-lstm-sig")
    assert config.lstm_dim == 96  # 32 channels x 60 // 16 = 3 frequency rows
    assert lcnn.min_samples() == 2400
