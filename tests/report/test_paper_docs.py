"""Every `asvbench report` command of docs/paper-tables.md runs as printed on the simulated seed records."""

from __future__ import annotations

import glob
import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.report._seed_records import write_record_sets

DOC = Path(__file__).resolve().parents[2] / "docs" / "paper-tables.md"


def _commands() -> list[str]:
    return [line.strip() for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("asvbench report ")]


def test_the_doc_shows_the_five_seed_tables():
    assert len(_commands()) == 5


@pytest.mark.parametrize("command", _commands())
def test_doc_command_runs_as_printed(command, tmp_path, monkeypatch):
    write_record_sets(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = []
    for word in shlex.split(command)[1:]:  # expand globs as the shell would
        args.extend(sorted(glob.glob(word)) if "*" in word else [word])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "SIMULATED DATA" in result.stdout
    assert "sha256" in result.stdout  # the provenance footnote / caption
    if "--png" in args:
        png = Path(args[args.index("--png") + 1])
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.path.getsize(png) > 10_000
