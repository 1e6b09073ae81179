"""io._pair_hash: the byte pass beside ``metrics``' reader (token count, hashes of the id pair).

Reference: Python's own ``str.split`` of each line. Equal pairs must get equal hashes; a regular
file's hashes must give exactly the groups of equal (enroll, test) pairs (64-bit collisions on
a few hundred lines would be a broken hash); anything irregular gives no hashes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.io import _pair_hash
from asvbench.io._pair_hash import tokens_and_pair_hashes

ids = st.text(alphabet="ab/_-.0é", min_size=1, max_size=40)  # long ones (> 64 bytes in a pair) too
rows = st.lists(st.tuples(st.sampled_from(["e1", "e2", "spk/longer_enrolment_name"]) | ids, ids,
                          st.floats(-5, 5, allow_nan=False), st.sampled_from(["target", "nontarget"]),
                          st.sampled_from([" ", "\t"])), min_size=1, max_size=60)


def _groups(keys) -> list[frozenset[int]]:
    seen: dict = {}
    for row, key in enumerate(keys):
        seen.setdefault(key, set()).add(row)
    return sorted(frozenset(g) for g in seen.values())


@settings(max_examples=60, deadline=None)
@given(rows=rows, chunk=st.sampled_from([7, 64, 1 << 24]), final_newline=st.booleans())
def test_regular_files_hash_to_the_groups_of_equal_pairs(rows, chunk, final_newline, tmp_path_factory):
    path = tmp_path_factory.mktemp("ph") / "s.txt"
    text = "\n".join(f"{e}{sep}{t} {s!r} {lab}" for e, t, s, lab, sep in rows) + ("\n" if final_newline else "")
    path.write_bytes(text.encode("utf-8"))
    real = _pair_hash._CHUNK
    _pair_hash._CHUNK = chunk  # lines cut across chunks
    try:
        got = tokens_and_pair_hashes(path, n_cols=4, id_cols=(0, 1))
    finally:
        _pair_hash._CHUNK = real
    assert got.n_tokens == len(text.split())
    assert got.pair_hashes is not None and got.pair_hashes.shape[0] == len(rows)
    assert _groups(got.pair_hashes.tolist()) == _groups([(e, t) for e, t, *_ in rows])


@pytest.mark.parametrize("text", [
    "e1 t1 0.5 target\n\ne1 t2 0.1 nontarget\n",  # a blank line
    "e1  t1 0.5 target\n",  # a run of spaces
    "e1 t1 0.5 target\r\n",  # CRLF
    "e1 t1 0.5 target extra\ne1 t2 0.1 nontarget\n",  # 5 fields, then 4 (9 tokens: not a multiple of 4)
    "e1 t1 0.5\ne1 t2 0.1 nontarget x\n",  # 3 + 5 fields: 8 whitespace bytes, but lines disagree
    " e1 t1 0.5 target\n",  # a leading space
])
def test_irregular_files_give_no_hashes_but_the_token_count(text, tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(text.encode())
    got = tokens_and_pair_hashes(path, n_cols=4, id_cols=(0, 1))
    assert got.pair_hashes is None
    assert got.n_tokens == len(text.split())


def test_non_adjacent_id_fields_and_header(tmp_path):
    # SASV-like order "score enroll label test" with a header line: fields 1 and 3 are the ids
    path = tmp_path / "s.txt"
    path.write_text("score enroll label test\n0.1 a x t1\n0.2 b x t1\n0.3 a y t1\n0.4 a x t2\n")
    got = tokens_and_pair_hashes(path, n_cols=4, id_cols=(1, 3), skip_lines=1)
    h = got.pair_hashes
    assert got.n_tokens == 16 and h is not None
    assert h[0] == h[2] and len(set(h.tolist())) == 3  # rows 0 and 2: (a, t1); (b, t1), (a, t2) differ
    assert np.unique(h).shape[0] == 3
