"""`asvbench score --save-result`: the benchmark is resolved before scoring (a list that is not the
named benchmark fails with nothing written), and the record states its coverage of the list."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import asvbench.scoring.pipeline as pipeline
import asvbench.scoring.stream as stream
from asvbench.cli.main import app
from asvbench.testing import write_geometry_case, write_store

runner = CliRunner()


def _files(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def _never_scored(*_args, **_kwargs):
    raise AssertionError("scored before the benchmark was resolved")


@pytest.mark.parametrize("streamed", [False, True])
def test_a_list_that_is_not_the_named_benchmark_fails_before_scoring_with_nothing_written(tmp_path, monkeypatch,
                                                                                        streamed):
    case = write_geometry_case(tmp_path)
    if streamed:  # a streamed list is hashed as it is scored: checked before anything is put in place
        monkeypatch.setattr(stream, "STREAM_MIN_BYTES", 1)
    else:
        monkeypatch.setattr(pipeline, "score_trials", _never_scored)
    before = _files(tmp_path)
    result = runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                 "--out", str(tmp_path / "s.tsv"), "--save-result", str(tmp_path / "r.json"),
                                 "--benchmark", "vox1-o-cleaned"])
    assert result.exit_code == 2, result.output
    assert "does not match benchmark 'vox1-o-cleaned'" in result.stderr
    assert "wrote" not in result.stderr
    assert _files(tmp_path) == before


def _store_without(tmp_path, case, missing):
    """The geometry store less the utterances in ``missing`` (same vectors: norm k at its angle)."""
    vectors = {key: [norm * math.cos(math.radians(deg)), norm * math.sin(math.radians(deg))]
               for norm, (key, deg) in enumerate(case.angles.items(), start=1) if key not in missing}
    return write_store(tmp_path / "partial", vectors)


def test_a_record_states_its_coverage(tmp_path):
    case = write_geometry_case(tmp_path)
    full = runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                               "--out", str(tmp_path / "s.tsv"), "--save-result", str(tmp_path / "full.json")])
    assert full.exit_code == 0, full.output
    assert json.loads((tmp_path / "full.json").read_text())["coverage"] == {"scored": 10, "listed": 10}
    # without f180, its three trials (a000, d060 and e090 against f180) are skipped: 7 of 10 scored
    store = _store_without(tmp_path, case, {"f180"})
    partial = runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(store),
                                  "--out", str(tmp_path / "p.tsv"), "--save-result", str(tmp_path / "part.json"),
                                  "--allow-missing"])
    assert partial.exit_code == 0, partial.output
    assert "partial coverage of custom:trials: 7 of 10 trials scored (70.00 %)" in " ".join(partial.stderr.split())
    record = json.loads((tmp_path / "part.json").read_text())
    assert record["coverage"] == {"scored": 7, "listed": 10}
    assert record["benchmark"] == "custom:trials"  # the name stays; the coverage says it is partial
    assert record["trials"]["n_lines"] == 10


def test_the_record_reuses_the_fingerprint_read_with_the_list(tmp_path, monkeypatch):
    import asvbench.results as results

    def no_second_read(path):
        raise AssertionError(f"{path} read again for its fingerprint")

    monkeypatch.setattr(results, "fingerprint_trials", no_second_read)
    case = write_geometry_case(tmp_path)
    result = runner.invoke(app, ["score", "--trials", str(case.trials), "--embeddings", str(case.store),
                                 "--out", str(tmp_path / "s.tsv"), "--save-result", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    from asvbench.trials.fingerprint import fingerprint_bytes

    want = fingerprint_bytes(case.trials.read_bytes(), source=str(case.trials))
    assert json.loads((tmp_path / "r.json").read_text())["trials"]["content_sha256"] == want.content_sha256
