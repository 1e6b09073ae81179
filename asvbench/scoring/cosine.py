"""Vectorised cosine scoring of a trial list against embedding stores.

Each unique enrolment and test id is embedded once: multi-row utterances are pooled
(``pool_norm``: ``"none"`` averages raw rows, ``"l2"`` L2-normalises each row first, as the
DoubleRoc SASV system's NoNorm / L2Norm); an enrolment model listed in an enrolment map pools
all rows of all its utterances the same way (CN-Celeb "Avg", SASV multi-utterance enrolment).
An optional centring vector (e.g. the training-set mean, WeSpeaker's ``mean_vec``) is then
subtracted, the vectors are L2-normalised, and each trial's score is one dot product,
computed in blocks of trials to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import EmbeddingStore, PoolNorm, l2_normalise_rows, load_embeddings, row_sums
from asvbench.io.trials import Trials

_BLOCK = 65536
_SHOW = 5


@dataclass
class ScoredTrials:
    """Scores of the kept trials, and the embeddings they came from (for normalisation)."""

    scores: np.ndarray  # (n_kept,) float64
    kept: np.ndarray  # (n_trials,) bool: trial was scored
    enroll_ids: np.ndarray  # unique enrolment ids (object)
    test_ids: np.ndarray  # unique test ids (object)
    enroll_index: np.ndarray  # (n_kept,) row of enroll_emb per kept trial
    test_index: np.ndarray  # (n_kept,) row of test_emb per kept trial
    enroll_emb: np.ndarray  # (n_enroll, dim) centred, unit-norm
    test_emb: np.ndarray  # (n_test, dim) centred, unit-norm
    center: np.ndarray | None = None
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_missing_trials(self) -> int:
        return int((~self.kept).sum())


def load_center(path: str | Path, *, trust_pickle: bool = False) -> np.ndarray:
    """A centring vector: a ``.npy`` holding one vector, or the mean of all rows of a store."""
    p = Path(path)
    if p.suffix == ".npy" and p.is_file():
        vec = np.load(p, allow_pickle=False)
        if vec.ndim == 2 and vec.shape[0] == 1:
            vec = vec[0]
        if vec.ndim != 1:
            raise AsvbenchError(f"centring .npy must hold one vector, got shape {vec.shape}", where=p)
        return vec.astype(np.float64)
    return load_embeddings(p, trust_pickle=trust_pickle).mean_vector()


def _lookup(store: EmbeddingStore, ids: np.ndarray) -> np.ndarray:
    """Row index of each id in the store, -1 when absent."""
    store.index  # raises on duplicate keys
    return pd.Index(store.keys).get_indexer(pd.Index(ids))


def _pooled_all(store: EmbeddingStore, pool_norm: PoolNorm) -> tuple[np.ndarray, np.ndarray]:
    """Per-key row sums and counts for the whole store (single-row stores: the rows themselves)."""
    if store.offsets is None:
        rows = np.asarray(store.matrix, dtype=np.float64)
        if pool_norm == "l2":
            rows = l2_normalise_rows(rows, keys=store.keys)
        return rows, np.ones(rows.shape[0], dtype=np.int64)
    return row_sums(store.matrix, store.offsets, pool_norm)


def _embed_direct(store: EmbeddingStore, ids: np.ndarray, pool_norm: PoolNorm,
                  cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """Pooled vectors for ids that are store keys; returns (vectors, found-mask)."""
    pos = _lookup(store, ids)
    found = pos >= 0
    sums, counts = _sums_for(store, pool_norm, cache)
    out = np.zeros((ids.shape[0], store.dim), dtype=np.float64)
    out[found] = sums[pos[found]] / counts[pos[found], None]
    return out, found


def _sums_for(store: EmbeddingStore, pool_norm: PoolNorm, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    key = (id(store), pool_norm)
    if key not in cache:
        cache[key] = _pooled_all(store, pool_norm)
    return cache[key]


def _embed_models(store: EmbeddingStore, models: np.ndarray, enroll_map: dict[str, list[str]],
                  pool_norm: PoolNorm, cache: dict, missing: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Enrolment models: pool every row of every listed utterance."""
    sums, counts = _sums_for(store, pool_norm, cache)
    index = pd.Index(store.keys)
    out = np.zeros((models.shape[0], store.dim), dtype=np.float64)
    found = np.zeros(models.shape[0], dtype=bool)
    for j, model in enumerate(models):
        utts = enroll_map.get(model)
        if utts is None:
            missing.setdefault("enrolment models without an enrolment list", []).append(model)
            continue
        pos = index.get_indexer(utts)
        if (pos < 0).any():
            missing.setdefault("enrolment utterances", []).extend(u for u, p in zip(utts, pos) if p < 0)
            continue
        out[j] = sums[pos].sum(axis=0) / counts[pos].sum()
        found[j] = True
    return out, found


def _finish(vectors: np.ndarray, center: np.ndarray | None, ids: np.ndarray, what: str) -> np.ndarray:
    if center is not None:
        vectors = vectors - center
    return l2_normalise_rows(vectors, what=what, keys=list(ids))


def _missing_error(missing: dict[str, list[str]]) -> AsvbenchError:
    parts = []
    for what, keys in missing.items():
        uniq = list(dict.fromkeys(keys))
        parts.append(f"{len(uniq)} {what} (first: {', '.join(map(repr, uniq[:_SHOW]))})")
    return AsvbenchError(
        "trial keys missing from the embedding store: " + "; ".join(parts),
        hint="check that the store and the trial list use the same keys (file names with/without extension, "
             "relative paths), or pass --allow-missing to skip those trials and report how many",
    )


def score_trials(
    trials: Trials,
    test_store: EmbeddingStore,
    *,
    enroll_store: EmbeddingStore | None = None,
    enroll_map: dict[str, list[str]] | None = None,
    center: np.ndarray | None = None,
    pool_norm: PoolNorm = "none",
    allow_missing: bool = False,
) -> ScoredTrials:
    """Cosine-score every trial; see the module docstring for the pooling and centring order."""
    if pool_norm not in ("none", "l2"):
        raise AsvbenchError(f"unknown pooling norm {pool_norm!r}", hint="choose none or l2")
    enroll_store = enroll_store or test_store
    if enroll_store.dim != test_store.dim:
        raise AsvbenchError(
            f"embedding dimensions differ: enrolment store {enroll_store.dim}-d, test store {test_store.dim}-d",
            where=enroll_store.source, hint="score with embeddings from the same model",
        )
    if center is not None and center.shape != (test_store.dim,):
        raise AsvbenchError(f"centring vector has shape {center.shape}, embeddings are {test_store.dim}-d")
    enroll_codes, enroll_ids = pd.factorize(trials.enroll)
    test_codes, test_ids = pd.factorize(trials.test)
    enroll_ids = np.asarray(enroll_ids, dtype=object)
    test_ids = np.asarray(test_ids, dtype=object)
    cache: dict = {}
    missing: dict[str, list[str]] = {}
    if enroll_map is not None:
        enroll_vec, enroll_found = _embed_models(enroll_store, enroll_ids, enroll_map, pool_norm, cache, missing)
    else:
        enroll_vec, enroll_found = _embed_direct(enroll_store, enroll_ids, pool_norm, cache)
        if not enroll_found.all():
            missing["enrolment keys"] = list(enroll_ids[~enroll_found])
    test_vec, test_found = _embed_direct(test_store, test_ids, pool_norm, cache)
    if not test_found.all():
        missing["test keys"] = list(test_ids[~test_found])
    if missing and not allow_missing:
        raise _missing_error(missing)
    kept = enroll_found[enroll_codes] & test_found[test_codes]
    if not kept.any():
        raise _missing_error(missing) if missing else AsvbenchError("the trial list is empty")
    # only embeddings that are used get normalised (unused missing rows stay out of the zero-norm check)
    enroll_emb = np.zeros_like(enroll_vec)
    enroll_emb[enroll_found] = _finish(enroll_vec[enroll_found], center, enroll_ids[enroll_found], "enrolment embedding")
    test_emb = np.zeros_like(test_vec)
    test_emb[test_found] = _finish(test_vec[test_found], center, test_ids[test_found], "test embedding")
    e_idx = enroll_codes[kept]
    t_idx = test_codes[kept]
    return ScoredTrials(
        scores=cosine_pairs(enroll_emb, test_emb, e_idx, t_idx),
        kept=kept, enroll_ids=enroll_ids, test_ids=test_ids, enroll_index=e_idx, test_index=t_idx,
        enroll_emb=enroll_emb, test_emb=test_emb, center=center, missing=missing,
    )


def cosine_pairs(a: np.ndarray, b: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray) -> np.ndarray:
    """Row-wise dot products ``a[a_idx[k]] . b[b_idx[k]]`` of unit vectors, in memory-bounded blocks."""
    out = np.empty(a_idx.shape[0], dtype=np.float64)
    for lo in range(0, a_idx.shape[0], _BLOCK):
        hi = lo + _BLOCK
        out[lo:hi] = np.einsum("ij,ij->i", a[a_idx[lo:hi]], b[b_idx[lo:hi]])
    return out
