"""UniSpeech speaker-verification checkpoints (WavLM-Large + ECAPA, ``wavlm_large_finetune.pth``).

``verification.py`` loads ``torch.load(path)['model']`` into ``ECAPA_TDNN_SMALL`` (``strict=False``
there; here every key must fit). The state dict (``shared/parity/unispeech_wavlm_large_ecapa/
keys.tsv``, 710 keys): ``feature_weight``, the WavLM upstream under ``feature_extract.model.``
with fairseq names, and the head (``layer1..4``, ``conv``, ``pooling``, ``bn``, ``linear``).

The WavLM names map one to one onto torchaudio's WavLM blocks
(:class:`asvbench.models.wavlm_ecapa.UniSpeechWavLM`), except the attention's ``q_proj``,
``k_proj``, ``v_proj``, which torchaudio holds packed as ``in_proj_{weight,bias}`` (rows q, k, v,
as ``nn.MultiheadAttention``). The positional conv's weight norm is saved with the legacy
``weight_g`` / ``weight_v`` names (``torch.nn.utils.weight_norm``), or by newer saves with
``parametrizations.weight.original0`` / ``original1``: both map to torchaudio's parametrization.

Refused with what the file holds: a WavLM upstream checkpoint alone (s3prl / the WavLM release
``WavLM-Large.pt``: ``{'cfg', 'model'}`` with ``feature_extractor.*`` / ``encoder.*`` keys and no
head), and the UniSpeech state dict saved without its ``model`` wrapper.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from asvbench.errors import AsvbenchError
from asvbench.models.adapters import counters_to_int64, register_adapter, strip_prefix, unwrap_state_dict

WAVLM_PREFIX = "feature_extract.model."
#: keys every UniSpeech SV state dict has (the weights of the hidden states and the head's stem)
HEAD_MARKERS = ("feature_weight", "layer1.conv.weight", "linear.weight")
EXPECTED = ("the fine-tuned UniSpeech speaker-verification checkpoint: a dict {'model': state dict} whose state "
            "dict holds feature_weight, feature_extract.model.* (WavLM-Large) and the ECAPA head layer1..4, conv, "
            "pooling, bn, linear (710 keys)")

# fairseq / UniSpeech WavLM name (after feature_extract.model.) -> torchaudio name; first match wins
_RULES: tuple[tuple[str, str], ...] = (
    (r"feature_extractor\.conv_layers\.(\d+)\.0\.weight", r"feature_extractor.conv_layers.\1.conv.weight"),
    (r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)", r"feature_extractor.conv_layers.\1.layer_norm.\2"),
    (r"layer_norm\.(weight|bias)", r"encoder.feature_projection.layer_norm.\1"),
    (r"post_extract_proj\.(weight|bias)", r"encoder.feature_projection.projection.\1"),
    (r"encoder\.pos_conv\.0\.bias", "encoder.transformer.pos_conv_embed.conv.bias"),
    (r"encoder\.pos_conv\.0\.(?:weight_g|parametrizations\.weight\.original0)",
     "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"encoder\.pos_conv\.0\.(?:weight_v|parametrizations\.weight\.original1)",
     "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"encoder\.layer_norm\.(weight|bias)", r"encoder.transformer.layer_norm.\1"),
    (r"encoder\.layers\.(\d+)\.self_attn\.out_proj\.(weight|bias)",
     r"encoder.transformer.layers.\1.attention.attention.out_proj.\2"),
    (r"encoder\.layers\.(\d+)\.self_attn\.relative_attention_bias\.weight",
     r"encoder.transformer.layers.\1.attention.rel_attn_embed.weight"),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_linear\.(weight|bias)",
     r"encoder.transformer.layers.\1.attention.gru_rel_pos_linear.\2"),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_a", r"encoder.transformer.layers.\1.attention.gru_rel_pos_const"),
    (r"encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)", r"encoder.transformer.layers.\1.layer_norm.\2"),
    (r"encoder\.layers\.(\d+)\.fc1\.(weight|bias)",
     r"encoder.transformer.layers.\1.feed_forward.intermediate_dense.\2"),
    (r"encoder\.layers\.(\d+)\.fc2\.(weight|bias)", r"encoder.transformer.layers.\1.feed_forward.output_dense.\2"),
    (r"encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)", r"encoder.transformer.layers.\1.final_layer_norm.\2"),
    (r"mask_emb", "mask_emb"),
)
_COMPILED = tuple((re.compile(pattern + r"\Z"), repl) for pattern, repl in _RULES)
_QKV = re.compile(r"encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)\Z")


def wavlm_key(name: str) -> str | None:
    """The torchaudio name of a fairseq WavLM key (without ``feature_extract.model.``); None when no
    rule maps it (q/k/v projections are packed by :func:`map_wavlm`)."""
    for pattern, repl in _COMPILED:
        if pattern.match(name):
            return pattern.sub(repl, name)
    return None


def map_wavlm(wavlm: dict[str, Any]) -> dict[str, Any]:
    """fairseq WavLM keys -> torchaudio keys; q, k, v packed (a layer missing one of them keeps its
    keys unmapped, so that the strict load names them)."""
    import torch

    out: dict[str, Any] = {}
    packs: dict[tuple[str, str], dict[str, Any]] = {}
    for name, tensor in wavlm.items():
        qkv = _QKV.match(name)
        if qkv:
            packs.setdefault((qkv.group(1), qkv.group(3)), {})[qkv.group(2)] = (name, tensor)
            continue
        out[wavlm_key(name) or name] = tensor
    for (layer, kind), parts in packs.items():
        if set(parts) == {"q", "k", "v"}:
            packed = torch.cat([parts[p][1] for p in "qkv"], dim=0)
            out[f"encoder.transformer.layers.{layer}.attention.attention.in_proj_{kind}"] = packed
        else:
            out.update(dict(parts.values()))
    return out


def _is_wavlm_alone(state: dict[str, Any]) -> bool:
    return any(k.endswith("encoder.layers.0.self_attn.k_proj.weight") for k in state) and not any(
        k in state for k in HEAD_MARKERS)


def _refuse(obj: Any, state: dict[str, Any], where: str | Path) -> None:
    """AsvbenchError for the two files that look like this source but are not what ``extract`` needs."""
    if _is_wavlm_alone(state):
        top = ", ".join(sorted(map(str, obj))[:6]) if isinstance(obj, dict) else type(obj).__name__
        raise AsvbenchError(
            f"checkpoint holds a WavLM upstream alone ({len(state)} tensors such as "
            f"{next(iter(state))}; top-level keys: {top}), with no speaker-verification head "
            "(no feature_weight, layer1..4, pooling, linear); expected " + EXPECTED, where=where,
            hint="pass the fine-tuned UniSpeech SV checkpoint (README 'WavLM large, fix pre-train = No', "
                 "wavlm_large_finetune.pth); a pre-trained WavLM (s3prl upstream, WavLM-Large.pt) has no "
                 "speaker head")
    if isinstance(obj, dict) and "model" not in obj and all(k in obj for k in HEAD_MARKERS):
        raise AsvbenchError(
            f"checkpoint holds the UniSpeech SV state dict at its top level ({len(state)} tensors: feature_weight, "
            "feature_extract.model.*, layer1, ...) without the 'model' wrapper; expected " + EXPECTED, where=where,
            hint="re-save it as torch.save({'model': state_dict}, path), the layout verification.py reads")


@register_adapter("unispeech-sv")
def adapt_unispeech_sv(obj: Any, *, where: str | Path) -> dict[str, Any]:
    """UniSpeech SV checkpoint ``{'model': state dict}`` -> state dict of
    :class:`~asvbench.models.wavlm_ecapa.WavLMEcapa`."""
    state = strip_prefix(unwrap_state_dict(obj, where=where, wrapper_keys=("model",)), "module.")
    _refuse(obj, state, where)
    if not isinstance(obj, dict) or not _is_tensor_dict_under(obj, "model"):
        raise AsvbenchError("checkpoint holds no 'model' state dict of the UniSpeech SV layout; expected " + EXPECTED,
                            where=where, hint="check --model: is this a checkpoint of another family?")
    wavlm = {k.removeprefix(WAVLM_PREFIX): v for k, v in state.items() if k.startswith(WAVLM_PREFIX)}
    rest = {k: v for k, v in state.items() if not k.startswith(WAVLM_PREFIX)}
    mapped = {WAVLM_PREFIX + k: v for k, v in map_wavlm(wavlm).items()}
    return counters_to_int64({**rest, **mapped})


def _is_tensor_dict_under(obj: dict[str, Any], key: str) -> bool:
    import torch

    inner = obj.get(key)
    return isinstance(inner, dict) and bool(inner) and all(isinstance(v, torch.Tensor) for v in inner.values())
