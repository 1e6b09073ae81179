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

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asvbench._choices import check_choice
from asvbench._cpus import usable_cpus
from asvbench.errors import AsvbenchError
from asvbench.io._text import factorize
from asvbench.io.embeddings import (
    EmbeddingStore,
    PoolNorm,
    l2_normalise_rows,
    load_embeddings,
    load_vector_npy,
    row_sums,
)
from asvbench.io.formats import POOL_NORMS
from asvbench.io.store_index import StoreKeys, both_trial_positions, trial_positions
from asvbench.scoring._rows import unique_positions, used_positions
from asvbench.scoring.options import PRECISIONS
from asvbench.trials.read import Trials

_BLOCK = 8192  # trials per block: keeps temporaries small enough for the allocator to reuse
_MAX_THREADS = 4
_SHOW = 5


def for_blocks(n: int, work: Callable[[int, int], None], block: int = _BLOCK) -> None:
    """Call ``work(lo, hi)`` for consecutive blocks of ``range(n)``, on up to 4 threads.

    The gathers and dot products inside release the GIL, so blocks run in parallel; each
    block writes only its own slice, so results do not depend on the thread count. The
    first error in block order is raised.
    """
    starts = range(0, n, block)
    threads = min(_MAX_THREADS, usable_cpus(), len(starts))
    if threads < 2:
        for lo in starts:
            work(lo, min(n, lo + block))
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda lo: work(lo, min(n, lo + block)), starts))


class _BlockBuffers(threading.local):
    """Arrays of one thread reused from block to block, so that a block's gathered rows are written
    into memory already mapped (fresh arrays per block: ~10 % more CPU for the dot products at Vox1-E)."""

    def get(self, name: str, rows: int, dim: int, dtype) -> np.ndarray:
        """A (rows, dim) array of ``dtype`` (a view of this thread's buffer ``name``, grown when needed)."""
        have = self.__dict__.get(name)
        if have is None or have.shape[0] < rows or have.shape[1:] != (dim,) or have.dtype != dtype:
            have = np.empty((max(rows, _BLOCK), dim), dtype=dtype)
            self.__dict__[name] = have
        return have[:rows]


def _take_rows(matrix: np.ndarray, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = matrix[rows]`` for valid rows (>= 0) of a matrix of ``out``'s dtype."""
    return np.take(matrix, rows, axis=0, out=out, mode="clip")  # mode="raise" would buffer the whole block


@dataclass
class EmbeddedSide:
    """Vectors of the unique ids of one side (enrolment or test), without copying the store.

    Vector ``i`` is ``(matrix[rows[i]] - center) * inv_norm[i]``: centred and unit-norm.
    ``matrix`` is the store's (possibly memory-mapped) matrix, or a pooled float64 matrix
    when utterances own several rows or enrolment models pool several utterances.
    """

    matrix: np.ndarray
    rows: np.ndarray  # (n_ids,) int64, -1 where missing
    inv_norm: np.ndarray  # (n_ids,) float64, 0 where missing
    center: np.ndarray | None

    def gather(self, ids: np.ndarray) -> np.ndarray:
        """Centred unit-norm float64 vectors of the given id positions."""
        vectors = np.asarray(self.matrix[self.rows[ids]], dtype=np.float64)
        if self.center is not None:
            vectors -= self.center
        vectors *= self.inv_norm[ids, None]
        return vectors

    def dense(self) -> np.ndarray:
        """All vectors as one (n_ids, dim) float64 matrix (zeros where missing)."""
        out = np.zeros((self.rows.shape[0], self.matrix.shape[1]), dtype=np.float64)
        found = np.flatnonzero(self.rows >= 0)

        def fill(lo: int, hi: int) -> None:
            out[found[lo:hi]] = self.gather(found[lo:hi])

        for_blocks(found.shape[0], fill)
        return out


@dataclass
class ScoredTrials:
    """Scores of the kept trials, and the embedded sides they came from (for normalisation)."""

    scores: np.ndarray  # (n_kept,) float64
    kept: np.ndarray  # (n_trials,) bool: trial was scored
    enroll_ids: np.ndarray  # unique enrolment ids (object)
    test_ids: np.ndarray  # unique test ids (object)
    enroll_index: np.ndarray  # (n_kept,) position in enroll_ids per kept trial
    test_index: np.ndarray  # (n_kept,) position in test_ids per kept trial
    enroll_side: EmbeddedSide
    test_side: EmbeddedSide
    center: np.ndarray | None = None
    missing: dict[str, list[str]] = field(default_factory=dict)
    #: ``enroll_side.rows`` / ``test_side.rows`` are rows of the enrolment / test store (single-row
    #: stores, no enrolment map): a kept trial's pair of rows is then its pair of keys
    store_rows: bool = False

    @property
    def n_missing_trials(self) -> int:
        return int((~self.kept).sum())

    @property
    def enroll_emb(self) -> np.ndarray:
        """(n_enroll, dim) centred unit-norm enrolment vectors (materialised on first use)."""
        if "_enroll_emb" not in self.__dict__:
            self.__dict__["_enroll_emb"] = self.enroll_side.dense()
        return self.__dict__["_enroll_emb"]

    @property
    def test_emb(self) -> np.ndarray:
        """(n_test, dim) centred unit-norm test vectors (materialised on first use)."""
        if "_test_emb" not in self.__dict__:
            self.__dict__["_test_emb"] = self.test_side.dense()
        return self.__dict__["_test_emb"]


def load_center(path: str | Path, *, trust_pickle: bool = False, dim: int | None = None) -> np.ndarray:
    """A centring vector: a ``.npy`` holding one vector, or the mean of all rows of a store (both checked
    finite when read); ``dim``, when given, is the size the embeddings to centre have."""
    p = Path(path)
    if p.suffix == ".npy" and p.is_file():
        vec = load_vector_npy(p)
    else:
        vec = load_embeddings(p, trust_pickle=trust_pickle).mean_vector()
    if dim is not None and vec.shape != (dim,):
        raise AsvbenchError(f"the centring vector has {vec.shape[0]} values, the embeddings {dim}", where=p,
                            hint="--center must come from the same model as the embeddings it centres")
    return vec


def _store_keys(store: EmbeddingStore, cache: dict) -> StoreKeys:
    """The key lookups of a store, built once per store."""
    key = ("keys", id(store))
    if key not in cache:
        cache[key] = StoreKeys(store)
    return cache[key]


def _inverse_norms(matrix: np.ndarray, rows: np.ndarray, center: np.ndarray | None, ids: np.ndarray,
                   what: str) -> np.ndarray:
    """1 / ||matrix[rows] - center|| per id (0 for missing ids); zero norms are an error."""
    inv = np.zeros(rows.shape[0], dtype=np.float64)
    found = np.flatnonzero(rows >= 0)

    def fill(lo: int, hi: int) -> None:
        sel = found[lo:hi]
        vectors = np.asarray(matrix[rows[sel]], dtype=np.float64)
        if center is not None:
            vectors -= center
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        zero = norms == 0
        if zero.any():
            raise AsvbenchError(
                f"{what} {ids[sel[np.flatnonzero(zero)[0]]]!r} has zero norm"
                + (" after centring" if center is not None else "") + "; cosine scoring is undefined for it",
                hint="check the extraction of that utterance (silence? failed decode?)",
            )
        inv[sel] = 1.0 / norms

    for_blocks(found.shape[0], fill)
    return inv


class _RowNorms:
    """Inverse norms of rows of one store matrix centred by one vector, each computed the first time a
    call asks for it and kept (NaN: not yet): the chunks of a streamed list use most store rows again.

    A row's value is what :func:`_inverse_norms` gives it in any call (each row is its own float64
    copy, centred and reduced alone), so keeping it changes no score. A zero norm is never kept: every
    call that uses that row raises, as before.
    """

    def __init__(self, matrix: np.ndarray, center: np.ndarray | None):
        self.matrix, self.center = matrix, center
        self.inv = np.full(matrix.shape[0], np.nan)

    def of(self, rows: np.ndarray) -> np.ndarray:
        """Inverse norms of ``rows`` (valid rows); raises :func:`_inverse_norms`'s error naming a row."""
        todo = rows[np.isnan(self.inv[rows])]
        if todo.shape[0]:
            self.inv[todo] = _inverse_norms(self.matrix, todo, self.center, todo, "embedding")
        return self.inv[rows]


def _row_norms(memo: dict | None, matrix: np.ndarray, center: np.ndarray | None) -> _RowNorms | None:
    """The kept :class:`_RowNorms` of a store ``matrix`` and ``center`` (the same objects), or None without a memo."""
    if memo is None:
        return None
    kept = memo.setdefault("row_norms", [])
    for norms in kept:
        if norms.matrix is matrix and norms.center is center:
            return norms
    kept.append(_RowNorms(matrix, center))
    return kept[-1]


def _side_inverse_norms(matrix: np.ndarray, rows: np.ndarray, center: np.ndarray | None, ids: np.ndarray, what: str,
                        norms: _RowNorms | None) -> np.ndarray:
    """:func:`_inverse_norms`, the rows' values taken from (and added to) ``norms`` when given."""
    if norms is None:
        return _inverse_norms(matrix, rows, center, ids, what)
    found = np.flatnonzero(rows >= 0)
    try:
        values = norms.of(rows[found])
    except AsvbenchError:
        _inverse_norms(matrix, rows, center, ids, what)  # raises, naming the id
        raise
    inv = np.zeros(rows.shape[0], dtype=np.float64)
    inv[found] = values
    return inv


def _shared_inverse_norms(matrix: np.ndarray, e_rows: np.ndarray, t_rows: np.ndarray, center: np.ndarray | None,
                          e_ids: np.ndarray, t_ids: np.ndarray,
                          norms: _RowNorms | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_inverse_norms` of two sides over one matrix, each used matrix row computed once
    (and, with ``norms``, once across calls)."""
    n_rows = matrix.shape[0]
    used = used_positions(n_rows, e_rows, t_rows)
    used = used[used >= 0]
    try:
        # the ids named in this call's error are never shown: the per-side calls below raise first
        inv_used = norms.of(used) if norms is not None else _inverse_norms(matrix, used, center, used, "embedding")
    except AsvbenchError:  # say which side it is on
        _inverse_norms(matrix, e_rows, center, e_ids, "enrolment embedding")
        _inverse_norms(matrix, t_rows, center, t_ids, "test embedding")
        raise
    inv_of_row = np.zeros(n_rows + 1, dtype=np.float64)
    inv_of_row[used + 1] = inv_used

    def per_id(rows: np.ndarray) -> np.ndarray:
        return inv_of_row[rows + 1]  # 0 for missing ids (row -1)

    return per_id(e_rows), per_id(t_rows)


def _store_sums(store: EmbeddingStore, pool_norm: PoolNorm, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-key row sums and counts of a multi-row store (computed once per store and norm)."""
    key = (id(store), pool_norm)
    if key not in cache:
        cache[key] = row_sums(store.matrix, store.offsets, pool_norm)
    return cache[key]


def _pooled_side(store: EmbeddingStore, ids: np.ndarray, pool_norm: PoolNorm,
                 cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """(pooled matrix, rows) for ids that are keys of a multi-row store; rows -1 where absent."""
    pos = _store_keys(store, cache).positions(ids)
    sums, counts = _store_sums(store, pool_norm, cache)
    found = pos >= 0
    pooled = np.zeros((ids.shape[0], store.dim), dtype=np.float64)
    pooled[found] = sums[pos[found]] / counts[pos[found], None]
    return pooled, np.where(found, np.arange(ids.shape[0]), -1)


def _side_models(store: EmbeddingStore, models: np.ndarray, enroll_map: dict[str, list[str]],
                 pool_norm: PoolNorm, cache: dict, missing: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Enrolment models: pool every row of every listed utterance."""
    if store.offsets is None:
        rows = np.asarray(store.matrix, dtype=np.float64)
        sums = l2_normalise_rows(rows, keys=store.keys) if pool_norm == "l2" else rows
        counts = np.ones(len(store), dtype=np.int64)
    else:
        sums, counts = _store_sums(store, pool_norm, cache)
    keys = _store_keys(store, cache)
    pooled = np.zeros((models.shape[0], store.dim), dtype=np.float64)
    rows = np.full(models.shape[0], -1, dtype=np.int64)
    for j, model in enumerate(models):
        utts = enroll_map.get(model)
        if utts is None:
            missing.setdefault("enrolment models without an enrolment list", []).append(model)
            continue
        pos = keys.positions(utts)
        if (pos < 0).any():
            where = getattr(enroll_map, "lines", {}).get(model)  # the enrolment map's path:line
            missing.setdefault("enrolment utterances", []).extend(
                (f"{u} (model {model}, {where})" if where else u) for u, p in zip(utts, pos) if p < 0)
            continue
        pooled[j] = sums[pos].sum(axis=0) / counts[pos].sum()
        rows[j] = j
    return pooled, rows


def _first_line_of(trials: Trials, rows: np.ndarray) -> str | None:
    """``file:line`` of the first trial flagged in ``rows`` (for error messages), or None."""
    flagged = np.flatnonzero(rows)
    if not flagged.shape[0] or not trials.source:
        return None
    return f"{trials.source}:{trials.line_of(int(flagged[0]))[0]}"


def _missing_error(missing: dict[str, list[str]], where: str | None = None, store: str = "") -> AsvbenchError:
    parts = []
    for what, keys in missing.items():
        uniq = list(dict.fromkeys(keys))
        parts.append(f"{len(uniq)} {what} (first: {', '.join(map(repr, uniq[:_SHOW]))})")
    return AsvbenchError(
        f"trial keys missing from the embedding store{f' {store}' if store else ''}: " + "; ".join(parts)
        + (" (this is the first trial with a missing key)" if where else ""), where=where,
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
    precision: str = "float32",
    allow_none_kept: bool = False,
    memo: dict | None = None,
) -> ScoredTrials:
    """Cosine-score every trial; see the module docstring for the pooling and centring order.

    ``precision="float32"`` (default) takes the dot products of float32 unit vectors, as
    the peers' recipes do (their embeddings are float32 and so is their cosine), accurate to
    about 1e-7; ``"float64"`` computes every dot product in float64 (about 3x slower on the
    dot products). Either way scores are written in full, never rounded.
    ``allow_none_kept``: with ``allow_missing``, a list whose every trial is missing gives
    no scores instead of an error (one chunk of a streamed list).
    ``memo``: a dict the caller keeps across calls with the same stores and centre (the chunks of
    one streamed list), in which each single-row store row's inverse norm is computed once; the
    same scores.
    """
    check_choice(precision, PRECISIONS, "precision")
    check_choice(pool_norm, POOL_NORMS, "pooling norm")
    enroll_store = enroll_store or test_store
    if enroll_store.dim != test_store.dim:
        raise AsvbenchError(
            f"embedding dimensions differ: enrolment store {enroll_store.dim}-d, test store {test_store.dim}-d",
            where=enroll_store.source, hint="score with embeddings from the same model",
        )
    if center is not None and center.shape != (test_store.dim,):
        raise AsvbenchError(f"centring vector has shape {center.shape}, embeddings are {test_store.dim}-d")
    cache: dict = {}
    missing: dict[str, list[str]] = {}
    positions = _single_row_positions(trials, enroll_store, test_store, cache) if enroll_map is None else {}
    if enroll_map is not None:
        enroll_codes, enroll_ids = factorize(trials.enroll)
        e_matrix, e_rows = _side_models(enroll_store, enroll_ids, enroll_map, pool_norm, cache, missing)
    else:
        enroll_codes, enroll_ids, e_matrix, e_rows = _side_for_trials(enroll_store, trials, "enroll", pool_norm, cache,
                                                                      positions.get("enroll"))
        if (e_rows < 0).any():
            missing["enrolment keys"] = _missing_names(trials.enroll, enroll_codes, e_rows)
    test_codes, test_ids, t_matrix, t_rows = _side_for_trials(test_store, trials, "test", pool_norm, cache,
                                                              positions.get("test"))
    if (t_rows < 0).any():
        missing["test keys"] = _missing_names(trials.test, test_codes, t_rows)
    kept = (e_rows >= 0)[enroll_codes] & (t_rows >= 0)[test_codes]
    if missing and not allow_missing:
        raise _missing_error(missing, _first_line_of(trials, ~kept),
                             " / ".join(dict.fromkeys(s.source for s in (enroll_store, test_store) if s.source)))
    if not kept.any() and not (allow_none_kept and allow_missing):
        raise _missing_error(missing) if missing else AsvbenchError("the trial list is empty")
    store_rows = enroll_map is None and enroll_store.offsets is None and test_store.offsets is None
    # only a store's own matrix is kept in the memo (a pooled matrix is made afresh by each call)
    e_norms = _row_norms(memo, e_matrix, center) if store_rows else None
    if e_matrix is t_matrix:  # one store on both sides: each used row's norm once
        e_inv, t_inv = _shared_inverse_norms(e_matrix, e_rows, t_rows, center, enroll_ids, test_ids, e_norms)
    else:
        t_norms = _row_norms(memo, t_matrix, center) if store_rows else None
        e_inv = _side_inverse_norms(e_matrix, e_rows, center, enroll_ids, "enrolment embedding", e_norms)
        t_inv = _side_inverse_norms(t_matrix, t_rows, center, test_ids, "test embedding", t_norms)
    enroll_side = EmbeddedSide(e_matrix, e_rows, e_inv, center)
    test_side = EmbeddedSide(t_matrix, t_rows, t_inv, center)
    e_idx = enroll_codes[kept]
    t_idx = test_codes[kept]
    return ScoredTrials(
        scores=cosine_pairs(enroll_side, test_side, e_idx, t_idx, precision),
        kept=kept, enroll_ids=enroll_ids, test_ids=test_ids, enroll_index=e_idx, test_index=t_idx,
        enroll_side=enroll_side, test_side=test_side, center=center, missing=missing,
        store_rows=store_rows,
    )


def _side_for_trials(store: EmbeddingStore, trials: Trials, which: str, pool_norm: PoolNorm, cache: dict,
                     positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(per-trial codes, unique ids, matrix, rows per id) of one trial side that names store keys.

    Single-row stores: the trial keys are looked up in the store once (one lookup per trial,
    no separate factorisation) and the unique ids are the store rows used; all missing keys
    share one id. Multi-row stores pool each used key's rows. ``positions``: the store rows
    of the keys, when already looked up.
    """
    if store.offsets is not None:
        codes, ids = factorize(getattr(trials, which))
        matrix, rows = _pooled_side(store, ids, pool_norm, cache)
        return codes, ids, matrix, rows
    keys = _store_keys(store, cache)
    pos = positions if positions is not None else trial_positions(trials, which, keys)
    rows, codes = unique_positions(pos, len(store))
    ids = keys.names(np.maximum(rows, 0))
    if rows.shape[0] and rows[0] < 0:
        ids[0] = "<missing>"
    return codes, ids, store.matrix, rows


def _single_row_positions(trials: Trials, enroll_store: EmbeddingStore, test_store: EmbeddingStore,
                          cache: dict) -> dict[str, np.ndarray]:
    """Store rows of both sides' keys, looked up together, when both stores hold one row per key;
    else {} (each side is looked up on its own)."""
    if enroll_store.offsets is not None or test_store.offsets is not None:
        return {}
    enroll, test = both_trial_positions(trials, _store_keys(enroll_store, cache), _store_keys(test_store, cache))
    return {"enroll": enroll, "test": test}


def _missing_names(keys: np.ndarray, codes: np.ndarray, rows: np.ndarray) -> list[str]:
    return list(dict.fromkeys(keys[rows[codes] < 0].tolist()))


def _unit_tables(sides: list[EmbeddedSide]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Float32 unit vectors of the matrix rows the sides use (sides share one matrix and
    centre), and for each side the table row of each of its ids (-1 where missing)."""
    matrix, center = sides[0].matrix, sides[0].center
    found = [np.flatnonzero(side.rows >= 0) for side in sides]
    rows = np.concatenate([side.rows[f] for side, f in zip(sides, found)])
    inv_all = np.concatenate([side.inv_norm[f] for side, f in zip(sides, found)])
    used, where = unique_positions(rows, matrix.shape[0])
    inv = np.zeros(used.shape[0], dtype=np.float64)
    inv[where] = inv_all  # a row has the same norm whichever side uses it
    table = np.empty((used.shape[0], matrix.shape[1]), dtype=np.float32)
    inv32 = inv.astype(np.float32)

    def fill(lo: int, hi: int) -> None:
        rows = matrix[used[lo:hi]]
        if center is not None:  # centre in float64: the difference can cancel most digits
            table[lo:hi] = (np.asarray(rows, dtype=np.float64) - center) * inv[lo:hi, None]
        else:
            block = table[lo:hi]
            np.copyto(block, rows, casting="same_kind")
            block *= inv32[lo:hi, None]

    for_blocks(used.shape[0], fill)
    maps = []
    offset = 0
    for side, f in zip(sides, found):
        id_to_row = np.full(side.rows.shape[0], -1, dtype=np.int64)
        id_to_row[f] = where[offset : offset + f.shape[0]]
        offset += f.shape[0]
        maps.append(id_to_row)
    return table, maps


def _is_float32(matrix: np.ndarray) -> bool:
    return matrix.dtype == np.float32


def cosine_pairs(a: EmbeddedSide, b: EmbeddedSide, a_idx: np.ndarray, b_idx: np.ndarray,
                 precision: str = "float64") -> np.ndarray:
    """Cosine of ``a[a_idx[k]]`` and ``b[b_idx[k]]`` for every k, in memory-bounded blocks."""
    out = np.empty(a_idx.shape[0], dtype=np.float64)
    if precision == "float32" and a.center is None and _is_float32(a.matrix) and _is_float32(b.matrix):
        # no centring: dot the stored float32 rows and scale by the float64 inverse norms,
        # no table of unit vectors needed
        ra, rb = a.rows[a_idx], b.rows[b_idx]
        buffers = _BlockBuffers()
        dim = a.matrix.shape[1]

        def dots(lo: int, hi: int) -> None:
            k = hi - lo
            rows_a = _take_rows(a.matrix, ra[lo:hi], buffers.get("a", k, dim, np.float32))
            rows_b = _take_rows(b.matrix, rb[lo:hi], buffers.get("b", k, dim, np.float32))
            # float32 dot products, as of freshly gathered rows, then widened
            out[lo:hi] = np.vecdot(rows_a, rows_b, out=buffers.get("dots", k, 1, np.float32)[:, 0])
            out[lo:hi] *= a.inv_norm[a_idx[lo:hi]] * b.inv_norm[b_idx[lo:hi]]

        for_blocks(a_idx.shape[0], dots)
        return out
    if precision == "float32":
        if b.matrix is a.matrix and b.center is a.center:
            table_a, (row_a, row_b) = _unit_tables([a, b])
            table_b = table_a
        else:
            table_a, (row_a,) = _unit_tables([a])
            table_b, (row_b,) = _unit_tables([b])
        ra, rb = row_a[a_idx], row_b[b_idx]

        def unit_dots(lo: int, hi: int) -> None:
            out[lo:hi] = np.vecdot(table_a[ra[lo:hi]], table_b[rb[lo:hi]])

        for_blocks(a_idx.shape[0], unit_dots)
        return out

    def exact_dots(lo: int, hi: int) -> None:
        out[lo:hi] = np.einsum("ij,ij->i", a.gather(a_idx[lo:hi]), b.gather(b_idx[lo:hi]))

    for_blocks(a_idx.shape[0], exact_dots)
    return out
