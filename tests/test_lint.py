"""The house rules a tool can check: ruff (lint + import order, configured in pyproject.toml) is clean.

`.ci/run` runs the README's test command, which runs this test, so a lint error fails CI like any
other test; `ruff check` itself prints each finding as file:line:column with its rule.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    beside_python = Path(sys.executable).with_name("ruff")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("ruff")
    assert found, "ruff is not installed: it is in the [test] extra (pip install -c constraints.txt -e '.[test]')"
    return [found]


def test_ruff_is_clean():
    result = subprocess.run([*_ruff(), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_reads_the_project_config():
    # the rules above only mean something if ruff sees pyproject.toml's [tool.ruff] (not a default set)
    result = subprocess.run([*_ruff(), "check", "--show-settings", "asvbench/__init__.py"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f'Settings path: "{ROOT / "pyproject.toml"}"' in result.stdout
    assert "unused-noqa (RUF100)" in result.stdout
