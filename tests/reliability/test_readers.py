"""Reader-level checks of issue 14 (classes 3 and 6) that the command tables reach only in part."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.io.duplicates import duplicate_rows, repeated_keys
from asvbench.io.enroll import read_enroll_map, read_utt2spk
from asvbench.trials.read import read_trials


@pytest.mark.parametrize("fmt,text", [("voxceleb", "1 a b\n0 a c\n"), ("kaldi", "a b target\na c nontarget\n"),
                                      ("asvspoof", "a b bonafide target\na c A07 spoof\n")])
def test_bom_is_stripped(tmp_path, fmt, text):
    plain, bom = tmp_path / "p.txt", tmp_path / "b.txt"
    plain.write_text(text)
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    a, b = read_trials(plain), read_trials(bom)
    assert a.fmt == b.fmt == fmt
    assert list(a.enroll) == list(b.enroll) == ["a", "a"] and list(a.labels) == list(b.labels)


def test_non_ascii_duplicates_use_the_text_path(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1 é b\n0 é c\n1 é b\n", encoding="utf-8")
    with pytest.raises(AsvbenchError, match="trial listed twice: line 3") as info:
        read_trials(path)
    assert f"{path}:3" in str(info.value)
    assert read_trials(path, allow_duplicates=True).n_duplicates == 1


def test_repeated_keys_by_hand():
    # keys 5 3 5 7 3 5: row 2 repeats row 0, row 4 repeats row 1, row 5 repeats row 0
    assert repeated_keys(np.array([5, 3, 5, 7, 3, 5])).tolist() == [[0, 2], [1, 4], [0, 5]]
    assert repeated_keys(np.array([1, 2, 3])).shape == (0, 2)


def test_duplicate_rows_confirms_candidates():
    enroll = np.array(["a", "a", "b", "a"], dtype=object)
    test = np.array(["x", "y", "x", "x"], dtype=object)
    assert duplicate_rows(enroll, test).tolist() == [[0, 3]]


def test_enrolment_map_keeps_lines_and_refuses_repeats(tmp_path):
    good = tmp_path / "m.map"
    good.write_text("m1 u1,u2\n\nm2 u3 u4\n")
    mapping = read_enroll_map(good)
    assert mapping == {"m1": ["u1", "u2"], "m2": ["u3", "u4"]}
    assert mapping.lines == {"m1": f"{good}:1", "m2": f"{good}:3"}
    twice = tmp_path / "t.map"
    twice.write_text("m1 u1\nm1 u2\n")
    with pytest.raises(AsvbenchError, match=f"defined twice: at {twice}:1 and here"):
        read_enroll_map(twice)


def test_utt2spk_repeat_names_both_lines(tmp_path):
    path = tmp_path / "utt2spk"
    path.write_text("u1 s1\nu2 s1\nu1 s2\n")
    with pytest.raises(AsvbenchError, match="listed twice: lines 1 and 3") as info:
        read_utt2spk(path)
    assert f"{path}:3" in str(info.value)


def test_utt2spk_repeat_of_an_id_holding_nul_is_reported(tmp_path):
    # found by the parser fuzz (b"\x00 1\n\x00 1"): pandas' string column called the two rows duplicated
    # but compared "\x00" unequal to itself, so finding the first line crashed with an IndexError
    path = tmp_path / "utt2spk"
    path.write_bytes(b"\x00 1\n\x00 1")
    with pytest.raises(AsvbenchError, match="listed twice: lines 1 and 2"):
        read_utt2spk(path)
