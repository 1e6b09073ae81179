"""The per-family CPU runtime table (``extract.plan.CPU_RUNTIME``): the default for families
without an entry, and an entry changing where the model runs and on how many threads, with the
same embeddings as one utterance at a time."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asvbench.extract import ExtractConfig, plan, run_extract, runtime
from asvbench.extract.plan import DEFAULT_CPU_RUNTIME, CpuRuntime, cpu_runtime
from asvbench.io.embeddings import load_embeddings
from tests.conftest import torch_threads
from tests.extract._tiny import reference_forward, save_checkpoint, tiny_entry, write_corpus

LENGTHS = [16000, 8000, 12000, 16000, 9600, 11000]


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    write_corpus(tmp_path / "audio", LENGTHS)
    return tmp_path / "audio"


def _run(corpus: Path, out: Path, ckpt: Path) -> tuple[list[str], np.ndarray, str]:
    cfg = ExtractConfig(model="tiny", audio=corpus, out=out, checkpoint=ckpt, batch_size=2, progress=False)
    res = run_extract(cfg, entry=tiny_entry())
    store = load_embeddings(res.out)
    return list(store.keys), np.asarray(store.matrix), store.manifest["compute"]


def _assert_one_at_a_time(corpus: Path, ckpt: Path, keys: list[str], matrix: np.ndarray) -> None:
    for key, row in zip(keys, matrix):
        wav, _ = sf.read(corpus / f"{key}.wav", dtype="float32")
        ref = reference_forward(ckpt, wav)
        assert float(row @ ref / (np.linalg.norm(row) * np.linalg.norm(ref))) >= 0.9999


def test_families_without_an_entry_take_the_default():
    assert cpu_runtime("no-such-family") is DEFAULT_CPU_RUNTIME
    assert DEFAULT_CPU_RUNTIME.workers_per_core == 1 and DEFAULT_CPU_RUNTIME.threads == 1


def test_default_workers_follow_the_table(monkeypatch):
    rt = runtime.Runtime(ExtractConfig(model="tiny", audio=Path("."), out=Path("x")), None)
    monkeypatch.setattr(runtime, "usable_cpus", lambda: 4)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert runtime.default_workers(rt, "tiny") == 4  # one per core
    monkeypatch.setitem(plan.CPU_RUNTIME, "tiny", CpuRuntime(workers_per_core=0, threads=4))
    assert runtime.default_workers(rt, "tiny") == 3  # decoders only: min(4, cores - 1)


def test_an_entry_moves_the_model_to_the_main_process(corpus, tmp_path, monkeypatch):
    ckpt = save_checkpoint(tmp_path / "tiny.pt")
    monkeypatch.setitem(plan.CPU_RUNTIME, "tiny", CpuRuntime(workers_per_core=0))
    keys, matrix, compute = _run(corpus, tmp_path / "store", ckpt)
    assert compute.startswith("main process x")
    _assert_one_at_a_time(corpus, ckpt, keys, matrix)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="compute workers are forked")
def test_forked_compute_workers_cannot_be_given_more_threads():
    # a worker forked after the parent used OpenMP hangs in its first parallel region (GNU OpenMP is
    # not fork-safe): the full suite hung there, so the table refuses such an entry when it is made
    with pytest.raises(ValueError, match="forked compute workers run one torch thread"):
        CpuRuntime(workers_per_core=1, threads=2)
    assert CpuRuntime(workers_per_core=0, threads=2).threads == 2
