"""The repeated-trial check of ``read_scores(with_ids=False)`` on TSV score files (asvbench's own
``enroll test score label`` files), which now hashes the id pair from the bytes instead of
reading every id as a string.

Reference: the repeated (enroll, test) pairs counted in plain Python from ``line.split("\\t")``;
the error text of the id-reading path (the pair-hash pass switched off) for the same file.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io import _pair_hash, scores
from asvbench.io.scores import read_scores, write_scores

ids = st.sampled_from(["e1", "e2", "a b", "spk/x y.wav", "t1", "t 2", "é/ü"])
rows = st.lists(st.tuples(ids, ids, st.floats(-5, 5, allow_nan=False), st.sampled_from(["target", "nontarget"])),
                min_size=1, max_size=30)


def _write_tsv(path, rows) -> None:
    body = "".join(f"{e}\t{t}\t{s!r}\t{lab}\n" for e, t, s, lab in rows)
    path.write_text("enroll\ttest\tscore\tlabel\n" + body, encoding="utf-8")


def _repeats_by_split(path) -> tuple[int, bool]:
    """(repeated lines, whether some repeat has another label), from the lines split at tabs."""
    seen: dict[tuple[str, str], str] = {}
    repeated, conflict = 0, False
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        enroll, test, _, label = line.split("\t")
        if (enroll, test) in seen:
            repeated += 1
            conflict |= seen[(enroll, test)] != label
        seen.setdefault((enroll, test), label)
    return repeated, conflict


def _outcome(path, allow: bool):
    try:
        table = read_scores(path, with_ids=False, allow_duplicates=allow)
    except AsvbenchError as err:
        return "error", str(err)
    return table.scores.tolist(), table.labels.tolist(), table.n_duplicates


def _without_pair_hashes(monkeypatch):
    def no_hashes(path, **kw):
        return _pair_hash.TokenPass(0, None)
    monkeypatch.setattr(_pair_hash, "tokens_and_pair_hashes", no_hashes)


@settings(max_examples=60, deadline=None)
@given(rows=rows, allow=st.booleans())
def test_tsv_repeats_are_found_as_a_plain_split_finds_them(rows, allow, tmp_path_factory):
    path = tmp_path_factory.mktemp("tsv") / "scores.tsv"
    _write_tsv(path, rows)
    repeated, conflict = _repeats_by_split(path)
    got = _outcome(path, allow)
    if repeated and (conflict or not allow):
        assert got[0] == "error"
        assert ("two labels" if conflict else "trial scored twice") in got[1]
    else:
        assert got[0] != "error" and got[2] == (repeated if allow else 0)
        assert got[0] == [s for _, _, s, _ in rows]


@pytest.mark.parametrize("allow", [False, True])
@pytest.mark.parametrize("body", [
    "e1\tt1\t0.5\ttarget\ne1\tt2\t0.25\tnontarget\ne1\tt1\t0.75\ttarget\n",  # a repeat
    "e1\tt1\t0.5\ttarget\ne1\tt1\t0.5\tnontarget\n",  # a repeat with another label
    "e 1\tt1\t0.5\ttarget\ne\t1 t1\t0.5\ttarget\n",  # the same bytes but for where the tab is: distinct
    "e1\tt1\t0.5\ttarget\ne1 t1\t0.5\ttarget\n",  # 3 fields by tabs: pandas and the exact pass decide
])
def test_the_same_outcome_as_the_id_reading_path(body, allow, tmp_path, monkeypatch):
    path = tmp_path / "scores.tsv"
    path.write_text("enroll\ttest\tscore\tlabel\n" + body)
    fast = _outcome(path, allow)
    _without_pair_hashes(monkeypatch)
    assert _outcome(path, allow) == fast


def test_an_asvbench_score_file_is_checked_without_reading_its_ids(tmp_path, monkeypatch):
    path = write_scores(tmp_path / "scores.tsv", ["e1", "e1", "e2"], ["t1", "t2", "t1"],
                        np.array([0.5, -0.25, 0.125]), np.array([1, 0, 0]))
    calls = []
    real = scores._read_layout
    monkeypatch.setattr(scores, "_read_layout", lambda *a: calls.append(a[4]) or real(*a))
    table = read_scores(path, with_ids=False)
    assert calls == [False]  # one pass, without the ids
    assert table.pair_hashes is not None and len(set(table.pair_hashes.tolist())) == 3
    assert table.scores.tolist() == [0.5, -0.25, 0.125] and table.enroll is None


def test_a_space_in_a_tsv_field_makes_the_chunk_irregular(tmp_path):
    path = tmp_path / "scores.tsv"
    path.write_text("e1\tt1\t0.5\ttarget\ne 1\tt1\t0.5\ttarget\n")
    assert _pair_hash.tokens_and_pair_hashes(path, n_cols=4, id_cols=(0, 1), tabs_only=True).pair_hashes is None
    spaced = _pair_hash.tokens_and_pair_hashes(path, n_cols=4, id_cols=(0, 1))
    assert spaced.pair_hashes is None  # 5 fields by whitespace on line 2
    path.write_text("e1\tt1\t0.5\ttarget\ne1\tt2\t0.5\ttarget\n")
    h = _pair_hash.tokens_and_pair_hashes(path, n_cols=4, id_cols=(0, 1), tabs_only=True).pair_hashes
    assert h is not None and h[0] != h[1]
