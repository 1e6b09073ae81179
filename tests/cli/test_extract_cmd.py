"""``asvbench extract`` through the CLI: success paths with a tiny model, and bad input (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.io.embeddings import load_embeddings
from tests.conftest import REPO, shared_path, torch_threads
from tests.extract._tiny import save_checkpoint, tiny_entry, write_corpus

runner = CliRunner()


@pytest.fixture(autouse=True)
def _tiny_registry(monkeypatch: pytest.MonkeyPatch):
    """`--model tiny` / `tinycm` resolve to the test models; other names go to the real registry."""
    from asvbench.extract import engine

    real = engine.resolve_entry
    extra = {"tiny": tiny_entry(), "tinycm": tiny_entry("tinycm", kind="cm")}
    monkeypatch.setattr(engine, "resolve_entry", lambda name: extra[name] if name in extra else real(name))
    with torch_threads(1):
        yield


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    write_corpus(tmp_path / "audio", [8000, 8000, 12000, 16000])
    return tmp_path / "audio"


@pytest.fixture()
def ckpt(tmp_path: Path) -> Path:
    return save_checkpoint(tmp_path / "tiny.pt")


def _run(*args: str):
    return runner.invoke(app, ["extract", *map(str, args)])


def _error(result) -> str:
    return " ".join((result.stderr or result.output).split())


def test_extract_writes_a_store_and_reports_json(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "store"
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", corpus, "--out", out, "--crops", "2",
               "--crop-seconds", "0.5", "--num-workers", "0", "--json", "--no-progress")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["n_done"] == 4 and summary["n_rows"] == 12 and summary["n_failed"] == 0
    store = load_embeddings(out)
    assert store.keys == ["spk0/utt000", "spk0/utt001", "spk0/utt002", "spk0/utt003"]
    assert store.manifest["crops"] == {"n": 2, "seconds": 0.5, "samples": 8000}
    assert store.manifest["model"] == "tiny" and len(store.manifest["checkpoint_sha256"]) == 64
    assert "4 of 4 utterances -> embeddings" in _error(res)


def test_shards_and_merge_flag(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "store"
    common = ["--model", "tiny", "--checkpoint", ckpt, "--audio", corpus, "--out", out, "--num-workers", "0",
              "--no-progress"]
    assert _run(*common, "--shard", "1/2").exit_code == 0
    assert (tmp_path / "store.shard-1-of-2").is_dir() and not out.exists()
    res = _run("--merge", "--out", out)
    assert res.exit_code == 2 and "1 of 2 shards are missing" in _error(res)
    assert _run(*common, "--shard", "0/2").exit_code == 0  # the last shard merges by itself
    assert load_embeddings(out).keys == ["spk0/utt000", "spk0/utt001", "spk0/utt002", "spk0/utt003"]


def test_cm_model_writes_scores(corpus: Path, tmp_path: Path) -> None:
    ck = save_checkpoint(tmp_path / "cm.pt", kind="cm")
    out = tmp_path / "cm.tsv"
    res = _run("--model", "tinycm", "--checkpoint", ck, "--audio", corpus, "--out", out, "--no-progress")
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == "utt\tcm_logit\tcm_prob_bonafide"
    assert "CM scores" in _error(res)


# ----------------------------------------------------------------------------- bad input: exit 2


def test_missing_checkpoint(corpus: Path, tmp_path: Path) -> None:
    res = _run("--model", "tiny", "--checkpoint", tmp_path / "nope.pt", "--audio", corpus, "--out", tmp_path / "s")
    assert res.exit_code == 2 and "checkpoint not found" in _error(res) and "nope.pt" in _error(res)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_checkpoint(corpus: Path, ckpt: Path, tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "bad.pt"
    whole = ckpt.read_bytes()
    bad.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"this is not a checkpoint\n" * 40)
    res = _run("--model", "tiny", "--checkpoint", bad, "--audio", corpus, "--out", tmp_path / "s")
    assert res.exit_code == 2 and "corrupt or unreadable checkpoint" in _error(res) and "bad.pt" in _error(res)
    assert "Traceback" not in res.output


def test_wrong_family_checkpoint(shared_dir: Path, corpus: Path, tmp_path: Path) -> None:
    aasist = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    res = _run("--model", "campplus-3dspeaker-cn-en-common", "--checkpoint", aasist, "--audio", corpus,
               "--out", tmp_path / "s")
    assert res.exit_code == 2  # identified before loading: the error names what the checkpoint is
    assert "AASIST.pth is aasist (identified from keys/shapes" in _error(res)
    assert "not campplus-3dspeaker-cn-en-common" in _error(res) and "pass --model aasist" in _error(res)
    assert not (tmp_path / "s").exists()


def test_tiny_checkpoint_in_another_size(corpus: Path, tmp_path: Path) -> None:
    ck = save_checkpoint(tmp_path / "cm.pt", kind="cm")  # a (2, 12) head into the (8, 12) model
    res = _run("--model", "tiny", "--checkpoint", ck, "--audio", corpus, "--out", tmp_path / "s")
    assert res.exit_code == 2 and "shapes do not match" in _error(res)


def test_audio_shorter_than_the_minimum(ckpt: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "tiny.wav", np.zeros(200, np.float32), 16000)
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", tmp_path / "a", "--out", tmp_path / "s")
    assert res.exit_code == 2
    msg = _error(res)
    assert "no utterance could be extracted" in msg and "too short: 200 samples" in msg and "400 samples" in msg
    assert (tmp_path / "s.failures.tsv").is_file()


def test_unsupported_audio_format(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text(f"{corpus}/spk0/utt000.wav\n{corpus}/clip.m4a\n")
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", lst, "--out", tmp_path / "s")
    assert res.exit_code == 2 and "unsupported audio format '.m4a'" in _error(res) and "list.txt:2" in _error(res)


def test_empty_input(ckpt: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no audio here")
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", tmp_path / "empty", "--out", tmp_path / "s")
    assert res.exit_code == 2 and "no audio files in the input" in _error(res)
    lst = tmp_path / "list.txt"
    lst.write_text("")
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", lst, "--out", tmp_path / "s")
    assert res.exit_code == 2 and "no audio files in the input" in _error(res)


def test_output_holding_another_models_embeddings(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["--audio", corpus, "--out", out, "--num-workers", "0", "--no-progress"]
    assert _run("--model", "tiny", "--checkpoint", ckpt, *args).exit_code == 0
    other = save_checkpoint(tmp_path / "other.pt", seed=3)
    res = _run("--model", "tiny", "--checkpoint", other, *args)
    assert res.exit_code == 2 and "already holds results of model 'tiny'" in _error(res)
    assert "--overwrite" in _error(res)
    assert _run("--model", "tiny", "--checkpoint", other, *args, "--overwrite").exit_code == 0


def test_other_option_errors(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    base = ["--checkpoint", ckpt, "--audio", corpus, "--out", tmp_path / "s"]
    res = _run("--model", "no-such-model", *base)
    assert res.exit_code == 2 and "unknown model 'no-such-model'" in _error(res) and "campplus" in _error(res)
    res = _run("--model", "tiny", *base, "--dtype", "float16")
    assert res.exit_code == 2 and "float16 needs --device cuda" in _error(res)
    res = _run("--model", "tiny", *base, "--shard", "2/2")
    assert res.exit_code == 2 and "0..1" in _error(res)
    res = _run("--model", "tiny", *base, "--key-style", "basename")
    # a parser choice since issue 10: refused before any work, the valid styles named
    assert res.exit_code == 2 and "'basename' is not one of 'stem', 'relpath', 'relpath-ext'" in " ".join(
        res.output.replace("│", " ").split())
    res = _run("--out", tmp_path / "s")
    assert res.exit_code == 2 and "--model and --audio are required" in _error(res)


def test_cli_import_does_not_import_torch() -> None:
    code = ("import sys; import asvbench.cli.extract_cmd, asvbench.cli.models_cmd, asvbench.extract, "
            "asvbench.io.audio; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


def test_resampling_and_downmix_are_noticed(ckpt: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    t = np.arange(22050) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 300 * t)], axis=1).astype(np.float32) * 0.3
    sf.write(tmp_path / "a" / "st.wav", stereo, 22050)
    sf.write(tmp_path / "a" / "mono.wav", stereo[:, 0], 16000)
    res = _run("--model", "tiny", "--checkpoint", ckpt, "--audio", tmp_path / "a", "--out", tmp_path / "s",
               "--no-progress", "--num-workers", "0")
    assert res.exit_code == 0, res.output
    msg = _error(res)
    assert "notice: 1 file(s): down-mixed 2 channels to mono (channel mean)" in msg
    assert "notice: 1 file(s): resampled 22050 Hz to 16000 Hz" in msg
