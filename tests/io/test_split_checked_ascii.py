"""split_checked_ascii is ``split_ascii(raw) if ascii_fast_path_ok(raw) else None``: the same None, the
same tokens and the same errors, on regular files (where it skips the control-byte scan) and others."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io._bytes import ascii_fast_path_ok, split_ascii, split_checked_ascii

NAMES = ["label", "enroll", "test"]


def _plain_ok(raw: bytes) -> bool:
    """The fast-path rule, byte by byte: ASCII; controls only tab, LF, and CR right before an LF."""
    if not raw or any(b >= 128 for b in raw):
        return False
    for i, b in enumerate(raw):
        if b < 32 and b not in (9, 10, 13):
            return False
        if b == 13 and (i + 1 == len(raw) or raw[i + 1] != 10):
            return False
    return True


_TOKEN = st.text("ab01/._-", min_size=1, max_size=6).map(str.encode)
_SEP = st.sampled_from([b" ", b"\t", b" ", b"\t", b"  ", b"\x0b", b"\x0c", b"\r", b"\x00", b"\x1f"])
_END = st.sampled_from([b"\n", b"\n", b"\n", b"\r\n", b"\r", b"\x0b\n", b" \n", b"\n\n"])
_ODD = st.sampled_from([b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x0e", b"\x1f", b"\r", b"\x7f", b"\x80",
                        b"\xc3\xa9", b"\xff", b"\t", b"\n", b" "])


@st.composite
def _files(draw) -> bytes:
    lines = []
    odd = draw(st.booleans())  # else three tokens a line, split by single spaces / tabs, and LFs
    for _ in range(draw(st.integers(0, 8))):
        n = draw(st.sampled_from([3, 3, 3, 2, 4])) if odd else 3
        tokens = draw(st.lists(_TOKEN, min_size=n, max_size=n))
        line = tokens[0]
        for token in tokens[1:]:
            line += (draw(_SEP) if odd and draw(st.integers(0, 9)) == 0 else draw(st.sampled_from([b" ", b"\t"]))) + token
        lines.append(line + (draw(_END) if odd and draw(st.integers(0, 5)) == 0 else b"\n"))
    raw = b"".join(lines)
    if odd and raw and draw(st.integers(0, 2)) == 0:  # one odd byte anywhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(_ODD) + raw[at:]
    if odd and raw and draw(st.integers(0, 5)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]  # cut short (no final LF)
    return raw


def _outcome(split, raw: bytes):
    try:
        return split()
    except AsvbenchError as exc:
        return str(exc)


@settings(max_examples=600, deadline=None)
@given(raw=st.one_of(_files(), st.binary(max_size=40)))
def test_the_same_answer_as_checking_then_splitting(raw):
    assert ascii_fast_path_ok(raw) == _plain_ok(raw)
    got = _outcome(lambda: split_checked_ascii(raw, NAMES, "f.txt"), raw)
    if not _plain_ok(raw):
        assert got is None
        return
    want = _outcome(lambda: split_ascii(raw, NAMES, "f.txt"), raw)
    if isinstance(want, str):
        assert got == want
        return
    assert got is not None and not isinstance(got, str)
    for name in ("starts", "lengths", "line_ends"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert got.buf.tobytes() == raw


@pytest.mark.parametrize("raw, ok", [
    (b"1 a b\n0 c d\n", True),  # regular: only isascii is checked
    (b"1 a b\r\n0 c d\r\n", True),  # CR LF: the full check, then the general split
    (b"1 a\x0bb c\n", False),  # a vertical tab (a separator for str.split)
    (b"1 a b\r0 c d\n", False),  # a bare CR (a line break for str.splitlines)
    (b"1 a \xc3\xa9\n", False),
    (b"", False),
])
def test_by_hand(raw, ok):
    columns = split_checked_ascii(raw, NAMES, "f.txt")
    assert (columns is not None) == ok
    if ok:
        assert columns.column(1).decode().tolist() == ["a", "c"]
