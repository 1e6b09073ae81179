"""Resampling units of trials (asvbench.stats.units): speakers from the ids, maps, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.stats.units import check_units, derive_units, speaker_of_key
from asvbench.types import Label


@pytest.mark.parametrize("key, speaker", [
    ("id10270/x6uYqmx31kE/00001.wav", "id10270"),  # VoxCeleb
    ("id00800-enroll", "id00800"),  # CN-Celeb enrolment model
    ("id00800-singing-01-001.wav", "id00800"),  # CN-Celeb utterance
    ("LA_0073", "LA_0073"),  # ASVspoof 2019 enrolment id = the speaker
    ("D_0062", "D_0062"),  # ASVspoof 5
    ("1272-128104-0000", "1272"),  # LibriSpeech
    ("1272-128104-0000.flac", "1272"),
    ("LA_E_1234567", None),  # an ASVspoof utterance id does not name a speaker
    ("M000", None),
    ("utt1.wav", None),
])
def test_speaker_of_key(key, speaker):
    assert speaker_of_key(key) == speaker


def test_speaker_units_are_indexed_in_sorted_name_order():
    enroll = ["id2/a.wav", "id1/b.wav", "id2/c.wav", "id3/d.wav"]
    units = derive_units("speaker", enroll, None, 4)
    assert units.names == ("id1", "id2", "id3")
    assert units.index.tolist() == [1, 0, 1, 2]
    assert units.kind == "speaker"


def test_trial_units():
    units = derive_units("trial", None, None, 3)
    assert units.index.tolist() == [0, 1, 2] and units.n_units == 3


def test_underivable_speakers_name_utt2spk():
    with pytest.raises(AsvbenchError, match="cannot tell the speaker of 2 enrolment id") as info:
        derive_units("speaker", ["M000", "M001", "M000"], None, 3, where="s.tsv")
    assert "--utt2spk" in info.value.hint and "s.tsv" in str(info.value)


def test_no_ids_is_an_error_naming_ci_unit_trial():
    with pytest.raises(AsvbenchError, match="no enrolment / test ids") as info:
        derive_units("speaker", None, None, 3)
    assert "--ci-unit trial" in info.value.hint


def test_utt2spk_map(tmp_path):
    (tmp_path / "spk").write_text("M000 alice\nM001 bob\nM002 alice\n")
    units = derive_units("speaker", ["M000", "M001", "M002"], None, 3, utt2spk=tmp_path / "spk")
    assert units.names == ("alice", "bob") and units.index.tolist() == [0, 1, 0]
    with pytest.raises(AsvbenchError, match="1 trials have an enrolment id that the map does not list"):
        derive_units("speaker", ["M000", "M009"], None, 2, utt2spk=tmp_path / "spk")


def test_unit_map_falls_back_to_the_test_id(tmp_path):
    (tmp_path / "units").write_text("E1 s1\nT7 s9\n")
    units = derive_units(str(tmp_path / "units"), ["E1", "E2"], ["T1", "T7"], 2)
    assert units.kind == "map" and [units.names[i] for i in units.index] == ["s1", "s9"]
    with pytest.raises(AsvbenchError, match="neither trial, speaker nor a map file"):
        derive_units(str(tmp_path / "nope"), ["E1"], ["T1"], 1)


def test_fewer_than_two_units_of_a_class_is_an_error():
    units = derive_units("speaker", ["a/1", "a/2", "b/1"], None, 3)
    labels = np.array([Label.TARGET, Label.NONTARGET, Label.NONTARGET])
    with pytest.raises(AsvbenchError, match="at least 2 speakers with target trials; found 1"):
        check_units(units, labels)
    with pytest.raises(AsvbenchError, match="at least 2 speakers with nontarget trials; found 1"):
        check_units(units, np.array([Label.TARGET, Label.NONTARGET, Label.TARGET]))
    both = derive_units("speaker", ["a/1", "a/2", "b/1", "b/2"], None, 4)
    labels = np.array([Label.TARGET, Label.NONTARGET, Label.TARGET, Label.NONTARGET])
    assert check_units(both, labels) == {"target": 2, "nontarget": 2}
