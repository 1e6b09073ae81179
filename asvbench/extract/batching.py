"""The model pass over one prepared batch: grouping into forward calls, the padding probe, and
the rows per utterance.

Batching never changes results. In ``exact`` bucketing one forward call only holds waveforms
of identical length (the fixed crops always are; segment-cut evaluation sets are too), which is
right whatever the model does with padding (zero padding changes CMN means and pooling
statistics of unmasked speaker models). ``padded`` bucketing pads length-sorted neighbours
(little padding: a group's longest is at most 1.2 x its shortest) and passes the valid
lengths: right for models that mask padding (asvbench's CAM++ does). ``auto`` (default) uses
``exact`` on CPU and, on GPU, ``padded`` only when a padding probe on the loaded model shows
that padding has no effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.extract.config import ExtractConfig, Failure
from asvbench.extract.data import PreparedBatch, describe_error
from asvbench.extract.runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry


def _forward(model: "LoadedModel", rt: Runtime, wavs: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    import torch

    x = torch.from_numpy(np.ascontiguousarray(wavs, dtype=np.float32)).to(rt.device)
    n = torch.as_tensor(list(lengths), dtype=torch.long, device=rt.device)
    with torch.inference_mode(), rt.autocast():
        y = model.forward(x, n)
    y = y.float().cpu().numpy()
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise RuntimeError(f"model returned shape {tuple(y.shape)} for a batch of {x.shape[0]}")
    return y


def _run_groups(model: "LoadedModel", rt: Runtime, segs: list[np.ndarray], groups: list[list[int]],
                ) -> tuple[dict[int, np.ndarray], dict[int, str]]:
    """Forward each group of segment indices (padding to the group's longest); on an error,
    retry its members one by one so that one bad input fails alone."""
    out: dict[int, np.ndarray] = {}
    errors: dict[int, str] = {}
    for group in groups:
        try:
            lengths = [segs[i].shape[0] for i in group]
            batch = np.zeros((len(group), max(lengths)), np.float32)
            for row, i in enumerate(group):
                batch[row, : lengths[row]] = segs[i]
            y = _forward(model, rt, batch, lengths)
            out.update(zip(group, y))
        except (RuntimeError, ValueError, IndexError, AsvbenchError) as exc:
            if len(group) == 1:
                errors[group[0]] = f"model failed: {describe_error(exc)}"
            else:
                sub_out, sub_err = _run_groups(model, rt, segs, [[i] for i in group])
                out.update(sub_out)
                errors.update(sub_err)
    return out, errors


#: agreement the padding probe needs before padded batches are used (bucketing "auto")
PROBE_MIN_COSINE = 0.99999
PROBE_MAX_RELATIVE = 1e-3


def padding_probe(model: "LoadedModel", rt: Runtime, sample_rate: int, min_samples: int) -> tuple[float, float]:
    """Cosine and max relative difference between a probe signal's output alone and in a padded batch.

    The probe is deterministic: a 2 s (at least 2 x the model's minimum) chirp plus seeded
    noise, batched beside a 1.5 x longer signal so that it is zero-padded by a third.
    """
    n = max(2 * sample_rate, 2 * int(min_samples), 1000)
    rng = np.random.default_rng(20240601)
    t = np.arange(int(n * 1.5)) / sample_rate
    long = (0.3 * np.sin(2 * np.pi * (150 + 80 * t) * t) + 0.05 * rng.standard_normal(t.shape[0])).astype(np.float32)
    short = long[::-1][:n].copy()
    alone = _forward(model, rt, short[None, :], [n])[0].astype(np.float64)
    batch = np.zeros((2, long.shape[0]), np.float32)
    batch[0, :n] = short
    batch[1] = long
    padded = _forward(model, rt, batch, [n, long.shape[0]])[0].astype(np.float64)
    denom = np.linalg.norm(alone) * np.linalg.norm(padded)
    cos = float(alone @ padded / denom) if denom > 0 else (1.0 if np.array_equal(alone, padded) else 0.0)
    rel = float(np.max(np.abs(alone - padded)) / max(1.0, float(np.max(np.abs(alone)))))
    return cos, rel


def resolve_bucketing(cfg: ExtractConfig, model: "LoadedModel", rt: Runtime, entry: "ModelEntry") -> tuple[str, str]:
    """The bucketing to use and a note for the manifest (see :class:`ExtractConfig`)."""
    if cfg.bucketing != "auto":
        return cfg.bucketing, "asked for"
    if rt.device_type == "cpu":
        return "exact", "auto: exact on CPU (padded batches do not pay there; see the benchmark)"
    try:
        cos, rel = padding_probe(model, rt, entry.sample_rate, entry.min_samples)
    except (RuntimeError, ValueError, IndexError, AsvbenchError) as exc:
        return "exact", f"auto: padding probe failed ({describe_error(exc)})"
    facts = f"padding probe cosine {cos:.8f}, max relative difference {rel:.2e}"
    if cos >= PROBE_MIN_COSINE and rel <= PROBE_MAX_RELATIVE:
        return "padded", f"auto: {facts} (padding has no effect)"
    return "exact", f"auto: {facts} (the model does not mask padding)"


def exact_groups(lengths: Sequence[int], max_rows: int) -> list[list[int]]:
    """Indices grouped by identical length, each group cut to ``max_rows``, in first-seen order."""
    by_len: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by_len.setdefault(int(n), []).append(i)
    groups = []
    for members in by_len.values():
        groups.extend(members[j : j + max_rows] for j in range(0, len(members), max_rows))
    return groups


#: padded bucketing: a group's longest waveform is at most this times its shortest (<= 20 % padding)
MAX_PAD_RATIO = 1.2


def padded_groups(lengths: Sequence[int], max_rows: int, max_ratio: float = MAX_PAD_RATIO) -> list[list[int]]:
    """Groups of at most ``max_rows`` consecutive indices in length order, each cut where the
    next waveform would be longer than ``max_ratio`` times the group's shortest (so padding
    stays under ``1 - 1/max_ratio`` of the compute). Depends on the lengths only: deterministic."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(groups[-1]) < max_rows and lengths[i] <= max_ratio * lengths[groups[-1][0]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def compute_batch(model: "LoadedModel", rt: Runtime, prep: PreparedBatch, cfg: ExtractConfig, bucketing: str,
                  ) -> tuple[list[str], list[np.ndarray], list[float], list[Failure]]:
    """Rows per utterance for one prepared batch: full utterance first, then its crops."""
    fulls = prep.fulls
    grouping = padded_groups if bucketing == "padded" else exact_groups
    full_out, full_err = _run_groups(model, rt, fulls, grouping([f.shape[0] for f in fulls], cfg.batch_size))
    crop_out: dict[int, np.ndarray] = {}
    crop_err: dict[int, str] = {}
    if cfg.crops:
        segs = [c for crops in prep.crops for c in crops]  # all the same length: one exact group per chunk
        crop_out, crop_err = _run_groups(model, rt, segs, exact_groups([s.shape[0] for s in segs],
                                                                       cfg.batch_size * cfg.crops))
    keys, rows, seconds, failures = [], [], [], list(prep.failures)
    paths = dict(zip(prep.keys, prep.paths))
    for j, key in enumerate(prep.keys):
        reason = full_err.get(j)
        parts = [full_out[j][None, :]] if reason is None else []
        for c in range(cfg.crops):
            idx = j * cfg.crops + c
            if reason is None and idx in crop_err:
                reason = crop_err[idx]
            if reason is None:
                parts.append(crop_out[idx][None, :])
        if reason is None:
            block = np.concatenate(parts, axis=0).astype(np.float32)
            if not np.isfinite(block).all():
                reason = "model output holds NaN or infinite values"
        if reason is not None:
            failures.append(Failure(key, paths[key], reason))
            continue
        keys.append(key)
        rows.append(block)
        seconds.append(prep.seconds[j])
    return keys, rows, seconds, failures
