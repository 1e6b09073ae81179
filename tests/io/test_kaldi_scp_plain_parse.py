"""io.kaldi's array parse of a plain scp (byte checks by counts, offsets by Horner's rule) against
the line-by-line parse written for every other scp: whenever the array parse answers, it gives the
same keys, paths and offsets; it answers for every plain scp; anything else is left to the line parse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.io.kaldi import Unsupported, _parse_plain_scp, _parse_scp_lines

KEY = st.text("abcXYZ019/._-", min_size=1, max_size=12)
PATH = st.text("abc/._-:", min_size=1, max_size=10).filter(lambda p: not p.endswith(":"))
OFFSET = st.integers(0, 10**13 - 1)  # with two leading zeros at most 15 digits, the widest the array parse reads


def _line_parse(data: bytes):
    try:
        keys, paths, offsets, _ = _parse_scp_lines(Path("x.scp"), data.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - an error or Unsupported: the array parse must have declined
        return exc
    return keys, paths, offsets


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(KEY, PATH, OFFSET, st.booleans()), min_size=1, max_size=30))
def test_plain_scp_parsed_as_the_line_parse(lines):
    data = "".join(f"{k} {p}:{'00' if z else ''}{o}\n" for k, p, o, z in lines).encode("ascii")
    got = _parse_plain_scp(data)
    want = _line_parse(data)
    assert got is not None, "a plain scp must take the array parse"
    keys, paths, offsets = got
    assert (keys, paths) == (want[0], want[1])
    assert offsets.dtype == np.int64 and offsets.tolist() == want[2].tolist() == [o for _, _, o, _ in lines]


NOISE = st.sampled_from([b"\t", b"\r", b"\x00", b"\x1f", b"\x7f", b"\xc3\xa9", b" ", b"\n", b":", b"x", b"9", b"/"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(KEY, PATH, OFFSET), min_size=1, max_size=8), st.lists(st.tuples(st.integers(0, 400), NOISE),
                                                                            max_size=4))
def test_other_bytes_leave_it_to_the_line_parse_or_agree(lines, edits):
    data = bytearray("".join(f"{k} {p}:{o}\n" for k, p, o in lines).encode("ascii"))
    for at, byte in edits:
        data[at % (len(data) + 1) : at % (len(data) + 1)] = byte
    got = _parse_plain_scp(bytes(data))
    if got is None:
        return  # declined: the line parse reads it (or reports the line)
    want = _line_parse(bytes(data))
    assert not isinstance(want, (Exception, Unsupported)), want
    assert (got[0], got[1], got[2].tolist()) == (want[0], want[1], want[2].tolist())


def test_a_line_shorter_than_the_widest_offset():
    # the 7-digit window of the first line would start 2 bytes before the file (this raised ValueError)
    keys, paths, offsets = _parse_plain_scp(b"k a:5\nkk a:1234567\n")
    assert (keys, paths, offsets.tolist()) == (["k", "kk"], ["a", "a"], [5, 1234567])
