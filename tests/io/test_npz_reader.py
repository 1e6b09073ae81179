"""The bulk .npz reader (asvbench/io/npz.py) against numpy.load, the reference."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import _from_mapping, load_embeddings
from tests.io._same_store import assert_same_store


def assert_same_as_numpy(path) -> None:
    with np.load(path, allow_pickle=False) as data:
        ref = _from_mapping({k: data[k] for k in data.files}, str(path))
    ours = load_embeddings(path)
    assert_same_store(ours, ref)


def test_uniform_float32_vectors(tmp_path):
    rng = np.random.default_rng(0)
    items = {f"id{i:05d}/u{i}.wav": rng.standard_normal(32).astype(np.float32) for i in range(50)}
    np.savez(tmp_path / "s.npz", **items)
    assert_same_as_numpy(tmp_path / "s.npz")
    store = load_embeddings(tmp_path / "s.npz")
    np.testing.assert_array_equal(store.matrix[13], items["id00013/u13.wav"])


def test_mixed_dtypes_shapes_and_fortran_order(tmp_path):
    rng = np.random.default_rng(1)
    items = {"a": rng.standard_normal(5), "b": rng.standard_normal((3, 5)).astype(np.float32),
             "c": np.asfortranarray(rng.standard_normal((2, 5))), "d": np.arange(5, dtype=np.int16),
             "e": rng.standard_normal(5).astype(np.float32)}
    np.savez(tmp_path / "m.npz", **items)
    assert_same_as_numpy(tmp_path / "m.npz")
    np.testing.assert_array_equal(load_embeddings(tmp_path / "m.npz").offsets, [0, 1, 4, 6, 7, 8])


def test_compressed_members(tmp_path):
    rng = np.random.default_rng(2)
    np.savez_compressed(tmp_path / "c.npz", **{f"k{i}": rng.standard_normal(8).astype(np.float32) for i in range(20)})
    assert_same_as_numpy(tmp_path / "c.npz")


def test_stored_and_compressed_members_in_one_archive(tmp_path):
    rng = np.random.default_rng(3)
    values = {f"k{i}": rng.standard_normal(4).astype(np.float32) for i in range(6)}
    path = tmp_path / "both.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, vec in values.items():
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, vec)
            info = archive.getinfo(f"{key}.npy")
            assert info.compress_type == zipfile.ZIP_STORED
        archive.writestr(zipfile.ZipInfo("z.npy"), _npy_bytes(np.ones(4, np.float32)),
                         compress_type=zipfile.ZIP_DEFLATED)
    assert_same_as_numpy(path)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text("abkz019/._-", min_size=1, max_size=10), st.sampled_from(["<f4", "<f8", ">f4"]),
                          st.integers(0, 3)), min_size=1, max_size=10, unique_by=lambda t: t[0]),
       st.integers(1, 7), st.booleans(), st.integers(0, 2**31 - 1))
def test_agrees_with_numpy_on_random_stores(tmp_path, spec, dim, compressed, seed):
    rng = np.random.default_rng(seed)
    items = {key: (rng.standard_normal(dim) if rows == 0 else rng.standard_normal((rows, dim))).astype(dtype)
             for key, dtype, rows in spec}
    path = tmp_path / f"h{seed}.npz"
    (np.savez_compressed if compressed else np.savez)(path, **items)
    assert_same_as_numpy(path)


@pytest.mark.slow
def test_more_than_65535_members_zip64_directory(tmp_path):
    # np.savez writes a zip64 end record when the member count passes 0xFFFF
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((70_000, 2)).astype(np.float32)
    path = tmp_path / "big.npz"
    header = _npy_bytes(matrix[0])[: -matrix[0].nbytes]  # one header serves all members: same dtype and shape
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # what np.savez writes, without its per-call cost
        for i in range(matrix.shape[0]):
            archive.writestr(f"u{i}.npy", header + matrix[i].tobytes())
    with np.load(path) as data:
        assert data["u123"].tolist() == matrix[123].tolist()
    store = load_embeddings(path)
    np.testing.assert_array_equal(store.matrix, matrix)
    assert store.keys[69_999] == "u69999"


def test_object_array_refused_without_unpickling(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, a=np.ones(3, np.float32), b=np.array([{"x": 1}], dtype=object))
    with pytest.raises(AsvbenchError) as info:
        load_embeddings(path)
    message = str(info.value)
    assert str(path) in message and "'b'" in message and "Python objects" in message
    assert "allow_pickle" not in message
