"""asvbench.stats.breakdown and asvbench.io.conditions: grouping by hand, one-class conditions,
map files (format errors with file:line), and a property test (rows vs pooled)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.conditions import gender_map_from_enroll_lists, read_condition_map
from asvbench.metrics.summary import summarize
from asvbench.stats.breakdown import (
    Breakdown,
    attack_conditions,
    breakdown,
    sasv_evaluator,
    summary_evaluator,
    trial_conditions,
)

T, N, S = 1, 0, 2  # Label codes: target, non-target, spoof

# targets 2 2, non-targets 0 0, A07 spoofs -1 -1 (below every target), A08 spoofs 2 2 (tied with them)
SCORES = np.array([2.0, 2.0, 0.0, 0.0, -1.0, -1.0, 2.0, 2.0])
LABELS = np.array([T, T, N, N, S, S, S, S])
SOURCES = ["bonafide"] * 4 + ["A07", "A07", "A08", "A08"]


def test_per_attack_by_hand():
    got = breakdown(SCORES, LABELS, attack_conditions(SOURCES, LABELS), by="source", evaluator=summary_evaluator())
    rows = {r.condition: r for r in got.rows}
    assert list(rows) == ["A07", "A08"] and got.shared_bonafide
    # every attack's group: both targets, both non-targets, its own 2 spoofs
    assert [(r.n_target, r.n_nontarget, r.n_spoof) for r in got.rows] == [(2, 2, 2), (2, 2, 2)]
    a07, a08 = rows["A07"].metrics, rows["A08"].metrics
    # A07: spoofs -1 -1 < targets 2 2: a threshold in (-1, 2) rejects both spoofs, accepts both targets
    assert a07["spf_eer"] == 0.0 and a07["sasv_eer"] == 0.0
    # A08: spoofs tied with the targets: any threshold accepts or rejects both classes together,
    # the operating points are (FPR, FNR) = (0, 1) and (1, 0): EER 0.5 on the line between them
    assert a08["spf_eer"] == pytest.approx(0.5)
    # SASV-EER of A08: negatives 0 0 2 2; points (FPR, FNR) = (0, 1) above 2, (0.5, 0) in (0, 2);
    # interp on the segment: FNR = 1 - 2 FPR = FPR -> 1/3
    assert a08["sasv_eer"] == pytest.approx(1 / 3)
    assert "sv_eer" not in a07 and "sv_eer" in got.pooled.metrics  # same for every attack: pooled only
    assert got.pooled.metrics["eer"] == summarize(SCORES, LABELS).eer
    assert (got.pooled.n_target, got.pooled.n_nontarget, got.pooled.n_spoof) == (2, 2, 4)


def test_partition_and_not_computable_condition():
    # condition "x": targets 2 2 and non-targets 0 0 (EER 0); "y": only spoofs: no target trials
    cond = np.array(["x", "x", "x", "x", "y", "y", "y", "y"], dtype=object)
    got = breakdown(SCORES, LABELS, cond, by="codec.map", evaluator=summary_evaluator())
    x, y = got.rows
    assert x.metrics["eer"] == 0.0 and "spf_eer" not in x.metrics
    assert y.metrics is None and y.not_computable == "no target trials"
    assert got.not_computable() == ["condition 'y' (by codec.map): not computable, no target trials"]


def test_sasv_evaluator_names_the_missing_class():
    cond = np.array(["x"] * 4 + ["y"] * 4, dtype=object)
    cond[[0, 4]] = "y"  # y: a target and spoofs, no non-target
    got = breakdown(SCORES, LABELS, cond, by="m", evaluator=sasv_evaluator())
    rows = {r.condition: r for r in got.rows}
    assert rows["x"].not_computable == "no spoof trials"
    assert rows["y"].not_computable == "no non-target trials"
    assert set(got.pooled.metrics) == {"sasv_eer", "sv_eer", "spf_eer", "min_a_dcf"}


def test_round_trip_through_dict():
    got = breakdown(SCORES, LABELS, attack_conditions(SOURCES, LABELS), by="source", evaluator=sasv_evaluator())
    again = Breakdown.from_dict(got.to_dict(), "x.json")
    assert again == got


def test_source_errors():
    with pytest.raises(AsvbenchError, match="no spoof trials"):
        attack_conditions(["bonafide"] * 4, LABELS[:4])
    with pytest.raises(AsvbenchError, match="name no attack"):
        attack_conditions(SOURCES[:6] + ["-", "A08"], LABELS)
    with pytest.raises(AsvbenchError, match="--by source needs the source"):
        trial_conditions("source", labels=LABELS)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_utterance_map_on_the_test_side_and_on_the_enrolment_side(tmp_path):
    enroll, test = ["m1", "m1", "m2"], ["u1", "u2", "u3"]
    codec = read_condition_map(_write(tmp_path, "codec.map", "# utt codec\nu1 mp3\n\nu2 opus\nu3 mp3\n"))
    assert codec.kind == "utterance" and codec.names() == ["mp3", "opus"]
    assert codec.for_trials(enroll, test).tolist() == ["mp3", "opus", "mp3"]
    gender = read_condition_map(_write(tmp_path, "gender.map", "m1 female\nm2 male\n"))
    assert gender.for_trials(enroll, test).tolist() == ["female", "female", "male"]
    trial = read_condition_map(_write(tmp_path, "trial.map", "m1 u1 short\nm1 u2 long\nm2 u3 long\n"))
    assert trial.kind == "trial" and trial.for_trials(enroll, test).tolist() == ["short", "long", "long"]
    assert codec.lookup(["u3", "zz"]).tolist() == ["mp3", None]


@pytest.mark.parametrize("text, line, message", [
    ("u1 mp3\nu2\n", 2, "2 fields .* or 3 .* this one 1"),
    ("u1 mp3 x y\n", 1, "this one 4"),
    ("u1 mp3\nm1 u2 long\n", 2, "3 fields, line 1 has 2"),
    ("u1 mp3\nu1 opus\n", 2, "listed twice .first on line 1"),
])
def test_map_format_errors_name_the_line(tmp_path, text, line, message):
    path = _write(tmp_path, "bad.map", text)
    with pytest.raises(AsvbenchError, match=message) as err:
        read_condition_map(path)
    assert err.value.where == f"{path}:{line}"


def test_empty_map_and_unmapped_or_unknown_keys(tmp_path):
    with pytest.raises(AsvbenchError, match="empty"):
        read_condition_map(_write(tmp_path, "empty.map", "# nothing\n\n"))
    cmap = read_condition_map(_write(tmp_path, "c.map", "u1 mp3\nu2 opus\nu9 mp3\n"))
    with pytest.raises(AsvbenchError, match="key 'u9' is no test id") as err:
        cmap.for_trials(["m1", "m1"], ["u1", "u2"])
    assert err.value.where == f"{tmp_path / 'c.map'}:3"
    with pytest.raises(AsvbenchError, match="1 of 3 trials have no condition .*'u3'"):
        cmap.for_trials(["m1", "m1", "m1"], ["u1", "u2", "u3"])


def test_gender_from_enrolment_list_names(tmp_path):
    female = _write(tmp_path, "ASVspoof2019.LA.asv.dev.female.trn.txt", "LA_0001 a,b\nLA_0002 c\n")
    male = _write(tmp_path, "ASVspoof2019.LA.asv.dev.male.trn.txt", "LA_0003 d,e\n")
    cmap = gender_map_from_enroll_lists([female, male])
    assert cmap.conditions == {"LA_0001": "female", "LA_0002": "female", "LA_0003": "male"}
    # models the trials do not use are fine (the lists cover a whole set)
    assert cmap.for_trials(["LA_0001", "LA_0003"], ["x", "y"]).tolist() == ["female", "male"]
    with pytest.raises(AsvbenchError, match="does not say the gender"):
        gender_map_from_enroll_lists([_write(tmp_path, "enroll.txt", "LA_0001 a\n")])
    with pytest.raises(AsvbenchError, match="--by gender needs"):
        gender_map_from_enroll_lists([])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5, allow_nan=False), st.sampled_from([T, N]), st.sampled_from("abc")),
                min_size=2, max_size=40))
def test_rows_partition_the_pooled_trials(rows):
    scores = np.array([r[0] for r in rows])
    labels = np.array([r[1] for r in rows])
    cond = np.array([r[2] for r in rows], dtype=object)
    if len(set(labels.tolist())) < 2:
        return
    got = breakdown(scores, labels, cond, by="m", evaluator=summary_evaluator())
    assert sum(r.n_target for r in got.rows) == got.pooled.n_target
    assert sum(r.n_nontarget for r in got.rows) == got.pooled.n_nontarget
    for r in got.rows:
        group = cond == r.condition
        if r.metrics is not None:
            assert r.metrics["eer"] == summarize(scores[group], labels[group]).eer
        else:
            assert len(set(labels[group].tolist())) == 1
