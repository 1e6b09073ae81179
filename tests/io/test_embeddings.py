"""Embedding stores: native (memory-mapped, multi-row), Kaldi ark/scp, .npz, pickles; damaged stores."""

from __future__ import annotations

import json
import pickle

import kaldiio
import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import (
    STORE_FORMAT,
    l2_normalise_rows,
    load_embeddings,
    read_manifest,
    stack_rows,
    write_native_store,
)
from asvbench.testing import write_store

KEYS = ["spk1/u1.wav", "spk1/u2.wav", "spk2/u3.wav"]
MATRIX = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.25], [1e-3, 7.0, -2.0]], dtype=np.float32)


def test_native_round_trip_memory_mapped(tmp_path):
    path = write_native_store(tmp_path / "store", KEYS, MATRIX, manifest={"model": "campplus", "note": "x"})
    store = load_embeddings(path)
    assert store.keys == KEYS
    assert isinstance(store.matrix, np.memmap) and store.matrix.dtype == np.float32
    np.testing.assert_array_equal(store.matrix, MATRIX)
    assert store.offsets is None and not store.multi_row
    assert (store.dim, len(store)) == (3, 3)
    m = store.manifest
    assert (m["format"], m["version"], m["dim"], m["n_keys"], m["n_rows"], m["model"]) == (STORE_FORMAT, 1, 3, 3, 3,
                                                                                          "campplus")
    assert read_manifest(path) == m
    assert not (path / "offsets.npy").exists()
    assert not isinstance(load_embeddings(path, mmap=False).matrix, np.memmap)
    assert store.index == {k: i for i, k in enumerate(KEYS)}
    np.testing.assert_array_equal(store.pooled(np.array([2, 0])), MATRIX[[2, 0]].astype(np.float64))


def test_native_multi_row(tmp_path):
    # key a: rows (3,0) and (0,1); key b: one row (0,2); key c: three rows
    per_key = {"a": [[3.0, 0.0], [0.0, 1.0]], "b": [[0.0, 2.0]], "c": [[1.0, 1.0], [2.0, 2.0], [-3.0, 0.0]]}
    path = write_store(tmp_path / "store", per_key)
    store = load_embeddings(path)
    assert store.multi_row and store.manifest["multi_row"] is True
    np.testing.assert_array_equal(store.offsets, [0, 2, 3, 6])
    np.testing.assert_array_equal(store.rows(0), per_key["a"])
    np.testing.assert_array_equal(store.rows(2), per_key["c"])
    # none: raw means a -> (1.5, 0.5), b -> (0, 2), c -> (0, 1)
    np.testing.assert_allclose(store.pooled(pool_norm="none"), [[1.5, 0.5], [0.0, 2.0], [0.0, 1.0]])
    # l2: each row unit-norm first: a -> ((1,0) + (0,1))/2 = (0.5, 0.5); b -> (0, 1);
    #     c -> ((1,1)/sqrt2 + (1,1)/sqrt2 + (-1,0))/3 = (sqrt2 - 1, sqrt2)/3
    r2 = np.sqrt(2)
    np.testing.assert_allclose(store.pooled(pool_norm="l2"), [[0.5, 0.5], [0.0, 1.0], [(r2 - 1) / 3, r2 / 3]])
    # the mean of all rows: ((3+0+0+1+2-3)/6, (0+1+2+1+2+0)/6) = (0.5, 1)
    np.testing.assert_allclose(store.mean_vector(), [0.5, 1.0])


def test_write_replaces_existing_store(tmp_path):
    path = write_native_store(tmp_path / "s", KEYS, MATRIX)
    write_native_store(path, ["x"], np.ones((1, 3)))
    assert load_embeddings(path).keys == ["x"]
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no temporary directories left behind


def test_write_rejects_bad_keys_and_offsets(tmp_path):
    with pytest.raises(AsvbenchError, match="empty or contains whitespace"):
        write_native_store(tmp_path / "s", ["a b"], np.ones((1, 2)))
    with pytest.raises(ValueError):
        write_native_store(tmp_path / "s", ["a", "b"], np.ones((3, 2)), offsets=[0, 1, 2])
    with pytest.raises(ValueError):
        write_native_store(tmp_path / "s", ["a", "b"], np.ones((3, 2)))
    assert not (tmp_path / "s").exists()


def test_kaldi_ark_and_scp(tmp_path):
    ark, scp = tmp_path / "e.ark", tmp_path / "e.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as writer:
        writer["u1"] = np.array([1.0, 2.0], dtype=np.float32)
        writer["u2"] = np.array([3.0, -4.0], dtype=np.float32)
    for path in (ark, scp):
        store = load_embeddings(path)
        assert store.keys == ["u1", "u2"] and not store.multi_row
        np.testing.assert_array_equal(store.matrix, [[1, 2], [3, -4]])


def test_kaldi_matrices_are_multi_row(tmp_path):
    ark, scp = tmp_path / "m.ark", tmp_path / "m.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as writer:
        writer["u1"] = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
        writer["u2"] = np.array([2.0, 2.0], dtype=np.float32)
    store = load_embeddings(scp)
    np.testing.assert_array_equal(store.offsets, [0, 2, 3])
    np.testing.assert_allclose(store.pooled(pool_norm="none"), [[0.5, 0.5], [2.0, 2.0]])


def test_kaldi_duplicate_keys(tmp_path):
    ark, scp = tmp_path / "d.ark", tmp_path / "d.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as writer:
        writer["u1"] = np.array([1.0, 0.0], dtype=np.float32)
        writer["u1"] = np.array([0.0, 1.0], dtype=np.float32)
    for path in (ark, scp):
        with pytest.raises(AsvbenchError, match=r"1 duplicate keys in the embedding store, e\.g\. \['u1'\]"):
            load_embeddings(path)


def test_kaldi_damaged(tmp_path):
    bad = tmp_path / "bad.ark"
    bad.write_bytes(b"u1 \x00Bgarbage")
    with pytest.raises(AsvbenchError, match="cannot read Kaldi .ark file"):
        load_embeddings(bad)


def test_npz(tmp_path):
    path = tmp_path / "e.npz"
    np.savez(path, u1=np.array([1.0, 2.0]), u2=np.array([[1.0, 1.0], [3.0, 3.0]]))
    store = load_embeddings(path)
    assert store.keys == ["u1", "u2"] and store.multi_row
    np.testing.assert_allclose(store.pooled(pool_norm="none"), [[1, 2], [2, 2]])
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    with pytest.raises(AsvbenchError, match="embedding store is empty"):
        load_embeddings(empty)
    mixed = tmp_path / "mixed.npz"
    np.savez(mixed, a=np.ones(3), b=np.ones(4))
    with pytest.raises(AsvbenchError, match=r"different dimensions in one store: \[3, 4\]"):
        load_embeddings(mixed)


def test_pickle_needs_trust(tmp_path):
    path = tmp_path / "emb.pk"
    with open(path, "wb") as handle:
        pickle.dump({"LA_0001": np.array([1.0, 0.0]), "LA_0002": [0.0, 2.0]}, handle)
    with pytest.raises(AsvbenchError, match="refusing to unpickle") as info:
        load_embeddings(path)
    assert "--trust-pickle" in str(info.value)
    store = load_embeddings(path, trust_pickle=True)
    assert store.keys == ["LA_0001", "LA_0002"]
    np.testing.assert_array_equal(store.matrix, [[1, 0], [0, 2]])
    with open(path, "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    with pytest.raises(AsvbenchError, match="pickle holds a list"):
        load_embeddings(path, trust_pickle=True)


def test_native_duplicate_keys_are_an_error_on_lookup(tmp_path):
    path = write_native_store(tmp_path / "s", ["a", "b", "a"], np.eye(3))
    store = load_embeddings(path)
    with pytest.raises(AsvbenchError, match=r"1 duplicate keys in the embedding store, e\.g\. \['a'\]"):
        store.index


def _store(tmp_path):
    return write_native_store(tmp_path / "s", KEYS, MATRIX)


@pytest.mark.parametrize("damage,message", [
    (lambda p: (p / "manifest.json").unlink(), "not an asvbench embedding store"),
    (lambda p: (p / "manifest.json").write_text("{not json"), "corrupt manifest"),
    (lambda p: (p / "manifest.json").write_text(json.dumps({"format": "other"})), "manifest format is 'other'"),
    (lambda p: (p / "keys.txt").unlink(), "cannot read embedding store"),
    (lambda p: (p / "embeddings.npy").unlink(), "cannot read embedding store"),
    (lambda p: (p / "embeddings.npy").write_bytes((p / "embeddings.npy").read_bytes()[:100]),
     "cannot read embedding store"),
    (lambda p: (p / "keys.txt").write_text("a\nb\nc\nd\n"), "store has 4 keys but 3 rows"),
    (lambda p: np.save(p / "embeddings.npy", np.ones((3, 3, 1), np.float32)), "must be 2-D"),
])
def test_damaged_native_store(tmp_path, damage, message):
    path = _store(tmp_path)
    damage(path)
    with pytest.raises(AsvbenchError, match=message) as info:
        load_embeddings(path)
    assert str(path) in str(info.value)


def test_offsets_with_empty_key(tmp_path):
    path = write_native_store(tmp_path / "s", ["a", "b"], np.ones((2, 2)), offsets=[0, 2, 2])
    with pytest.raises(AsvbenchError, match="offsets.npy is not increasing: entry 2 is 2 after 2"):
        load_embeddings(path)


def test_missing_and_unknown(tmp_path):
    with pytest.raises(AsvbenchError, match="embedding store not found"):
        load_embeddings(tmp_path / "nope")
    other = tmp_path / "e.h5"
    other.write_bytes(b"x")
    with pytest.raises(AsvbenchError, match="unknown embedding store type .h5"):
        load_embeddings(other)


def test_zero_norm():
    with pytest.raises(AsvbenchError, match=r"1 embeddings have zero norm \(first: 'b'\)"):
        l2_normalise_rows(np.array([[1.0, 0.0], [0.0, 0.0]]), keys=["a", "b"])
    matrix, offsets = stack_rows([np.array([1.0, 1.0]), np.array([[0.0, 0.0], [1.0, 0.0]])])
    np.testing.assert_array_equal(offsets, [0, 1, 3])
    from asvbench.io.embeddings import pool_rows

    with pytest.raises(AsvbenchError, match="zero norm"):
        pool_rows(matrix, offsets, np.array([0, 1]), "l2")
    # without row normalisation the zero row is simply averaged: ((0,0) + (1,0))/2
    np.testing.assert_allclose(pool_rows(matrix, offsets, np.array([1]), "none"), [[0.5, 0.0]])
