"""Trial lists and enrolment maps: the real official lists, every format, bad input, round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.enroll import read_enroll_map, read_utt2spk
from asvbench.testing import write_trials
from asvbench.trials.read import TRIAL_FORMATS, read_trials
from asvbench.types import Label
from tests.conftest import shared_path
from tests.io._bad_input import assert_bad_file

T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF
LA = "trials/asvspoof2019_la"

# ----------------------------------------------------------------------------- real official lists


def test_vox1_o_cleaned(shared_dir):
    path = shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt")
    raw = path.read_bytes()
    assert b"\r\n" in raw and not raw.endswith(b"\n")  # CRLF, no final newline (trials/SOURCES.md)
    trials = read_trials(path)
    assert trials.fmt == "voxceleb"
    assert len(trials) == 37_611
    assert trials.counts() == {"target": 18_802, "nontarget": 18_809, "spoof": 0}
    assert not any("\r" in k for k in trials.test) and not any("\r" in k for k in trials.enroll)
    # first and last records, split here by hand from the raw bytes
    lines = raw.decode().split("\r\n")
    first, last = lines[0].split(" "), lines[-1].split(" ")
    assert (trials.labels[0], trials.enroll[0], trials.test[0]) == (int(first[0]), first[1], first[2])
    assert (trials.labels[-1], trials.enroll[-1], trials.test[-1]) == (int(last[0]), last[1], last[2])
    assert trials.enroll[0] == "id10270/x6uYqmx31kE/00001.wav"
    # 4,708 unique utterances (SOURCES.md)
    assert len(set(trials.enroll) | set(trials.test)) == 4_708


def test_vox1_o_original(shared_dir):
    trials = read_trials(shared_path(shared_dir, "trials/voxceleb1/veri_test.txt"), "voxceleb")
    assert len(trials) == 37_720
    assert trials.counts() == {"target": 18_860, "nontarget": 18_860, "spoof": 0}


@pytest.mark.parametrize("part,counts,n_models", [
    ("dev", (1_484, 5_768, 22_296), 10),
    ("eval", (5_370, 33_327, 63_882), 48),
])
def test_asvspoof2019_la_protocols(shared_dir, part, counts, n_models):
    trials = read_trials(shared_path(shared_dir, f"{LA}/ASVspoof2019.LA.asv.{part}.gi.trl.txt"))
    assert trials.fmt == "asvspoof"
    assert trials.counts() == dict(zip(("target", "nontarget", "spoof"), counts))
    assert len(trials) == sum(counts)
    assert len(set(trials.enroll)) == n_models
    src = trials.extra["source"]
    assert set(src[trials.labels != S]) == {"bonafide"}
    assert "bonafide" not in set(src[trials.labels == S])


@pytest.mark.parametrize("part,n_models,n_utts", [("dev", 10, 142), ("eval", 48, 696)])
def test_asvspoof2019_la_enrolment(shared_dir, part, n_models, n_utts):
    paths = [shared_path(shared_dir, f"{LA}/ASVspoof2019.LA.asv.{part}.{sex}.trn.txt") for sex in ("female", "male")]
    mapping = read_enroll_map(paths)
    assert len(mapping) == n_models
    assert sum(len(v) for v in mapping.values()) == n_utts
    # every model of the trial list has an enrolment list
    trials = read_trials(shared_path(shared_dir, f"{LA}/ASVspoof2019.LA.asv.{part}.gi.trl.txt"))
    assert set(trials.enroll) == set(mapping)
    prefix = "LA_D_" if part == "dev" else "LA_E_"
    assert all(u.startswith(prefix) for utts in mapping.values() for u in utts)


# ----------------------------------------------------------------------------- each format, small files

ENROLL = ["spk1", "spk1", "spk2", "spk2", "spk3"]
TEST = ["u1.wav", "u2.wav", "u3.wav", "u4.wav", "u5.wav"]
LABELS = [T, N, N, T, N]
LABELS_SASV = [T, N, S, T, S]


@pytest.mark.parametrize("fmt", ["voxceleb", "kaldi", "cnceleb", "asvspoof", "asvspoof5"])
def test_each_format_auto_and_named(tmp_path, fmt):
    labels = LABELS_SASV if fmt.startswith("asvspoof") else LABELS
    path = write_trials(tmp_path / f"{fmt}.txt", ENROLL, TEST, labels, fmt)
    for name in ("auto", fmt):
        trials = read_trials(path, name)
        assert trials.fmt == fmt
        assert list(trials.enroll) == ENROLL
        assert list(trials.test) == TEST
        assert trials.labels.dtype == np.int8
        assert list(trials.labels) == [int(x) for x in labels]


def test_file_contents_written_as_documented(tmp_path):
    # the generator writes exactly the documented line layouts
    assert write_trials(tmp_path / "a", ["e"], ["t"], [T], "voxceleb").read_text() == "1 e t\n"
    assert write_trials(tmp_path / "b", ["e"], ["t"], [N], "kaldi").read_text() == "e t nontarget\n"
    assert write_trials(tmp_path / "c", ["e"], ["t"], [T], "cnceleb").read_text() == "e t 1\n"
    assert write_trials(tmp_path / "d", ["e"], ["t"], [S], "asvspoof").read_text() == "e t A07 spoof\n"


def test_asvspoof5_keeps_extra_columns(tmp_path):
    path = write_trials(tmp_path / "p.tsv", ENROLL, TEST, LABELS_SASV, "asvspoof5")
    trials = read_trials(path)
    assert list(trials.extra["gender"]) == ["F"] * 5
    assert list(trials.extra["attack"]) == ["-", "-", "A07", "-", "A07"]


def test_asvspoof5_other_column_names(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("model\tutt\tkey\nM1\tT_1\ttarget\nM1\tT_2\tspoof\nM2\tT_3\tnontarget\n")
    trials = read_trials(path)
    assert (list(trials.enroll), list(trials.test), list(trials.labels)) == (["M1", "M1", "M2"],
                                                                           ["T_1", "T_2", "T_3"], [T, S, N])


def test_kaldi_spellings_and_tabs(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a\tb\ttarget\nc  d   non-target\ne f nontarget\n")
    trials = read_trials(path)
    assert trials.fmt == "kaldi" and list(trials.labels) == [T, N, N]
    assert list(trials.test) == ["b", "d", "f"]


def test_crlf_blank_lines_and_no_final_newline(tmp_path):
    path = write_trials(tmp_path / "t.txt", ENROLL, TEST, LABELS, "voxceleb", newline="\r\n", final_newline=False)
    trials = read_trials(path)
    assert list(trials.test) == TEST and list(trials.labels) == LABELS
    path.write_text("1 a b\n\n0 c d\n   \n1 e f\n")
    trials = read_trials(path)
    assert list(trials.enroll) == ["a", "c", "e"] and list(trials.labels) == [T, N, T]


def test_format_forced_over_detection(tmp_path):
    # "1 0 1" could be VoxCeleb or CN-Celeb; auto picks VoxCeleb (label first), --trials-format cnceleb overrides
    path = tmp_path / "t.txt"
    path.write_text("1 0 1\n0 1 0\n")
    cn = read_trials(path, "cnceleb")
    assert (list(cn.enroll), list(cn.test), list(cn.labels)) == (["1", "0"], ["0", "1"], [T, N])


def test_kaldi_ids_ending_in_label_words_are_not_misdetected(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("target nontarget target\n")  # ids that look like labels; the 3rd column is the label
    assert read_trials(path).fmt == "kaldi"


# ----------------------------------------------------------------------------- bad input

BAD = [
    # (name, content, fmt, expected message fragments)
    ("short_line", "1 a b\n1 a\n", "auto", [":2", "expected 3 columns, found 2", "'1 a'"]),
    ("long_line", "1 a b\n0 c d e\n", "auto", [":2", "expected 3 columns, found 4", "'0 c d e'"]),
    ("cancelling_lines", "1 a b\n0 c d 1\ne f\n", "auto", [":2", "found 4", "'0 c d 1'"]),
    ("cancelling_named", "1 a b 0\nc d\n", "voxceleb", [":1", "found 4", "'1 a b 0'"]),
    ("unknown_vox_label", "1 a b\n2 c d\n", "auto", [":2", "unknown label '2'", "'2 c d'"]),
    ("unknown_kaldi_label", "a b target\nc d maybe\n", "auto", [":2", "unknown label 'maybe'"]),
    ("unknown_sasv_key", "s u bonafide target\ns v bonafide bogus\n", "auto", [":2", "unknown label 'bogus'"]),
    ("sasv_source_key_disagree", "s u bonafide target\ns v A07 target\n", "auto",
     [":2", "source and key disagree", "'s v A07 target'"]),
    ("sasv_spoof_bonafide", "s u bonafide spoof\n", "asvspoof", [":1", "source and key disagree"]),
    ("empty", "", "auto", ["trial list is empty"]),
    ("blank_only", "\n  \n\n", "auto", ["trial list is empty"]),
    ("empty_named", "", "kaldi", ["no data lines"]),
    ("undetectable", "a b c d e\n", "auto", [":1", "cannot tell the trial-list format", "--trials-format"]),
    ("label_word_as_vox", "a b target\n", "voxceleb", [":1", "unknown label 'a'"]),
    ("asvspoof5_no_label", "speaker\tfilename\tgender\nA\tB\tF\n", "asvspoof5", ["no column among", "columns are"]),
    ("asvspoof5_long_row", "speaker\tfilename\tasv_label\nA\tB\ttarget\n\nA\tC\tspoof\tx\n", "auto",
     [":4", "found 4 columns", "'A\\tC\\tspoof\\tx'"]),
    ("asvspoof5_header_only", "speaker\tfilename\tasv_label\n", "auto", ["no data lines"]),
]


@pytest.mark.parametrize("name,content,fmt,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_input(tmp_path, name, content, fmt, fragments):
    assert_bad_file(read_trials, tmp_path, name, content, fmt, fragments)


def test_missing_file_directory_encoding_and_unknown_format(tmp_path):
    with pytest.raises(AsvbenchError, match="file not found"):
        read_trials(tmp_path / "nope.txt")
    with pytest.raises(AsvbenchError, match="directory"):
        read_trials(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("1 caf\xe9 b\n".encode("latin-1"))
    with pytest.raises(AsvbenchError, match="not a UTF-8 text file"):
        read_trials(bad)
    ok = write_trials(tmp_path / "ok.txt", ["a"], ["b"], [T])
    with pytest.raises(AsvbenchError, match="unknown trial-list format 'vox'") as info:
        read_trials(ok, "vox")
    assert all(f in str(info.value) for f in TRIAL_FORMATS)


# ----------------------------------------------------------------------------- enrolment maps and utt2spk


def test_enroll_map_forms(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("m1 u1,u2,u3\nm2 u4 u5\n\n")  # comma- and space-separated
    b = tmp_path / "b.txt"
    b.write_text("m3 u7\r\n")
    mapping = read_enroll_map([a, b])
    assert mapping == {"m1": ["u1", "u2", "u3"], "m2": ["u4", "u5"], "m3": ["u7"]}
    assert read_enroll_map(str(b)) == {"m3": ["u7"]}
    # a model on two lines was merged silently (issue 14): now an error naming both lines
    a.write_text("m1 u1,u2,u3\nm2 u4 u5\n\nm1 u6\n")
    with pytest.raises(AsvbenchError, match=r"'m1' is defined twice: at .*a\.txt:1 and here"):
        read_enroll_map([a, b])


def test_enroll_map_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("m1 u1\nm2\n")
    with pytest.raises(AsvbenchError, match=r"bad\.txt:2: enrolment line has a model but no utterances: 'm2'"):
        read_enroll_map(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(AsvbenchError, match="enrolment map is empty"):
        read_enroll_map(empty)
    with pytest.raises(AsvbenchError, match="file not found"):
        read_enroll_map(tmp_path / "nope.txt")


def test_utt2spk(tmp_path):
    path = tmp_path / "utt2spk"
    path.write_text("u1 s1\nu2 s1\nu3 s2\n")
    assert read_utt2spk(path) == {"u1": "s1", "u2": "s1", "u3": "s2"}
    path.write_text("u1 s1\nu1 s2\n")
    with pytest.raises(AsvbenchError, match="listed twice"):
        read_utt2spk(path)
    path.write_text("u1 s1\nu2\n")
    with pytest.raises(AsvbenchError, match=":2"):
        read_utt2spk(path)


# ----------------------------------------------------------------------------- round trips (hypothesis)

_ID = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-./", min_size=1, max_size=12)


@st.composite
def trial_lists(draw, sasv: bool):
    n = draw(st.integers(1, 25))
    pairs = draw(st.lists(st.tuples(_ID, _ID), min_size=n, max_size=n, unique=True))  # a repeated trial is an error
    enroll, test = [e for e, _ in pairs], [t for _, t in pairs]
    choices = [T, N, S] if sasv else [T, N]
    labels = draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n))
    return enroll, test, labels


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(["voxceleb", "kaldi", "cnceleb", "asvspoof", "asvspoof5"]),
       crlf=st.booleans())
def test_round_trip(tmp_path, data, fmt, crlf):
    enroll, test, labels = data.draw(trial_lists(fmt.startswith("asvspoof")))
    path = write_trials(Path(tmp_path) / "rt.txt", enroll, test, labels, fmt, newline="\r\n" if crlf else "\n")
    trials = read_trials(path, fmt)
    assert list(trials.enroll) == enroll
    assert list(trials.test) == test
    assert list(trials.labels) == [int(x) for x in labels]
    assert trials.fmt == fmt


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(["voxceleb", "kaldi", "asvspoof", "asvspoof5"]))
def test_round_trip_auto_detected(tmp_path, data, fmt):
    # ids with a letter prefix cannot be mistaken for labels, so detection must find the format
    enroll, test, labels = data.draw(trial_lists(fmt.startswith("asvspoof")))
    enroll = ["e" + e for e in enroll]
    test = ["t" + t for t in test]
    path = write_trials(Path(tmp_path) / "rt.txt", enroll, test, labels, fmt)
    trials = read_trials(path)
    assert trials.fmt == fmt
    assert (list(trials.enroll), list(trials.test)) == (enroll, test)
