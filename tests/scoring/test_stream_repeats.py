"""The streamed repeated-trial check (store rows for found trials, key hashes for the rest) finds a
repeat exactly when the list names one (enrolment, test) pair twice, whichever chunks hold them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.io.embeddings import load_embeddings
from asvbench.scoring.cosine import score_trials
from asvbench.scoring.stream import _PairHashes, score_streamed
from asvbench.testing import write_store, write_trials
from asvbench.trials.chunks import NotStreamable, iter_trial_chunks
from asvbench.types import Label


def _stores(tmp_path, n_keys: int, rng, multi_row: bool = False, two_stores: bool = False):
    keys = [f"spk{i % 3}/utt{i}.wav" for i in range(n_keys)]

    def vectors(k: str):
        return rng.standard_normal((2, 4)) + 0.5 if multi_row and k.endswith("0.wav") else rng.standard_normal(4) + 0.5

    test = load_embeddings(write_store(tmp_path / "test", {k: vectors(k) for k in keys}))
    if not two_stores:
        return keys, test, None
    # the enrolment store holds the keys in another order (other rows) and fewer of them
    enroll_keys = keys[::-1][: max(1, n_keys - 1)]
    enroll = load_embeddings(write_store(tmp_path / "enroll", {k: vectors(k) for k in enroll_keys}))
    return keys, test, enroll


def _streams(trials, test, enroll, chunk_bytes: int) -> bool:
    try:
        score_streamed(trials, "voxceleb", test, out=None, enroll_store=enroll, allow_missing=True,
                       chunk_bytes=chunk_bytes)
    except NotStreamable as exc:
        assert str(exc) == "repeated trials"
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_keys=st.integers(2, 7), n_trials=st.integers(1, 40),
       chunk_bytes=st.integers(1, 300), multi_row=st.booleans(), two_stores=st.booleans())
def test_a_repeat_is_found_exactly_when_a_pair_is_listed_twice(tmp_path_factory, seed, n_keys, n_trials, chunk_bytes,
                                                               multi_row, two_stores):
    tmp_path = tmp_path_factory.mktemp("repeats")
    rng = np.random.default_rng(seed)
    keys, test, enroll = _stores(tmp_path, n_keys, rng, multi_row, two_stores)
    names = keys + ["absent1.wav", "absent2.wav"]  # trials with missing keys too
    enroll_ids = [names[int(i)] for i in rng.integers(0, len(names), n_trials)]
    test_ids = [names[int(i)] for i in rng.integers(0, len(names), n_trials)]
    labels = [Label.TARGET if i % 2 else Label.NONTARGET for i in range(n_trials)]
    trials = write_trials(tmp_path / "trials.txt", enroll_ids, test_ids, labels)
    listed_twice = len(set(zip(enroll_ids, test_ids))) < n_trials  # the plain check
    assert _streams(trials, test, enroll, chunk_bytes) == (not listed_twice)


@pytest.mark.parametrize("where", ["found", "missing"])
def test_a_repeat_chunks_apart_is_found_for_found_and_for_missing_keys(tmp_path, where):
    rng = np.random.default_rng(1)
    keys, test, _ = _stores(tmp_path, 6, rng)
    enroll_ids = [keys[i % 6] for i in range(30)]
    test_ids = [keys[(i // 6 + i) % 6] for i in range(30)]
    assert len(set(zip(enroll_ids, test_ids))) == 30
    if where == "missing":
        test_ids[1] = "absent.wav"
    enroll_ids.append(enroll_ids[1])
    test_ids.append(test_ids[1])
    trials = write_trials(tmp_path / "trials.txt", enroll_ids, test_ids, [Label.TARGET] * 31)
    assert not _streams(trials, test, None, chunk_bytes=64)
    write_trials(trials, enroll_ids[:-1], test_ids[:-1], [Label.TARGET] * 30)
    assert _streams(trials, test, None, chunk_bytes=64)


def test_found_trials_are_their_pair_of_store_rows(tmp_path):
    # the codes of the found trials are enrolment row * test rows + test row, hand-computed here
    rng = np.random.default_rng(2)
    keys, test, enroll = _stores(tmp_path, 5, rng, two_stores=True)
    enroll_ids = [keys[0], keys[4], "absent.wav", keys[1]]
    test_ids = [keys[2], keys[0], keys[3], keys[1]]
    trials = write_trials(tmp_path / "trials.txt", enroll_ids, test_ids, [Label.TARGET] * 4)
    (chunk,) = iter_trial_chunks(trials, "voxceleb")
    scored = score_trials(chunk.trials, test, enroll_store=enroll, allow_missing=True)
    assert scored.store_rows
    pairs = _PairHashes(len(test))
    pairs.add(chunk.trials, scored)
    (codes,) = pairs._rows
    enroll_row = {k: i for i, k in enumerate(enroll.keys)}
    test_row = {k: i for i, k in enumerate(test.keys)}
    want = [enroll_row[e] * 5 + test_row[t] for e, t in zip(enroll_ids, test_ids) if e in enroll_row]
    assert codes.tolist() == want
    assert len(want) == 2  # keys[0] is not in the enrolment store either
    assert [h.shape[0] for h in pairs._hashes] == [2]  # the trials with a missing key are hashed
