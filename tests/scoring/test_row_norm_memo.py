"""score_trials with a memo kept across calls (the chunks of a streamed list): each store row's inverse
norm is computed once, and every score, error and kept trial is the one of a call without it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import load_embeddings
from asvbench.scoring import cosine
from asvbench.scoring.cosine import score_trials
from asvbench.testing import write_store, write_trials
from asvbench.trials.chunks import iter_trial_chunks
from asvbench.types import Label


def _outcome(chunk, test, enroll, center, precision, memo):
    try:
        scored = score_trials(chunk.trials, test, enroll_store=enroll, center=center, allow_missing=True,
                              precision=precision, allow_none_kept=True, memo=memo)
    except AsvbenchError as exc:
        return str(exc)
    return scored.scores.tobytes(), scored.kept.tobytes(), scored.enroll_side.inv_norm.tobytes(), \
        scored.test_side.inv_norm.tobytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_keys=st.integers(2, 9), n_trials=st.integers(1, 50),
       chunk_bytes=st.integers(20, 400), two_stores=st.booleans(), centred=st.booleans(),
       precision=st.sampled_from(["float32", "float64"]), zero_row=st.booleans())
def test_a_memo_across_chunks_changes_nothing(tmp_path_factory, seed, n_keys, n_trials, chunk_bytes, two_stores,
                                              centred, precision, zero_row):
    tmp_path = tmp_path_factory.mktemp("memo")
    rng = np.random.default_rng(seed)
    keys = [f"s{i % 2}/u{i}.wav" for i in range(n_keys)]
    vectors = {k: rng.standard_normal(8) * 10.0 ** rng.integers(-3, 3) for k in keys}
    center = rng.standard_normal(8) if centred else None
    if zero_row:  # one row of zero norm (after centring): any chunk that uses it is an error
        vectors[keys[-1]] = center.copy() if centred else np.zeros(8)
    test = load_embeddings(write_store(tmp_path / "test", vectors))
    enroll = load_embeddings(write_store(tmp_path / "enroll", {k: vectors[k] for k in keys[::-1]})) if two_stores \
        else None
    if center is not None:
        center = center.astype(np.float32).astype(np.float64)  # the stored rows are float32
    names = keys + ["absent.wav"]
    enroll_ids = [names[int(i)] for i in rng.integers(0, len(names), n_trials)]
    test_ids = [names[int(i)] for i in rng.integers(0, len(names), n_trials)]
    trials = write_trials(tmp_path / "t.txt", enroll_ids, test_ids, [Label.TARGET] * n_trials)
    memo: dict = {}
    for chunk in iter_trial_chunks(trials, "voxceleb", chunk_bytes):
        assert _outcome(chunk, test, enroll, center, precision, memo) == \
            _outcome(chunk, test, enroll, center, precision, None)
    for norms in memo.get("row_norms", []):  # what is kept is what a call computes for those rows
        have = np.flatnonzero(~np.isnan(norms.inv))
        want = cosine._inverse_norms(norms.matrix, have, norms.center, have, "embedding")
        assert norms.inv[have].tobytes() == want.tobytes()


def test_each_row_is_computed_once_across_chunks(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    keys = [f"u{i}.wav" for i in range(6)]
    test = load_embeddings(write_store(tmp_path / "store", {k: rng.standard_normal(4) for k in keys}))
    pairs = [(a, b) for a in keys for b in keys if a != b]
    trials = write_trials(tmp_path / "t.txt", [a for a, _ in pairs], [b for _, b in pairs], [Label.TARGET] * 30)
    computed = []
    real = cosine._inverse_norms

    def counting(matrix, rows, center, ids, what):
        computed.extend(rows.tolist())
        return real(matrix, rows, center, ids, what)

    monkeypatch.setattr(cosine, "_inverse_norms", counting)
    memo: dict = {}
    chunks = list(iter_trial_chunks(trials, "voxceleb", 100))
    assert len(chunks) > 3
    for chunk in chunks:
        score_trials(chunk.trials, test, memo=memo)
    assert sorted(computed) == list(range(6))  # 6 rows, each once, over every chunk


def test_a_zero_norm_row_in_a_later_chunk_is_the_same_error(tmp_path):
    vectors = {"a.wav": [1.0, 0.0], "b.wav": [0.0, 1.0], "c.wav": [1.0, 1.0], "zero.wav": [0.0, 0.0]}
    test = load_embeddings(write_store(tmp_path / "store", vectors))
    trials = write_trials(tmp_path / "t.txt", ["a.wav", "b.wav", "c.wav", "a.wav"], ["b.wav", "c.wav", "a.wav",
                                                                                   "zero.wav"], [Label.TARGET] * 4)
    memo: dict = {}
    chunks = list(iter_trial_chunks(trials, "voxceleb", 10))
    for chunk in chunks[:-1]:
        score_trials(chunk.trials, test, memo=memo)
    with pytest.raises(AsvbenchError) as with_memo:
        score_trials(chunks[-1].trials, test, memo=memo)
    with pytest.raises(AsvbenchError) as without:
        score_trials(chunks[-1].trials, test)
    assert str(with_memo.value) == str(without.value) and "'zero.wav' has zero norm" in str(without.value)
