"""``asvbench bench asvspoof5-sasv`` with the protocols given in --trials-dir: a made-up protocol in the
ASVspoof 5 Track 2 layout (database README: trial lines 'TARGET_SPEAKER FLAC_FILE GENDER ATTACK KEY',
no header; enrolment lines 'TARGET_SPEAKER FILE1,FILE2,...'), the tiny embedding model and a tiny CM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.errors import AsvbenchError
from asvbench.trials.read import read_trials
from asvbench.types import Label
from tests.bench._world import tiny_registry
from tests.conftest import torch_threads
from tests.extract._tiny import save_checkpoint, synth, tiny_entry

runner = CliRunner()
FAST = ["--num-workers", "0", "--threads", "1", "--model", "tiny"]


@pytest.fixture(autouse=True)
def _tiny_models(monkeypatch: pytest.MonkeyPatch):
    """``--model tiny`` and ``--cm tinycm`` resolve to the test models."""
    from asvbench.fusion import cm_model

    tiny_registry(monkeypatch)
    real = cm_model._lookup
    entry = tiny_entry("tinycm", kind="cm")
    monkeypatch.setattr(cm_model, "_lookup", lambda name: entry if name == "tinycm" else real(name))
    with torch_threads(1):
        yield


def _trial_lines(p: str) -> str:
    """Two target speakers; each scored against its own and the other's bona fide test file, and one spoof."""
    s1, s2, t = f"{p}_0001", f"{p}_0002", [f"{p}_000000000{i}" for i in range(1, 5)]
    return (f"{s1} {t[0]} F bonafide target\n{s1} {t[1]} F bonafide nontarget\n{s1} {t[2]} F A11 spoof\n"
            f"{s2} {t[1]} M bonafide target\n{s2} {t[0]} M bonafide nontarget\n{s2} {t[3]} M A12 spoof\n")


def _world(root: Path) -> dict[str, Path]:
    lists, audio = root / "protocols", root / "flac"
    lists.mkdir(parents=True)
    audio.mkdir()
    seed = 0
    for split, p in (("dev", "D"), ("eval", "E")):
        (lists / f"ASVspoof5.{split}.track_2.trial.tsv").write_text(_trial_lines(p))
        (lists / f"ASVspoof5.{split}.track_2.enroll.tsv").write_text(
            f"{p}_0001 {p}_A0000000001,{p}_A0000000002\n{p}_0002 {p}_A0000000003,{p}_A0000000004\n")
        names = [f"{p}_000000000{i}" for i in range(1, 5)] + [f"{p}_A000000000{i}" for i in range(1, 5)]
        for name in names:
            sf.write(audio / f"{name}.wav", synth(seed, 8000 + 400 * seed), 16000)
            seed += 1
    return {"lists": lists, "audio": audio, "ckpt": save_checkpoint(root / "tiny.pt"),
            "cm_ckpt": save_checkpoint(root / "tinycm.pt", kind="cm", seed=3)}


def _bench(world: dict[str, Path], out: Path):
    return runner.invoke(app, [str(a) for a in (
        "bench", "asvspoof5-sasv", "--checkpoint", world["ckpt"], "--audio", world["audio"],
        "--trials-dir", world["lists"], "--cm", "tinycm", "--cm-checkpoint", world["cm_ckpt"], "--out", out, *FAST)])


def _error(res) -> str:
    return " ".join((res.stderr or res.output).split())


def test_track2_trial_protocol_reads_without_a_header(tmp_path: Path):
    path = tmp_path / "ASVspoof5.dev.track_2.trial.tsv"
    path.write_text(_trial_lines("D"))
    trials = read_trials(path)
    assert trials.fmt == "asvspoof5"
    assert trials.enroll.tolist() == ["D_0001"] * 3 + ["D_0002"] * 3
    assert trials.test.tolist()[:3] == ["D_0000000001", "D_0000000002", "D_0000000003"]
    assert trials.labels.tolist() == [Label.TARGET, Label.NONTARGET, Label.SPOOF] * 2
    assert trials.extra["source"].tolist() == ["bonafide", "bonafide", "A11", "bonafide", "bonafide", "A12"]
    assert trials.extra["gender"].tolist() == ["F"] * 3 + ["M"] * 3
    path.write_text("D_0001 D_0000000001 F A11 target\n")  # a target trial must be bona fide
    with pytest.raises(AsvbenchError) as err:
        read_trials(path)
    assert "source and key disagree" in err.value.what and err.value.where.endswith(":1")


def test_bench_asvspoof5_sasv_end_to_end(tmp_path: Path):
    world = _world(tmp_path / "world")
    out = tmp_path / "run"
    res = _bench(world, out)
    assert res.exit_code == 0, res.output
    for split in ("dev", "eval"):
        record = json.loads((out / "results" / f"asvspoof5-sasv-{split}.sasv.json").read_text())
        assert record["benchmark"] == f"asvspoof5-sasv-{split}"
        assert all(0.0 <= record["metrics"][k] <= 1.0 for k in ("sasv_eer", "sv_eer", "spf_eer"))
        fused = [line.split() for line in (out / "scores" / f"asvspoof5-sasv-{split}.sasv.txt").read_text().splitlines()]
        # enroll test source key score; the 6 trials of _trial_lines: 2 of each key, the attack column as source
        assert sorted(f[3] for f in fused) == ["nontarget"] * 2 + ["spoof"] * 2 + ["target"] * 2
        assert sorted(f[2] for f in fused) == ["A11", "A12"] + ["bonafide"] * 4
        assert {f[0] for f in fused} == {f"{split[0].upper()}_0001", f"{split[0].upper()}_0002"}
    stages = [s["stage"] for s in json.loads((out / "run.json").read_text())["stages"]]
    assert "fuse-asvspoof5-sasv-dev" in stages and "fuse-asvspoof5-sasv-eval" in stages
    assert "SASV-EER" in res.stdout


def test_missing_protocol_names_the_file_and_the_registry_entry(tmp_path: Path):
    world = _world(tmp_path / "world")
    (world["lists"] / "ASVspoof5.eval.track_2.trial.tsv").unlink()
    res = _bench(world, tmp_path / "run")
    msg = _error(res)
    assert res.exit_code == 2, res.output
    assert "trial list ASVspoof5.eval.track_2.trial.tsv of registry entry asvspoof5-sasv-eval" in msg
    assert "expected sha256 unknown (not recorded in the registry)" in msg
    assert not (tmp_path / "run" / "run.json").exists()


def test_missing_enrolment_protocol_names_the_file(tmp_path: Path):
    world = _world(tmp_path / "world")
    (world["lists"] / "ASVspoof5.dev.track_2.enroll.tsv").unlink()
    res = _bench(world, tmp_path / "run")
    assert res.exit_code == 2, res.output
    assert "enrolment map ASVspoof5.dev.track_2.enroll.tsv of asvspoof5-sasv-dev is not in --trials-dir" in _error(res)
