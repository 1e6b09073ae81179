"""The byte-level label reader gives the codes of the plain rule (ASCII lower case, then the format's
spellings), whether every token is one byte (the table path) or not (the general path)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.io._bytes import ByteKeys
from asvbench.labels import FORMAT_LABELS
from asvbench.trials.read import _ascii_labels, _one_byte_codes


def _plain(tokens: list[bytes], spellings: dict[str, int]) -> list[int] | None:
    codes = [spellings.get(t.lower().decode("latin-1")) for t in tokens]  # bytes.lower: ASCII letters only
    return None if any(c is None for c in codes) else codes


def _keys(tokens: list[bytes], gap: bytes) -> ByteKeys:
    raw = gap.join(tokens) + gap
    starts, at = [], 0
    for t in tokens:
        starts.append(at)
        at += len(t) + len(gap)
    return ByteKeys(np.frombuffer(raw, np.uint8), np.array(starts, np.int64), np.array([len(t) for t in tokens], np.int64))


_ONE_BYTE = st.binary(min_size=1, max_size=1)
_WORDS = st.sampled_from([b"0", b"1", b"target", b"NonTarget", b"non-target", b"spoof", b"T", b"10", b"1" * 17])


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(st.one_of(_ONE_BYTE, st.sampled_from([b"0", b"1"])), min_size=1, max_size=40),
       fmt=st.sampled_from(sorted(FORMAT_LABELS)), gap=st.sampled_from([b" ", b"\t", b""]))
def test_one_byte_tokens_give_the_plain_codes(tokens, fmt, gap):
    got = _ascii_labels(_keys(tokens, gap), FORMAT_LABELS[fmt])
    want = _plain(tokens, FORMAT_LABELS[fmt])
    assert (got is None) == (want is None)
    if want is not None:
        assert got.dtype == np.int8 and got.tolist() == want


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.one_of(_WORDS, _ONE_BYTE), min_size=1, max_size=40),
       fmt=st.sampled_from(sorted(FORMAT_LABELS)))
def test_mixed_tokens_give_the_plain_codes(tokens, fmt):
    got = _ascii_labels(_keys(tokens, b" "), FORMAT_LABELS[fmt])
    want = _plain(tokens, FORMAT_LABELS[fmt])
    assert (got is None) == (want is None)
    if want is not None:
        assert got.dtype == np.int8 and got.tolist() == want


def test_the_one_byte_table_by_hand():
    table = _one_byte_codes(tuple(FORMAT_LABELS["voxceleb"].items()))
    assert table[ord("1")] == FORMAT_LABELS["voxceleb"]["1"] and table[ord("0")] == FORMAT_LABELS["voxceleb"]["0"]
    assert (np.delete(table, [ord("0"), ord("1")]) == -1).all()
    assert (_one_byte_codes(tuple(FORMAT_LABELS["kaldi"].items())) == -1).all()  # no one-letter spelling
