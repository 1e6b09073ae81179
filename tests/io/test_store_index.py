"""``io.store_index``: where trial keys sit in a store, whichever index answers (the byte-level
``KeyIndex`` for lists the byte parser read, a pandas index otherwise), against a dict written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io.embeddings import EmbeddingStore
from asvbench.io.store_index import StoreKeys, both_trial_positions, trial_positions
from asvbench.trials.read import Trials, read_trials

KEY = st.text(alphabet="abcxyz019/._-", min_size=1, max_size=12)


def _store(keys: list[str]) -> EmbeddingStore:
    return EmbeddingStore(keys=keys, matrix=np.ones((len(keys), 2), np.float32))


def _expected(store_keys: list[str], wanted: list[str]) -> list[int]:
    where = {k: i for i, k in enumerate(store_keys)}
    return [where.get(k, -1) for k in wanted]


def _list_file(tmp_path: Path, pairs: list[tuple[str, str]]) -> Path:
    path = tmp_path / "trials.txt"
    path.write_text("".join(f"1 {e} {t}\n" for e, t in pairs))
    return path


@settings(max_examples=40, deadline=None)
@given(store_keys=st.lists(KEY, min_size=1, max_size=20, unique=True),
       pairs=st.lists(st.tuples(KEY, KEY), min_size=1, max_size=30, unique=True))
def test_byte_and_text_lists_find_the_same_positions(tmp_path_factory, store_keys, pairs):
    path = _list_file(tmp_path_factory.mktemp("l"), pairs)
    from_bytes = read_trials(path, "voxceleb")
    assert from_bytes.key_bytes  # the byte parser read it: the KeyIndex answers
    enroll, test = (np.array(side, dtype=object) for side in zip(*pairs))
    from_text = Trials(enroll, test, from_bytes.labels, "voxceleb", str(path))
    assert not from_text.key_bytes  # str ids only: the pandas index answers
    keys = StoreKeys(_store(store_keys))
    for which, side in (("enroll", enroll), ("test", test)):
        want = _expected(store_keys, list(side))
        assert trial_positions(from_bytes, which, keys).tolist() == want
        assert trial_positions(from_text, which, keys).tolist() == want
    both = both_trial_positions(from_bytes, keys, keys)
    assert [p.tolist() for p in both] == [_expected(store_keys, list(enroll)), _expected(store_keys, list(test))]


def test_names_and_positions_of_str_keys():
    keys = StoreKeys(_store(["a/1.wav", "b/2.wav", "c/3.wav"]))
    assert keys.positions(["c/3.wav", "zzz", "a/1.wav"]).tolist() == [2, -1, 0]
    assert keys.names(np.array([1, 2])).tolist() == ["b/2.wav", "c/3.wav"]


def test_duplicate_store_keys_are_an_error(tmp_path):
    keys = StoreKeys(_store(["a", "b", "a"]))
    with pytest.raises(AsvbenchError, match="duplicate keys"):
        keys.positions(["a"])
    with pytest.raises(AsvbenchError, match="duplicate keys"):
        trial_positions(read_trials(_list_file(tmp_path, [("a", "b")]), "voxceleb"), "enroll", keys)
