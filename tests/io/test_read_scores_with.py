"""``read_scores_with``: the work (the metrics) starts before the reader's repeated-trial pass
ends, yet the outcome is the one of ``read_scores`` followed by the work."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.io.scores import read_scores, read_scores_with

HEADER = "enroll\ttest\tscore\tlabel\n"


def _write(tmp_path, body: str):
    path = tmp_path / "scores.tsv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_same_table_and_value_as_one_after_the_other(tmp_path):
    path = _write(tmp_path, "a\tb\t0.5\ttarget\na\tc\t-1.25\tnontarget\nb\tc\t2.0\tnontarget\n")
    calls = []

    def work(s, y):
        calls.append(s)
        return float(s[y == 1].sum() - s[y == 0].sum())  # 0.5 - (-1.25 + 2.0) = -0.25

    table, value = read_scores_with(path, work, with_ids=False)
    plain = read_scores(path, with_ids=False)
    assert value == -0.25 and len(calls) == 1 and calls[0] is table.scores  # run once, on the table returned
    np.testing.assert_array_equal(table.scores, plain.scores)
    np.testing.assert_array_equal(table.labels, plain.labels)


def test_a_repeated_trial_is_reported_before_the_work_error(tmp_path):
    path = _write(tmp_path, "a\tb\t0.5\ttarget\na\tc\t0.1\ttarget\na\tb\t0.5\ttarget\n")

    def work(s, y):
        raise AsvbenchError("only one class")  # what the metrics say of an all-target list

    with pytest.raises(AsvbenchError, match="repeats the trial"):
        read_scores_with(path, work, with_ids=False)


def test_the_work_error_is_raised_when_the_file_is_fine(tmp_path):
    path = _write(tmp_path, "a\tb\t0.5\ttarget\na\tc\t0.1\ttarget\n")

    def work(s, y):
        raise AsvbenchError("only one class")

    with pytest.raises(AsvbenchError, match="only one class"):
        read_scores_with(path, work, with_ids=False)


def test_work_runs_on_the_exact_pass_table_when_the_fast_one_is_refused(tmp_path):
    # "1_000" is not a number to pandas (fast pass refused) but is to float() (the exact pass): 1000.0
    path = _write(tmp_path, "a\tb\t1_000\ttarget\na\tc\t0.5\tnontarget\n")
    seen = []
    table, value = read_scores_with(path, lambda s, y: seen.append(s) or s.tolist(), with_ids=False)
    assert value == [1000.0, 0.5] and seen[-1] is table.scores
