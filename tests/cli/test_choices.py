"""Every option with a fixed set of values is a parser choice: ``--help`` lists the values, a typo is rejected
by the parser (exit 2, the valid values named, no traceback, no output written), shell completion offers them.

The commands are walked from the application itself, so an option added later is covered too; the tables
below pin the values of each option to the tuple that defines them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from asvbench.calibration import CALIBRATION_METHODS
from asvbench.cli.main import app
from asvbench.extract.config import BUCKETINGS, DTYPES
from asvbench.io.audio import KEY_STYLES
from asvbench.io.formats import POOL_NORMS, SCORE_FORMATS, TRIAL_FORMATS
from asvbench.metrics.eer import EER_METHODS
from asvbench.report.formats import FORMATS
from asvbench.scoring.options import NORM_METHODS, PRECISIONS

runner = CliRunner()


def _flat(text: str) -> str:
    """The output with rich's box drawing and line wrapping removed (messages are checked as one line)."""
    return " ".join(text.replace("│", " ").split())


def _commands(group=None, path=()):
    """(argv prefix, click command) of every leaf command of the application."""
    group = group or typer.main.get_command(app)
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if getattr(command, "commands", None):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = dict(_commands())


def _has_out(argv) -> bool:
    return any("--out" in param.opts for param in COMMANDS[argv].params)


def _choice_options():
    for argv, command in COMMANDS.items():
        for param in command.params:
            if getattr(param.type, "name", "") == "choice" and param.param_type_name == "option":
                yield argv, max(param.opts, key=len), tuple(param.type.choices)


CHOICE_OPTIONS = list(_choice_options())

#: (command, option) -> the tuple that defines its values
DEFINED_BY = {
    (("score",), "--trials-format"): TRIAL_FORMATS,
    (("score",), "--pool-norm"): POOL_NORMS,
    (("score",), "--precision"): PRECISIONS,
    (("score",), "--norm"): NORM_METHODS,
    (("score",), "--eer-method"): EER_METHODS,
    (("calibrate",), "--method"): CALIBRATION_METHODS,
    (("report",), "--format"): FORMATS,
    (("det",), "--format"): SCORE_FORMATS,
    (("det",), "--negatives"): ("all", "nontarget", "spoof"),
    (("extract",), "--dtype"): DTYPES,
    (("extract",), "--bucketing"): BUCKETINGS,
    (("extract",), "--key-style"): KEY_STYLES,
}


@pytest.mark.parametrize(("argv", "option"), list(DEFINED_BY))
def test_option_values_are_the_defining_tuple(argv, option):
    found = {(a, o): values for a, o, values in CHOICE_OPTIONS}
    assert (argv, option) in found, f"{' '.join(argv)} {option} is not a parser choice"
    assert found[(argv, option)] == tuple(DEFINED_BY[(argv, option)])


@pytest.mark.parametrize(("argv", "option", "values"), CHOICE_OPTIONS,
                         ids=[f"{' '.join(a)} {o}" for a, o, _ in CHOICE_OPTIONS])
def test_a_typo_is_rejected_by_the_parser(tmp_path: Path, argv, option, values):
    out = tmp_path / "out"
    # the parser checks options before the command runs, so the other arguments need not be valid
    extra = ["--out", str(out)] if _has_out(argv) else []
    result = runner.invoke(app, [*argv, option, "no-such-value", *extra])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"Invalid value for '{option}'" in result.output
    assert "no-such-value" in result.output
    for value in values:
        assert repr(value) in _flat(result.output)
    assert not out.exists()


@pytest.mark.parametrize(("argv", "option", "values"), CHOICE_OPTIONS,
                         ids=[f"{' '.join(a)} {o}" for a, o, _ in CHOICE_OPTIONS])
def test_help_lists_the_values(argv, option, values):
    result = runner.invoke(app, [*argv, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    assert "|".join(values) in result.output


def test_no_option_lists_values_in_its_help_without_being_a_choice():
    """An option whose help spells out 'a|b|c' but takes any string would let a typo through."""
    offenders = []
    for argv, command in _commands():
        for param in command.params:
            if param.param_type_name != "option" or getattr(param.type, "name", "") == "choice":
                continue
            words = (param.help or "").replace(",", " ").split()
            if any("|" in word and "=" not in word for word in words):  # VALUE=a|b maps are free-form
                offenders.append(f"{' '.join(argv)} {max(param.opts, key=len)}: {param.help}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("bad", ["tpu", "cuda:x", "gpu0", ""])
@pytest.mark.parametrize("argv", [("score", "--norm-device"), ("extract", "--device")])
def test_device_options_refuse_what_is_not_a_device(tmp_path: Path, argv, bad):
    command, option = argv
    result = runner.invoke(app, [command, option, bad, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert "use cpu, cuda, cuda:K (K = GPU index) or mps" in _flat(result.output)


def test_shell_completion_offers_the_values():
    """Completion is switched on (``--install-completion``) and completes a choice option's values."""
    help_text = runner.invoke(app, ["--help"]).output
    assert "--install-completion" in help_text and "--show-completion" in help_text
    env = {**os.environ, "_ASVBENCH_COMPLETE": "complete_bash", "COMP_WORDS": "asvbench score --norm ",
           "COMP_CWORD": "3"}
    exe = Path(sys.executable).with_name("asvbench")
    proc = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == list(NORM_METHODS)
