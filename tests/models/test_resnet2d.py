"""WeSpeaker ResNet and Gemini DF-ResNet without ../shared: masking of padded batches, the
minimum-length guard, checkpoints of another preset, signatures, the inference form."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from asvbench.errors import AsvbenchError
from asvbench.models import gemini_dfresnet, resnet
from asvbench.models._presets import UnknownPresetError
from asvbench.models.gemini_dfresnet import GeminiDFResNetConfig, build_gemini_dfresnet
from asvbench.models.identify import identify
from asvbench.models.registry import get_model, list_models
from asvbench.models.resnet import ResNetConfig, build_resnet
from asvbench.models.resnet2d import FAMILIES, check_preset, strided_mask
from tests.models._batch import padded_batch
from tests.models._parity import fill_state_dict
from tests.models._resnet2d_parity import rel, wespeaker_checkpoint

pytestmark = pytest.mark.usefixtures("two_torch_threads")

RESNET = "resnet34-wespeaker-lm"
GEMINI = "gemini-dfresnet114-wespeaker-lm"


def _filled(module: nn.Module) -> nn.Module:
    module.load_state_dict(fill_state_dict(module.state_dict(), "B"))
    return module.eval()


def _wave(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / 16000
    return (0.3 * torch.sin(2 * torch.pi * (120 + 35 * seed) * t)
            + 0.03 * torch.randn(n, generator=g, dtype=torch.float64)).float()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """Rule-B filled checkpoints in the WeSpeaker release layout (avg_model.pt + projection head)."""
    root = tmp_path_factory.mktemp("resnet2d")
    build = {"resnet34": lambda: build_resnet("resnet34"), "resnet18": lambda: build_resnet("resnet18"),
             "gemini114": lambda: build_gemini_dfresnet("gemini-dfresnet114")}
    return {name: wespeaker_checkpoint(fill_state_dict(make().state_dict(), "B"), root / f"{name}.pt")
            for name, make in build.items()}


@pytest.fixture(scope="module")
def loaded(files) -> dict:
    return {RESNET: get_model(RESNET).loader(files["resnet34"]), GEMINI: get_model(GEMINI).loader(files["gemini114"])}


# ------------------------------------------------------------------ masks, by hand and against conv strides


def test_strided_mask_by_hand_and_against_a_strided_conv():
    mask = torch.tensor([[[1.0, 1.0, 1.0, 0.0, 0.0]]])  # 3 valid frames of 5
    # frames 0, 2, 4 are the centres of the stride-2 outputs: valid, valid, padded
    assert strided_mask(mask, 2).tolist() == [[[1.0, 1.0, 0.0]]]
    assert strided_mask(mask, 1) is mask and strided_mask(None, 2) is None
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    for n in range(1, 12):  # the unpadded row's output length = the valid frames of the strided mask
        valid = torch.ones(1, 1, n)
        padded = F.pad(valid, (0, 7))
        assert conv(torch.zeros(1, 1, 4, n)).shape[-1] == strided_mask(padded, 2).sum() == -(-n // 2)


# ------------------------------------------------------------------ padded batches == one at a time (small widths)

_SMALL = {
    "basic": lambda: build_resnet(ResNetConfig("basic", (1, 2, 1, 1), m_channels=4, feat_dim=16, embed_dim=8)),
    "bottleneck": lambda: build_resnet(ResNetConfig("bottleneck", (2, 1, 1, 1), m_channels=4, feat_dim=16,
                                                    embed_dim=8, two_emb_layer=True)),
    "gemini": lambda: build_gemini_dfresnet(GeminiDFResNetConfig((1, 2, 1, 1), (4, 4, 8, 8, 16), feat_dim=16,
                                                                 embed_dim=8)),
}
_MIN_FRAMES = {"basic": 9, "bottleneck": 9, "gemini": 3}
_BUILT: dict[str, nn.Module] = {}


def _small(kind: str) -> nn.Module:
    if kind not in _BUILT:
        _BUILT[kind] = _filled(_SMALL[kind]())
    return _BUILT[kind]


@settings(max_examples=15, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(_SMALL)), seed=st.integers(0, 99))
def test_padded_rows_equal_unpadded_rows(data, kind, seed):
    module = _small(kind)
    lengths = data.draw(st.lists(st.integers(_MIN_FRAMES[kind], 33), min_size=2, max_size=3))
    feats = torch.randn(len(lengths), max(lengths), 16, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        batched = module(feats, torch.tensor(lengths))
        for i, n in enumerate(lengths):
            torch.testing.assert_close(batched[i], module(feats[i : i + 1, :n])[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(_SMALL))
def test_full_lengths_take_the_unmasked_path(kind):
    module = _small(kind)
    feats = torch.randn(2, 30, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(module(feats, torch.tensor([30, 30])), module(feats))


# ------------------------------------------------------------------ loaded models: batching, minimum length


@pytest.mark.parametrize("name", [RESNET, GEMINI])
def test_batched_extraction_equals_one_at_a_time(loaded, name):
    entry = get_model(name)
    lengths = [entry.min_samples, entry.min_samples + 161, 4000, 9001]
    wavs = [_wave(n, i) for i, n in enumerate(lengths)]
    batch, lens = padded_batch(wavs)
    model = loaded[name]
    ones = [model.forward(w[None], torch.tensor([len(w)]))[0] for w in wavs]
    for form in (model, model.for_inference()):  # the network as loaded, and its inference form
        emb = form.forward(batch, lens)
        assert emb.shape == (4, 256) and emb.dtype == torch.float32 and torch.isfinite(emb).all()
        for i, one in enumerate(ones):
            assert F.cosine_similarity(one, emb[i], dim=0).item() >= 0.99999
            assert rel(emb[i].numpy(), one.numpy()) <= 1e-5
    # 1e-5 means something: two different utterances are far apart (rule-B weights)
    assert rel(ones[2].numpy(), ones[3].numpy()) > 1e-2


@pytest.mark.parametrize(("name", "samples", "frames_nan"), [
    # ResNet: time / 8; 9 frames -> ceil(9 / 8) = 2 pooled frames; 1,680 = 400 + 8 * 160 samples;
    # 8 frames -> 1 pooled frame, whose unbiased variance is NaN
    (RESNET, 1680, 8),
    # Gemini: time / 2; 3 frames -> 2 pooled frames; 720 = 400 + 2 * 160; 2 frames -> 1 -> NaN
    (GEMINI, 720, 2),
])
def test_minimum_length_guard(loaded, name, samples, frames_nan):
    model = loaded[name]
    assert get_model(name).min_samples == samples
    assert torch.isfinite(model.forward(_wave(samples, 1)[None], torch.tensor([samples]))).all()
    with pytest.raises(AsvbenchError, match=f"needs at least {samples} samples.* per utterance, got {samples - 1}"):
        model.forward(_wave(samples - 1, 1)[None], torch.tensor([samples - 1]))
    with torch.no_grad(), pytest.warns(UserWarning, match="degrees of freedom"):
        assert torch.isnan(model.module(torch.randn(1, frames_nan, 80))).any()


def test_registry_min_samples_follow_from_the_strides():
    assert resnet.min_samples() == 1680 and gemini_dfresnet.min_samples() == 720
    for entry in list_models():
        if entry.family in ("resnet", "gemini-dfresnet"):
            family = resnet if entry.family == "resnet" else gemini_dfresnet
            assert entry.min_samples == family.min_samples(entry.frontend), entry.name


# ------------------------------------------------------------------ checkpoints of another preset


def test_gemini_checkpoint_given_to_resnet34_names_the_gemini_preset(files):
    with pytest.raises(AsvbenchError) as err:
        get_model(RESNET).loader(files["gemini114"])
    msg = str(err.value)
    assert "checkpoint is not a WeSpeaker ResNet preset 'resnet34'" in msg
    assert "fit Gemini DF-ResNet preset 'gemini-dfresnet114'" in msg
    # only the entries that read this (WeSpeaker) layout: not the Golden-Gemini release of that size
    assert "use --model gemini-dfresnet114-wespeaker-lm\n" in msg + "\n"
    assert "gemini114.pt" in msg  # where


def test_resnet34_checkpoint_given_to_gemini_names_resnet34(files):
    with pytest.raises(AsvbenchError, match="fit WeSpeaker ResNet preset 'resnet34'.*\n.*resnet34-wespeaker or "
                                            "resnet34-wespeaker-lm"):
        get_model(GEMINI).loader(files["resnet34"])


def test_depth_mismatch_through_the_loader(files):
    # ResNet18 = BasicBlock (2, 2, 2, 2): fewer blocks, same widths; no registry entry, so the generic hint
    with pytest.raises(AsvbenchError, match="fit WeSpeaker ResNet preset 'resnet18'.*\n.*asvbench models list"):
        get_model(RESNET).loader(files["resnet18"])


def _meta_state(build, preset: str) -> dict:
    with torch.device("meta"):
        return build(preset).state_dict()


@pytest.mark.parametrize(("given", "expected", "fits", "models"), [
    ("resnet221", "resnet293", "WeSpeaker ResNet preset 'resnet221'", "resnet221-wespeaker-lm"),  # depth
    ("resnet293", "resnet221", "WeSpeaker ResNet preset 'resnet293'", "resnet293-wespeaker-lm"),
    ("resnet50", "resnet34", "WeSpeaker ResNet preset 'resnet50'", None),  # block type and widths
    ("resnet34", "resnet152", "WeSpeaker ResNet preset 'resnet34'", "resnet34-wespeaker"),
])
def test_check_preset_names_what_the_shapes_fit(given, expected, fits, models):
    with pytest.raises(AsvbenchError) as err:
        check_preset(_meta_state(build_resnet, given), family="WeSpeaker ResNet", preset=expected, where="x.pt")
    assert f"not a WeSpeaker ResNet preset '{expected}'" in str(err.value) and fits in str(err.value)
    if models:
        assert models in str(err.value)


def test_check_preset_accepts_its_own_and_leaves_unknown_layouts_to_the_strict_load(files):
    check_preset(_meta_state(build_resnet, "resnet34"), family="WeSpeaker ResNet", preset="resnet34", where="x")
    state = _meta_state(build_resnet, "resnet34")
    del state["seg_1.bias"]
    check_preset(state, family="WeSpeaker ResNet", preset="resnet34", where="x")  # fits nothing: silent
    truncated = files["resnet34"].with_name("truncated.pt")
    obj = torch.load(files["resnet34"], weights_only=True)
    del obj["seg_1.bias"]
    torch.save(obj, truncated)
    with pytest.raises(AsvbenchError, match="1 missing keys: seg_1.bias"):
        get_model(RESNET).loader(truncated)


@pytest.mark.parametrize(("family", "build", "preset"), [
    (resnet, build_resnet, "resnet221"), (gemini_dfresnet, build_gemini_dfresnet, "gemini-dfresnet60"),
])
def test_family_shape(family, build, preset):
    # the recipe of asvbench/models/README.md: frozen config, build by preset name or by config, eval mode
    config = family.get_preset(preset)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.embed_dim = 1  # type: ignore[misc]
    with torch.device("meta"):
        by_name, by_config = build(preset), build(config)
    assert not by_name.training and by_name.config == by_config.config == config
    assert build("resnet34" if family is resnet else "gemini-dfresnet114", embed_dim=16).seg_1.out_features == 16
    # resnet2d.FAMILIES names each family by its FAMILY label (the preset-fit errors use it)
    assert (family.FAMILY, family.__name__, build.__name__) in FAMILIES


def test_unknown_preset_is_the_shared_error():
    with pytest.raises(UnknownPresetError, match="unknown WeSpeaker ResNet preset 'resnet35'"):
        build_resnet("resnet35")
    with pytest.raises(UnknownPresetError, match="valid presets: .*gemini-dfresnet60"):
        build_gemini_dfresnet("gemini-dfresnet61")
    with pytest.raises(ValueError, match="multiple of 8"):
        ResNetConfig(feat_dim=81)
    with pytest.raises(ValueError, match="block must be one of"):
        ResNetConfig(block="wide")  # type: ignore[arg-type]


# ------------------------------------------------------------------ signatures, inference form


def test_signatures_identify_the_release_layouts(files, tmp_path):
    def matched(path) -> set[str]:
        return {m.entry.name for m in identify(path, list_models()).matches}

    # base and LM releases share keys and shapes: both match (the sha256 would settle it)
    assert matched(files["resnet34"]) == {"resnet34-wespeaker", "resnet34-wespeaker-lm"}
    assert matched(files["gemini114"]) == {GEMINI}
    golden = {("embedding." + k.removeprefix("seg_1.") if k.startswith("seg_1.") else k): v
              for k, v in torch.load(files["gemini114"], weights_only=True).items()}
    torch.save(golden, tmp_path / "model_165.pt")
    assert matched(tmp_path / "model_165.pt") == {"gemini-dfresnet114-golden"}
    assert matched(files["resnet18"]) == set()


@pytest.mark.parametrize("name", [RESNET, GEMINI])
def test_inference_form_folds_every_batchnorm(loaded, name):
    model = loaded[name]
    fast = model.for_inference()
    assert fast is not model and "BatchNorm folded" in fast.optimisations
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.module.modules())  # the loaded one is untouched
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.module.modules())
    convs = [m for m in fast.module.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.bias is not None for c in convs)
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    wav = _wave(6000, 7)[None]
    a = model.forward(wav, torch.tensor([6000]))[0].numpy()
    b = fast.forward(wav, torch.tensor([6000]))[0].numpy()
    assert float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)) >= 0.99999
