"""``asvbench fuse --cm MODEL`` with a tiny CM: only the needed utterances are scored, the cache is
reused and extended, failures are counted. The real AASIST run is in test_e2e_sasv.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import torch_threads
from tests.extract._tiny import reference_forward, save_checkpoint, synth, tiny_entry

KEYS = ["target", "nontarget", "spoof"]
LENGTHS = [8000, 9600, 11200, 12800, 14400, 16000]


@pytest.fixture(autouse=True)
def _tiny_cm(monkeypatch: pytest.MonkeyPatch):
    """`--cm tinycm` resolves to the tiny CM; other names go to the real registry."""
    from asvbench.fusion import cm_model

    real = cm_model._lookup
    entry = tiny_entry("tinycm", kind="cm")
    monkeypatch.setattr(cm_model, "_lookup", lambda name: entry if name == "tinycm" else real(name))
    with torch_threads(1):
        yield


@pytest.fixture()
def case(tmp_path: Path) -> dict:
    """6 trials of speaker S0 (target, nontarget, spoof, ...) on test utterances T0..T5, whose audio
    sits in audio/ beside two files no trial uses; ASV scores of all trials."""
    audio = tmp_path / "audio"
    audio.mkdir()
    wavs = {}
    for i, n in enumerate(LENGTHS + [8000, 8000]):
        name = f"T{i}" if i < len(LENGTHS) else f"unused{i}"
        sf.write(audio / f"{name}.wav", synth(i, n), 16000)
        wavs[name] = sf.read(audio / f"{name}.wav", dtype="float32")[0]  # as decoded (16-bit PCM)
    labels = [KEYS[i % 3] for i in range(len(LENGTHS))]
    (tmp_path / "proto.txt").write_text("".join(
        f"S0 T{i} {'A07' if k == 'spoof' else 'bonafide'} {k}\n" for i, k in enumerate(labels)))
    asv = [0.6, 0.1, 0.55, 0.7, 0.0, 0.65]
    lines = [f"S0\tT{i}\t{a!r}\t{k}\n" for i, (a, k) in enumerate(zip(asv, labels))]
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\n" + "".join(lines))
    (tmp_path / "asv_first3.tsv").write_text("enroll\ttest\tscore\tlabel\n" + "".join(lines[:3]))
    ckpt = save_checkpoint(tmp_path / "tinycm.pt", kind="cm", seed=3)
    return {"dir": tmp_path, "audio": audio, "wavs": wavs, "asv": np.array(asv), "ckpt": ckpt}


def _fuse(case: dict, asv: str, *extra) -> dict:
    d = case["dir"]
    result = CliRunner().invoke(app, [str(a) for a in (
        "fuse", "--cm", "tinycm", "--checkpoint", case["ckpt"], "--audio", case["audio"], "--asv", d / asv,
        "--trials", d / "proto.txt", "--method", "product", "--out", d / "fused.tsv", "--out-format", "tsv",
        "--json", *extra)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _reference(case: dict, utt: str) -> tuple[float, float]:
    """The tiny CM's bona fide logit and softmax probability, computed outside the engine."""
    spoof, bona = reference_forward(case["ckpt"], case["wavs"][utt], kind="cm")
    return bona, 1.0 / (1.0 + np.exp(spoof - bona))


def test_scores_only_the_needed_utterances_then_reuses_and_extends_the_cache(case):
    d = case["dir"]
    cache = d / "fused.cm-tinycm.tsv"  # beside --out
    first = _fuse(case, "asv_first3.tsv", "--allow-missing")  # the ASV file covers T0..T2 only
    assert first["cm_run"] | {"cache": ""} == {
        "model": "tinycm", "checkpoint": str(case["ckpt"]), "checkpoint_sha256": first["cm_run"]["checkpoint_sha256"],
        "cache": "", "n_needed": 3, "n_without_audio": 0, "n_reused": 0, "n_computed": 3, "n_failed": 0,
        "n_resumed_batches": 0}
    assert sorted(ln.split("\t")[0] for ln in cache.read_text().splitlines()[1:]) == ["T0", "T1", "T2"]
    second = _fuse(case, "asv.tsv")
    assert (second["cm_run"]["n_reused"], second["cm_run"]["n_computed"]) == (3, 3)
    third = _fuse(case, "asv.tsv")
    assert (third["cm_run"]["n_reused"], third["cm_run"]["n_computed"]) == (6, 0)
    assert third["eval"] == second["eval"]
    rows = [ln.split("\t") for ln in cache.read_text().splitlines()]
    assert rows[0] == ["utt", "cm_logit", "cm_prob_bonafide"] and [r[0] for r in rows[1:]] == [f"T{i}" for i in range(6)]
    manifest = json.loads((d / "fused.cm-tinycm.tsv.manifest.json").read_text())
    assert manifest["model"] == "tinycm" and manifest["n_utterances"] == 6 and manifest["cached_by"] == "asvbench fuse"
    fused = [float(ln.split("\t")[2]) for ln in (d / "fused.tsv").read_text().splitlines()[1:]]
    for i, row in enumerate(rows[1:]):
        logit, prob = _reference(case, row[0])
        assert float(row[1]) == pytest.approx(logit, abs=1e-5)
        assert float(row[2]) == pytest.approx(prob, abs=1e-6)
        assert fused[i] == pytest.approx(prob * (case["asv"][i] + 1) / 2, abs=1e-6)  # DoubleRoc product
    assert not list(d.glob("*.new*")) and not list(d.glob("*.work"))  # the scratch store is gone


def test_a_failed_utterance_is_counted_and_its_trial_dropped(case):
    d = case["dir"]
    sf.write(case["audio"] / "T4.wav", synth(4, 100), 16000)  # shorter than the model's 400 samples
    result = CliRunner().invoke(app, [str(a) for a in (
        "fuse", "--cm", "tinycm", "--checkpoint", case["ckpt"], "--audio", case["audio"], "--asv", d / "asv.tsv",
        "--trials", d / "proto.txt", "--method", "sum", "--cm-cache", d / "cm.tsv")])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "1 failed, see" in said and "1 test utterances (1 trials) have no CM score (e.g. 'T4')" in said
    assert (d / "cm.tsv.failures.tsv").read_text().splitlines()[1].startswith("T4\t")
    out = _fuse(case, "asv.tsv", "--cm-cache", d / "cm.tsv", "--allow-missing")
    assert out["counts"]["trials_without_cm_score"] == 1 and out["counts"]["trials_kept"] == 5
    assert (out["cm_run"]["n_reused"], out["cm_run"]["n_computed"], out["cm_run"]["n_failed"]) == (5, 0, 1)


def test_a_cache_of_another_model_or_checkpoint_is_never_replaced(case):
    d = case["dir"]
    cache = d / "cache.tsv"
    cache.write_text("utt\tcm_logit\tcm_prob_bonafide\nT0\t1.0\t0.7\n")
    args = [str(a) for a in ("fuse", "--cm", "tinycm", "--checkpoint", case["ckpt"], "--audio", case["audio"],
                             "--asv", d / "asv.tsv", "--trials", d / "proto.txt", "--method", "sum",
                             "--cm-cache", cache, "--out", d / "fused.txt")]
    r = CliRunner().invoke(app, args)
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "not a CM score cache (no manifest beside it)" in said and "--cm-cache" in said
    (d / "cache.tsv.manifest.json").write_text(json.dumps({"model": "tinycm", "checkpoint_sha256": "0" * 64}))
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2
    assert "holds scores of model 'tinycm' (checkpoint sha256 000000000000...), not of 'tinycm'" in " ".join(r.output.split())
    assert cache.read_text().count("\n") == 2 and not (d / "fused.txt").exists()  # untouched, nothing written


def test_the_checkpoint_picks_the_aasist_entry(shared_dir, tmp_path):
    """`--cm aasist` (a family) with the AASIST-L checkpoint runs aasist-l and says so; naming an entry
    the file is not is an error that names what it is (before any audio is read)."""
    from asvbench.errors import AsvbenchError
    from asvbench.fusion.cm_model import checked_entry, resolve_cm
    from tests.conftest import shared_path

    light = shared_path(shared_dir, "models/aasist_clovaai/AASIST-L.pth")
    entry, how = checked_entry("aasist", resolve_cm("aasist"), light)
    assert entry.name == "aasist-l" and "AASIST-L.pth is aasist-l" in how
    with pytest.raises(AsvbenchError, match="is aasist-l") as info:
        checked_entry("aasist-asvspoof5", resolve_cm("aasist-asvspoof5"), light)
    assert "--cm aasist-l" in (info.value.hint or "")
