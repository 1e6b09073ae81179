"""Start-up stays cheap: the CLI imports no numerical library until a command runs, and `main()` builds
only the parser of the command it runs (guards of benchmarks/bench_startup.py's figures, without timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from asvbench import __version__
from asvbench.cli import main as cli_main

HEAVY = ("numpy", "pandas", "torch", "scipy", "rich")


def test_importing_the_cli_imports_no_numerical_library():
    code = ("import json, sys; import asvbench.cli.main; "
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def test_version_answered_without_building_the_commands(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["asvbench", "--version"])
    monkeypatch.setattr(cli_main, "_app_for", lambda args: pytest.fail("the command tree was built"))
    cli_main.main()
    assert capsys.readouterr().out == f"asvbench {__version__}\n"


@pytest.mark.parametrize("name", ["score", "trials", "models"])
def test_app_for_a_command_holds_only_that_command(name):
    one = cli_main._app_for([name, "--help"])
    names = [c.name or c.callback.__name__ for c in one.registered_commands] + \
        [g.name or g.typer_instance.info.name for g in one.registered_groups]
    assert names == [name] or names == [name.replace("-", "_")]
    assert one.registered_callback is cli_main.app.registered_callback  # --version and the root help stay


@pytest.mark.parametrize("args", [[], ["--help"], ["no-such-command"], ["--install-completion"]])
def test_anything_else_gets_the_whole_app(args):
    assert cli_main._app_for(args) is cli_main.app


@pytest.mark.parametrize("args", [["score", "--help"], ["trials", "list", "--help"], ["score"],
                                  ["metrics", "--eer-method", "nope", "x"]])
def test_one_command_app_answers_as_the_whole_app(args):
    runner = CliRunner()
    whole = runner.invoke(cli_main.app, args, prog_name="asvbench", terminal_width=100)
    one = runner.invoke(cli_main._app_for(args), args, prog_name="asvbench", terminal_width=100)
    assert (one.exit_code, one.output) == (whole.exit_code, whole.output)


def test_leaf_choice_tuples_match_what_they_name():
    from asvbench.metrics.adcf import ADCF_COSTS
    from asvbench.types import ADCF_COST_NAMES

    assert ADCF_COST_NAMES == tuple(ADCF_COSTS)
