"""The README's two commands: both install with the lock, and `.ci/run` runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _two_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)[:2]


def test_readme_starts_with_two_commands_that_use_the_lock():
    demo, tests = _two_commands()
    for command in (demo, tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install ")
        assert "-c constraints.txt" in command
    assert demo.endswith(".venv/bin/asvbench demo")
    assert "python -m asvbench.check_install && .venv/bin/python -m pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = _two_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"{tests} 2>&1 | tee" in ci


def test_lock_pins_every_dependency_exactly():
    """Every requirement of pyproject.toml (and the test extra) has an exact pin in constraints.txt."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    names = {re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].lower().replace("_", "-") for req in wanted}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    assert names <= set(pins), f"not pinned: {sorted(names - set(pins))}"
    assert pins["torch"] == pins["torchaudio"] == "2.11.0"
