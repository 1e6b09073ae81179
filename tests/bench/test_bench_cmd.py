"""``asvbench bench`` with the tiny model: stages, run.json commands, concat, re-use, bad input."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.io.embeddings import load_embeddings
from asvbench.metrics import compute_eer
from tests.bench._world import make_world, tiny_registry, utt
from tests.conftest import REPO, shared_path, torch_threads
from tests.extract._tiny import reference_forward

runner = CliRunner()
FAST = ["--num-workers", "0", "--threads", "1", "--model", "tiny"]


@pytest.fixture(autouse=True)
def _tiny(monkeypatch: pytest.MonkeyPatch):
    tiny_registry(monkeypatch)
    with torch_threads(1):
        yield


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Path]:
    return make_world(tmp_path / "world")


def _cli(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def _bench(world, out: Path, *extra) -> object:
    res = _cli("bench", "mine", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", out, *FAST, *extra)
    assert res.exit_code == 0, res.output
    return res


def _all_pairs(world) -> Path:
    out = world["root"] / "pairs.txt"
    assert _cli("trials", "make", "--utt2spk", world["utt2spk"], "--all-pairs", "--out", out).exit_code == 0
    return out


def _metrics(record: Path) -> dict:
    return json.loads(record.read_text())["metrics"]


def test_bench_equals_its_stage_commands_and_an_independent_eer(world, tmp_path: Path):
    pairs = _all_pairs(world)
    run_dir = tmp_path / "run"
    res = _bench(world, run_dir, "--trials", pairs)
    run = json.loads((run_dir / "run.json").read_text())
    assert [s["stage"] for s in run["stages"]] == ["extract-test", "score-pairs", "report"]
    table = (run_dir / "table.md").read_text()
    assert res.stdout == table and "custom:mine/pairs" not in table  # the column drops the custom: prefix
    metrics = _metrics(run_dir / "results" / "pairs.json")
    # independent: the tiny network applied to each file here, cosine of every listed pair, EER
    emb = {}
    for i in range(12):
        v = reference_forward(world["ckpt"], sf.read(world["audio"] / f"{utt(i)}.wav", dtype="float32")[0])
        emb[utt(i)] = v / np.linalg.norm(v)
    lines = [line.split() for line in pairs.read_text().splitlines()]
    scores = np.array([emb[e] @ emb[t] for _, e, t in lines])
    # 12 utterances: C(12, 2) = 66 pairs, 3 x C(4, 2) = 18 target
    assert len(scores) == 66 and sum(lab == "1" for lab, _, _ in lines) == 18
    assert metrics["eer"] == pytest.approx(compute_eer(scores, np.array([lab == "1" for lab, _, _ in lines])).eer,
                                           abs=1e-6)
    # the printed commands, run one by one in a clean run directory, give the same records and table
    for sub in ("stores", "scores", "results", "table.md"):
        target = run_dir / sub
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for stage in run["stages"]:
        argv = shlex.split(stage["command"])
        assert argv[0] == "asvbench"
        step = _cli(*argv[1:])
        assert step.exit_code == 0, (stage["command"], step.output)
    assert _metrics(run_dir / "results" / "pairs.json") == metrics
    assert (run_dir / "table.md").read_text() == table


def test_enroll_modes_differ_in_the_record_and_concat_embeds_the_joined_waveform(world, tmp_path: Path):
    runs = {}
    for mode in ("average", "concat"):
        runs[mode] = tmp_path / mode
        _bench(world, runs[mode], "--trials", world["etrials"], "--enroll-map", world["enroll_map"],
               "--enroll-mode", mode)
    records = {m: json.loads((d / "results" / "etrials.json").read_text()) for m, d in runs.items()}
    assert records["average"]["normalization"]["enroll_mode"] == "average"
    assert records["concat"]["normalization"]["enroll_mode"] == "concat"
    assert (records["average"]["variant"], records["concat"]["variant"]) == ("avg", "concat")
    assert "tiny (concat)" in (runs["concat"] / "table.md").read_text()
    # the average run extracted the enrolment utterances; the concat run only the test side
    assert len(load_embeddings(runs["average"] / "stores" / "test")) == 12
    assert len(load_embeddings(runs["concat"] / "stores" / "test")) == 6  # 3 speakers x utterances 2, 3
    store = load_embeddings(runs["concat"] / "stores" / "enroll_concat")
    assert store.keys == ["spk0", "spk1", "spk2"]
    for s in range(3):
        parts = [sf.read(world["audio"] / f"{utt(4 * s + k)}.wav", dtype="float32")[0] for k in (0, 1)]
        direct = reference_forward(world["ckpt"], np.concatenate(parts))
        np.testing.assert_allclose(store.matrix[s], direct, rtol=1e-5, atol=1e-6)


def test_a_changed_scoring_option_reuses_the_stores(world, tmp_path: Path):
    run_dir = tmp_path / "run"
    common = ["--trials", world["etrials"], "--enroll-map", world["enroll_map"], "--cohort-audio", world["audio"],
              "--cohort-utt2spk", world["utt2spk"]]
    first = _bench(world, run_dir, *common, "--top-k", "2")
    assert "leakage: 12 cohort files are also test/enrolment audio" in " ".join(first.stderr.split())
    stamps = {p: p.stat().st_mtime_ns for p in (run_dir / "stores").glob("*/embeddings.npy")}
    assert len(stamps) == 3  # test, cohort, cohort speaker means
    eer_k2 = _metrics(run_dir / "results" / "etrials.json")["eer"]
    second = _bench(world, run_dir, *common, "--top-k", "3")
    assert "re-used: extract-test, extract-cohort" in second.stderr
    # the extracted stores were not written again (the speaker means, a cheap stage, are rebuilt)
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items() if p.parent.name != "cohort_means")
    run = json.loads((run_dir / "run.json").read_text())
    assert {s["stage"]: s["status"] for s in run["stages"]}["extract-test"] == "reused"
    assert "--top-k 3" in next(s["command"] for s in run["stages"] if s["stage"] == "score-etrials")
    record = json.loads((run_dir / "results" / "etrials.json").read_text())
    assert record["normalization"]["top_k"] == 3 and record["variant"] == "avg + AS-Norm"
    assert isinstance(eer_k2, float)


def _error(res) -> str:
    return " ".join((res.stderr or res.output).split())


def test_registered_list_missing_from_trials_dir_names_file_entry_and_sha(world, tmp_path: Path):
    (tmp_path / "lists").mkdir()
    res = _cli("bench", "vox1-o", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", tmp_path / "r",
               "--trials-dir", tmp_path / "lists", *FAST)
    msg = _error(res)
    assert res.exit_code == 2 and "veri_test2.txt" in msg and "vox1-o-cleaned" in msg
    assert "0bc0a0fe3e557f1a75fb71e566d862d460709e80a4fe28e80e49bc0ab3a536ea" in msg  # registry content_sha256
    assert "asvbench trials fetch vox1-o-cleaned" in msg
    assert not (tmp_path / "r" / "run.json").exists()


def test_registered_list_with_audio_of_none_of_it(world, tmp_path: Path, shared_dir: Path):
    lists = shared_path(shared_dir, "trials/voxceleb1")
    res = _cli("bench", "vox1-o", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", tmp_path / "r",
               "--trials-dir", lists, *FAST)
    # veri_test2.txt uses 4,708 utterances (../shared/trials/SOURCES.md); none is in the tiny world
    assert res.exit_code == 2 and "covers 0 of the 4,708 utterances" in _error(res)


def test_partial_audio_needs_allow_missing(world, tmp_path: Path):
    pairs = _all_pairs(world)
    (world["audio"] / f"{utt(5)}.wav").unlink()
    res = _cli("bench", "mine", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", tmp_path / "r",
               "--trials", pairs, *FAST)
    assert res.exit_code == 2 and "covers 11 of the 12 utterances" in _error(res) and "--allow-missing" in _error(res)
    ok = _bench(world, tmp_path / "r", "--trials", pairs, "--allow-missing")
    assert "1 of 12 utterances have no audio" in _error(ok)
    record = json.loads((tmp_path / "r" / "results" / "pairs.json").read_text())
    # 11 utterances left: C(11, 2) = 55 pairs scored of 66
    assert record["metrics"]["n_target"] + record["metrics"]["n_nontarget"] == 55


def test_enrolment_model_without_audio(world, tmp_path: Path):
    (world["root"] / "bad.map").write_text(world["enroll_map"].read_text().replace(
        f"spk1 {utt(4)},{utt(5)}", "spk1 spk1/gone1,spk1/gone2"))
    res = _cli("bench", "mine", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", tmp_path / "r",
               "--trials", world["etrials"], "--enroll-map", world["root"] / "bad.map", *FAST)
    assert res.exit_code == 2 and "1 enrolment models of etrials have no audio, e.g. ['spk1']" in _error(res)


DRIVER = """
import sys
sys.path.insert(0, {repo!r})
from asvbench.extract import engine
from tests.extract._tiny import tiny_entry
real = engine.resolve_entry
engine.resolve_entry = lambda name: tiny_entry() if name == "tiny" else real(name)
from asvbench.cli.main import app
app(sys.argv[1:], prog_name="asvbench")
"""


@pytest.mark.slow  # three subprocess runs that import torch: 33 s at load 7, 93 s at load 17 on 2 cores
def test_kill9_in_the_middle_then_rerun_gives_the_same_table(world, tmp_path: Path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(repo=str(REPO)))
    pairs = _all_pairs(world)
    env = dict(os.environ, OMP_NUM_THREADS="1", TINY_SLEEP="0.3")

    def argv(out: Path) -> list[str]:
        return [sys.executable, str(script), "bench", "mine", "--checkpoint", str(world["ckpt"]), "--audio",
                str(world["audio"]), "--out", str(out), "--trials", str(pairs), "--batch-size", "2", *FAST]

    clean = subprocess.run(argv(tmp_path / "clean"), env=env, capture_output=True, timeout=300)
    assert clean.returncode == 0, clean.stderr.decode()[-2000:]
    proc = subprocess.Popen(argv(tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = tmp_path / "killed" / "stores" / "test.work"
    for _ in range(600):  # kill once some batches are done (6 batches of 2, 0.3 s each)
        if proc.poll() is not None or (work.is_dir() and len(list(work.glob("chunk-*.npz"))) >= 2):
            break
        subprocess.run(["sleep", "0.05"], check=True)
    proc.kill()
    proc.wait(timeout=60)
    assert proc.returncode == -9 and not (tmp_path / "killed" / "table.md").exists()  # killed mid-extraction
    again = subprocess.run(argv(tmp_path / "killed"), env=env, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert again.stdout == clean.stdout
    assert (tmp_path / "killed" / "table.md").read_text() == (tmp_path / "clean" / "table.md").read_text()


def test_a_sasv_benchmark_needs_a_countermeasure(world, tmp_path: Path, shared_dir: Path):
    lists = shared_path(shared_dir, "trials/asvspoof2019_la")
    res = _cli("bench", "asvspoof2019-la-sasv", "--checkpoint", world["ckpt"], "--audio", world["audio"],
               "--out", tmp_path / "r", "--trials-dir", lists, *FAST)
    assert res.exit_code == 2 and "--cm aasist --cm-checkpoint" in _error(res)


def test_model_audio_and_concat_exclude_each_other(world, tmp_path: Path):
    res = _cli("bench", "mine", "--checkpoint", world["ckpt"], "--audio", world["audio"], "--out", tmp_path / "r",
               "--trials", world["etrials"], "--enroll-map", world["enroll_map"], "--enroll-mode", "concat",
               "--enroll-audio", world["audio"], *FAST)
    assert res.exit_code == 2 and "--enroll-audio gives each model's audio already" in _error(res)


def test_a_changed_cohort_folder_is_extracted_again(world, tmp_path: Path):
    cohort = tmp_path / "cohort"
    shutil.copytree(world["audio"], cohort)
    args = ["--trials", world["etrials"], "--enroll-map", world["enroll_map"], "--cohort-audio", cohort, "--top-k", "2"]
    _bench(world, tmp_path / "run", *args)
    (cohort / f"{utt(0)}.wav").unlink()
    second = _bench(world, tmp_path / "run", *args)
    assert "re-used: extract-test\n" in second.stderr  # the test store only
    assert len(load_embeddings(tmp_path / "run" / "stores" / "cohort")) == 11
