"""The extraction engine with a tiny model: batching equals one-at-a-time, crops, failures,
refusals, CM output, interruption and resume (bitwise), shards and merging."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asvbench.errors import AsvbenchError
from asvbench.extract import ExtractConfig, run_extract
from asvbench.extract.store import merge_shards, shard_path, work_dir_for
from asvbench.io.embeddings import load_embeddings
from asvbench.io.scores import read_cm_scores
from tests.conftest import torch_threads
from tests.extract._tiny import reference_forward, save_checkpoint, tiny_entry, write_corpus

#: sample counts of the test corpus: repeated lengths give multi-row exact batches
LENGTHS = [16000, 16000, 8000, 12000, 16000, 24000, 8000, 9600, 20000, 16000, 11000, 12000]


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    write_corpus(tmp_path / "audio", LENGTHS)
    return tmp_path / "audio"


@pytest.fixture()
def ckpt(tmp_path: Path) -> Path:
    return save_checkpoint(tmp_path / "tiny.pt")


def _cfg(corpus: Path, out: Path, ckpt: Path, **kw) -> ExtractConfig:
    base = dict(model="tiny", audio=corpus, out=out, checkpoint=ckpt, batch_size=4, num_workers=0, progress=False)
    base.update(kw)
    return ExtractConfig(**base)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _taoruijie_crops(x: np.ndarray, crop: int, n: int) -> list[np.ndarray]:
    """Independent re-statement of ECAPAModel.eval_network's crops (numpy pad 'wrap', linspace)."""
    if x.shape[0] <= crop:
        x = np.pad(x, (0, crop - x.shape[0]), "wrap")  # shortage = max_audio - len, 'wrap'
    starts = np.linspace(0, x.shape[0] - crop, num=n)
    return [x[int(s) : int(s) + crop] for s in starts]


def test_exact_batches_equal_one_at_a_time_with_crops(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    crop_seconds = 0.75  # 12,000 samples: shorter and longer than the utterances
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, crops=3, crop_seconds=crop_seconds),
                      entry=tiny_entry(masked=False))
    store = load_embeddings(res.out)
    assert store.manifest["bucketing"] == "exact"
    assert res.n_done == len(LENGTHS) and store.matrix.shape == (len(LENGTHS) * 4, 8)
    for i, key in enumerate(store.keys):
        wav, sr = sf.read(corpus / f"{key}.wav", dtype="float32")
        rows = np.asarray(store.rows(i))
        assert _cos(rows[0], reference_forward(ckpt, wav)) >= 0.9999
        crops = _taoruijie_crops(wav, 12000, 3)
        for j, crop in enumerate(crops):
            assert _cos(rows[1 + j], reference_forward(ckpt, crop)) >= 0.9999
        np.testing.assert_allclose(rows[0], reference_forward(ckpt, wav), rtol=1e-4, atol=1e-5)


def test_padded_batches_equal_one_at_a_time_for_a_masking_model(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, bucketing="padded"), entry=tiny_entry(masked=True))
    store = load_embeddings(res.out)
    assert store.manifest["bucketing"] == "padded"
    for i, key in enumerate(store.keys):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        assert _cos(np.asarray(store.rows(i))[0], reference_forward(ckpt, wav)) >= 0.9999


def test_padding_probe_tells_masking_models_apart(ckpt: Path) -> None:
    from asvbench.extract.batching import PROBE_MIN_COSINE, padding_probe
    from asvbench.extract.runtime import Runtime

    rt = Runtime(ExtractConfig(model="tiny", audio=Path("."), out=Path("x")), None)
    masked = tiny_entry(masked=True).loader(ckpt)
    unmasked = tiny_entry(masked=False).loader(ckpt)
    cos, rel = padding_probe(masked, rt, 16000, 400)
    assert cos >= PROBE_MIN_COSINE and rel < 1e-5
    cos, rel = padding_probe(unmasked, rt, 16000, 400)
    assert cos < PROBE_MIN_COSINE or rel > 1e-3


def test_auto_bucketing_is_exact_on_cpu(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt), entry=tiny_entry(masked=True))
    assert load_embeddings(res.out).manifest["bucketing"] == "exact"


def test_compute_in_two_workers_equals_one_at_a_time(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, num_workers=2, crops=2, crop_seconds=0.5),
                      entry=tiny_entry())
    store = load_embeddings(res.out)
    assert store.manifest["compute"] == "workers x 1 thread"
    for i, key in enumerate(store.keys):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        assert _cos(np.asarray(store.rows(i))[0], reference_forward(ckpt, wav)) >= 0.9999


def test_padding_would_change_an_unmasked_model(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    """Why exact bucketing exists: forced padding moves unmasked embeddings away from batch-1."""
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, bucketing="padded"), entry=tiny_entry(masked=False))
    store = load_embeddings(res.out)
    cosines = []
    for i, key in enumerate(store.keys):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        cosines.append(_cos(np.asarray(store.rows(i))[0], reference_forward(ckpt, wav)))
    assert min(cosines) < 0.9999


def test_max_seconds_truncates(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, max_seconds=0.5), entry=tiny_entry())
    store = load_embeddings(res.out)
    assert store.manifest["max_seconds"] == 0.5
    for i, key in enumerate(store.keys):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        assert _cos(store.matrix[i], reference_forward(ckpt, wav[:8000])) >= 0.9999  # 0.5 s = 8,000 samples


def test_failures_are_listed_and_the_run_goes_on(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    (corpus / "bad").mkdir()
    (corpus / "bad" / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(256)) * 4)
    sf.write(corpus / "bad" / "short.wav", np.zeros(100, np.float32), 16000)
    out = tmp_path / "store"
    res = run_extract(_cfg(corpus, out, ckpt, num_workers=1), entry=tiny_entry(min_samples=400))
    assert res.n_done == len(LENGTHS) and res.n_failed == 2
    lines = (tmp_path / "store.failures.tsv").read_text().splitlines()
    assert lines[0] == "key\tpath\treason"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == {"bad/corrupt", "bad/short"}
    assert rows["bad/corrupt"][2].startswith("unreadable audio")
    assert "too short: 100 samples" in rows["bad/short"][2] and "minimum of 400 samples" in rows["bad/short"][2]
    assert "bad/short" not in load_embeddings(out).keys


def test_all_failed_is_an_error(tmp_path: Path, ckpt: Path) -> None:
    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "s.wav", np.zeros(100, np.float32), 16000)
    with pytest.raises(AsvbenchError, match="no utterance could be extracted: 1 failed.*too short"):
        run_extract(_cfg(tmp_path / "a", tmp_path / "store", ckpt), entry=tiny_entry(min_samples=400))
    assert not (tmp_path / "store").exists() and (tmp_path / "store.failures.tsv").is_file()


def test_other_models_store_is_not_overwritten(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "store"
    run_extract(_cfg(corpus, out, ckpt), entry=tiny_entry())
    other = save_checkpoint(tmp_path / "other.pt", seed=1)
    with pytest.raises(AsvbenchError, match="already holds results of model 'tiny'") as info:
        run_extract(_cfg(corpus, out, other), entry=tiny_entry())
    assert "--overwrite" in (info.value.hint or "")
    with pytest.raises(AsvbenchError, match="already holds results of model 'tiny'"):
        run_extract(_cfg(corpus, out, ckpt, model="tiny2"), entry=tiny_entry("tiny2"))
    run_extract(_cfg(corpus, out, other, overwrite=True), entry=tiny_entry())
    from asvbench._hashing import sha256_file

    assert load_embeddings(out).manifest["checkpoint_sha256"] == sha256_file(other)
    run_extract(_cfg(corpus, out, other), entry=tiny_entry())  # same model again: fine


def test_an_output_of_the_other_kind_is_named_as_such(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    """An embedding store given as a CM model's output, and CM scores given as an embedding
    model's, are refused with what they hold; a stray file or folder says it is not ours."""
    store, scores = tmp_path / "store", tmp_path / "cm.tsv"
    run_extract(_cfg(corpus, store, ckpt), entry=tiny_entry())
    cm_ck = save_checkpoint(tmp_path / "cm.pt", kind="cm")
    run_extract(_cfg(corpus, scores, cm_ck), entry=tiny_entry("tinycm", kind="cm"))
    with pytest.raises(AsvbenchError, match="holds an embedding store of model 'tiny', and 'tinycm' writes "
                                            "countermeasure scores"):
        run_extract(_cfg(corpus, store, cm_ck), entry=tiny_entry("tinycm", kind="cm"))
    with pytest.raises(AsvbenchError, match="holds countermeasure scores of model 'tinycm', and 'tiny' writes "
                                            "an embedding store"):
        run_extract(_cfg(corpus, scores, ckpt), entry=tiny_entry())
    (tmp_path / "stray.txt").write_text("mine\n")
    (tmp_path / "folder").mkdir()
    with pytest.raises(AsvbenchError, match="is a file not written by asvbench extract"):
        run_extract(_cfg(corpus, tmp_path / "stray.txt", ckpt), entry=tiny_entry())
    with pytest.raises(AsvbenchError, match="is a directory that is not an asvbench store"):
        run_extract(_cfg(corpus, tmp_path / "folder", cm_ck), entry=tiny_entry("tinycm", kind="cm"))
    assert (tmp_path / "stray.txt").read_text() == "mine\n"


def test_cm_model_writes_cm_scores(corpus: Path, tmp_path: Path) -> None:
    ck = save_checkpoint(tmp_path / "cm.pt", kind="cm")
    out = tmp_path / "cm.tsv"
    res = run_extract(_cfg(corpus, out, ck), entry=tiny_entry("tinycm", kind="cm"))
    assert res.kind == "cm"
    table = read_cm_scores(out)
    assert len(table) == len(LENGTHS)
    for key, row in table.iterrows():
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        spoof, bona = reference_forward(ck, wav, kind="cm")
        assert row["cm_logit"] == pytest.approx(bona, abs=1e-5)  # bona fide logit = logits[1]
        assert row["cm_prob_bonafide"] == pytest.approx(np.exp(bona) / (np.exp(spoof) + np.exp(bona)), abs=1e-6)
    with pytest.raises(AsvbenchError, match="--crops is for speaker embedding models"):
        run_extract(_cfg(corpus, tmp_path / "cm2.tsv", ck, crops=5), entry=tiny_entry("tinycm", kind="cm"))


def test_half_precision_on_cpu(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    with pytest.raises(AsvbenchError, match="float16 needs --device cuda"):
        run_extract(_cfg(corpus, tmp_path / "s", ckpt, dtype="float16"), entry=tiny_entry())
    import torch

    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU has no bfloat16")
    bf = load_embeddings(run_extract(_cfg(corpus, tmp_path / "bf", ckpt, dtype="bfloat16"), entry=tiny_entry()).out)
    fp = load_embeddings(run_extract(_cfg(corpus, tmp_path / "fp", ckpt), entry=tiny_entry()).out)
    assert min(_cos(a, b) for a, b in zip(bf.matrix, fp.matrix)) >= 0.99


def test_trust_pickle(corpus: Path, tmp_path: Path) -> None:
    import argparse

    import torch

    from tests.extract._tiny import TinyNet

    torch.manual_seed(0)
    state = dict(TinyNet().state_dict())
    ck = tmp_path / "pickled.pt"
    torch.save({**state, "args": argparse.Namespace(lr=0.1)}, ck)
    with pytest.raises(AsvbenchError, match="weights_only loading refuses"):
        run_extract(_cfg(corpus, tmp_path / "s", ck), entry=tiny_entry())
    # with --trust-pickle the Namespace is dropped and the tensors load strictly
    res = run_extract(_cfg(corpus, tmp_path / "s", ck, trust_pickle=True), entry=tiny_entry())
    assert res.n_done == len(LENGTHS)


def _store_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.name != "manifest.json"}


def _manifest(path: Path) -> dict:
    m = json.loads((path / "manifest.json").read_text())
    m.pop("created")
    return m


def test_interrupt_then_resume_is_identical(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    entry = tiny_entry()
    full = run_extract(_cfg(corpus, tmp_path / "full", ckpt, crops=2, crop_seconds=0.5), entry=entry)
    out = tmp_path / "resumed"
    cfg = _cfg(corpus, out, ckpt, crops=2, crop_seconds=0.5)

    def stop_after_two(idx: int) -> None:
        if idx == 1:
            raise KeyboardInterrupt  # as Ctrl-C between batches

    with pytest.raises(KeyboardInterrupt):
        run_extract(cfg, entry=entry, on_batch=stop_after_two)
    work = work_dir_for(out)
    assert sorted(p.name for p in work.glob("chunk-*.npz")) == ["chunk-000000.npz", "chunk-000001.npz"]
    assert not out.exists()
    # other settings cannot silently reuse the work directory
    with pytest.raises(AsvbenchError, match="unfinished extraction with other settings"):
        run_extract(replace(cfg, batch_size=3), entry=entry)
    res = run_extract(cfg, entry=entry)
    assert res.n_resumed_batches == 2 and res.n_computed == len(LENGTHS) - 8
    assert _store_bytes(out) == _store_bytes(full.out)
    assert _manifest(out) == _manifest(full.out)
    assert not work.exists()


SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from asvbench.extract import ExtractConfig, run_extract
from tests.extract._tiny import tiny_entry
cfg = ExtractConfig(model="tiny", audio=Path({audio!r}), out=Path(sys.argv[1]), checkpoint=Path({ckpt!r}),
                    batch_size=2, num_workers=int(sys.argv[2]), progress=False, crops=2, crop_seconds=0.5)
run_extract(cfg, entry=tiny_entry())
"""


def _script(tmp_path: Path, corpus: Path, ckpt: Path) -> Path:
    from tests.conftest import REPO

    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(repo=str(REPO), audio=str(corpus), ckpt=str(ckpt)))
    return script


def _processes_running(marker: str) -> list[int]:
    """Pids of live processes whose command line mentions ``marker``."""
    pids = []
    for proc_dir in Path("/proc").iterdir():
        if proc_dir.name.isdigit():
            try:
                cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (proc_dir / "stat").read_text().split(") ")[-1][:1]
            except OSError:
                continue
            if marker in cmdline and state != "Z":
                pids.append(int(proc_dir.name))
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])  # 1: decode worker + model in main; 2: model in the workers
def test_kill_9_then_resume_is_bitwise_identical(corpus: Path, ckpt: Path, tmp_path: Path, workers: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = _script(tmp_path, corpus, ckpt)
    env = dict(os.environ, TINY_SLEEP="0.4", OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, str(script), str(tmp_path / "full"), workers], check=True,
                   env=dict(env, TINY_SLEEP="0"),
                   timeout=120)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(out), workers], env=env)
    work = work_dir_for(out)
    deadline = time.time() + 90
    while time.time() < deadline and len(list(work.glob("chunk-*.npz"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # its worker processes die with it (none may linger, holding files or blocking on pipes)
    deadline = time.time() + 15
    while time.time() < deadline and _processes_running(str(out)):
        time.sleep(0.1)
    assert not _processes_running(str(out)), "orphaned worker processes"
    n_chunks = len(list(work.glob("chunk-*.npz")))
    assert 2 <= n_chunks < len(LENGTHS) // 2, "the kill must land mid-run"
    assert not out.exists()
    subprocess.run([sys.executable, str(script), str(out), workers], check=True, env=dict(env, TINY_SLEEP="0"),
                   timeout=120)
    assert _store_bytes(out) == _store_bytes(tmp_path / "full")
    assert _manifest(out) == _manifest(tmp_path / "full")
    assert not work.exists()


def test_shards_merge_into_the_single_run_store(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    entry = tiny_entry()
    single = load_embeddings(run_extract(_cfg(corpus, tmp_path / "single", ckpt, crops=2), entry=entry).out)
    out = tmp_path / "sharded"
    r0 = run_extract(_cfg(corpus, out, ckpt, crops=2, shard=(0, 3)), entry=entry)
    assert not r0.final and r0.out == shard_path(out, (0, 3)) and not out.exists()
    with pytest.raises(AsvbenchError, match="2 of 3 shards are missing"):
        merge_shards(out)
    run_extract(_cfg(corpus, out, ckpt, crops=2, shard=(2, 3)), entry=entry)
    last = run_extract(_cfg(corpus, out, ckpt, crops=2, shard=(1, 3)), entry=entry)
    assert last.merged  # the last shard to finish merges
    merged = load_embeddings(out)
    assert merged.keys == single.keys
    np.testing.assert_array_equal(merged.offsets, single.offsets)
    np.testing.assert_allclose(merged.matrix, single.matrix, rtol=1e-5, atol=1e-6)
    assert merged.manifest["merged_from_shards"] == 3
    assert not shard_path(out, (0, 3)).exists()


@pytest.mark.slow
def test_torchrun_gloo_two_ranks_equals_single_process(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    single = load_embeddings(run_extract(_cfg(corpus, tmp_path / "single", ckpt, crops=2, crop_seconds=0.5),
                                         entry=tiny_entry()).out)
    script = _script(tmp_path, corpus, ckpt)
    out = tmp_path / "ddp"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           str(script), str(out), "0"], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = load_embeddings(out)
    assert merged.keys == single.keys
    np.testing.assert_allclose(merged.matrix, single.matrix, rtol=1e-5, atol=1e-6)
    assert merged.manifest["merged_from_shards"] == 2
    assert not any(p.name.startswith("ddp.shard-") for p in tmp_path.iterdir())


def _entry_with_inference_form() -> "object":
    """The tiny model whose inference form doubles its output, so a test can see which ran."""
    from asvbench.models.base import LoadedModel

    base = tiny_entry()

    def loader(path: Path) -> LoadedModel:
        plain = base.loader(path)

        def for_inference(in_place: bool = False) -> LoadedModel:
            doubled = LoadedModel(plain.entry, plain.module, lambda w, n: 2 * plain.forward(w, n))
            doubled.optimisations = "doubled (test)"
            return doubled

        return LoadedModel(plain.entry, plain.module, plain.forward, for_inference=for_inference)

    return replace(base, loader=loader)


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("fuse", [True, False])
def test_the_inference_form_runs_unless_no_fuse(corpus: Path, ckpt: Path, tmp_path: Path, fuse: bool,
                                                workers: int) -> None:
    res = run_extract(_cfg(corpus, tmp_path / "store", ckpt, fuse=fuse, num_workers=workers),
                      entry=_entry_with_inference_form())
    store = load_embeddings(res.out)
    assert store.manifest["optimisations"] == ("doubled (test)" if fuse else "none")
    for i, key in enumerate(store.keys):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        expected = reference_forward(ckpt, wav) * (2 if fuse else 1)
        np.testing.assert_allclose(np.asarray(store.rows(i))[0], expected, rtol=1e-5, atol=1e-6)
