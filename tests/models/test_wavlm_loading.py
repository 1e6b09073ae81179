"""WavLM + ECAPA without ../shared: the files the ``unispeech-sv`` adapter refuses (a WavLM upstream
alone, the state dict without its ``model`` wrapper), identification of a UniSpeech SV file, and,
on a small random network of the same classes, padded batches and the long-utterance windows."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.frontends import get_frontend
from asvbench.models.registry import get_model, resolve_model
from asvbench.models.wavlm_ecapa import WavLMEcapaConfig, build_wavlm_ecapa, windows
from tests.models._batch import padded_batch, speechlike

pytestmark = pytest.mark.usefixtures("two_torch_threads")

ENTRY = "wavlm-large-ecapa-unispeech"
#: the WavLM-Large conv stack (hop 320, receptive field 400) at 32 channels, a 2-layer 64-d transformer
SMALL = dict(conv_layers=((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2, encoder_layers=2, encoder_dim=64,
             ffn_dim=128, heads=4, num_buckets=32, max_distance=64, pos_conv_kernel=16, pos_conv_groups=4,
             channels=64, se_channels=16, mfa_channels=96, attention_channels=16, embed_dim=16)


def _small(chunk_frames: int | None = None):
    torch.manual_seed(0)
    model = build_wavlm_ecapa(chunk_frames=chunk_frames, **SMALL)
    with torch.no_grad():  # non-trivial BatchNorm statistics and hidden-state weights
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("running_mean") or name == "feature_weight":
                t.normal_(0, 0.1)
    return model


def _embed(model, wavs: list[torch.Tensor]) -> torch.Tensor:
    batch, lengths = padded_batch(wavs)
    feats, frames = get_frontend("wavlm-layernorm")(batch, lengths)
    with torch.inference_mode():
        return model(feats, frames)


# ---------------------------------------------------------------- files that are not a UniSpeech SV checkpoint


def _wavlm_upstream_keys() -> dict[str, torch.Tensor]:
    """A few keys of a pre-trained WavLM (fairseq names, no feature_extract.model. prefix, no head)."""
    names = ("mask_emb", "feature_extractor.conv_layers.0.0.weight", "post_extract_proj.weight",
             "encoder.pos_conv.0.weight_g", "encoder.layers.0.self_attn.k_proj.weight",
             "encoder.layers.0.self_attn.grep_linear.weight", "encoder.layer_norm.weight", "layer_norm.weight")
    return {name: torch.zeros(2) for name in names}


def test_a_wavlm_upstream_alone_is_refused_saying_what_it_holds(tmp_path):
    path = tmp_path / "WavLM-Large.pt"  # the WavLM release / s3prl upstream: {'cfg': ..., 'model': ...}
    torch.save({"cfg": {"encoder_layers": 24, "normalize": True}, "model": _wavlm_upstream_keys()}, path)
    with pytest.raises(AsvbenchError, match=r"holds a WavLM upstream alone \(8 tensors.*top-level keys: cfg, model\), "
                                            r"with no speaker-verification head.*expected the fine-tuned UniSpeech "
                                            r"speaker-verification checkpoint: a dict \{'model': state dict\}") as exc:
        get_model(ENTRY).loader(path)
    assert "wavlm_large_finetune.pth" in exc.value.hint


def _unispeech_keys() -> dict[str, torch.Tensor]:
    names = ("feature_weight", "feature_extract.model.encoder.layers.0.self_attn.k_proj.weight", "layer1.conv.weight",
             "layer2.SE_Connect.linear1.weight", "pooling.linear1.weight", "bn.running_mean", "linear.weight")
    return {name: torch.zeros(2) for name in names}


def test_a_unispeech_state_dict_without_its_model_wrapper_is_refused(tmp_path):
    path = tmp_path / "state_dict.pth"
    torch.save(_unispeech_keys(), path)
    with pytest.raises(AsvbenchError, match=r"holds the UniSpeech SV state dict at its top level \(7 tensors.*"
                                            r"without the 'model' wrapper; expected the fine-tuned") as exc:
        get_model(ENTRY).loader(path)
    assert "torch.save({'model': state_dict}, path)" in exc.value.hint


@pytest.mark.slow  # builds the 324 M-parameter network
def test_another_layout_under_model_is_named_by_the_strict_load(tmp_path):
    path = tmp_path / "ckpt.pth"
    torch.save({"model": {"conv1.weight": torch.zeros(2), **_unispeech_keys()}}, path)
    with pytest.raises(AsvbenchError, match=r"does not match the WavLM-ECAPA \(unispeech-wavlm-large\) architecture; "
                                            r"\d+ missing keys.*2 unexpected keys: conv1.weight, "
                                            # a layer's k_proj without its q_proj / v_proj stays as named
                                            r"feature_extract.model.encoder.layers.0.self_attn.k_proj.weight"):
        get_model(ENTRY).loader(path)


def test_the_adapter_packs_q_k_v_and_maps_both_weight_norm_namings():
    from asvbench.models.adapters.unispeech import map_wavlm, wavlm_key

    q, k, v = (torch.full((2, 3), float(i)) for i in range(3))
    layer = "encoder.layers.7.self_attn."
    mapped = map_wavlm({layer + "q_proj.weight": q, layer + "k_proj.weight": k, layer + "v_proj.weight": v})
    # nn.MultiheadAttention's in_proj_weight holds the rows of q, then k, then v
    assert list(mapped) == ["encoder.transformer.layers.7.attention.attention.in_proj_weight"]
    assert torch.equal(mapped["encoder.transformer.layers.7.attention.attention.in_proj_weight"], torch.cat([q, k, v]))
    torchaudio_g = "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original0"
    assert wavlm_key("encoder.pos_conv.0.weight_g") == torchaudio_g  # torch.nn.utils.weight_norm (legacy)
    assert wavlm_key("encoder.pos_conv.0.parametrizations.weight.original0") == torchaudio_g  # parametrizations
    assert wavlm_key("encoder.pos_conv.0.weight_v") == torchaudio_g.replace("original0", "original1")


def test_a_unispeech_sv_file_is_identified(tmp_path):
    path = tmp_path / "wavlm_large_finetune.pth"
    shapes = {"feature_weight": (25,), "feature_extract.model.post_extract_proj.weight": (1024, 512),
              "linear.weight": (256, 3072)}
    state = {**_unispeech_keys(), **{k: torch.zeros(s) for k, s in shapes.items()},
             "feature_extract.model.encoder.layers.0.self_attn.grep_linear.weight": torch.zeros(8, 64),
             "feature_extract.model.encoder.pos_conv.0.bias": torch.zeros(1024),
             "layer2.Res2Conv1dReluBn.convs.0.weight": torch.zeros(64, 64, 3)}
    torch.save({"model": state}, path)
    entry, how = resolve_model(None, path)
    assert entry.name == ENTRY
    assert "UniSpeech SV" in how and "embed 256" in how
    entry, _ = resolve_model("wavlm-ecapa", path)  # the family name
    assert entry.name == ENTRY


# ---------------------------------------------------------------- batching and long utterances (small network)


def test_config_frames_and_minimum():
    cfg = WavLMEcapaConfig()
    assert (cfg.hop, cfg.receptive_field) == (320, 400)
    # 48,000 samples: 1 + (48000 - 400) // 320 = 1 + 148 = 149 frames (the fixture's head input); 27,200: 84
    assert (cfg.num_frames(48000), cfg.num_frames(27200), cfg.num_frames(399)) == (149, 84, 0)
    assert cfg.min_samples == 720 == get_model(ENTRY).min_samples  # 400 + 320: two frames
    assert cfg.chunk_frames == 3000  # 60 s at 50 frames per second


@settings(max_examples=200, deadline=None)
@given(n=st.integers(400, 2_000_000), max_frames=st.integers(2, 3000))
def test_windows_tile_the_conv_frames(n, max_frames):
    cfg = WavLMEcapaConfig()
    total = cfg.num_frames(n)
    spans = windows(cfg, n, max_frames)
    assert len(spans) == math.ceil(total / max_frames)
    first = 0
    for start, end in spans:
        frames = cfg.num_frames(end - start)
        assert start == cfg.hop * first and end <= n and 1 <= frames <= max_frames
        first += frames
    assert first == total


def test_padded_batch_equals_one_at_a_time():
    model = _small()
    wavs = [speechlike(n, i) for i, n in enumerate((720, 3000, 8000, 8321))]
    batch = _embed(model, wavs)
    assert batch.shape == (4, 16) and torch.isfinite(batch).all()
    for i, w in enumerate(wavs):
        assert torch.allclose(batch[i], _embed(model, [w])[0], rtol=1e-4, atol=1e-5), i


def test_long_utterances_run_the_transformer_per_window():
    whole, windowed = _small(None), _small(10)
    short, long = speechlike(400 + 320 * 9, 0), speechlike(16000, 1)  # 10 frames; 49 frames
    assert torch.equal(_embed(windowed, [short]), _embed(whole, [short]))  # within one window: the whole path
    # 49 frames -> ceil(49 / 10) = 5 windows of 10, 10, 10, 10, 9 frames, starting at samples 0, 3200, ..., 12800
    # (10 frames span 400 + 9 * 320 = 3,280 samples, 9 frames 400 + 8 * 320 = 2,960)
    spans = windows(windowed.config, 16000, 10)
    assert spans == [(0, 3280), (3200, 6480), (6400, 9680), (9600, 12880), (12800, 15760)]
    wav = get_frontend("wavlm-layernorm").single(long)
    with torch.inference_mode():
        conv_whole, _ = whole.wavlm.conv_frames(wav[None], None)
        # each window's conv frames are exactly the whole utterance's frames there (the conv stack is per frame)
        for i, (start, end) in enumerate(spans):
            conv_window, _ = whole.wavlm.conv_frames(wav[None, start:end], None)
            assert torch.allclose(conv_window[0], conv_whole[0, 10 * i: 10 * i + conv_window.shape[1]], atol=1e-5)
        hidden, frames = windowed.hidden(wav[None], torch.tensor([16000]))
        pieces = [whole.hidden(wav[None, start:end], None)[0][0] for start, end in spans]
    assert frames.tolist() == [49] and hidden.shape == (1, 49, 64)
    assert torch.allclose(hidden[0], torch.cat(pieces), atol=1e-6)
    # a batch holding a long and a short row: the long one windowed, each row as alone
    batch = _embed(windowed, [long, short])
    assert torch.allclose(batch[0], _embed(windowed, [long])[0], rtol=1e-4, atol=1e-5)
    assert torch.allclose(batch[1], _embed(whole, [short])[0], rtol=1e-4, atol=1e-5)


def test_extract_with_a_wavlm_upstream_exits_2_saying_what_it_holds(tmp_path):
    import numpy as np
    import soundfile as sf
    from typer.testing import CliRunner

    from asvbench.cli.main import app

    ckpt = tmp_path / "WavLM-Large.pt"
    torch.save({"cfg": {"normalize": True}, "model": _wavlm_upstream_keys()}, ckpt)
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "a.wav", np.zeros(16000, np.float32), 16000)
    out = tmp_path / "store"
    result = CliRunner().invoke(app, ["extract", "--model", ENTRY, "--checkpoint", str(ckpt), "--audio",
                                      str(tmp_path / "audio"), "--out", str(out), "--num-workers", "0"])
    assert result.exit_code == 2, result.output
    assert "holds a WavLM upstream alone" in result.output and "Traceback" not in result.output
    assert not out.exists()
