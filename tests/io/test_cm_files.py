"""CM files: the protocols (ASVspoof 2019, ASVspoof 5, a key table) and the CM score files read."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.io.cm_protocol import read_cm_protocol
from asvbench.io.scores import CM_PLAIN_COLUMNS, CM_STORE_COLUMNS, read_cm_scores
from tests.conftest import shared_path

LA = "trials/asvspoof2019_la/ASVspoof2019.LA.cm.{}.txt"


@pytest.mark.parametrize("part,bona,spoof,attacks", [
    # counts from ../shared/trials/SOURCES.md
    ("train.trn", 2_580, 22_800, [f"A0{i}" for i in range(1, 7)]),
    ("dev.trl", 2_548, 22_296, [f"A0{i}" for i in range(1, 7)]),
    ("eval.trl", 7_355, 63_882, [f"A{i:02d}" for i in range(7, 20)]),
])
def test_real_asvspoof2019_la_cm_protocols(shared_dir, part, bona, spoof, attacks):
    proto = read_cm_protocol(shared_path(shared_dir, LA.format(part)))
    assert proto.fmt == "asvspoof2019"
    assert (int(proto.is_bonafide.sum()), int((~proto.is_bonafide).sum())) == (bona, spoof)
    assert proto.attack_names() == attacks
    assert set(proto.attack[proto.is_bonafide]) == {"-"}
    if part == "eval.trl":  # SOURCES.md: 4,914 spoofs of each of A07-A19
        counts = {a: int((proto.attack == a).sum()) for a in attacks}
        assert set(counts.values()) == {4_914}
        i = int(np.flatnonzero(proto.utt == "LA_E_8411845")[0])  # the spoof of ../shared/audio
        assert (proto.is_bonafide[i], proto.attack[i]) == (False, "A10")


def test_asvspoof5_track1_layouts(tmp_path):
    # ASVspoof5.dev.track_1.tsv: SPEAKER_ID FLAC_FILE_NAME SPEAKER_GENDER CODEC CODEC_Q CODEC_SEED
    # ATTACK_TAG ATTACK_LABEL KEY TMP (whitespace-separated, no header)
    path = tmp_path / "ASVspoof5.dev.track_1.tsv"
    path.write_text("D_0062 D_0000000001 F - - - AC3 A11 spoof -\nD_0755 D_0000000005 M - - - - bonafide bonafide -\n")
    proto = read_cm_protocol(path)
    assert (proto.fmt, proto.utt.tolist(), proto.is_bonafide.tolist(), proto.attack.tolist()) == (
        "asvspoof5", ["D_0000000001", "D_0000000005"], [False, True], ["A11", "-"])
    path.write_text("T_4850 T_0000000000 F - A05 spoof\n")  # the first release's 6 fields
    assert read_cm_protocol(path).attack.tolist() == ["A05"]
    path.write_text("D_0062 D_0000000001 F - - - AC3 A11 spoof\n")
    with pytest.raises(AsvbenchError, match="cannot tell the CM protocol format"):
        read_cm_protocol(path)
    with pytest.raises(AsvbenchError, match="asvspoof5 CM protocol line has 10 or 6 fields, the first line has 9"):
        read_cm_protocol(path, "asvspoof5")


def test_key_table(tmp_path):
    path = tmp_path / "key.tsv"  # the ASVspoof 5 evaluation package's cm key, optionally with attacks
    path.write_text("filename\tcm-label\tattack\nE_000001\tbonafide\t-\nE_000002\tspoof\tA20\n")
    proto = read_cm_protocol(path)
    assert (proto.fmt, proto.attack_names(), proto.is_bonafide.tolist()) == ("table", ["A20"], [True, False])
    path.write_text("filename\tlabel_of_it\nE_000001\tbonafide\n")
    with pytest.raises(AsvbenchError, match=r"no key \(bonafide/spoof\) column"):
        read_cm_protocol(path, "table")


def test_cm_score_files(tmp_path):
    store = tmp_path / "store.tsv"
    store.write_text("utt\tcm_logit\tcm_prob_bonafide\nu1\t2.5\t0.9\n")
    frame = read_cm_scores(store)
    assert frame.attrs["cm_columns"] == CM_STORE_COLUMNS and frame.loc["u1", "cm_prob_bonafide"] == 0.9
    plain = tmp_path / "plain.tsv"
    plain.write_text("filename\tcm-score\nE_000001\t0.01\nE_000002\t-3\n")  # ASVspoof 5 submission
    frame = read_cm_scores(plain)
    assert frame.attrs["cm_columns"] == CM_PLAIN_COLUMNS and frame["cm_logit"].tolist() == [0.01, -3.0]
    assert frame["cm_prob_bonafide"].isna().all()
    for text, message in [
        ("utt\tcm_logit\tprob\nu1\t1\t0.5\n", "a CM score store header is 'utt cm_logit cm_prob_bonafide'"),
        ("u1 1.0 0.5\n", r"cannot tell the CM score format from its first line \(3 fields\)"),
        ("u1 inf\n", "plain.tsv:1: score is not finite"),
        ("u1 1.0\nu2 x\n", "plain.tsv:2: score 'x' is not a number"),
        ("u1 1.0\nu1 2.0\n", "utterance 'u1' appears more than once"),
    ]:
        plain.write_text(text)
        with pytest.raises(AsvbenchError, match=message):
            read_cm_scores(plain)
