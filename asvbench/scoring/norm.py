"""Cohort score normalisation for cosine scoring: Z-norm, T-norm, S-norm and adaptive S-norm.

Definitions followed
--------------------
Every trial score ``s(e, t)`` (cosine of enrolment ``e`` and test ``t``) is normalised with
statistics of cohort scores: ``mu_e``, ``sigma_e`` of the cosines of ``e`` against the cohort
(or against its ``top_k`` closest members), and ``mu_t``, ``sigma_t`` likewise for ``t``.

* ``znorm``:  ``(s - mu_e) / sigma_e``  (Auckenthaler et al., DSP 10, 2000: Z-norm, model side);
* ``tnorm``:  ``(s - mu_t) / sigma_t``  (same paper: T-norm, test side);
* ``snorm``:  ``((s - mu_e) / sigma_e + (s - mu_t) / sigma_t) / 2``, whole cohort (symmetric
  normalisation, Kenny 2010; WeSpeaker ``score_norm.py`` ``snorm``);
* ``asnorm``: the same with ``mu``/``sigma`` over the ``top_k`` cohort scores of each side
  (adaptive S-norm, Cumani et al. 2011; Matejka et al., Interspeech 2017; WeSpeaker
  ``asnorm``, ``top_n`` 300 in its VoxCeleb/CN-Celeb recipes).

``sigma`` is the **population** standard deviation (divide by the number of cohort scores,
``numpy.std(ddof=0)``), as WeSpeaker; SpeechBrain's recipe uses the unbiased one. With
``top_k=None`` Z/T-norm use the whole cohort; a ``top_k`` makes them adaptive too.

Cohort scores are cosines: embeddings and cohort are L2-normalised here, so pass them
*after* the same centring (mean subtraction) as the trial embeddings (see
:func:`build_cohort`). Statistics are computed once per row of ``enroll_emb`` /
``test_emb`` (one row per unique key), in float32 blocks of ``block_rows`` rows; top-k
values come from an in-place :meth:`numpy.ndarray.partition` of each block's rows
(introselect, linear time, no sort), and their mean and standard deviation are accumulated
in float64; the selection runs on row chunks in a small thread pool (NumPy releases the GIL
there). Whole-cohort
statistics need no cohort matrix at all: ``mu = e . m`` and ``sigma^2 = e^T S e`` with
``m`` and ``S`` the (population) mean and covariance of the unit-norm cohort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from asvbench._choices import check_choice
from asvbench._cpus import usable_cpus
from asvbench.errors import AsvbenchError
from asvbench.scoring._rows import used_positions
from asvbench.scoring.options import NORM_METHODS

NormMethod = Literal["none", "znorm", "tnorm", "snorm", "asnorm"]
#: Rows of the (rows x cohort) float32 score block: 4096 x 5,994 x 4 B = 98 MB.
DEFAULT_BLOCK_ROWS = 4096


@dataclass(frozen=True)
class CohortStats:
    """Per-row cohort statistics: mean and population std of the (top-k) cohort cosines."""

    mean: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class NormResult:
    """Normalised trial scores and the statistics that produced them.

    ``enroll``/``test`` hold one entry per row of ``enroll_emb``/``test_emb`` (``None`` when
    the method does not use that side); index them with the trial's ``enroll_idx``/``test_idx``.
    """

    scores: np.ndarray
    method: str
    top_k: int | None
    cohort_size: int
    enroll: CohortStats | None
    test: CohortStats | None


@dataclass(frozen=True)
class Cohort:
    """Cohort embeddings: one row per name (an utterance, or a speaker when averaged)."""

    names: list[str]
    matrix: np.ndarray
    per_speaker: bool


# ----------------------------------------------------------------------------- cohort


def build_cohort(keys: Sequence[str], embeddings: np.ndarray, utt2spk: Mapping[str, str] | None = None, *,
                 center: np.ndarray | None = None, source: str = "cohort") -> Cohort:
    """Cohort matrix from an embedding store's keys and (pooled) vectors.

    Parameters
    ----------
    keys : sequence of str, (n,)
        Utterance keys of ``embeddings``' rows.
    embeddings : (n, dim) array
        One vector per utterance (any float dtype, e.g. a store's float32 matrix: rows are
        cast to float64 a block at a time, not all at once).
    utt2spk : mapping utterance -> speaker, optional
        When given, utterances are averaged per speaker (WeSpeaker ``tools/vector_mean.py``
        speaker means), in one pass over the rows; every key must have a speaker (nothing is
        dropped silently). Speakers come out in sorted order.
    center : (dim,) array, optional
        Vector subtracted from every row: pass the same centring vector as the trials.
        Averaging and centring commute, so it is subtracted from the means.
    """
    emb = np.asarray(embeddings)
    if not np.issubdtype(emb.dtype, np.floating):
        emb = emb.astype(np.float64)
    if emb.ndim != 2 or emb.shape[0] != len(keys):
        raise AsvbenchError(f"cohort has {len(keys)} keys but an embedding matrix of shape {emb.shape}",
                            where=source)
    if emb.shape[0] == 0:
        raise AsvbenchError("the cohort is empty", where=source, hint="give a store with cohort embeddings")
    c = None
    if center is not None:
        c = np.asarray(center, dtype=np.float64)
        if c.shape != (emb.shape[1],):
            raise AsvbenchError(f"centring vector has shape {c.shape}, cohort dimension is {emb.shape[1]}",
                                where=source)
    if utt2spk is None:
        matrix = emb.astype(np.float64)
        if c is not None:
            matrix -= c
        return Cohort(list(keys), matrix, per_speaker=False)
    missing = [k for k in keys if k not in utt2spk]
    if missing:
        raise AsvbenchError(
            f"{len(missing)} of {len(keys)} cohort utterances have no speaker in the utt2spk map "
            f"(first: {missing[0]!r})", where=source,
            hint="add them to the map, or build the cohort store from the mapped utterances only",
        )
    speakers = [utt2spk[k] for k in keys]
    names = sorted(set(speakers))
    code_of = {name: i for i, name in enumerate(names)}
    codes = np.fromiter((code_of[s] for s in speakers), dtype=np.int64, count=len(speakers))
    means = _group_means(emb, codes, len(names))
    if c is not None:
        means -= c
    return Cohort([str(n) for n in names], means, per_speaker=True)


_GROUP_BLOCK_ROWS = 8192


def _group_means(rows: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Float64 mean of the rows of each group code.

    Groups of one size are summed together: their rows are gathered as a (groups, size, dim)
    block and summed along the middle axis, so there are as many passes as distinct group
    sizes (one for a cohort with the same number of utterances per speaker), with no
    per-group Python work and no ``np.add.reduceat`` (several times slower on rows).
    """
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    means = np.empty((n_groups, rows.shape[1]), dtype=np.float64)
    for size in np.unique(counts):
        groups = np.flatnonzero(counts == size)
        step = max(1, _GROUP_BLOCK_ROWS // int(size))  # blocks of about 8 k rows: 16 MB in float64
        for lo in range(0, groups.shape[0], step):
            part = groups[lo : lo + step]
            members = order[starts[part][:, None] + np.arange(size)]
            block = rows[members.ravel()].astype(np.float64).reshape(part.shape[0], int(size), rows.shape[1])
            means[part] = block.sum(axis=1) / size
    return means


# ----------------------------------------------------------------------------- statistics


def _unit_rows(x: np.ndarray, what: str, dtype=np.float64) -> np.ndarray:
    """Rows scaled to unit L2 norm, as ``dtype`` (norms are computed in float64)."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise AsvbenchError(f"{what} embeddings must be a 2-D matrix, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", arr, arr, dtype=np.float64))
    if not np.isfinite(norms).all():
        raise AsvbenchError(f"{what} embeddings contain NaN or infinite values")
    zero = norms == 0
    if zero.any():
        raise AsvbenchError(f"{int(zero.sum())} {what} embeddings have zero norm (first at row "
                            f"{int(np.flatnonzero(zero)[0])}); cosine is undefined for them",
                            hint="check the extraction, or the centring vector")
    out = arr.astype(dtype, copy=True)
    out *= (1.0 / norms).astype(dtype)[:, None]
    return out


def check_top_k(top_k: int | None, cohort_size: int) -> None:
    """``top_k`` must be at least 2 (a std of one score is 0) and at most the cohort size."""
    if top_k is None:
        if cohort_size < 2:
            raise AsvbenchError(f"the cohort has {cohort_size} entry; score normalisation needs at least 2")
        return
    if top_k < 2:
        raise AsvbenchError(f"top-k must be at least 2 (a standard deviation of one score is 0), got {top_k}")
    if top_k > cohort_size:
        raise AsvbenchError(
            f"the cohort has {cohort_size} entries, fewer than top-k = {top_k}",
            hint=f"use --top-k {cohort_size} or less, or a larger cohort",
        )


def _whole_cohort_stats(emb_unit: np.ndarray, cohort_unit: np.ndarray) -> CohortStats:
    """Exact mean/population std of the cosines against every cohort row, without the matrix."""
    m = cohort_unit.mean(axis=0)
    centred = cohort_unit - m
    cov = centred.T @ centred / cohort_unit.shape[0]
    mean = emb_unit @ m
    var = np.einsum("ij,ij->i", emb_unit @ cov, emb_unit)
    return CohortStats(mean, np.sqrt(np.maximum(var, 0.0)))


def _topk_rows(out: np.ndarray, top_k: int) -> np.ndarray:
    """The ``top_k`` largest values of each row of ``out`` (unordered, a view); ``out`` is clobbered.

    One in-place :meth:`numpy.ndarray.partition` of the whole rows (NumPy 2 dispatches it
    to a SIMD introselect at ~2 ns per value): 3x faster on (1024 x 5,994) blocks than
    the former sampled prefilter, whose boolean compaction ``out[mask]`` cost more than the
    selection it saved.
    """
    kth = out.shape[1] - top_k
    out.partition(kth, axis=1)
    return out[:, kth:]


def _chunk_stats(out: np.ndarray, top_k: int, mean: np.ndarray, std: np.ndarray) -> None:
    top = _topk_rows(out, top_k).astype(np.float64)
    mu = top.mean(axis=1)
    mean[:] = mu
    top -= mu[:, None]  # in place: the same values as ``(top - mu) ** 2``, without two temporaries
    np.square(top, out=top)
    std[:] = np.sqrt(top.mean(axis=1))


def _topk_stats_numpy(emb_unit: np.ndarray, cohort_unit: np.ndarray, top_k: int, block_rows: int,
                      threads: int | None = None) -> CohortStats:
    """Blocked float32 matmul (BLAS threads) of one block while a thread pool selects the top-k
    of the previous one (NumPy's partition and copies release the GIL).

    Two block buffers alternate, so the product never waits for the selection and OpenBLAS's
    threads have work instead of spinning between calls. The products are the same calls, on
    the same blocks, as a serial loop: the statistics are bit-identical to it (tested).
    """
    from concurrent.futures import ThreadPoolExecutor

    n, n_c = emb_unit.shape[0], cohort_unit.shape[0]
    e32 = np.ascontiguousarray(emb_unit, dtype=np.float32)  # no copy when already float32
    # the cohort's columns in the order the sampled prefilter of earlier versions used: BLAS
    # rounds a cosine differently in the edge tiles of the product, so another column order
    # moves float32 cosines by an ulp (normalised scores by up to 1.5e-5 at Vox1-E scale)
    perm = np.random.default_rng(0).permutation(n_c)
    c32t = np.ascontiguousarray(cohort_unit[perm].T, dtype=np.float32)
    mean = np.empty(n, dtype=np.float64)
    std = np.empty(n, dtype=np.float64)
    rows = min(block_rows, n)
    buffers = [np.empty((rows, n_c), dtype=np.float32) for _ in range(2 if n > rows else 1)]
    workers = threads or min(4, usable_cpus())
    chunk = max(1, min(1024, -(-rows // workers)))
    pending: list = []
    with ThreadPoolExecutor(workers) as pool:
        for i, lo in enumerate(range(0, n, block_rows)):
            hi = min(lo + block_rows, n)
            out = buffers[i % len(buffers)][: hi - lo]
            np.matmul(e32[lo:hi], c32t, out=out)  # the previous block's selection runs meanwhile
            _wait(pending)  # before the next product overwrites the buffer it reads
            pending = [pool.submit(_chunk_stats, out[a:b], top_k, mean[lo + a : lo + b], std[lo + a : lo + b])
                       for a, b in _spans(hi - lo, chunk)]
        _wait(pending)
    return CohortStats(mean, std)


def _spans(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def _wait(jobs: list) -> None:
    for job in jobs:
        job.result()


def _topk_stats_torch(emb_unit: np.ndarray, cohort_unit: np.ndarray, top_k: int, block_rows: int,
                      device: str) -> CohortStats:
    import torch  # lazily: only when a GPU path is asked for

    dev = torch.device(device)
    c = torch.as_tensor(np.ascontiguousarray(cohort_unit, dtype=np.float32), device=dev)
    e = torch.as_tensor(np.ascontiguousarray(emb_unit, dtype=np.float32), device=dev)
    means, stds = [], []
    step = max(block_rows, 16384)
    for lo in range(0, e.shape[0], step):
        top = torch.topk(e[lo : lo + step] @ c.T, top_k, dim=1, sorted=False).values.double()
        means.append(top.mean(dim=1))
        stds.append(top.std(dim=1, correction=0))
    return CohortStats(torch.cat(means).cpu().numpy(), torch.cat(stds).cpu().numpy())


def cohort_stats(embeddings: np.ndarray, cohort: np.ndarray, top_k: int | None = None, *,
                 block_rows: int = DEFAULT_BLOCK_ROWS, device: str = "cpu") -> CohortStats:
    """Mean and population std of each row's cosines against the cohort (its ``top_k`` largest).

    Parameters
    ----------
    embeddings : (n, dim) array
        One row per unique enrolment or test key (already centred).
    cohort : (n_cohort, dim) array
        Cohort embeddings (already centred the same way).
    top_k : int, optional
        Keep the ``top_k`` largest cosines per row (adaptive); ``None`` = the whole cohort.
    block_rows : int
        Rows per float32 block of the (rows x n_cohort) score matrix; peak extra memory is
        about ``block_rows * n_cohort * 4`` bytes.
    device : {"cpu", "cuda", ...}
        ``cpu`` uses NumPy; anything else runs the top-k path in torch on that device.
    """
    exact = top_k is None or top_k == np.shape(cohort)[0]
    dtype = np.float64 if exact or device != "cpu" else np.float32
    c_unit = _unit_rows(cohort, "cohort", dtype)
    e_unit = _unit_rows(embeddings, "trial", dtype)
    if e_unit.shape[1] != c_unit.shape[1]:
        raise AsvbenchError(f"embedding dimension {e_unit.shape[1]} differs from the cohort's {c_unit.shape[1]}")
    check_top_k(top_k, c_unit.shape[0])
    if block_rows < 1:
        raise AsvbenchError(f"block_rows must be positive, got {block_rows}")
    if e_unit.shape[0] == 0:
        return CohortStats(np.zeros(0), np.zeros(0))
    if exact:
        return _whole_cohort_stats(e_unit, c_unit)
    if device != "cpu":
        return _topk_stats_torch(e_unit, c_unit, top_k, block_rows, device)
    return _topk_stats_numpy(e_unit, c_unit, top_k, block_rows)


# ----------------------------------------------------------------------------- normalisation


def _check_index(idx, n_rows: int, what: str, n_trials: int) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.shape != (n_trials,):
        raise AsvbenchError(f"{what}_idx has shape {arr.shape}, expected ({n_trials},) (one per trial)")
    if n_trials and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= n_rows):
        raise AsvbenchError(f"{what}_idx must hold integer rows in [0, {n_rows}) of the {what} embeddings")
    return arr.astype(np.int64, copy=False)


def _z(scores: np.ndarray, stats: CohortStats, idx: np.ndarray, side: str) -> np.ndarray:
    std = stats.std[idx]
    flat = std <= 0
    if flat.any():
        raise AsvbenchError(
            f"{int(np.unique(idx[flat]).size)} {side} keys have a zero standard deviation of cohort scores",
            hint="the cohort is degenerate for them (duplicate cohort vectors?); use a larger --top-k or cohort",
        )
    return (scores - stats.mean[idx]) / std


def normalise(scores, enroll_idx, test_idx, enroll_emb, test_emb, cohort_emb, method: str = "asnorm",
              top_k: int | None = 300, *, block_rows: int = DEFAULT_BLOCK_ROWS, device: str = "cpu") -> NormResult:
    """Normalise trial scores with cohort statistics (see the module docstring for formulas).

    Parameters
    ----------
    scores : (n_trials,) array
        Raw cosine scores of the trials.
    enroll_idx, test_idx : (n_trials,) int arrays
        Row of ``enroll_emb`` / ``test_emb`` for each trial. Statistics are computed once per
        row, so pass one row per unique key.
    enroll_emb, test_emb : (n_enroll, dim), (n_test, dim) arrays
        Trial-side embeddings after centring (the vectors the cosines were computed from).
        Pass the same array object for both when enrolment and test keys index one table
        (VoxCeleb lists): each key's statistics are then computed once.
    cohort_emb : (n_cohort, dim) array
        Cohort embeddings after the same centring (:func:`build_cohort`).
    method : {"none", "znorm", "tnorm", "snorm", "asnorm"}
    top_k : int or None
        Cohort size used per side: required for ``asnorm``; ignored by ``snorm`` (whole
        cohort); for ``znorm``/``tnorm`` ``None`` means the whole cohort.
    block_rows, device
        See :func:`cohort_stats`.

    Returns
    -------
    NormResult
        Float64 normalised scores, plus per-key statistics for inspection or calibration.
    """
    check_choice(method, NORM_METHODS, "score normalisation")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise AsvbenchError(f"scores must be a 1-D array, got shape {s.shape}")
    n_cohort = 0 if cohort_emb is None else int(np.shape(cohort_emb)[0])
    if method == "none":
        return NormResult(s.copy(), method, None, n_cohort, None, None)
    if cohort_emb is None:
        raise AsvbenchError(f"{method} needs a cohort", hint="give --cohort STORE")
    if method == "asnorm" and top_k is None:
        raise AsvbenchError("asnorm needs a top-k", hint="give --top-k, e.g. 300")
    k = None if method == "snorm" else top_k
    check_top_k(k, n_cohort)
    e_idx = _check_index(enroll_idx, int(np.shape(enroll_emb)[0]), "enroll", s.shape[0])
    t_idx = _check_index(test_idx, int(np.shape(test_emb)[0]), "test", s.shape[0])
    # statistics only for the keys the trials use
    use_e = method in ("znorm", "snorm", "asnorm")
    use_t = method in ("tnorm", "snorm", "asnorm")
    if use_e and use_t and test_emb is enroll_emb:
        # one key table for both sides (e.g. VoxCeleb): each key's statistics once
        e_stats = t_stats = _used_stats(enroll_emb, np.concatenate([e_idx, t_idx]), cohort_emb, k, block_rows,
                                        device)
    else:
        e_stats = _used_stats(enroll_emb, e_idx, cohort_emb, k, block_rows, device) if use_e else None
        t_stats = _used_stats(test_emb, t_idx, cohort_emb, k, block_rows, device) if use_t else None
    if method == "znorm":
        out = _z(s, e_stats, e_idx, "enrolment")
    elif method == "tnorm":
        out = _z(s, t_stats, t_idx, "test")
    else:
        out = 0.5 * (_z(s, e_stats, e_idx, "enrolment") + _z(s, t_stats, t_idx, "test"))
    return NormResult(out, method, k, n_cohort, e_stats, t_stats)


def _used_stats(emb, idx: np.ndarray, cohort, top_k, block_rows: int, device: str) -> CohortStats:
    """Statistics for the rows of ``emb`` that ``idx`` references (others are NaN)."""
    emb = np.asarray(emb)
    used = used_positions(emb.shape[0], idx)
    if used.shape[0] == emb.shape[0]:
        return cohort_stats(emb, cohort, top_k, block_rows=block_rows, device=device)
    part = cohort_stats(emb[used], cohort, top_k, block_rows=block_rows, device=device)
    mean = np.full(emb.shape[0], np.nan)
    std = np.full(emb.shape[0], np.nan)
    mean[used] = part.mean
    std[used] = part.std
    return CohortStats(mean, std)

