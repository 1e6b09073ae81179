"""Regression comparison of result records."""

from __future__ import annotations

import pytest

from asvbench.errors import AsvbenchError
from asvbench.report.compare import compare_records, parse_tolerance
from asvbench.results import ResultRecord
from asvbench.trials.fingerprint import TrialsFingerprint

FP = TrialsFingerprint(sha256="x", content_sha256="c" * 64, n_lines=4)


def rec(eer=0.0100, dcf=0.100, trials=FP, **kw):
    return ResultRecord(system="S", benchmark="custom:b", metrics={"eer": eer, "min_dcf": {"0.01": dcf}},
                        trials=trials, **kw)


def test_parse_tolerance():
    assert parse_tolerance("eer=0.01, min_dcf=0.005") == {"eer": 0.01, "min_dcf": 0.005}
    for bad in ("eer", "eer=x", "eer=-1", "=1"):
        with pytest.raises(AsvbenchError, match="bad --tolerance"):
            parse_tolerance(bad)


def test_identical_is_ok():
    assert compare_records(rec(), rec()).ok


def test_worse_within_and_beyond_tolerance():
    # EER 1.00 % -> 1.008 %: +0.008 percentage points, within eer=0.01
    within = compare_records(rec(), rec(eer=0.01008), {"eer": 0.01})
    assert within.ok
    assert {d.key: d.status for d in within.diffs}["eer"] == "worse-within-tolerance"
    # 1.00 % -> 1.02 %: +0.02 points > 0.01
    beyond = compare_records(rec(), rec(eer=0.0102), {"eer": 0.01})
    assert not beyond.ok
    assert beyond.regressions[0].startswith("EER (%) got worse by 0.02")
    # minDCF 0.100 -> 0.104 within min_dcf=0.005 (family key); 0.100 -> 0.106 beyond
    assert compare_records(rec(), rec(dcf=0.104), {"min_dcf": 0.005}).ok
    assert not compare_records(rec(), rec(dcf=0.106), {"min_dcf@0.01": 0.005}).ok


def test_better_is_ok():
    cmp = compare_records(rec(), rec(eer=0.005, dcf=0.05))
    assert cmp.ok and {d.status for d in cmp.diffs} == {"better"}


def test_trial_list_change_is_a_regression():
    other = TrialsFingerprint(sha256="y", content_sha256="d" * 64, n_lines=5)
    cmp = compare_records(rec(), rec(trials=other))
    assert not cmp.ok and "trial list changed" in cmp.regressions[0]
    same_content = TrialsFingerprint(sha256="z", content_sha256="c" * 64, n_lines=4, line_endings="crlf")
    cmp = compare_records(rec(), rec(trials=same_content))
    assert cmp.ok and cmp.notes


def test_missing_metric_and_definitions():
    new = ResultRecord(system="S", benchmark="custom:b", metrics={"eer": 0.01}, trials=FP)
    assert "missing from the new record" in compare_records(rec(), new).regressions[0]
    cmp = compare_records(rec(definitions={"eer_method": "interp"}), rec(definitions={"eer_method": "rocch"}))
    assert not cmp.ok


def test_tolerance_for_unknown_metric():
    with pytest.raises(AsvbenchError, match="baseline does not have: t_dcf"):
        compare_records(rec(), rec(), {"t_dcf": 0.1})
