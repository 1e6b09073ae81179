"""The numpy Kaldi reader (asvbench/io/kaldi.py) against kaldiio, the reference, on every store kind."""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io import kaldi
from asvbench.io._spans import gather_spans
from asvbench.io.embeddings import _load_kaldi_with_kaldiio, load_embeddings
from tests.io._same_store import assert_same_store


def assert_same_as_kaldiio(path: Path) -> None:
    ours = load_embeddings(path)
    ref = _load_kaldi_with_kaldiio(path)
    assert_same_store(ours, ref)


def write(tmp_path: Path, name: str, items: dict[str, np.ndarray], **kwargs) -> tuple[Path, Path]:
    ark, scp = tmp_path / f"{name}.ark", tmp_path / f"{name}.scp"
    kaldiio.save_ark(str(ark), items, scp=str(scp), **kwargs)
    return ark, scp


def test_float32_vectors_scp_and_ark(tmp_path):
    rng = np.random.default_rng(0)
    items = {f"spk{i % 3}/utt{i}.wav": rng.standard_normal(16).astype(np.float32) for i in range(40)}
    ark, scp = write(tmp_path, "v", items)
    for path in (scp, ark):
        assert_same_as_kaldiio(path)
        store = load_embeddings(path)
        np.testing.assert_array_equal(store.matrix[7], items["spk1/utt7.wav"])  # bit for bit, by key


def test_float64_vectors_and_matrices_mixed(tmp_path):
    rng = np.random.default_rng(1)
    items = {"a": rng.standard_normal(6), "b": rng.standard_normal((3, 6)).astype(np.float32),
             "c": rng.standard_normal((1, 6)), "d": rng.standard_normal(6).astype(np.float32)}
    ark, scp = write(tmp_path, "m", items)
    for path in (scp, ark):
        assert_same_as_kaldiio(path)
    store = load_embeddings(scp)
    np.testing.assert_array_equal(store.offsets, [0, 1, 4, 5, 6])  # a: 1 row, b: 3, c: 1, d: 1
    np.testing.assert_array_equal(store.rows(1), items["b"])
    np.testing.assert_array_equal(store.rows(0)[0], items["a"].astype(np.float32))


@pytest.mark.parametrize("method", [1, 2, 3])
def test_compressed_matrices_fall_back_to_kaldiio(tmp_path, method):
    rng = np.random.default_rng(2)
    items = {f"k{i}": rng.standard_normal((2, 8)).astype(np.float32) for i in range(5)}
    ark, scp = write(tmp_path, "c", items, compression_method=method)
    with pytest.raises(kaldi.Unsupported):
        kaldi.read_scp_store(scp)
    for path in (scp, ark):
        assert_same_as_kaldiio(path)


def test_text_mode_ark_falls_back(tmp_path):
    items = {"x": np.array([1.0, 2.0, 3.0], np.float32), "y": np.array([0.5, -1.0, 4.0], np.float32)}
    ark, scp = write(tmp_path, "t", items, text=True)
    assert_same_as_kaldiio(scp)
    np.testing.assert_array_equal(load_embeddings(ark).matrix, [[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])


def test_scp_over_two_arks_in_its_own_order(tmp_path):
    rng = np.random.default_rng(3)
    first = {f"a{i}": rng.standard_normal(4).astype(np.float32) for i in range(3)}
    second = {f"b{i}": rng.standard_normal(4).astype(np.float32) for i in range(3)}
    _, scp1 = write(tmp_path, "one", first)
    _, scp2 = write(tmp_path, "two", second)
    lines1, lines2 = scp1.read_text().splitlines(), scp2.read_text().splitlines()
    mixed = tmp_path / "mixed.scp"
    mixed.write_text("\n".join([lines2[1], lines1[0], lines2[0], lines1[2], lines1[1], lines2[2]]) + "\n")
    assert_same_as_kaldiio(mixed)
    assert load_embeddings(mixed).keys == ["b1", "a0", "b0", "a2", "a1", "b2"]


def test_scp_with_blank_lines_tabs_and_a_bom_uses_the_line_parse(tmp_path):
    items = {"k1": np.ones(3, np.float32), "k2": np.full(3, 2.0, np.float32)}
    _, scp = write(tmp_path, "s", items)
    lines = scp.read_text().splitlines()
    odd = tmp_path / "odd.scp"
    odd.write_bytes(b"\xef\xbb\xbf" + f"{lines[0]}\n\n{lines[1].replace(' ', chr(9))}  \n".encode())
    store = load_embeddings(odd)
    assert store.keys == ["k1", "k2"]
    np.testing.assert_array_equal(store.matrix, [[1, 1, 1], [2, 2, 2]])


def test_truncated_ark_reported_at_its_byte_offset(tmp_path):
    items = {"k1": np.arange(8, dtype=np.float32), "k2": np.arange(8, dtype=np.float32)}
    ark, scp = write(tmp_path, "t", items)
    # records: "k1 " + \0B + "FV " + \x04 + int32 = 13 bytes of header, 32 of data; k2's marker at 45 + 3 = 48
    data = ark.read_bytes()
    assert data[48:50] == b"\0B"
    ark.write_bytes(data[:-5])
    for path in (scp, ark):
        with pytest.raises(AsvbenchError) as info:
            load_embeddings(path)
        message = str(info.value)
        assert "truncated" in message and "byte 48" in message and str(ark) in message, message
    with pytest.raises(AsvbenchError, match=r"t\.scp:2"):  # the scp line of the record
        load_embeddings(scp)


def test_scp_offset_beyond_the_ark(tmp_path):
    _, scp = write(tmp_path, "b", {"k1": np.ones(4, np.float32), "k2": np.ones(4, np.float32)})
    lines = scp.read_text().splitlines()
    key, value = lines[1].split()
    scp.write_text(f"{lines[0]}\n{key} {value.rsplit(':', 1)[0]}:99999\n")
    with pytest.raises(AsvbenchError) as info:
        load_embeddings(scp)
    message = str(info.value)
    assert f"{scp}:2" in message and "offset 99999 is beyond the end" in message and "hint:" in message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text("abcxyz/._-0123456789", min_size=1, max_size=12),
                          st.sampled_from([np.float32, np.float64]),
                          st.integers(0, 3)),  # 0: a vector, else a matrix of that many rows
                min_size=1, max_size=12, unique_by=lambda t: t[0]),
       st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_agrees_with_kaldiio_on_random_stores(tmp_path, spec, dim, seed):
    rng = np.random.default_rng(seed)
    items = {key: (rng.standard_normal(dim) if rows == 0 else rng.standard_normal((rows, dim))).astype(dtype)
             for key, dtype, rows in spec}
    ark, scp = write(tmp_path, f"h{seed}", items)
    for path in (scp, ark):
        assert_same_as_kaldiio(path)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=200), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_gather_spans_matches_slicing(gaps, width, seed):
    """Constant-stride runs (views) and varying strides (the loop) copy the same bytes as slicing does."""
    length = 4 * width
    starts = np.cumsum([length + g for g in gaps]) - length
    rng = np.random.default_rng(seed)
    buf = rng.integers(0, 256, int(starts[-1]) + length, dtype=np.uint8)
    got = gather_spans(buf, starts.astype(np.int64), length, np.dtype("<f4"), width)
    expected = np.stack([buf[s : s + length] for s in starts.tolist()]).view("<f4")
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_gather_spans_constant_stride_runs():
    # 40 spans of 8 bytes at stride 10, then 30 at stride 12: two runs of views
    starts = np.concatenate([np.arange(40) * 10, 400 + np.arange(30) * 12]).astype(np.int64)
    buf = np.arange(800, dtype=np.int64).astype(np.uint8)
    got = gather_spans(buf, starts, 8, np.dtype(np.uint8), 8)
    np.testing.assert_array_equal(got, np.stack([buf[s : s + 8] for s in starts.tolist()]))
