"""kill -9 of ``score``, ``fuse``, ``calibrate``, ``report`` and ``extract``, then the same command
again (issue 14, class 7): the final outputs equal those of an uninterrupted run, no row is
duplicated or missing, and no temporary file or lock is left.

Kill points are deterministic: ``ASVBENCH_FAULT_KILL_AT=N`` makes the process SIGKILL itself when
its N-th atomic write has the temporary file complete and is about to rename it (the moment that
leaves the largest temporary file; see asvbench._atomic). Points (8, runtime bounded): score 2 (the
score file, the record), fuse 2 (the fused scores, the record), calibrate 2 (both LLR files), report 1,
extract 2 (a chunk of the work directory, the last chunk).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _run(script: Path, args: list[str], kill_at: int | None) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("ASVBENCH_FAULT_KILL_AT", None)
    if kill_at is not None:
        env["ASVBENCH_FAULT_KILL_AT"] = str(kill_at)
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, timeout=120)
    assert proc.returncode in (0, -9), proc.stderr.decode()[-2000:]
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
                  if p.name.endswith((".tmp", ".lock")) or p.name.endswith(".work"))


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
    assert _run(script, args(ref), None) == 0
    expected = {name: _content(ref / name) for name in outputs}
    killed = 0
    for point in points:
        run = tmp_path / f"kill{point}"
        run.mkdir()
        if _run(script, args(run), point) == -9:
            killed += 1
        assert _run(script, args(run), None) == 0
        for name in outputs:
            assert _content(run / name) == expected[name], f"{command}: {name} differs after a kill at {point}"
        for name in outputs:
            path = run / name
            if path.is_file() and path.suffix in (".tsv", ".md"):
                lines = path.read_text().splitlines()
                assert len(lines) == len(set(lines)) or command == "report", f"{name}: repeated rows"
        assert _leftovers(run) == [], f"{command}: left behind after the rerun: {_leftovers(run)}"
    assert killed == len(points), f"{command}: only {killed} of {len(points)} kill points were reached"
