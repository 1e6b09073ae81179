"""asvbench._atomic staging: a staged command renames its outputs only when it succeeded."""

from __future__ import annotations

import threading

import pytest
import typer

from asvbench._atomic import atomic_write_text, staged_outputs, staged_view, unstaged


def _names(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_outputs_wait_for_success_then_all_appear(tmp_path):
    a, b = tmp_path / "a.tsv", tmp_path / "b.json"
    a.write_text("old a\n")
    with staged_outputs():
        atomic_write_text(a, "new a\n")
        atomic_write_text(b, "first b\n")
        atomic_write_text(b, "second b\n")  # a rewrite of one output (a record with its intervals)
        assert a.read_text() == "old a\n" and not b.exists()
        assert staged_view(b).read_text() == "second b\n" and staged_view(a) != a
        assert len([n for n in _names(tmp_path) if n.endswith(".tmp")]) == 2  # the first b removed
    assert a.read_text() == "new a\n" and b.read_text() == "second b\n"
    assert _names(tmp_path) == ["a.tsv", "b.json"]
    assert staged_view(a) == a


def test_a_failure_keeps_the_old_files_and_leaves_nothing(tmp_path):
    a, b = tmp_path / "a.tsv", tmp_path / "b.json"
    a.write_text("old a\n")
    with pytest.raises(ValueError), staged_outputs():
        atomic_write_text(a, "new a\n")
        atomic_write_text(b, "new b\n")
        raise ValueError("the breakdown failed")
    assert a.read_text() == "old a\n" and _names(tmp_path) == ["a.tsv"]


@pytest.mark.parametrize(("exc", "committed"), [(typer.Exit(), True), (SystemExit(0), True),
                                                (typer.Exit(2), False), (SystemExit(1), False),
                                                (KeyboardInterrupt(), False)])
def test_exit_codes_decide(tmp_path, exc, committed):
    a = tmp_path / "a.tsv"
    with pytest.raises(type(exc)), staged_outputs():
        atomic_write_text(a, "new\n")
        raise exc
    assert a.exists() == committed and len(_names(tmp_path)) == int(committed)


def test_unstaged_writes_are_renamed_at_once_and_kept(tmp_path):
    cache, out = tmp_path / "cache.tsv", tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), staged_outputs():
        with unstaged():
            atomic_write_text(cache, "cm scores\n")
        assert cache.read_text() == "cm scores\n"
        atomic_write_text(out, "fused\n")
        raise RuntimeError
    assert _names(tmp_path) == ["cache.tsv"]


def test_writes_from_a_worker_thread_and_nesting(tmp_path):
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    with staged_outputs():
        worker = threading.Thread(target=atomic_write_text, args=(a, "from a thread\n"))
        worker.start()
        worker.join()
        with staged_outputs():  # nested: the outer block decides
            atomic_write_text(b, "inner\n")
        assert not a.exists() and not b.exists()
    assert a.read_text() == "from a thread\n" and b.read_text() == "inner\n"


def test_without_staging_a_write_is_renamed_at_once(tmp_path):
    a = tmp_path / "a.tsv"
    atomic_write_text(a, "x\n")
    assert a.read_text() == "x\n" and _names(tmp_path) == ["a.tsv"]
