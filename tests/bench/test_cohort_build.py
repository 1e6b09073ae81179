"""``cohort build``: speaker means of a store, against numpy means computed here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.io.embeddings import load_embeddings, write_native_store

runner = CliRunner()


def test_speaker_means_equal_numpy_means(tmp_path: Path):
    rng = np.random.default_rng(3)
    keys = ["u1", "u2", "u3", "u4", "u5"]
    matrix = rng.standard_normal((5, 4)).astype(np.float32)
    write_native_store(tmp_path / "store", keys, matrix, manifest={"model": "m"})
    (tmp_path / "utt2spk").write_text("u1 B\nu2 A\nu3 B\nu4 B\nu5 A\n")
    res = runner.invoke(app, ["cohort", "build", str(tmp_path / "store"), "--utt2spk", str(tmp_path / "utt2spk"),
                              "--out", str(tmp_path / "means")])
    assert res.exit_code == 0, res.output
    means = load_embeddings(tmp_path / "means")
    assert means.keys == ["A", "B"]  # speakers sorted
    m64 = matrix.astype(np.float64)
    expected = np.stack([(m64[1] + m64[4]) / 2, (m64[0] + m64[2] + m64[3]) / 3]).astype(np.float32)
    np.testing.assert_allclose(means.matrix, expected, rtol=1e-6)
    assert means.manifest["model"] == "m" and means.manifest["per_speaker"] is True


def test_an_unmapped_utterance_is_an_error_and_writes_nothing(tmp_path: Path):
    write_native_store(tmp_path / "store", ["u1", "u2"], np.ones((2, 3), np.float32))
    (tmp_path / "utt2spk").write_text("u1 A\n")
    res = runner.invoke(app, ["cohort", "build", str(tmp_path / "store"), "--utt2spk", str(tmp_path / "utt2spk"),
                              "--out", str(tmp_path / "means")])
    assert res.exit_code == 2 and "1 of 2 utterances of the store have no speaker" in " ".join(res.output.split())
    assert not (tmp_path / "means").exists()
