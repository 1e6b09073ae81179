"""The fast score-table reader skips the header as pandas' header row when it is on line 1
(``io.scores._header_rows``): its rows must be the line-by-line reader's on every table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io import scores as score_io

_ID = st.text(alphabet="abcXYZ019_/.- ", min_size=1, max_size=6).filter(lambda t: t.strip() == t and t)
_SCORE = st.floats(allow_nan=False, allow_infinity=False, width=64)
_LABEL = st.sampled_from(["target", "nontarget", "1", "0", "Target"])
_HEADERS = ["enroll\ttest\tscore\tlabel", "enroll\ttest\tscore\tlabel\t", "enroll\ttest\tscore\tlabel\x0c",
            "enroll,test,score,label", "\ufeffenroll\ttest\tscore\tlabel"]


def _read_both(path) -> tuple:
    fast = score_io.read_scores(path, with_ids=True, allow_duplicates=True)
    text = path.read_text(encoding="utf-8")
    layout = score_io._table_layout(text, path, None, None)
    exact = score_io._read_layout_exact(path, text, layout, {**score_io.LABEL_SPELLINGS, "1.0": 1, "0.0": 0}, True)
    return fast, exact


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_ID, _ID, _SCORE, _LABEL), min_size=1, max_size=12),
       header=st.sampled_from(_HEADERS), blank_lines_above=st.integers(0, 2), line_end=st.sampled_from(["\n", "\r\n"]))
def test_header_skipped_as_the_line_reader_skips_it(tmp_path, rows, header, blank_lines_above, line_end):
    sep = "," if "," in header else "\t"
    if header.endswith("\t"):  # a trailing tab names a fifth (empty) column
        rows = [(*r[:3], r[3] + "\t") for r in rows]
    body = [sep.join([e, t, repr(s), lab]) for e, t, s, lab in rows]
    path = tmp_path / "scores.tsv"
    path.write_bytes(line_end.join([""] * blank_lines_above + [header, *body, ""]).encode("utf-8"))
    try:
        fast, exact = _read_both(path)
    except AsvbenchError:
        return  # e.g. the empty fifth column of a trailing-tab header: both readers refuse such tables
    np.testing.assert_array_equal(fast.scores, exact.scores)
    np.testing.assert_array_equal(fast.labels, exact.labels)
    assert list(fast.enroll) == list(exact.enroll) and list(fast.test) == list(exact.test)


def test_bom_before_the_header_is_not_part_of_the_first_column_name(tmp_path):
    # before: the column was named "\ufeffenroll", so no id columns were found and repeats went unchecked
    path = tmp_path / "s.tsv"
    path.write_bytes("\ufeffenroll\ttest\tscore\tlabel\na\tb\t0.5\ttarget\na\tb\t0.5\ttarget\n".encode())
    with pytest.raises(AsvbenchError, match="repeats the trial"):
        score_io.read_scores(path)


@pytest.mark.parametrize("blank_lines_above", [0, 1, 3])
def test_blank_lines_above_the_header_read_the_same_rows(tmp_path, blank_lines_above):
    # 3 rows: scores 0.5, -1.25, 2.0; labels target (1), nontarget (0), target (1)
    path = tmp_path / "s.tsv"
    path.write_text("\n" * blank_lines_above + "enroll\ttest\tscore\tlabel\na\tb\t0.5\ttarget\n"
                    "a\tc\t-1.25\tnontarget\nb\tc\t2.0\ttarget\n", encoding="utf-8")
    table = score_io.read_scores(path, with_ids=False)
    assert table.scores.tolist() == [0.5, -1.25, 2.0]
    assert table.labels.tolist() == [1, 0, 1]
    assert table.hashes_repeat is False  # the TSV's pair hashes were checked beside the parse


def test_repeated_pair_found_beside_the_parse_is_reported(tmp_path):
    path = tmp_path / "s.tsv"
    path.write_text("enroll\ttest\tscore\tlabel\na\tb\t0.5\ttarget\na\tc\t0.1\tnontarget\na\tb\t0.5\ttarget\n",
                    encoding="utf-8")
    with pytest.raises(AsvbenchError, match="line 4 .* repeats the trial of .*:2"):
        score_io.read_scores(path, with_ids=False)
