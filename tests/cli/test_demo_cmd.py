"""`asvbench demo`: runs offline in seconds, labels everything SIMULATED, no torch."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import REPO

runner = CliRunner()


def test_demo_writes_labelled_outputs(tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "SIMULATED DATA" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert {"table_SIMULATED.md", "table_SIMULATED.json", "det_SIMULATED.png", "hist_SIMULATED.png",
            "trials_SIMULATED.txt"} <= names
    assert all("SIMULATED" in n for n in names)
    assert "SIMULATED DATA" in (out / "table_SIMULATED.md").read_text()
    assert json.loads((out / "table_SIMULATED.json").read_text())["simulated"] is True
    for rec in out.glob("result_*.json"):
        data = json.loads(rec.read_text())
        assert data["simulated"] is True and data["benchmark"] == "simulated:sasv-demo"
    # the records feed `report` and `compare`
    recs = sorted(str(p) for p in out.glob("result_*.json"))
    assert runner.invoke(app, ["report", *recs, "--format", "markdown"]).exit_code == 0
    assert runner.invoke(app, ["compare", recs[0], recs[0]]).exit_code == 0


def test_demo_is_seeded(tmp_path):
    a = runner.invoke(app, ["demo", "--out", str(tmp_path / "a"), "--seed", "1"])
    b = runner.invoke(app, ["demo", "--out", str(tmp_path / "b"), "--seed", "1"])
    assert (tmp_path / "a/table_SIMULATED.md").read_text() == (tmp_path / "b/table_SIMULATED.md").read_text()
    assert a.exit_code == b.exit_code == 0


def test_demo_audio_needs_checkpoint(tmp_path):
    result = runner.invoke(app, ["demo", "--audio", str(tmp_path)])
    assert result.exit_code == 2 and "--checkpoint" in " ".join(result.stderr.split())


def test_demo_and_report_do_not_import_torch(tmp_path):
    code = ("import sys; from typer.testing import CliRunner; from asvbench.cli.main import app; "
            f"r = CliRunner().invoke(app, ['demo', '--out', {str(tmp_path / 'd')!r}]); "
            "assert r.exit_code == 0, r.output; "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_demo_audio_with_a_countermeasure_checkpoint_is_refused_before_any_work(shared_dir, tmp_path):
    from tests.conftest import shared_path

    audio = tmp_path / "audio" / "spk"
    audio.mkdir(parents=True)
    checkpoint = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    out = tmp_path / "out"
    result = runner.invoke(app, ["demo", "--audio", str(tmp_path / "audio"), "--checkpoint", str(checkpoint),
                                 "--out", str(out)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "needs a speaker embedding model; aasist is a countermeasure" in message
    assert not out.exists()  # a failed command leaves no new output
