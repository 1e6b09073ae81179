"""Atomic output: a failed write leaves the previous file (or nothing) and no temporary files."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench._atomic import atomic_open, atomic_path, atomic_write_text
from asvbench.io.embeddings import load_embeddings, write_native_store
from asvbench.io.scores import write_scores


def test_success_replaces_and_creates_parents(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(target, "one\n")
    assert target.read_text() == "one\n"
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_previous_content(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("partial")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failure_without_previous_leaves_nothing(tmp_path):
    target = tmp_path / "new.bin"
    with pytest.raises(KeyboardInterrupt), atomic_open(target, "wb") as handle:
        handle.write(b"\x00" * 10)
        raise KeyboardInterrupt  # BaseException too
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_with_writer_that_opens_by_name(tmp_path):
    target = tmp_path / "x.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target and not target.exists()  # same filesystem, not yet visible
        tmp.write_text("done")
    assert target.read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_write_scores_failing_midway_is_atomic(tmp_path):
    out = tmp_path / "s.tsv"
    out.write_text("old\n")
    # a non-string id makes the row join fail after the file was opened and the header written
    with pytest.raises(TypeError):
        write_scores(out, ["e1", 7], ["t1", "t2"], np.array([0.1, 0.2]), np.array([1, 0]))
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.tsv"]


def test_native_store_failing_midway_keeps_old_store(tmp_path, monkeypatch):
    path = write_native_store(tmp_path / "store", ["a"], np.ones((1, 2)))
    real_save = np.save
    calls = []

    def flaky_save(file, arr, *args, **kwargs):
        calls.append(file)
        real_save(file, arr, *args, **kwargs)
        raise OSError("simulated failure after the matrix was written")

    monkeypatch.setattr(np, "save", flaky_save)
    with pytest.raises(OSError):
        write_native_store(path, ["b", "c"], np.zeros((2, 2)))
    monkeypatch.undo()
    assert calls
    store = load_embeddings(path)
    assert store.keys == ["a"]
    np.testing.assert_array_equal(store.matrix, np.ones((1, 2)))
    assert [p.name for p in tmp_path.iterdir()] == ["store"]
