"""The check behind every bad-input table of tests/reliability.

A :class:`Case` is one command line with ``{name}`` placeholders for the files of the
:func:`world` (shared, valid inputs) and of the case's own directory. :func:`run_case` runs it
through the CLI and asserts what issue 14 asks of every bad input: exit code 2, no traceback,
a message that says what (``fragments``), where (``where``: a placeholder whose path, or a literal
text such as ``:3``, the message holds) and what to do (a hint, or the parser's usage help), and
no file left behind: the world and the case directory hold exactly what they held before (no
output, no temporary file, no lock).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.errors import USER_ERROR_EXIT_CODE
from asvbench.testing import write_geometry_case, write_score_lines

runner = CliRunner()
_COMMAND = None


def invoke(args: Sequence[str]):
    """``runner.invoke(app, args)`` with the app's click command built once (typer builds it per
    invoke: about 1 s on this machine, most of a bad-input case)."""
    global _COMMAND
    import typer.testing as typer_testing

    if _COMMAND is None:
        _COMMAND = typer_testing._get_command(app)
    real = typer_testing._get_command
    typer_testing._get_command = lambda _app: _COMMAND
    try:
        return runner.invoke(app, list(args), prog_name="asvbench")
    finally:
        typer_testing._get_command = real


#: the classes of issue 14 (the numbers of its list)
CLASSES = {1: "output paths", 2: "option values", 3: "silent wrong numbers", 6: "where (file:line)",
           7: "nothing left behind", 8: "unusual audio"}


@dataclass(frozen=True)
class Case:
    id: str
    cls: int
    args: tuple[str, ...]
    fragments: tuple[str, ...]
    where: str | None = None  # a placeholder name (its path must appear) or a literal text
    setup: Callable[[dict[str, Path]], None] | None = None  # prepares the case directory
    hint: bool = True  # the message must tell what to do (a hint, or usage help for parser errors)

    def __str__(self) -> str:
        return self.id


def case(id: str, cls: int, args: str | Sequence[str], *fragments: str, where: str | None = None,
         setup: Callable[[dict[str, Path]], None] | None = None, hint: bool = True) -> Case:
    parts = tuple(args.split()) if isinstance(args, str) else tuple(args)
    return Case(id, cls, parts, tuple(fragments), where, setup, hint)


def world(root: Path) -> dict[str, Path]:
    """Valid inputs of every command (built once per module)."""
    root.mkdir(parents=True, exist_ok=True)
    geo = write_geometry_case(root / "geo")
    files = {"trials": geo.trials, "store": geo.store, "root": root}
    files["scores"] = write_score_lines(root / "scores.txt", [
        ("e1", "t1", 0.9, "target"), ("e1", "t2", 0.1, "nontarget"), ("e2", "t1", 0.2, "nontarget"),
        ("e2", "t3", 0.8, "target"), ("e3", "t4", 0.3, "nontarget"), ("e3", "t5", 0.7, "target")])
    files["scores2"] = write_score_lines(root / "scores2.txt", [
        ("e1", "t1", 1.9, "target"), ("e1", "t2", 0.4, "nontarget"), ("e2", "t1", 0.6, "nontarget"),
        ("e2", "t3", 1.1, "target"), ("e3", "t4", 0.2, "nontarget"), ("e3", "t5", 1.2, "target")])
    sasv = root / "sasv_trials.txt"
    sasv.write_text("LA_1 E_1 bonafide target\nLA_1 E_2 bonafide nontarget\nLA_1 E_3 A07 spoof\n"
                    "LA_2 E_4 bonafide target\nLA_2 E_5 bonafide nontarget\nLA_2 E_6 A08 spoof\n")
    files["sasv_trials"] = sasv
    asv = root / "asv.txt"
    asv.write_text("LA_1 E_1 2.0 target\nLA_1 E_2 -1.0 nontarget\nLA_1 E_3 1.5 spoof\n"
                   "LA_2 E_4 1.8 target\nLA_2 E_5 -0.5 nontarget\nLA_2 E_6 1.0 spoof\n")
    files["asv"] = asv
    cm = root / "cm.tsv"
    cm.write_text("utt\tcm_logit\tcm_prob_bonafide\nE_1\t3.0\t0.95\nE_2\t2.5\t0.92\nE_3\t-2.0\t0.12\n"
                  "E_4\t2.8\t0.94\nE_5\t2.2\t0.9\nE_6\t-1.5\t0.18\n")
    files["cm"] = cm
    files["enroll_map"] = root / "enroll.map"
    files["enroll_map"].write_text("m1 a000,b030\nm2 c045\n")
    files["model_trials"] = root / "model_trials.txt"
    files["model_trials"].write_text("1 m1 c045\n0 m1 f180\n1 m2 d060\n0 m2 f180\n")
    record = root / "record.json"
    res = invoke(["metrics", str(files["scores"]), "--save-result", str(record), "--system", "s1"])
    assert res.exit_code == 0, res.output
    files["record"] = record
    return files


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``roots`` (files, directories, links) with its size and mtime."""
    seen = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                seen[str(p)] = (st.st_size, int(st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else 0)
    return seen


def run_case(c: Case, files: dict[str, Path], case_dir: Path) -> str:
    """Run ``c``; assert exit 2, no traceback, what / where / what to do, nothing left. The message."""
    case_dir.mkdir(parents=True, exist_ok=True)
    names = {**{k: str(v) for k, v in files.items()}, "dir": str(case_dir), "out": str(case_dir / "out.tsv")}
    local = dict(files, dir=case_dir, out=case_dir / "out.tsv")
    if c.setup is not None:
        c.setup(local)
        names.update({k: str(v) for k, v in local.items()})
    args = [a.format(**names) for a in c.args]
    before = snapshot(files["root"], case_dir)
    result = invoke(args)
    after = snapshot(files["root"], case_dir)
    output = result.output
    flat = " ".join(output.split())
    assert result.exit_code == USER_ERROR_EXIT_CODE, f"exit {result.exit_code} for {args}:\n{output}\n{result.exception!r}"
    assert "Traceback" not in output and isinstance(result.exception, SystemExit), output
    for fragment in c.fragments:
        assert fragment in flat, f"{fragment!r} not in the message:\n{output}"
    if c.where is not None:
        where = names.get(c.where, c.where)
        assert where in flat, f"where ({where!r}) not in the message:\n{output}"
    if c.hint:
        assert "hint:" in flat or "--help" in flat, f"no what-to-do in the message:\n{output}"
    new = sorted(set(after) - set(before))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p] and Path(p).is_file())
    assert not new, f"left behind: {new}\n{output}"
    assert not changed, f"changed: {changed}\n{output}"
    return flat


# ----------------------------------------------------------------------------- setups shared by tables


def make_file(name: str, content: str | bytes) -> Callable[[dict[str, Path]], None]:
    """A setup writing ``content`` to ``{dir}/name`` and naming it ``{name}`` (dots -> underscores)."""
    def setup(local: dict[str, Path]) -> None:
        path = local["dir"] / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        local[re.sub(r"\W", "_", name)] = path

    return setup


def make_dir(name: str) -> Callable[[dict[str, Path]], None]:
    def setup(local: dict[str, Path]) -> None:
        (local["dir"] / name).mkdir()
        local[re.sub(r"\W", "_", name)] = local["dir"] / name

    return setup


def unwritable(local: dict[str, Path]) -> None:
    """``{ro}``: a directory this process cannot write (as root: /proc/sys, whose mount is read-only)."""
    if os.geteuid() != 0:
        ro = local["dir"] / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        local["ro"] = ro
        return
    if os.access("/proc/sys", os.W_OK):
        pytest.skip("no unwritable directory for root here")
    local["ro"] = Path("/proc/sys")


def live_lock(target: str) -> Callable[[dict[str, Path]], None]:
    """A lock on ``{dir}/target`` held by a live process (this test's parent: it runs while we do)."""
    def setup(local: dict[str, Path]) -> None:
        (local["dir"] / f".{target}.lock").write_text(f"{os.getppid()}\n")
        local["holder"] = Path(str(os.getppid()))

    return setup


def combine(*setups: Callable[[dict[str, Path]], None]) -> Callable[[dict[str, Path]], None]:
    def setup(local: dict[str, Path]) -> None:
        for s in setups:
            s(local)

    return setup


def output_cases(command: str, base: str, option: str, *, inputs: Sequence[str | tuple[str, str]] = (), file_name: str = "o.tsv",
                 kind: str = "file") -> list[Case]:
    """Class 1 for one output option of ``command`` (``base``: the rest of a valid command line)."""
    cases = []
    pre = f"{command} {base}".split()

    def with_out(value: str) -> tuple[str, ...]:
        return (*pre, option, value)

    o = option.lstrip("-")
    if kind == "file":
        cases.append(case(f"{command}-{o}-is-a-directory", 1, with_out("{adir}"), option, "names a directory",
                          where="adir", setup=make_dir("adir")))
    else:
        cases.append(case(f"{command}-{o}-is-a-file", 1, with_out("{afile}"), option, "names an existing file",
                          where="afile", setup=make_file("afile", "x\n")))
    cases.append(case(f"{command}-{o}-under-a-file", 1, with_out("{afile}/sub/" + file_name), option,
                      "is a file, so nothing can be created under it", where="afile", setup=make_file("afile", "x\n")))
    cases.append(case(f"{command}-{o}-unwritable-dir", 1, with_out("{ro}/" + file_name), option, "is not writable",
                      where="ro", setup=unwritable))
    for item in inputs:  # "name" (its option is in base) or ("--flag", "name") (added to the command)
        flag, name = item if isinstance(item, tuple) else (None, item)
        extra = (flag, "{" + name + "}") if flag else ()
        cases.append(case(f"{command}-{o}-is-input-{name}", 1, (*with_out("{" + name + "}"), *extra), option,
                          "is the same path as the input", where=name))
    if kind == "file":
        cases.append(case(f"{command}-{o}-locked", 7, with_out("{dir}/" + file_name), option,
                          "another asvbench process", where="holder", setup=live_lock(file_name)))
    return cases


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


@dataclass
class Tally:
    """Counts for reports/reliability.md (printed by the tests with -s)."""

    cases: dict[int, int] = field(default_factory=dict)
