"""asvbench._outputs: stale temporaries and locks of dead writers are cleaned by the next run;
a live writer's are kept; the lock is released however the command ends."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from asvbench._outputs import claim_outputs, lock_path, release_claims, remove_stale_temporaries, temp_pid
from asvbench.errors import AsvbenchError
from tests.reliability._harness import invoke, world


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has it (until reuse, which a test run will not reach)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


def test_next_run_removes_temporaries_of_dead_writers(files, tmp_path):
    out = tmp_path / "s.tsv"
    dead = tmp_path / f".s.tsv.{_dead_pid()}.k2j4.tmp"
    legacy = tmp_path / ".s.tsv.x8q1ab.tmp"  # written before temp names carried a pid
    live = tmp_path / f".s.tsv.{os.getppid()}.zz11.tmp"
    other = tmp_path / f".other.tsv.{_dead_pid()}.aa.tmp"  # another output's: not this command's business
    for p in (dead, legacy, live, other):
        p.write_text("partial")
    res = invoke(["score", "--trials", str(files["trials"]), "--embeddings", str(files["store"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert not dead.exists() and not legacy.exists()
    assert live.exists() and other.exists()
    assert not lock_path(out).exists()


def test_lock_of_a_dead_process_is_taken_over(files, tmp_path):
    out = tmp_path / "s.tsv"
    lock_path(out).write_text(f"{_dead_pid()}\n")
    res = invoke(["score", "--trials", str(files["trials"]), "--embeddings", str(files["store"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.exists() and not lock_path(out).exists()


def test_lock_of_a_live_process_refuses_and_is_kept(tmp_path):
    out = tmp_path / "o.tsv"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(out).write_text(f"{holder.pid}\n")
        with pytest.raises(AsvbenchError, match=f"pid {holder.pid}"):
            claim_outputs({"--out": out})
        assert lock_path(out).read_text() == f"{holder.pid}\n"
    finally:
        holder.kill()
        holder.wait()
    claim_outputs({"--out": out})  # the holder is gone now
    assert lock_path(out).read_text() == f"{os.getpid()}\n"
    release_claims()
    assert not lock_path(out).exists()


def test_claim_creates_parents_and_removes_them_when_nothing_was_written(tmp_path):
    out = tmp_path / "a" / "b" / "o.tsv"
    claim_outputs({"--out": out})
    assert lock_path(out).exists()
    release_claims()
    assert not (tmp_path / "a").exists()


def test_temp_pid_parsing(tmp_path):
    assert temp_pid(tmp_path / ".s.tsv.123.ab_c.tmp", "s.tsv") == 123
    assert temp_pid(tmp_path / ".s.tsv.abc.tmp", "s.tsv") is None
    assert remove_stale_temporaries(tmp_path / "missing-dir" / "x") == []


def _store_dir(path, value: float):
    from asvbench.io.embeddings import write_native_store

    return write_native_store(path, ["a", "b"], [[value, 0.0], [0.0, value]])


def test_a_kill_mid_swap_puts_the_previous_store_back(tmp_path):
    """Killed between the swap's two renames: NAME missing, the previous store in .NAME.<pid>.X.old/store."""
    from asvbench.io.embeddings import load_embeddings

    out = tmp_path / "emb"
    aside = tmp_path / f".emb.{_dead_pid()}.q1.old"
    aside.mkdir()
    _store_dir(aside / "store", 2.0)
    half_new = tmp_path / f".emb.{_dead_pid()}.q2.tmp"
    _store_dir(half_new, 3.0)
    removed = remove_stale_temporaries(out)
    assert sorted(removed) == sorted([aside, half_new])
    assert not aside.exists() and not half_new.exists()
    assert load_embeddings(out).matrix[0][0] == 2.0  # the previous store, not the unfinished one


def test_a_finished_swap_leaves_only_its_old_directory_to_remove(tmp_path):
    from asvbench.io.embeddings import load_embeddings

    out = _store_dir(tmp_path / "emb", 5.0)
    aside = tmp_path / f".emb.{_dead_pid()}.q1.old"  # killed after the second rename, before rmtree
    aside.mkdir()
    _store_dir(aside / "store", 2.0)
    live = tmp_path / f".emb.{os.getppid()}.q3.old"  # a running writer's: kept
    live.mkdir()
    claim_outputs({"--out": out}, kinds={"--out": "either"})
    release_claims()
    assert not aside.exists() and live.exists()
    assert load_embeddings(out).matrix[0][0] == 5.0


def test_store_swap_names_carry_the_writer_pid(tmp_path, monkeypatch):
    import asvbench.io.embeddings as embeddings

    seen = []
    real = embeddings.os.replace
    monkeypatch.setattr(embeddings.os, "replace", lambda a, b: (seen.append((str(a), str(b))), real(a, b))[1])
    _store_dir(tmp_path / "emb", 1.0)
    _store_dir(tmp_path / "emb", 2.0)  # replaces: the swap
    names = [os.path.basename(os.path.dirname(b)) for _a, b in seen if b.endswith("/store")]
    assert names and all(temp_pid(tmp_path / n, "emb") == os.getpid() for n in names)
