"""summarize(): every headline metric in one result, and its JSON-ready dict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.metrics import (
    EER_METHODS,
    act_dcf,
    cllr,
    compute_eer,
    min_cllr,
    min_dcf,
    sasv_eers,
    summarize,
)
from asvbench.testing import synthetic_scores
from asvbench.types import Label

BASE_KEYS = {"n_target", "n_nontarget", "n_spoof", "eer", "eer_threshold", "eer_method", "min_dcf", "act_dcf",
             "cllr", "min_cllr", "c_miss", "c_fa"}


def test_binary_summary_matches_the_metric_functions():
    scores, labels = synthetic_scores(50, 150, seed=1)
    got = summarize(scores, labels, p_targets=(0.01, 0.05), c_miss=2.0, c_fa=1.0)
    tar = labels == Label.TARGET
    assert (got.n_target, got.n_nontarget, got.n_spoof) == (50, 150, 0)
    assert got.eer == compute_eer(scores, tar).eer
    assert got.eer_threshold == compute_eer(scores, tar).threshold
    assert got.min_dcf == {"0.01": min_dcf(scores, tar, 0.01, 2.0, 1.0).value,
                           "0.05": min_dcf(scores, tar, 0.05, 2.0, 1.0).value}
    assert got.act_dcf == {"0.01": act_dcf(scores, tar, 0.01, 2.0, 1.0).value,
                           "0.05": act_dcf(scores, tar, 0.05, 2.0, 1.0).value}
    assert got.cllr == cllr(scores, tar)
    assert got.min_cllr == pytest.approx(min_cllr(scores, tar))
    d = got.to_dict()
    assert set(d) == BASE_KEYS  # no SASV keys without spoof trials, no empty 'extra'
    json.dumps(d)


def test_sasv_summary():
    scores, labels = synthetic_scores(40, 60, 80, seed=2)
    got = summarize(scores, labels, eer_method="roc")
    want = sasv_eers(scores, labels, "roc")
    assert (got.sasv_eer, got.sv_eer, got.spf_eer) == (want.sasv_eer, want.sv_eer, want.spf_eer)
    # the headline EER is target vs everything else (non-target and spoof), i.e. the SASV-EER
    assert got.eer == want.sasv_eer
    assert (got.n_target, got.n_nontarget, got.n_spoof) == (40, 60, 80)
    assert set(got.to_dict()) == BASE_KEYS | {"sasv_eer", "sv_eer", "spf_eer"}


@pytest.mark.parametrize("method", EER_METHODS)
def test_every_method(method):
    scores, labels = synthetic_scores(20, 30, seed=3)
    got = summarize(scores, labels, eer_method=method)
    assert got.eer_method == method
    assert got.eer == compute_eer(scores, labels == Label.TARGET, method).eer


def test_default_prior_key():
    scores, labels = synthetic_scores(5, 5)
    assert list(summarize(scores, labels).min_dcf) == ["0.01"]
    assert list(summarize(scores, labels, p_targets=()).min_dcf) == ["0.01"]


def test_errors():
    scores, labels = synthetic_scores(5, 5)
    with pytest.raises(AsvbenchError, match="unknown EER method"):
        summarize(scores, labels, eer_method="nope")
    with pytest.raises(AsvbenchError, match="only non-target"):
        summarize(scores[5:], labels[5:])
    with pytest.raises(AsvbenchError, match="NaN"):
        summarize(np.where(np.arange(10) == 3, np.nan, scores), labels)
