"""The cached ``--help`` page (asvbench/cli/_help_cache.py): the same bytes as a fresh render, rendered
once, and rendered afresh whenever anything the page depends on changes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from asvbench import __version__
from asvbench.cli import _help_cache
from asvbench.cli import main as cli_main

PROBE = ("import sys; sys.argv = ['asvbench', *sys.argv[1:]]; from asvbench.cli.main import main\n"
         "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
         "print('RICH' if 'typer.rich_utils' in sys.modules else 'PLAIN', file=sys.stderr); sys.exit(code)")


def _help(args, cache_home, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "ASVBENCH_HELP_CACHE"}
    full_env.update({"XDG_CACHE_HOME": str(cache_home), "COLUMNS": "100", **env})
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, env=full_env)


@pytest.mark.parametrize("args", [["score", "--help"], ["trials", "list", "--help"], ["--help"]])
def test_cached_page_is_the_rendered_page_and_skips_rendering(tmp_path, args):
    fresh = _help(args, tmp_path / "unused", ASVBENCH_HELP_CACHE="0")
    first = _help(args, tmp_path)
    second = _help(args, tmp_path)
    assert fresh.returncode == first.returncode == second.returncode == 0
    assert b"Usage: asvbench" in fresh.stdout and b"--help" in fresh.stdout
    assert first.stdout == fresh.stdout and second.stdout == fresh.stdout
    assert first.stderr.strip() == b"RICH" and second.stderr.strip() == b"PLAIN"  # the hit renders nothing
    assert len(list((tmp_path / "asvbench" / "help").iterdir())) == 1


def test_another_width_renders_afresh(tmp_path):
    narrow = _help(["score", "--help"], tmp_path, COLUMNS="60")
    wide = _help(["score", "--help"], tmp_path, COLUMNS="120")
    assert narrow.stderr.strip() == wide.stderr.strip() == b"RICH"
    assert max(map(len, narrow.stdout.decode().splitlines())) == 60
    assert max(map(len, wide.stdout.decode().splitlines())) == 120


def test_a_failed_help_is_not_cached(tmp_path):
    result = _help(["no-such-command", "--help"], tmp_path)
    assert result.returncode == 2 and b"No such command" in result.stderr
    assert not (tmp_path / "asvbench" / "help").exists() or not any((tmp_path / "asvbench" / "help").iterdir())


@pytest.mark.parametrize(("args", "expected"), [
    (["score", "--help"], True), (["--help"], True), (["trials", "list", "--help"], True),
    (["score", "--meta", "--help"], False),  # --help is --meta's value: the command runs
    (["score", "--help", "--trials"], False), (["score"], False), ([], False),
])
def test_only_a_plain_help_request_is_cached(monkeypatch, args, expected):
    monkeypatch.delenv("ASVBENCH_HELP_CACHE", raising=False)
    for name in [n for n in os.environ if n.endswith("_COMPLETE")]:
        monkeypatch.delenv(name)
    assert _help_cache.is_help_request(args) is expected


def test_cache_can_be_turned_off_and_completion_is_never_cached(monkeypatch):
    monkeypatch.setenv("ASVBENCH_HELP_CACHE", "0")
    assert not _help_cache.is_help_request(["score", "--help"])
    monkeypatch.delenv("ASVBENCH_HELP_CACHE")
    monkeypatch.setenv("_ASVBENCH_COMPLETE", "bash_complete")
    assert not _help_cache.is_help_request(["score", "--help"])


def test_key_follows_package_files_and_render_environment(monkeypatch, tmp_path):
    (tmp_path / "mod.py").write_text("x = 1\n")
    monkeypatch.setattr(_help_cache, "_PACKAGE", tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    before = _help_cache.help_key(["score", "--help"])
    assert _help_cache.help_key(["score", "--help"]) == before
    assert _help_cache.help_key(["metrics", "--help"]) != before
    (tmp_path / "mod.py").write_text("x = 22\n")  # size changes even if the mtime tick does not
    edited = _help_cache.help_key(["score", "--help"])
    assert edited != before
    monkeypatch.setenv("COLUMNS", "81")
    assert _help_cache.help_key(["score", "--help"]) != edited
    monkeypatch.setenv("NO_COLOR", "1")
    assert _help_cache.help_key(["score", "--help"]) not in (before, edited)


def test_stored_page_is_returned_only_for_its_whole_key(monkeypatch, tmp_path):
    monkeypatch.setattr(_help_cache, "_path_for", lambda key: tmp_path / "page.txt")  # every key: one file
    _help_cache.store("key one", "page one\n")
    assert _help_cache.cached("key one") == "page one\n"
    assert _help_cache.cached("key two") is None


def test_main_answers_a_cached_help_without_building_the_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ASVBENCH_HELP_CACHE", raising=False)
    monkeypatch.setattr(sys, "argv", ["asvbench", "score", "--help"])
    key = _help_cache.help_key(["score", "--help"])
    _help_cache.store(key, "the stored page\n")
    monkeypatch.setattr(cli_main, "_app_for", lambda args: lambda: pytest.fail("the help was rendered"))
    cli_main.main()
    assert capsys.readouterr().out == "the stored page\n"


def test_importing_the_cli_entry_point_imports_no_typer_or_command():
    code = ("import json, sys; import asvbench.cli.main; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click') "
            "or m.startswith('asvbench.cli.') and m != 'asvbench.cli.main')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_version_is_answered_by_the_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "asvbench", "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout == f"asvbench {__version__}\n"


def test_a_page_rendered_after_a_change_replaces_the_stale_one(monkeypatch, tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    (package / "mod.py").write_text("x = 1\n")
    monkeypatch.setattr(_help_cache, "_PACKAGE", package)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old_key = _help_cache.help_key(["score", "--help"])
    _help_cache.store(old_key, "old page\n")
    (package / "mod.py").write_text("x = 22\n")
    new_key = _help_cache.help_key(["score", "--help"])
    assert _help_cache.cached(new_key) is None  # stale: rendered afresh
    _help_cache.store(new_key, "new page\n")
    assert _help_cache.cached(new_key) == "new page\n" and _help_cache.cached(old_key) is None
    assert len(list((tmp_path / "cache" / "asvbench" / "help").iterdir())) == 1
