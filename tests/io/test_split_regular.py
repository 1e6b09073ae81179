"""io._bytes.split_ascii: the path for regular files (single separators, an LF after every line)
gives the same tokens and line ends as the general path, and leaves every other file to it."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io import _bytes
from asvbench.io._bytes import split_ascii

TOKEN = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
SEP = st.sampled_from([" ", "\t"])


def _general(raw: bytes, names: list[str]):
    with mock.patch.object(_bytes, "_split_regular", lambda buf, n_cols: None):
        return split_ascii(raw, names, "t.txt")


def _outcome(call):
    try:
        cols = call()
    except AsvbenchError as err:
        return ("error", err.what, err.where)
    return ("ok", cols.starts.tolist(), cols.lengths.tolist(), cols.line_ends.tolist(),
            [cols.line_number(r) for r in range(len(cols))])


@st.composite
def files(draw) -> bytes:
    """Lines of 3 tokens with single separators, sometimes broken: a blank line, CRLF, a run of
    spaces, a leading space, a line with another count, no final LF."""
    rows = draw(st.lists(st.lists(TOKEN, min_size=3, max_size=3), min_size=1, max_size=25))
    lines = [draw(SEP).join(r) for r in rows]
    flaw = draw(st.sampled_from(["none", "none", "blank", "crlf", "run", "lead", "count", "no-lf"]))
    at = draw(st.integers(0, len(lines) - 1))
    if flaw == "blank":
        lines.insert(at, "")
    elif flaw == "run":
        lines[at] = lines[at].replace(lines[at][len(rows[at][0])], "  ", 1)
    elif flaw == "lead":
        lines[at] = " " + lines[at]
    elif flaw == "count":
        lines[at] += " extra"
    end = "\r\n" if flaw == "crlf" else "\n"
    return (end.join(lines) + ("" if flaw == "no-lf" else end)).encode()


@settings(max_examples=300, deadline=None)
@given(files())
def test_same_outcome_as_the_general_path(raw):
    names = ["label", "enroll", "test"]
    assert _outcome(lambda: split_ascii(raw, names, "t.txt")) == _outcome(lambda: _general(raw, names))


def test_a_regular_file_takes_the_regular_path():
    raw = b"1 a b\n0\tc d\n1 e\tf\n"
    cols = _bytes._split_regular(np.frombuffer(raw, np.uint8), 3)
    assert cols is not None
    assert [cols.column(c).decode().tolist() for c in range(3)] == [["1", "0", "1"], ["a", "c", "e"], ["b", "d", "f"]]
    assert cols.line_ends.tolist() == [5, 11, 17]  # offsets of the LFs, by hand
    assert cols.line_number(2) == 3


@pytest.mark.parametrize("raw", [b"1 a b\r\n0 c d\r\n", b"1 a b\n\n0 c d\n", b"1  a b\n", b" 1 a b\n", b"1 a b\n0 c d",
                                 b"1 a b c\n", b"1 a\nb 0 c\n", b""])
def test_other_files_are_left_to_the_general_path(raw):
    assert _bytes._split_regular(np.frombuffer(raw, np.uint8), 3) is None


def test_wrong_count_still_reported_at_its_line():
    with pytest.raises(AsvbenchError) as err:
        split_ascii(b"1 a b\n0 c d e\n", ["label", "enroll", "test"], "t.txt")
    assert err.value.where == "t.txt:2"
