"""kill -9 of ``score``, ``fuse``, ``calibrate``, ``report`` and ``extract``, then the same command
again (issue 14, class 7): the final outputs equal those of an uninterrupted run, no row is
duplicated or missing, and no temporary file, ``.old`` directory, lock or work directory is left.

Kill moments, 26 in all (runtime bounded: about 100 s uncontended, 170 s at load 4.5 on 2 cores):

* at atomic renames (9): ``ASVBENCH_FAULT_KILL_AT=N`` makes the process SIGKILL itself when its N-th
  atomic write has the temporary file complete and is about to rename it (the moment that leaves
  the largest temporary file; see asvbench._atomic): score 2 (the score file, the record), fuse 2
  (the fused scores, the record), calibrate 2 (both LLR files), report 1, extract 2 (a chunk of the
  work directory, the last chunk);
* in a store swap (1): ``ASVBENCH_FAULT_KILL_IN=store-swap``, extract over an existing store, killed
  with the previous store moved aside and the new one not yet in place;
* after delays (16): SIGKILL from outside at fractions of the uninterrupted run's wall time,
  measured in the test (start-up, reading, the work, the writes: wherever the process is then);
  score, fuse, calibrate, report 3 each (0.55, 0.8, 0.95), extract 4 (0.5 to 0.97: its work
  directory). A run that ends before its delay is not a kill; most of them must be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tests.reliability._harness import world

pytestmark = pytest.mark.slow  # about 50 s uncontended (subprocesses; extract imports torch)

DRIVER = """
import sys
sys.path.insert(0, {repo!r})
if sys.argv[1] == "extract":  # the tiny test model stands in for a registered one
    from asvbench.extract import engine
    from tests.extract._tiny import tiny_entry
    real = engine.resolve_entry
    engine.resolve_entry = lambda name: tiny_entry() if name == "tiny" else real(name)
from asvbench.cli.main import app
app(sys.argv[1:], prog_name="asvbench")
"""

#: delays, as fractions of the uninterrupted run's wall time
FRACTIONS = {"score": (0.55, 0.8, 0.95), "fuse": (0.55, 0.8, 0.95), "calibrate": (0.55, 0.8, 0.95),
             "report": (0.55, 0.8, 0.95), "extract": (0.5, 0.75, 0.9, 0.97)}
#: named fault points (asvbench._atomic.named_fault_point) -> whether the output must exist first
NAMED = {"extract": ["store-swap"]}

#: command -> (arguments with {world} / {run} placeholders, outputs, kill points)
COMMANDS = {
    "score": ("score --trials {trials} --embeddings {store} --out {run}/s.tsv --save-result {run}/r.json",
              ["s.tsv", "r.json"], [1, 2]),
    "fuse": ("fuse --asv {asv} --cm {cm} --method sum --trials {sasv_trials} --out {run}/f.tsv --report {run}/m.json "
             "--save-result {run}/r.json", ["f.tsv", "m.json", "r.json"], [1, 3]),
    "calibrate": ("calibrate --dev {scores} --apply {scores} --apply {scores2} --out {run}/a.tsv --out {run}/b.tsv",
                  ["a.tsv", "b.tsv"], [1, 2]),
    "report": ("report {record} --out {run}/t.md", ["t.md"], [1]),
    "extract": ("extract --model tiny --checkpoint {ckpt} --audio {audio} --out {run}/store --batch-size 2 "
                "--num-workers 0 --no-progress --threads 1", ["store"], [2, 4]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from tests.extract._tiny import save_checkpoint, write_corpus

    root = tmp_path_factory.mktemp("world")
    found = world(root)
    write_corpus(root / "audio", [8000, 8000, 12000, 16000, 9600, 11000])
    return dict(found, audio=root / "audio", ckpt=save_checkpoint(root / "tiny.pt"))


def _env(**fault: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("ASVBENCH_FAULT_KILL_AT", None)
    env.pop("ASVBENCH_FAULT_KILL_IN", None)
    env.update(fault)
    return env


def _run(script: Path, args: list[str], kill_at: int | None = None, kill_in: str | None = None) -> int:
    fault = {"ASVBENCH_FAULT_KILL_AT": str(kill_at)} if kill_at is not None else {}
    if kill_in is not None:
        fault["ASVBENCH_FAULT_KILL_IN"] = kill_in
    proc = subprocess.run([sys.executable, str(script), *args], env=_env(**fault), capture_output=True, timeout=120)
    assert proc.returncode in (0, -9), proc.stderr.decode()[-2000:]
    return proc.returncode


def _run_killed_after(script: Path, args: list[str], delay: float) -> int:
    """Start the command and SIGKILL it after ``delay`` seconds (0 when it ended before)."""
    proc = subprocess.Popen([sys.executable, str(script), *args], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, -9), err.decode()[-2000:]
    return proc.returncode


def _volatile_free(value):
    if isinstance(value, dict):
        return {k: _volatile_free(v) for k, v in value.items() if k not in ("created", "command")}
    if isinstance(value, list):
        return [_volatile_free(v) for v in value]
    return value


def _content(path: Path):
    """What must be identical across runs (timestamps dropped; the run's own directory named RUN)."""
    if path.is_dir():  # an embedding store
        from asvbench.io.embeddings import load_embeddings

        store = load_embeddings(path)
        return store.keys, np.asarray(store.matrix).tobytes(), _volatile_free(store.manifest)
    if path.suffix == ".json":
        return _volatile_free(json.loads(path.read_text().replace(str(path.parent), "RUN")))
    return path.read_bytes()


def _leftovers(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.name.endswith((".tmp", ".old", ".lock", ".work")))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_kill_9_then_rerun(command, files, tmp_path):
    template, outputs, points = COMMANDS[command]
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(repo=str(REPO)))
    names = {k: str(v) for k, v in files.items()}

    def args(run: Path) -> list[str]:
        return template.format(**names, run=run).split()

    ref = tmp_path / "ref"
    ref.mkdir()
    started = time.perf_counter()
    assert _run(script, args(ref)) == 0
    wall = time.perf_counter() - started
    expected = {name: _content(ref / name) for name in outputs}

    def check(run: Path, moment: str) -> None:
        nonlocal wall
        started = time.perf_counter()
        assert _run(script, args(run)) == 0
        wall = min(wall, time.perf_counter() - started)  # the first run may pay for cold caches
        for name in outputs:
            assert _content(run / name) == expected[name], f"{command}: {name} differs after a kill {moment}"
            path = run / name
            if path.is_file() and path.suffix in (".tsv", ".md") and command != "report":
                lines = path.read_text().splitlines()
                assert len(lines) == len(set(lines)), f"{name}: repeated rows after a kill {moment}"
        assert _leftovers(run) == [], f"{command}: left behind after a kill {moment}: {_leftovers(run)}"

    killed = 0
    for point in points:
        run = tmp_path / f"kill{point}"
        run.mkdir()
        killed += _run(script, args(run), point) == -9
        check(run, f"at rename {point}")
    for name in NAMED.get(command, []):
        run = tmp_path / f"kill-{name}"
        run.mkdir()
        assert _run(script, args(run)) == 0  # the output exists: the next run swaps it
        killed += _run(script, args(run), kill_in=name) == -9
        check(run, f"in {name}")
    assert killed == len(points) + len(NAMED.get(command, [])), f"{command}: a fault point was not reached"
    delayed = 0
    for fraction in FRACTIONS[command]:
        run = tmp_path / f"after{fraction}"
        run.mkdir()
        for _ in range(2):  # a run that ended before its delay (the machine got faster) is tried once more,
            # at the same fraction of the shortest run so far (check() just timed one more)
            hit = _run_killed_after(script, args(run), fraction * wall) == -9
            check(run, f"after {fraction:g} of the run ({fraction * wall:.2f} s)")
            if hit:
                break
        delayed += hit
    # a run may end before its delay on a machine that got faster since the reference run
    assert delayed >= len(FRACTIONS[command]) - 1, f"{command}: only {delayed} delayed kills hit a running process"
    print(f"{command}: {len(points) + len(NAMED.get(command, []))} fault points, {delayed} of "
          f"{len(FRACTIONS[command])} delayed kills in a {wall:.2f} s run, 0 outputs differ")
