"""User errors exit 2 with a message and no traceback; crashes exit differently; no torch at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import asvbench.metrics.summary as summary_mod
from asvbench.cli.main import app
from asvbench.errors import USER_ERROR_EXIT_CODE
from asvbench.testing import write_geometry_case, write_score_lines, write_store, write_trials
from asvbench.types import Label

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _files(tmp):
    """name -> path of every fixture the bad-input table refers to."""
    good = write_score_lines(tmp / "good.txt", [("e", "t", 0.5, "target"), ("e", "u", 0.1, "nontarget")])
    files = {"good": good}
    contents = {
        "empty": "",
        "nan": "e t 0.5 target\ne u nan nontarget\n",
        "inf": "e t 0.5 target\ne u -inf nontarget\n",
        "malformed": "e t 0.5 target\ne u 0.1\n",
        "unknown_label": "e t 0.5 target\ne u 0.1 maybe\n",
        "one_class": "e t 0.5 target\ne u 0.1 target\n",
        "numeric2": "e t 0.5 1\ne u 0.1 2\n",
        "bracket_style": "e t 0.5 target\ne u 0.1 [bold]\n",  # user text that looks like rich markup
        "bracket_close": "e t 0.5 target\ne u 0.1 [/x]\n",
    }
    for name, text in contents.items():
        files[name] = tmp / f"{name}.txt"
        files[name].write_text(text)
    files["binary"] = tmp / "binary.txt"
    files["binary"].write_bytes(b"\xff\xfe\x00bad")
    case = write_geometry_case(tmp / "geo")
    files["trials"], files["store"] = case.trials, case.store
    write_store(tmp / "store3", {"a000": [1.0, 0.0, 0.0]})
    files["store3"] = tmp / "store3"
    files["bad_trials"] = tmp / "bad_trials.txt"
    files["bad_trials"].write_text("1 a000 b030\n1 a000\n")
    files["empty_trials"] = tmp / "empty_trials.txt"
    files["empty_trials"].write_text("\n")
    files["missing_trials"] = write_trials(tmp / "missing_trials.txt", ["a000", "a000"], ["zz1", "b030"],
                                           [Label.TARGET, Label.NONTARGET])
    write_store(tmp / "zero", {"a000": [0.0, 0.0], "b030": [1.0, 0.0]})
    files["zero"] = tmp / "zero"
    files["pk"] = tmp / "e.pk"
    files["pk"].write_bytes(b"not really a pickle")
    (tmp / "nomanifest").mkdir()
    files["nomanifest"] = tmp / "nomanifest"
    files["dup_store"] = tmp / "dup"
    from asvbench.io.embeddings import write_native_store

    write_native_store(files["dup_store"], ["a000", "a000", "b030"], np.eye(3))
    return files


METRICS_BAD = [
    # (id, argv with {names}, fragments expected in the message)
    ("missing_file", ["{tmp}/nope.txt"], ["file not found"]),
    ("empty", ["{empty}"], ["score file is empty"]),
    ("nan", ["{nan}"], ["nan.txt:2", "not finite"]),
    ("inf", ["{inf}"], ["inf.txt:2", "not finite"]),
    ("malformed", ["{malformed}"], ["malformed.txt:2", "expected 4 columns, found 3", "'e u 0.1'"]),
    ("unknown_label", ["{unknown_label}"], ["unknown_label.txt:2", "unknown label 'maybe'"]),
    ("one_class", ["{one_class}"], ["only target trials"]),
    ("numeric2", ["{numeric2}"], ["unknown label '2'", "--label-map"]),
    ("binary", ["{binary}"], ["not a UTF-8 text file"]),
    ("bracket_style", ["{bracket_style}"], ["bracket_style.txt:2", "unknown label '[bold]': 'e u 0.1 [bold]'"]),
    ("bracket_close", ["{bracket_close}"], ["bracket_close.txt:2", "unknown label '[/x]'"]),
    # --eer-method and --format typos are refused by the parser (tests/cli/test_choices.py)
    ("bad_prior", ["{good}", "--p-target", "1.5"], ["--p-target must lie strictly between 0 and 1"]),
    ("bad_cost", ["{good}", "--c-fa", "0"], ["--c-fa must be a positive number"]),
    ("bad_label_map", ["{good}", "--label-map", "1=maybe"], ["bad --label-map item '1=maybe'"]),
    ("bad_column", ["{good}", "--score-column", "nope"], ["no score column 'nope'"]),
]

SCORE_BAD = [
    # --trials-format and --pool-norm typos are refused by the parser (tests/cli/test_choices.py)
    ("trials_missing", ["--trials", "{tmp}/nope.txt", "--embeddings", "{store}"], ["file not found"]),
    ("trials_malformed", ["--trials", "{bad_trials}", "--embeddings", "{store}"],
     ["bad_trials.txt:2", "expected 3 columns, found 2", "'1 a000'"]),
    ("trials_empty", ["--trials", "{empty_trials}", "--embeddings", "{store}"], ["trial list is empty"]),
    ("store_missing", ["--trials", "{trials}", "--embeddings", "{tmp}/nostore"], ["embedding store not found"]),
    ("store_not_native", ["--trials", "{trials}", "--embeddings", "{nomanifest}"], ["no manifest.json"]),
    ("keys_missing", ["--trials", "{missing_trials}", "--embeddings", "{store}"],
     ["1 test keys (first: 'zz1')", "--allow-missing"]),
    ("dims", ["--trials", "{trials}", "--embeddings", "{store}", "--enroll-embeddings", "{store3}"],
     ["enrolment store 3-d, test store 2-d"]),
    ("zero_norm", ["--trials", "{missing_trials}", "--embeddings", "{zero}", "--allow-missing"],
     ["'a000' has zero norm"]),
    ("pickle_untrusted", ["--trials", "{trials}", "--embeddings", "{pk}"], ["refusing to unpickle", "--trust-pickle"]),
    ("duplicates", ["--trials", "{trials}", "--embeddings", "{dup_store}"], ["duplicate keys"]),
    ("enroll_map_missing", ["--trials", "{trials}", "--embeddings", "{store}", "--enroll-map", "{tmp}/nomap"],
     ["file not found"]),
]


def _argv(template, files, tmp):
    return [a.format(tmp=tmp, **{k: str(v) for k, v in files.items()}) for a in template]


@pytest.mark.parametrize("name,argv,fragments", METRICS_BAD, ids=[c[0] for c in METRICS_BAD])
def test_metrics_user_errors(tmp_path, name, argv, fragments):
    files = _files(tmp_path)
    result = runner.invoke(app, ["metrics", *_argv(argv, files, tmp_path), "--json"])
    assert result.exit_code == USER_ERROR_EXIT_CODE == 2, result.output
    err = _flat(result.stderr)
    assert err.startswith("error:")
    assert "Traceback" not in result.output
    assert result.stdout == ""  # nothing on stdout: no half JSON
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("name,argv,fragments", SCORE_BAD, ids=[c[0] for c in SCORE_BAD])
def test_score_user_errors_leave_no_output(tmp_path, name, argv, fragments):
    files = _files(tmp_path)
    out = tmp_path / "out" / "scores.tsv"
    result = runner.invoke(app, ["score", *_argv(argv, files, tmp_path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    err = _flat(result.stderr)
    assert err.startswith("error:") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in err, err
    assert not out.exists()
    assert not (out.parent.exists() and any(out.parent.iterdir()))  # no temporary file left either


def test_usage_errors_share_the_exit_code(tmp_path):
    assert runner.invoke(app, ["score", "--trials", "x"]).exit_code == 2  # missing required options
    assert runner.invoke(app, ["metrics"]).exit_code == 2
    assert runner.invoke(app, ["metrics", "a", "--p-target", "abc"]).exit_code == 2


def test_a_crash_is_not_a_user_error(tmp_path, monkeypatch):
    files = _files(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(summary_mod, "summarize", boom)
    result = runner.invoke(app, ["metrics", str(files["good"])])
    assert result.exit_code not in (0, 2)
    assert isinstance(result.exception, RuntimeError)


def test_no_torch_import(tmp_path):
    files = _files(tmp_path)
    code = f"""
import sys
import asvbench.cli.main
assert 'torch' not in sys.modules, 'import'
from typer.testing import CliRunner
r = CliRunner().invoke(asvbench.cli.main.app, ['metrics', {str(files['good'])!r}, '--json'])
assert r.exit_code == 0, r.output
r = CliRunner().invoke(asvbench.cli.main.app, ['score', '--trials', {str(files['trials'])!r}, '--embeddings',
                       {str(files['store'])!r}, '--out', {str(tmp_path / 's.tsv')!r}, '--json'])
assert r.exit_code == 0, r.output
r = CliRunner().invoke(asvbench.cli.main.app, ['metrics', {str(files['one_class'])!r}])
assert r.exit_code == 2, r.output
bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))
assert not bad, bad[:5]
print('ok')
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
