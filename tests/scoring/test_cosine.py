"""Cosine scoring: hand-checkable geometry, centring, multi-row pooling, enrolment maps, missing keys."""

from __future__ import annotations

import math

import numpy as np
import pytest

import asvbench.scoring.cosine as cosine_mod
from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import load_embeddings
from asvbench.scoring.cosine import load_center, score_trials
from asvbench.testing import write_geometry_case, write_store
from asvbench.trials.read import Trials, read_trials
from asvbench.types import Label


def _trials(pairs, labels=None):
    enroll = np.array([e for e, _ in pairs], dtype=object)
    test = np.array([t for _, t in pairs], dtype=object)
    lab = np.array(labels if labels is not None else [Label.TARGET] * len(pairs), dtype=np.int8)
    return Trials(enroll, test, lab, "kaldi")


def _store(tmp_path, name, vectors):
    return load_embeddings(write_store(tmp_path / name, vectors))


def test_known_angles(tmp_path):
    case = write_geometry_case(tmp_path)
    trials = read_trials(case.trials)
    scored = score_trials(trials, load_embeddings(case.store))
    want = [case.expected[(e, t)] for e, t in zip(trials.enroll, trials.test)]
    # e.g. 0 vs 60 degrees -> 0.5, 0 vs 90 -> 0, 0 vs 180 -> -1, 45 vs 90 -> cos 45 = 0.7071
    np.testing.assert_allclose(scored.scores, want, atol=1e-7)  # float32 storage
    assert scored.scores[list(zip(trials.enroll, trials.test)).index(("a000", "d060"))] == pytest.approx(0.5)
    assert scored.scores[list(zip(trials.enroll, trials.test)).index(("a000", "f180"))] == pytest.approx(-1.0)
    assert scored.kept.all() and scored.n_missing_trials == 0 and scored.scores.dtype == np.float64


def test_centring(tmp_path):
    # u = (2,1), v = (1,2): raw cosine 4/5 = 0.8; minus centre (1,1): (1,0) . (0,1) = 0
    store = _store(tmp_path, "s", {"u": [2.0, 1.0], "v": [1.0, 2.0]})
    trials = _trials([("u", "v")])
    assert score_trials(trials, store).scores[0] == pytest.approx(0.8)
    assert score_trials(trials, store, center=np.array([1.0, 1.0])).scores[0] == pytest.approx(0.0, abs=1e-12)
    # centre (0, 1): (2,0) . (1,1) / (2 sqrt2) = 1/sqrt2
    assert score_trials(trials, store, center=np.array([0.0, 1.0])).scores[0] == pytest.approx(1 / math.sqrt(2))


def test_load_center(tmp_path):
    np.save(tmp_path / "c.npy", np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(load_center(tmp_path / "c.npy"), [1.0, 2.0])
    write_store(tmp_path / "train", {"a": [1.0, 0.0], "b": [3.0, 4.0]})
    np.testing.assert_allclose(load_center(tmp_path / "train"), [2.0, 2.0])  # mean of the rows
    np.save(tmp_path / "bad.npy", np.ones((2, 2)))
    with pytest.raises(AsvbenchError, match="must hold one vector"):
        load_center(tmp_path / "bad.npy")


def test_pool_norm_on_multi_row(tmp_path):
    # x has rows (3,0) and (0,1); y = (1,0)
    store = _store(tmp_path, "s", {"x": [[3.0, 0.0], [0.0, 1.0]], "y": [[1.0, 0.0]]})
    trials = _trials([("x", "y")])
    # none: mean (1.5, 0.5); cos with (1,0) = 1.5 / sqrt(2.5) = 0.9486833
    assert score_trials(trials, store, pool_norm="none").scores[0] == pytest.approx(1.5 / math.sqrt(2.5))
    # l2: rows (1,0), (0,1) -> mean (0.5, 0.5); cos = 0.5 / sqrt(0.5) = 0.7071068
    assert score_trials(trials, store, pool_norm="l2").scores[0] == pytest.approx(math.sqrt(0.5))
    with pytest.raises(AsvbenchError, match="unknown pooling norm 'max'"):
        score_trials(trials, store, pool_norm="max")


def test_enroll_map_pools_all_rows_of_all_utterances(tmp_path):
    # model M = utterances x (rows (3,0), (0,1)) and z (row (0,4)); test y = (1,0)
    store = _store(tmp_path, "s", {"x": [[3.0, 0.0], [0.0, 1.0]], "z": [[0.0, 4.0]], "y": [[1.0, 0.0]]})
    trials = _trials([("M", "y")])
    emap = {"M": ["x", "z"]}
    # none: all three rows averaged: ((3,0) + (0,1) + (0,4))/3 = (1, 5/3); cos = 1/sqrt(1 + 25/9) = 3/sqrt(34)
    # (averaging the two utterance means instead would give (0.75, 2.25) -> 0.316)
    got = score_trials(trials, store, enroll_map=emap, pool_norm="none").scores[0]
    assert got == pytest.approx(3 / math.sqrt(34))
    # l2: rows (1,0), (0,1), (0,1) -> (1/3, 2/3); cos = (1/3) / sqrt(5/9) = 1/sqrt(5)
    assert score_trials(trials, store, enroll_map=emap, pool_norm="l2").scores[0] == pytest.approx(1 / math.sqrt(5))


def test_enroll_map_single_row_store_and_separate_enroll_store(tmp_path):
    enroll_store = _store(tmp_path, "enr", {"p": [2.0, 0.0], "q": [0.0, 1.0]})
    test_store = _store(tmp_path, "tst", {"t": [1.0, 0.0]})
    trials = _trials([("M", "t")])
    # none: ((2,0) + (0,1))/2 = (1, 0.5): cos with (1,0) = 1/sqrt(1.25) = 0.8944272
    got = score_trials(trials, test_store, enroll_store=enroll_store, enroll_map={"M": ["p", "q"]})
    assert got.scores[0] == pytest.approx(1 / math.sqrt(1.25))
    # l2: (1,0) and (0,1) -> (0.5, 0.5): 1/sqrt2
    got = score_trials(trials, test_store, enroll_store=enroll_store, enroll_map={"M": ["p", "q"]}, pool_norm="l2")
    assert got.scores[0] == pytest.approx(1 / math.sqrt(2))
    # a plain separate enrolment store, no map: cos((2,0), (1,0)) = 1
    assert score_trials(_trials([("p", "t")]), test_store, enroll_store=enroll_store).scores[0] == pytest.approx(1.0)


def test_missing_keys_listed(tmp_path):
    store = _store(tmp_path, "s", {"a": [1.0, 0.0], "b": [0.0, 1.0]})
    pairs = [("a", "b")] + [("a", f"m{i}") for i in range(7)] + [("gone", "b")]
    with pytest.raises(AsvbenchError) as info:
        score_trials(_trials(pairs), store)
    message = str(info.value)
    assert "7 test keys (first: 'm0', 'm1', 'm2', 'm3', 'm4')" in message
    assert "'m5'" not in message
    assert "1 enrolment keys (first: 'gone')" in message
    assert "--allow-missing" in message


def test_allow_missing_skips_and_counts(tmp_path):
    store = _store(tmp_path, "s", {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 1.0]})
    pairs = [("a", "b"), ("a", "x"), ("a", "c"), ("y", "c"), ("a", "x")]
    scored = score_trials(_trials(pairs), store, allow_missing=True)
    assert list(scored.kept) == [True, False, True, False, False]
    assert scored.n_missing_trials == 3
    assert scored.missing == {"enrolment keys": ["y"], "test keys": ["x"]}
    # cos((1,0),(0,1)) = 0; cos((1,0),(1,1)) = 1/sqrt2
    np.testing.assert_allclose(scored.scores, [0.0, 1 / math.sqrt(2)], atol=1e-12)


def test_enroll_map_missing(tmp_path):
    store = _store(tmp_path, "s", {"a": [1.0, 0.0], "t": [0.0, 1.0]})
    trials = _trials([("M", "t"), ("N", "t")])
    with pytest.raises(AsvbenchError) as info:
        score_trials(trials, store, enroll_map={"M": ["a", "lost1", "lost2"]})
    message = str(info.value)
    assert "1 enrolment models without an enrolment list (first: 'N')" in message
    assert "2 enrolment utterances (first: 'lost1', 'lost2')" in message
    with pytest.raises(AsvbenchError, match="trial keys missing"):  # nothing left to score
        score_trials(trials, store, enroll_map={"M": ["lost"]}, allow_missing=True)


def test_scores_independent_of_trial_order(tmp_path):
    rng = np.random.default_rng(0)
    vectors = {f"u{i}": rng.normal(size=(int(rng.integers(1, 4)), 5)) for i in range(12)}
    store = _store(tmp_path, "s", vectors)
    pairs = [(f"u{rng.integers(12)}", f"u{rng.integers(12)}") for _ in range(40)]
    perm = rng.permutation(40)
    for norm in ("none", "l2"):
        a = score_trials(_trials(pairs), store, pool_norm=norm).scores
        b = score_trials(_trials([pairs[i] for i in perm]), store, pool_norm=norm).scores
        np.testing.assert_allclose(b, a[perm], rtol=0, atol=1e-14)


def test_blocks_match_direct_computation(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    mat = rng.normal(size=(9, 4)).astype(np.float32)
    store = _store(tmp_path, "s", {f"k{i}": mat[i] for i in range(9)})
    e_idx, t_idx = rng.integers(0, 9, 50), rng.integers(0, 9, 50)
    center = rng.normal(size=4) * 0.1
    m = mat.astype(np.float64) - center
    direct = np.array([m[i] @ m[j] / (np.linalg.norm(m[i]) * np.linalg.norm(m[j])) for i, j in zip(e_idx, t_idx)])
    monkeypatch.setattr(cosine_mod, "_BLOCK", 7)  # several blocks with a ragged last one
    trials = _trials([(f"k{i}", f"k{j}") for i, j in zip(e_idx, t_idx)])
    got64 = score_trials(trials, store, center=center, precision="float64").scores
    np.testing.assert_allclose(got64, direct, rtol=1e-12, atol=1e-12)
    # float32 unit vectors: each component carries a relative error <= 2**-24, so a cosine
    # of two unit vectors is off by at most about 4-d * 2**-24 ~ 2.4e-7 here
    got32 = score_trials(trials, store, center=center).scores
    np.testing.assert_allclose(got32, direct, rtol=0, atol=1e-6)


def test_dimension_mismatch_between_stores(tmp_path):
    a = _store(tmp_path, "a", {"e": [1.0, 0.0, 0.0]})
    b = _store(tmp_path, "b", {"t": [1.0, 0.0]})
    with pytest.raises(AsvbenchError, match="enrolment store 3-d, test store 2-d"):
        score_trials(_trials([("e", "t")]), b, enroll_store=a)
    with pytest.raises(AsvbenchError, match=r"centring vector has shape \(3,\), embeddings are 2-d"):
        score_trials(_trials([("t", "t")]), b, center=np.zeros(3))


def test_zero_norm_embeddings(tmp_path):
    store = _store(tmp_path, "s", {"a": [1.0, 0.0], "z": [0.0, 0.0], "c": [1.0, 1.0]})
    with pytest.raises(AsvbenchError, match="test embedding 'z' has zero norm"):
        score_trials(_trials([("a", "z")]), store)
    with pytest.raises(AsvbenchError, match="enrolment embedding 'c' has zero norm after centring"):
        score_trials(_trials([("c", "a")]), store, center=np.array([1.0, 1.0]))


def test_duplicate_store_keys(tmp_path):
    from asvbench.io.embeddings import write_native_store

    store = load_embeddings(write_native_store(tmp_path / "d", ["a", "a"], np.eye(2)))
    with pytest.raises(AsvbenchError, match="duplicate keys"):
        score_trials(_trials([("a", "a")]), store)
