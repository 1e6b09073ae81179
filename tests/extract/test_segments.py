"""Crops and truncation, against hand-computed values of the TaoRuijie evaluation rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.extract.plan import PlannedItem, make_batches, select_shard
from asvbench.extract.segments import crop_starts, fixed_crops, seconds_to_samples, truncate, wrap_pad
from asvbench.io.audio import AudioItem


def test_crop_length_default() -> None:
    # TaoRuijie: max_audio = 300 * 160 + 240 = 48,240 samples = 3.015 s at 16 kHz
    assert seconds_to_samples(3.015, 16000) == 300 * 160 + 240


def test_crop_starts_evenly_spaced() -> None:
    # 100,000 samples, crop 48,240: span 51,760; linspace(0, 51760, 5) steps of 12,940
    assert crop_starts(100_000, 48_240, 5).tolist() == [0, 12_940, 25_880, 38_820, 51_760]
    # span 10, 4 crops: linspace = 0, 3.33, 6.67, 10 -> int() truncation -> 0, 3, 6, 10
    assert crop_starts(20, 10, 4).tolist() == [0, 3, 6, 10]


def test_short_utterance_is_wrap_padded() -> None:
    x = np.array([1, 2, 3], np.float32)
    assert wrap_pad(x, 7).tolist() == [1, 2, 3, 1, 2, 3, 1]
    crops = fixed_crops(x, 7, 3)
    # all starts are 0 (span 0): three copies of the wrap-padded utterance
    assert crops.shape == (3, 7) and (crops == np.array([1, 2, 3, 1, 2, 3, 1], np.float32)).all()


def test_truncate() -> None:
    x = np.arange(10, dtype=np.float32)
    assert truncate(x, 4).tolist() == [0, 1, 2, 3]
    assert truncate(x, None) is x and truncate(x, 20) is x


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), crop=st.integers(1, 200), k=st.integers(1, 7))
def test_crops_are_slices_of_the_padded_utterance(n: int, crop: int, k: int) -> None:
    x = np.arange(n, dtype=np.float32)
    crops = fixed_crops(x, crop, k)
    assert crops.shape == (k, crop)
    assert crops[0, 0] == 0  # the first crop starts at the beginning
    if n >= crop and k > 1:  # (linspace with one point gives only the start)
        assert crops[-1, -1] == n - 1  # and the last one ends at the end
    for row in crops:  # every crop is a run of consecutive samples of the wrap-padded signal
        expected = (np.arange(int(row[0]), int(row[0]) + crop) % n) if n < crop else np.arange(row[0], row[0] + crop)
        assert (row == expected).all()


@settings(max_examples=40, deadline=None)
@given(keys=st.lists(st.text("abcdef", min_size=1, max_size=5), min_size=1, max_size=30, unique=True),
       n=st.integers(1, 5))
def test_shards_partition_the_keys(keys: list[str], n: int) -> None:
    items = [AudioItem(k, f"/x/{k}.wav") for k in keys]
    shards = [select_shard(items, (i, n)) for i in range(n)]
    seen = [it.key for s in shards for it in s]
    assert sorted(seen) == sorted(keys) and len(seen) == len(set(seen))
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 1
    # deterministic: input order does not matter
    assert select_shard(items[::-1], (0, n)) == shards[0]


def test_batches_are_length_sorted() -> None:
    planned = [PlannedItem("c", "c", 30), PlannedItem("a", "a", 10), PlannedItem("b", "b", 10), PlannedItem("d", "d", -1)]
    batches = make_batches(planned, 2)
    assert [[it.key for it in b] for b in batches] == [["d", "a"], ["b", "c"]]
    batches = make_batches(planned, 3, longest_first=True)
    assert [[it.key for it in b] for b in batches] == [["c", "b", "a"], ["d"]]


def test_worker_batch_size() -> None:
    from asvbench.extract.plan import worker_batch_size

    assert worker_batch_size(16, 100, 2) == 7  # ceil(100 / 16): >= 8 batches per worker
    assert worker_batch_size(4, 100, 2) == 4  # never above the asked size
    assert worker_batch_size(16, 3, 2) == 1


def test_padded_groups_bound_the_padding() -> None:
    from asvbench.extract.batching import exact_groups, padded_groups

    # sorted: 100(0) 110(3) 119(1) 125(4) 300(2); a group stops when the next is > 1.2 x its first
    # 100 -> 110, 119 fit (<= 120); 125 > 120 starts a new group; 300 > 150 another
    assert padded_groups([100, 119, 300, 110, 125], max_rows=8) == [[0, 3, 1], [4], [2]]
    assert padded_groups([100, 100, 100], max_rows=2) == [[0, 1], [2]]
    assert exact_groups([5, 7, 5, 5, 7], max_rows=2) == [[0, 2], [3], [1, 4]]
