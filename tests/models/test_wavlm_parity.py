"""Numerical parity of WavLM-Large + ECAPA (UniSpeech speaker verification) with the reference code.

Expected values are the reference's own outputs in ``../shared/parity/unispeech_wavlm_large_ecapa/``
(microsoft/UniSpeech @ 40d3227 ``ECAPA_TDNN_SMALL(feat_dim=1024, feat_type='wavlm_large')``, its
WavLM upstream built from UniSpeech ``WavLM.py``), produced with the weight fill of ``FILL_RULE.md``.
The checkpoint is written in the source's own layout (``{'model': state dict}`` with the fairseq
names of ``keys.tsv``, legacy ``weight_g``/``weight_v``) and loaded **through the registry loader
and the ``unispeech-sv`` adapter**. The 324 M-parameter network is filled, written and loaded once
for the module (about 1.3 GB; one copy in memory after loading).

Tolerances (rule B; README: reference thread noise 1 vs 2 threads, input sensitivity):

================  ===========================  ======================  ====================  =================
output            noise (relative L2)           sensitivity             tolerance             measured (a / b)
================  ===========================  ======================  ====================  =================
embedding         3.9e-7 / 4.7e-7               2.78e-1                 2e-5 relative         7.4e-7 / 2.2e-6
head input        9.2e-7 / 1.3e-6               (T differs)             2e-5 rel., 1e-4 abs   3.7e-6 / 4.9e-6 rel.,
                                                                                              2.0e-5 / 8.9e-5 abs
head alone        (head input given)            2.78e-1                 1e-5 relative         3.9e-7 / 4.5e-7
features          0 (fill-independent)          -                       1e-4 absolute         0
================  ===========================  ======================  ====================  =================

The head input is instance-normalised, which amplifies the order-of-operations differences of the
24-layer transformer (torchaudio's scaled-dot-product attention with packed q/k/v against fairseq's
``multi_head_attention_forward``); the README recommends comparing it under rule B, as here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asvbench.errors import AsvbenchError
from asvbench.frontends import get_frontend
from asvbench.models.adapters import get_adapter
from asvbench.models.layers import count_parameters
from asvbench.models.registry import get_model
from asvbench.models.wavlm_ecapa import build_wavlm_ecapa
from tests.models._parity import fill_state_dict, parity_case

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.usefixtures("two_torch_threads")]

FOLDER = "unispeech_wavlm_large_ecapa"
ENTRY = "wavlm-large-ecapa-unispeech"
PRESET = "unispeech-wavlm-large"


def _rel(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))


@pytest.fixture(scope="module")
def case(shared_dir):
    return parity_case(shared_dir, FOLDER)


@pytest.fixture(scope="module")
def checkpoint_b(case, tmp_path_factory) -> Path:
    """``wavlm_large_finetune.pth`` as UniSpeech saves it, ``{'model': state dict}``, filled by rule B."""
    path = tmp_path_factory.mktemp("wavlm") / "wavlm_large_finetune.pth"
    torch.save({"model": fill_state_dict(case.template(), "B")}, path)
    return path


@pytest.fixture(scope="module")
def model_b(checkpoint_b):
    return get_model(ENTRY).loader(checkpoint_b)


def _forward_with_head_input(model, wav: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The embedding of ``model.forward`` and the head input it computed on the way (the input of ``layer1``)."""
    seen = []
    hook = model.module.layer1.register_forward_hook(lambda _m, args, _out: seen.append(args[0].detach().clone()))
    try:
        emb = model.forward(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))[0].numpy()
    finally:
        hook.remove()
    return emb, seen[0][0].numpy()


def test_keys_shapes_and_parameter_count(case):
    assert len(case.keys) == 710
    module = build_wavlm_ecapa(PRESET)
    # README: 323,863,961 = WavLM 315,453,120 + head 8,410,841
    assert count_parameters(module) == case.n_params == 323_863_961
    assert count_parameters(module.wavlm) + module.feature_weight.numel() == 315_453_120 + 25
    # the adapter maps the 710 reference keys onto exactly our state dict: 24 layers x (q, k, v) x
    # (weight, bias) = 144 keys packed into 48 in_proj keys: 710 - 144 + 48 = 614
    template = {k: torch.empty(shape, dtype=getattr(torch, dt), device="meta") for k, (shape, dt) in case.keys.items()}
    mapped = get_adapter("unispeech-sv")({"model": template}, where="wavlm_large_finetune.pth")
    ours = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in mapped.items()} == ours
    assert len(ours) == 614


def test_features_match_reference(case):
    fe = get_frontend(get_model(ENTRY).frontend)
    for x in ("a", "b"):
        ours = fe.single(torch.from_numpy(case.inputs[x])).numpy()
        assert ours.shape == case.features[x].shape  # (48000,) / (27200,)
        assert np.abs(ours - case.features[x]).max() <= 1e-4


def test_extract_cli_on_the_fixture_input(case, checkpoint_b, tmp_path):
    # runs before model_b exists (one network in memory at a time); the engine's embedding of input a
    # (written as a float WAV) is the reference's rule-B embedding
    from typer.testing import CliRunner

    from asvbench.cli.main import app
    from asvbench.io.embeddings import load_embeddings

    wav = tmp_path / "a.wav"
    sf.write(wav, case.inputs["a"], 16000, subtype="FLOAT")
    short = tmp_path / "short.wav"
    sf.write(short, np.full(700, 0.1, np.float32), 16000, subtype="FLOAT")
    lst = tmp_path / "list.txt"
    lst.write_text(f"{wav}\n{short}\n")
    out = tmp_path / "store"
    result = CliRunner().invoke(app, ["extract", "--model", ENTRY, "--checkpoint", str(checkpoint_b), "--audio",
                                      str(lst), "--out", str(out), "--num-workers", "0", "--key-style", "stem"])
    assert result.exit_code == 0, result.output
    store = load_embeddings(out)
    assert list(store.keys) == ["a"]
    assert _rel(store.matrix[0], case.embeddings["B"]["a"]) <= 2e-5
    # 700 samples < two WavLM frames (400 + 320 = 720 samples, 0.045 s)
    reason = (tmp_path / "store.failures.tsv").read_text().splitlines()[1].split("\t")[2]
    assert reason == "too short: 700 samples (0.044 s) < the model's minimum of 720 samples (0.045 s)"


def test_strict_load_maps_the_legacy_names(case, checkpoint_b, model_b):
    source = torch.load(checkpoint_b, weights_only=True)["model"]
    state = model_b.module.state_dict()
    wavlm = "feature_extract.model."
    layer = wavlm + "encoder.transformer.layers.5.attention."
    packed = torch.cat([source[f"{wavlm}encoder.layers.5.self_attn.{p}_proj.weight"] for p in "qkv"])
    assert torch.equal(state[layer + "attention.in_proj_weight"], packed)
    conv = wavlm + "encoder.transformer.pos_conv_embed.conv.parametrizations.weight."
    assert torch.equal(state[conv + "original0"], source[wavlm + "encoder.pos_conv.0.weight_g"])
    assert torch.equal(state[conv + "original1"], source[wavlm + "encoder.pos_conv.0.weight_v"])
    head_key = "layer2.Res2Conv1dReluBn.convs.3.weight"  # the head's keys pass through unchanged
    assert torch.equal(state[head_key], source[head_key])


def test_head_alone_from_the_reference_head_input(case, model_b):
    for x in ("a", "b"):
        head_input = torch.from_numpy(case.arrays["B"][f"head_input_{x}"])[None]  # (1, 1024, 149 | 84)
        with torch.inference_mode():
            ours = model_b.module.head(head_input)[0].numpy()
        assert _rel(ours, case.embeddings["B"][x]) <= 1e-5


def test_embeddings_and_head_input_match_reference_rule_b(case, model_b):
    ours = {}
    for x in ("a", "b"):
        ours[x], head_input = _forward_with_head_input(model_b, case.inputs[x])
        ref_input = case.arrays["B"][f"head_input_{x}"]
        assert head_input.shape == ref_input.shape  # 149 / 84 WavLM frames
        assert np.abs(head_input - ref_input).max() <= 1e-4
        assert _rel(head_input, ref_input) <= 2e-5
        assert ours[x].shape == (256,)
        assert _rel(ours[x], case.embeddings["B"][x]) <= 2e-5
    # the check can fail: the two inputs' reference embeddings are far apart under rule B (2.78e-1)
    assert _rel(ours["a"], case.embeddings["B"]["b"]) > 1e-2


def test_too_short_input_is_refused_in_seconds(model_b):
    with pytest.raises(AsvbenchError, match=r"needs at least 720 samples \(0\.045 s at 16000 Hz\).*got 719 samples"):
        model_b.forward(torch.zeros(1, 719), torch.tensor([719]))
