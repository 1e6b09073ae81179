"""Score files: every format read, label maps, the canonical TSV written, bad input."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.scores import SCORE_FORMATS, read_cm_scores, read_scores, write_cm_scores, write_scores
from asvbench.testing import write_score_lines
from asvbench.types import Label, parse_label_map
from tests.conftest import shared_path
from tests.io._bad_input import assert_bad_file

T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF
A5 = "models/reference_scores/asvspoof5_dev_scores_label.csv"


def _check(table, scores, labels, enroll=None, test=None):
    np.testing.assert_array_equal(table.scores, np.array(scores, dtype=np.float64))
    assert table.scores.dtype == np.float64
    assert list(table.labels) == [int(x) for x in labels]
    if enroll is not None:
        assert list(table.enroll) == enroll and list(table.test) == test


def test_wespeaker_four_columns(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e1", "t1", 0.75, "target"), ("e1", "t2", -0.25, "nontarget"),
                                                  ("e2", "t3", "1e-3", "spoof")])
    table = read_scores(path)
    assert table.fmt == "wespeaker"
    _check(table, [0.75, -0.25, 0.001], [T, N, S], ["e1", "e1", "e2"], ["t1", "t2", "t3"])


def test_three_d_speaker_order(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e1", "t1", "target", 0.5), ("e1", "t2", "nontarget", 0.125)])
    table = read_scores(path)
    assert table.fmt == "wespeaker"
    _check(table, [0.5, 0.125], [T, N], ["e1", "e1"], ["t1", "t2"])


def test_numeric_01_labels(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e", "t", 0.5, 1), ("e", "u", 0.25, 0), ("e", "v", 0.3, "1.0")])
    _check(read_scores(path), [0.5, 0.25, 0.3], [T, N, T])


def test_sasv_five_columns(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("LA_0001", "LA_D_1", "bonafide", "target", 2.5),
                                                  ("LA_0001", "LA_D_2", "A07", "spoof", -1.5),
                                                  ("LA_0002", "LA_D_3", "bonafide", "nontarget", 0.0)])
    table = read_scores(path)
    assert table.fmt == "sasv"
    _check(table, [2.5, -1.5, 0.0], [T, S, N], ["LA_0001", "LA_0001", "LA_0002"], ["LA_D_1", "LA_D_2", "LA_D_3"])


@pytest.mark.parametrize("sep", [",", "\t"])
def test_csv_tsv_with_header(tmp_path, sep):
    path = write_score_lines(tmp_path / "s.csv", [("x", "e", "t", 0.5, "bonafide"), ("y", "e", "u", -0.5, "spoof")],
                             header=sep.join(["extra", "enroll", "test", "score", "label"]), sep=sep)
    table = read_scores(path)
    assert table.fmt == "table"
    _check(table, [0.5, -0.5], [T, S], ["e", "e"], ["t", "u"])


def test_space_separated_table_when_named(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e", "t", 0.5, "target"), ("e", "u", 0.1, "nontarget")],
                             header="enroll test score label")
    _check(read_scores(path, "table"), [0.5, 0.1], [T, N], ["e", "e"], ["t", "u"])


def test_named_columns_and_suffix_matching(tmp_path):
    path = write_score_lines(tmp_path / "s.csv", [(0.1, 0.9, "target"), (0.2, 0.3, "nontarget")],
                             header="asv_score,cm_score,sasv_key", sep=",")
    # two '*score' columns: ambiguous without --score-column; the single '*key' column is the label
    with pytest.raises(AsvbenchError, match=r"cannot tell which column holds the score \(candidates: asv_score, "
                                            r"cm_score\)") as info:
        read_scores(path)
    assert "--score-column" in str(info.value)
    _check(read_scores(path, score_column="cm_score"), [0.9, 0.3], [T, N])
    _check(read_scores(path, score_column="asv_score", label_column="sasv_key"), [0.1, 0.2], [T, N])
    with pytest.raises(AsvbenchError, match="no score column 'nope' in the header"):
        read_scores(path, score_column="nope")


def test_label_map_preset_asvspoof5_fusion(tmp_path):
    # ASVspoof5 Tool-score-fusion convention: 1 target, 2 nontarget, 0 spoof (written as floats)
    path = write_score_lines(tmp_path / "s.csv", [(0.9, "1.0"), (0.1, "2.0"), (0.5, "0.0"), (0.7, "1")],
                             header="score,label", sep=",")
    _check(read_scores(path, label_map=parse_label_map("asvspoof5-fusion")), [0.9, 0.1, 0.5, 0.7], [T, N, S, T])
    # without the map, "2.0" is ambiguous and must be an error naming --label-map
    with pytest.raises(AsvbenchError, match="unknown label '2.0'") as info:
        read_scores(path)
    assert "--label-map" in str(info.value) and ":3" in str(info.value)


def test_custom_label_map(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e", "t", 0.9, "tgt"), ("e", "u", 0.1, "imp"), ("e", "v", 0.2, "x")])
    mapping = parse_label_map("tgt=target,imp=nontarget,x=spoof")
    _check(read_scores(path, label_map=mapping), [0.9, 0.1, 0.2], [T, N, S])


@pytest.mark.parametrize("text,message", [
    ("1=bogus", "bad --label-map item '1=bogus'"),
    ("1target", "bad --label-map item '1target'"),
    ("=target", "bad --label-map item '=target'"),
])
def test_bad_label_map(text, message):
    with pytest.raises(AsvbenchError, match=message):
        parse_label_map(text)


def test_with_ids_false(tmp_path):
    path = write_score_lines(tmp_path / "s.txt", [("e", "t", 0.5, "target"), ("e", "u", 0.1, "nontarget")])
    table = read_scores(path, with_ids=False)
    assert table.enroll is None and table.test is None
    _check(table, [0.5, 0.1], [T, N])


def test_real_asvspoof5_dev_scores(shared_dir):
    path = shared_path(shared_dir, A5)
    table = read_scores(path, score_column="asv_score", label_map=parse_label_map("asvspoof5-fusion"))
    assert len(table) == 29_548
    assert [(table.labels == c).sum() for c in (T, N, S)] == [1_484, 5_768, 22_296]
    # first data row, split by hand: 0.6910020709037781,10.664997100830078,1.0
    first = path.read_text().splitlines()[1].split(",")
    assert table.scores[0] == float(first[0]) and table.labels[0] == T


# ----------------------------------------------------------------------------- writing


def test_write_scores_layout(tmp_path):
    out = write_scores(tmp_path / "o" / "s.tsv", np.array(["e1", "e2"], dtype=object), ["t1", "t2"],
                       np.array([0.1, 1 / 3]), np.array([T, S], dtype=np.int8))
    assert out.read_text() == "enroll\ttest\tscore\tlabel\ne1\tt1\t0.1\ttarget\ne2\tt2\t0.3333333333333333\tspoof\n"
    assert read_scores(out).fmt == "table"


def test_write_scores_does_not_round(tmp_path):
    # peers write 5 decimals: 0.123456 and 0.123459 would both become 0.12346 (a tie); here they stay apart
    scores = np.array([0.123456, 0.123459, 0.1234561])
    out = write_scores(tmp_path / "s.tsv", ["e"] * 3, ["a", "b", "c"], scores, np.array([T, N, N]))
    back = read_scores(out)
    assert len(set(back.scores.tolist())) == 3
    np.testing.assert_array_equal(back.scores, scores)


_FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=st.lists(_FLOAT, min_size=1, max_size=30), data=st.data())
def test_write_read_round_trip_bit_exact(tmp_path, scores, data):
    labels = data.draw(st.lists(st.sampled_from([T, N, S]), min_size=len(scores), max_size=len(scores)))
    n = len(scores)
    out = write_scores(Path(tmp_path) / "rt.tsv", [f"e{i}" for i in range(n)], [f"t{i}" for i in range(n)],
                       np.array(scores, dtype=np.float64), np.array(labels, dtype=np.int8))
    back = read_scores(out)
    # bit-for-bit: compare the IEEE-754 encodings (so -0.0 and 0.0 would differ)
    assert [struct.pack("<d", x) for x in back.scores.tolist()] == [struct.pack("<d", float(x)) for x in scores]
    assert list(back.labels) == [int(x) for x in labels]
    assert list(back.enroll) == [f"e{i}" for i in range(n)]


def test_cm_scores_round_trip(tmp_path):
    out = write_cm_scores(tmp_path / "cm.tsv", ["u1", "u2"], np.array([2.5, -1 / 3]), np.array([0.9, 0.1]))
    frame = read_cm_scores(out)
    assert list(frame.index) == ["u1", "u2"]
    assert frame.loc["u2", "cm_logit"] == -1 / 3 and frame.loc["u1", "cm_prob_bonafide"] == 0.9
    two = tmp_path / "two.txt"
    two.write_text("u1 0.5\nu2 -0.5\n")
    frame = read_cm_scores(two)
    assert frame["cm_logit"].tolist() == [0.5, -0.5] and frame["cm_prob_bonafide"].isna().all()
    two.write_text("u1 0.5\nu1 -0.5\n")
    with pytest.raises(AsvbenchError, match="appears more than once"):
        read_cm_scores(two)


# ----------------------------------------------------------------------------- bad input

BAD = [
    ("empty", "", "auto", ["score file is empty"]),
    ("nan", "e t 0.5 target\ne u nan nontarget\n", "auto", [":2", "not finite", "'e u nan nontarget'"]),
    ("inf", "e t 0.5 target\ne u inf nontarget\n", "auto", [":2", "not finite", "'e u inf nontarget'"]),
    ("neg_inf_csv", "score,label\n0.5,target\n-inf,nontarget\n", "auto", [":3", "not finite"]),
    ("not_a_number", "e t 0.5 target\ne u abc nontarget\n", "wespeaker", [":2", "'abc' is not a number"]),
    ("short_line", "e t 0.5 target\ne u 0.4\n", "auto", [":2", "expected 4 columns, found 3", "'e u 0.4'"]),
    ("long_line", "e t 0.5 target\ne u x 0.4 nontarget\n", "auto", [":2", "expected 4 columns, found 5"]),
    ("unknown_label", "e t 0.5 target\ne u 0.4 impostr\n", "auto", [":2", "unknown label 'impostr'"]),
    ("numeric_2", "e t 0.5 1\ne u 0.4 2\n", "auto", [":2", "unknown label '2'", "--label-map"]),
    ("no_pair", "e t x y\n", "auto", [":1", "4-column line has no label/score pair"]),
    ("undetectable", "a b c\n", "auto", [":1", "cannot tell the score-file format"]),
    ("header_only", "score,label\n", "auto", ["no data lines"]),
    ("csv_short_row", "score,label\n0.5,target\n0.2\n", "auto", [":3", "expected 2 columns, found 1"]),
    ("csv_no_label", "score,other\n0.5,x\n", "auto", ["cannot tell which column holds the label", "--label-column"]),
    ("dup_header", "score,label,label\n0.5,target,x\n", "auto", ["duplicate column names"]),
    ("sasv_bad_score", "s u bonafide target 0.5\ns v A07 spoof x\n", "auto", [":2", "'x' is not a number"]),
]


@pytest.mark.parametrize("name,content,fmt,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_input(tmp_path, name, content, fmt, fragments):
    assert_bad_file(read_scores, tmp_path, name, content, fmt, fragments)


def test_extra_trailing_field_is_reported(tmp_path):
    """pandas drops fields beyond the columns it reads; a token count beside it catches them."""
    path = tmp_path / "s.txt"
    path.write_text("e t 0.5 target\ne u 0.4 nontarget x\n")
    with pytest.raises(AsvbenchError, match=":2") as err:
        read_scores(path)
    assert "expected 4 columns, found 5" in str(err.value)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(AsvbenchError, match="file not found"):
        read_scores(tmp_path / "nope.txt")
    ok = write_score_lines(tmp_path / "s.txt", [("e", "t", 0.5, "target")])
    with pytest.raises(AsvbenchError, match="unknown score format 'csv'") as info:
        read_scores(ok, "csv")
    assert all(f in str(info.value) for f in SCORE_FORMATS)
