"""Where trial keys sit in an embedding store: the one place that picks which of the store's
indexes answers, so a scorer never sees bytes, str or index types.

A store has three indexes: a dict (:attr:`EmbeddingStore.index`, which also rejects duplicate
keys), a byte-level :class:`~asvbench.io._bytes.KeyIndex` (:meth:`EmbeddingStore.byte_index`)
for lists the byte parser read (``Trials.key_bytes``; no ``str`` per trial is ever made), and a
pandas index for everything else (lists read as text, enrolment maps, pooled multi-row stores).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from asvbench.io.embeddings import EmbeddingStore

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where it is used (start-up time)
    import pandas as pd

    from asvbench.io.trial_ids import TrialIds  # a protocol: trials/ imports io, not the reverse


class StoreKeys:
    """The keys of one store, with the lookups built once, on first use."""

    def __init__(self, store: EmbeddingStore):
        self.store = store
        self._pandas: pd.Index | None = None
        self._array: np.ndarray | None = None

    def positions(self, keys: Sequence[str] | np.ndarray) -> np.ndarray:
        """Position of each key in the store (int64, -1 where absent)."""
        if self._pandas is None:
            import pandas as pd

            self.store.index  # noqa: B018 - the property raises on duplicate keys
            self._pandas = pd.Index(self.store.keys)
        return self._pandas.get_indexer(keys)

    def names(self, positions: np.ndarray) -> np.ndarray:
        """The keys at ``positions`` (an object array; positions must be >= 0)."""
        if self._array is None:
            self._array = np.asarray(self.store.keys, dtype=object)
        return self._array[positions]


def trial_positions(trials: TrialIds, which: str, keys: StoreKeys) -> np.ndarray:
    """Position in the store of each trial's ``which`` key ("enroll" or "test"; -1 where absent)."""
    byte_lookup = _byte_lookup(trials, which, keys.store)
    if byte_lookup is not None:
        return byte_lookup()
    return keys.positions(getattr(trials, which))


def both_trial_positions(trials: TrialIds, enroll: StoreKeys, test: StoreKeys) -> tuple[np.ndarray, np.ndarray]:
    """:func:`trial_positions` of both sides; at the byte level on two threads (numpy releases the GIL)."""
    lookups = (_byte_lookup(trials, "enroll", enroll.store), _byte_lookup(trials, "test", test.store))
    if lookups[0] is None or lookups[1] is None:
        return trial_positions(trials, "enroll", enroll), trial_positions(trials, "test", test)
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(lookup) for lookup in lookups]
        return jobs[0].result(), jobs[1].result()


def _byte_lookup(trials: TrialIds, which: str, store: EmbeddingStore):
    """A call that looks the side up at the byte level, or None when that cannot be done exactly."""
    raw = trials.key_bytes.get(which)
    if raw is None:
        return None
    index = store.byte_index()
    if index is None:
        return None
    return lambda: index.lookup(raw)
