"""Repeated (enrolment, test) pairs in a trial list or a score file, found on 64-bit hashes and
confirmed on the ids (byte keys of the byte-level parser, or str arrays)."""

from __future__ import annotations

import numpy as np

from asvbench.io._bytes import ByteKeys, hash_rows


def pair_hashes(enroll, test) -> np.ndarray:
    """A 64-bit hash per (enroll, test) pair: of byte keys (:class:`ByteKeys`) or of str arrays."""
    if isinstance(enroll, ByteKeys):
        from asvbench.io._bytes import _round8

        sides = [hash_rows(k.matrix(_round8(int(k.lengths.max(initial=0))))) for k in (enroll, test)]
    else:
        import pandas as pd

        sides = [pd.util.hash_array(np.asarray(k, dtype=object), categorize=False) for k in (enroll, test)]
    with np.errstate(over="ignore"):
        return sides[0] * np.uint64(0x9E3779B97F4A7C15) ^ (sides[1] + np.uint64(0x632BE59BD9B4E019))


def repeated_keys(keys: np.ndarray) -> np.ndarray:
    """(k, 2) int64 rows (first occurrence, later row) of the entries of ``keys`` that repeat an
    earlier one, ordered by the later row.

    The common case (no repeats) costs one ``np.sort`` (radix/SIMD: about 40 ms for 580 k
    keys, several times faster than a hash table or an argsort); only when it finds a repeat
    does a stable argsort locate the rows.
    """
    keys = np.asarray(keys)
    if keys.shape[0] < 2 or not (lambda k: (k[1:] == k[:-1]).any())(np.sort(keys)):
        return np.zeros((0, 2), np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    start = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))
    group_first = order[np.flatnonzero(start)][np.cumsum(start) - 1]  # first row of each row's group
    later = ~start
    pairs = np.stack([group_first[later], order[later]], axis=1).astype(np.int64)
    return pairs[np.argsort(pairs[:, 1], kind="stable")]


def duplicate_rows(enroll, test) -> np.ndarray:
    """(k, 2) int64: rows (first, later) of pairs that repeat an earlier row, by later row.

    Pairs are hashed to 64 bits (vectorised) and repeated hashes found with a hash table;
    candidates are confirmed by comparing the ids themselves, so a hash collision never
    reports a false duplicate.
    """
    pairs = repeated_keys(pair_hashes(enroll, test))
    if not pairs.shape[0]:
        return pairs
    k = pairs.shape[0]
    rows = pairs.T.ravel()
    e, t = _ids(enroll, rows), _ids(test, rows)
    return pairs[(e[:k] == e[k:]) & (t[:k] == t[k:])]


def duplicate_code_pairs(kept: np.ndarray, enroll_codes: np.ndarray, test_codes: np.ndarray) -> np.ndarray:
    """:func:`duplicate_rows` from integer id codes of the ``kept`` trials (as scoring has them):
    exact, no hashing of ids; rows are trial rows."""
    width = np.int64(int(test_codes.max(initial=0)) + 1)
    pairs = repeated_keys(enroll_codes.astype(np.int64) * width + test_codes.astype(np.int64))
    return np.flatnonzero(kept)[pairs] if pairs.shape[0] else pairs


def _ids(keys, rows: np.ndarray) -> np.ndarray:
    if isinstance(keys, ByteKeys):
        return keys.take(rows).decode()
    return np.asarray(keys, dtype=object)[rows]


