"""``asvbench extract``: bad command lines (see _harness), unusual audio, a damaged work directory."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.conftest import torch_threads
from tests.extract._tiny import save_checkpoint, tiny_entry, write_corpus
from tests.reliability._harness import case, invoke, output_cases, run_case, world

BASE = "--model tiny --checkpoint {ckpt} --audio {audio} --num-workers 0 --no-progress"
OK = "extract " + BASE + " --out {dir}/store"

CASES = [
    *[c for c in output_cases("extract", BASE, "--out", inputs=["audio", "ckpt"], kind="file")
      if "is-a-directory" not in c.id],  # a directory is what an embedding store is
    case("extract-store-locked", 7, OK, "another asvbench process", "pid",
         setup=lambda local: (local["dir"] / ".store.lock").write_text(f"{os.getppid()}\n")),
    case("extract-shard-locked", 7, OK + " --shard 1/2", "another asvbench process",
         setup=lambda local: (local["dir"] / ".store.shard-1-of-2.lock").write_text(f"{os.getppid()}\n")),
    case("extract-threads-negative", 2, OK + " --threads -3", "--threads must be >= 1"),
    case("extract-threads-zero", 2, OK + " --threads 0", "--threads must be >= 1"),
    case("extract-batch-size-zero", 2, OK + " --batch-size 0", "--batch-size must be >= 1", hint=False),
    case("extract-crops-negative", 2, OK + " --crops -1", "--crops must be >= 0", hint=False),
    case("extract-max-seconds-zero", 2, OK + " --max-seconds 0", "--max-seconds must be > 0", hint=False),
    case("extract-shard-out-of-range", 2, OK + " --shard 4/4", "--shard 4/4"),
    case("extract-shard-malformed", 2, OK + " --shard 1-4", "not of the form i/N"),
    case("extract-device-tpu", 2, OK + " --device tpu", "is not a device"),
    case("extract-dtype-typo", 2, OK + " --dtype fp16", "--dtype"),
    case("extract-bucketing-typo", 2, OK + " --bucketing pad", "--bucketing"),
    case("extract-threads-before-missing-audio", 2,
         "extract --model tiny --checkpoint {ckpt} --audio {dir}/absent --out {dir}/store --threads -1", "--threads"),
    case("extract-scp-key-twice", 6, "extract --model tiny --checkpoint {ckpt} --audio {w_scp} --out {dir}/store "
         "--num-workers 0 --no-progress", "key 'u1' is listed twice: lines 1 and 3", where=":3",
         setup=lambda local: _scp(local, "u1 {a}\nu2 {b}\nu1 {b}\n")),
    case("extract-scp-latin1", 6, "extract --model tiny --checkpoint {ckpt} --audio {w_scp} --out {dir}/store "
         "--num-workers 0 --no-progress", "not a UTF-8 text file", where=":2",
         setup=lambda local: _scp(local, "u1 {a}\nu\xe92 {b}\n", encoding="latin-1")),
    case("extract-checkpoint-device", 8, "extract --model tiny --checkpoint /dev/zero --audio {audio} "
         "--out {dir}/store", "--checkpoint names a device", where="/dev/zero"),
]


def _scp(local, text: str, encoding: str = "utf-8") -> None:
    files = sorted(Path(local["audio"]).rglob("*.wav"))
    path = local["dir"] / "w.scp"
    path.write_bytes(text.format(a=files[0], b=files[1]).encode(encoding))
    local["w_scp"] = path


@pytest.fixture(autouse=True)
def _tiny_registry(monkeypatch: pytest.MonkeyPatch):
    from asvbench.extract import engine

    real = engine.resolve_entry
    monkeypatch.setattr(engine, "resolve_entry", lambda name: tiny_entry() if name == "tiny" else real(name))
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    found = world(root)
    write_corpus(root / "audio", [8000, 8000, 12000, 16000])
    return dict(found, audio=root / "audio", ckpt=save_checkpoint(root / "tiny.pt"))


@pytest.mark.parametrize("c", CASES, ids=str)
def test_extract_bad_input(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")


def test_pipe_device_and_directory_named_wav_are_failures_not_hangs(files, tmp_path):
    """Class 8: a named pipe (nobody writes it: opening it would block for ever), a link to a device
    (/dev/zero never ends) and a directory named .wav are listed as failures; the run goes on."""
    audio = tmp_path / "audio"
    write_corpus(audio, [8000, 12000])
    os.mkfifo(audio / "pipe.wav")
    os.symlink("/dev/zero", audio / "zero.wav")
    (audio / "folder.wav").mkdir()
    out = tmp_path / "store"
    signal.alarm(120)  # a hang fails the test instead of blocking the suite
    try:
        res = invoke(["extract", "--model", "tiny", "--checkpoint", str(files["ckpt"]), "--audio", str(audio),
                      "--out", str(out), "--num-workers", "0", "--no-progress", "--json"])
    finally:
        signal.alarm(0)
    assert res.exit_code == 0, res.output
    failures = (tmp_path / "store.failures.tsv").read_text().splitlines()[1:]
    failed = sorted(line.split("\t")[0] for line in failures)
    assert failed == ["folder", "pipe", "zero"], failures
    assert all("regular file" in line for line in failures), failures


def test_damaged_chunk_is_discarded_and_redone(files, tmp_path):
    """Class 7: a chunk truncated after an interrupted run is removed on resume and its batch redone."""
    from asvbench.extract import ExtractConfig, run_extract
    from asvbench.extract.store import work_dir_for

    audio = tmp_path / "audio"
    write_corpus(audio, [8000, 8000, 12000, 16000, 9600, 11000])
    cfg = ExtractConfig(model="tiny", audio=audio, out=tmp_path / "full", checkpoint=files["ckpt"], batch_size=2,
                        num_workers=0, progress=False)
    run_extract(cfg, entry=tiny_entry())
    out = tmp_path / "resumed"

    def stop(idx: int) -> None:
        if idx == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_extract(ExtractConfig(**{**cfg.__dict__, "out": out}), entry=tiny_entry(), on_batch=stop)
    chunk = work_dir_for(out) / "chunk-000001.npz"
    chunk.write_bytes(chunk.read_bytes()[:100])  # truncated
    res = run_extract(ExtractConfig(**{**cfg.__dict__, "out": out}), entry=tiny_entry())
    assert res.n_resumed_batches == 1
    full_files = {p.name: p.read_bytes() for p in (tmp_path / "full").iterdir() if p.name != "manifest.json"}
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"} == full_files
