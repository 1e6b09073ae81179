"""``asvbench models list|pull``: the registry table, and pulling from a loopback HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asvbench.cli import models_cmd
from asvbench.cli.main import app
from asvbench.models.base import ModelEntry

runner = CliRunner()


def _entry(url: str | None, sha256: str | None, archive_member: str | None = None) -> ModelEntry:
    def loader(path):  # never called by pull
        raise AssertionError

    return ModelEntry(name="toy", family="toy", kind="embedding", source="tests", embed_dim=4, sample_rate=16000,
                      frontend="none", licence="CC0", loader=loader, url=url, sha256=sha256,
                      archive_member=archive_member)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture()
def server(tmp_path: Path):
    """Serve ``tmp_path/www`` on 127.0.0.1 (a random free port)."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def payload(server) -> tuple[str, str, bytes]:
    www, base = server
    data = bytes(range(256)) * 1000 + b"toy checkpoint"
    (www / "toy.pt").write_bytes(data)
    return f"{base}/toy.pt", hashlib.sha256(data).hexdigest(), data


def _use(monkeypatch: pytest.MonkeyPatch, entry: ModelEntry) -> None:
    monkeypatch.setattr(models_cmd, "_entry", lambda name: entry)


def test_pull_downloads_and_verifies(monkeypatch, payload, tmp_path: Path) -> None:
    url, sha, data = payload
    _use(monkeypatch, _entry(url, sha))
    cache = tmp_path / "cache"
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 0, res.output
    target = cache / "toy" / "toy.pt"
    assert res.stdout.strip() == str(target)
    assert target.read_bytes() == data
    assert "sha256 verified" in " ".join(res.stderr.split())
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 0 and "already cached" in res.stderr
    assert sorted(p.name for p in (cache / "toy").iterdir()) == ["toy.pt"]  # no temporaries left


def test_pull_sha_mismatch_removes_the_file(monkeypatch, payload, tmp_path: Path) -> None:
    url, _, _ = payload
    _use(monkeypatch, _entry(url, "0" * 64))
    cache = tmp_path / "cache"
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 2
    assert "sha256 mismatch" in res.stderr and "removed" in res.stderr
    assert list((cache / "toy").iterdir()) == []


def test_pull_uses_the_cache_env(monkeypatch, payload, tmp_path: Path) -> None:
    url, sha, _ = payload
    _use(monkeypatch, _entry(url, sha))
    monkeypatch.setenv("ASVBENCH_CACHE", str(tmp_path / "envcache"))
    res = runner.invoke(app, ["models", "pull", "toy"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "envcache" / "toy" / "toy.pt").is_file()


def test_pull_without_sha_warns_unverified(monkeypatch, payload, tmp_path: Path) -> None:
    url, sha, _ = payload
    _use(monkeypatch, _entry(url, None))
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 0 and "NOT verified" in res.stderr and sha in " ".join(res.stderr.split())


def test_pull_errors(monkeypatch, server, tmp_path: Path) -> None:
    www, base = server
    _use(monkeypatch, _entry(None, None))
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "no registered download URL" in res.stderr
    _use(monkeypatch, _entry(f"{base}/missing.pt", "0" * 64))
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "download failed" in res.stderr
    (www / "page.html").write_text("<html>model page</html>")
    _use(monkeypatch, _entry(f"{base}/page.html", None))
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "web page, not a checkpoint" in " ".join(res.stderr.split())
    monkeypatch.undo()
    res = runner.invoke(app, ["models", "pull", "no-such-model"])
    assert res.exit_code == 2 and "unknown model 'no-such-model'" in res.stderr


def _zip(path: Path, members: dict[str, bytes]) -> str:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pull_extracts_the_checkpoint_from_a_zip_release(monkeypatch, server, tmp_path: Path) -> None:
    """WeSpeaker's layout: a zip holding ``<folder>/avg_model.pt`` and ``config.yaml``; the
    registered sha256 is the archive's; the cached checkpoint is the extracted member."""
    www, base = server
    weights = bytes(range(256)) * 500
    sha = _zip(www / "release.zip", {"voxceleb_ECAPA512/avg_model.pt": weights,
                                      "voxceleb_ECAPA512/config.yaml": b"model: ECAPA_TDNN_GLOB_c512\n"})
    # a query-string URL, as WeSpeaker's download links are
    _use(monkeypatch, _entry(f"{base}/release.zip?version=x", sha, archive_member="avg_model.pt"))
    cache = tmp_path / "cache"
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 0, res.output
    target = cache / "toy" / "avg_model.pt"
    assert res.stdout.strip() == str(target) and target.read_bytes() == weights
    assert "sha256 verified" in " ".join(res.stderr.split())
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 0 and "already cached" in res.stderr
    assert sorted(p.name for p in (cache / "toy").iterdir()) == ["avg_model.pt", "toy.zip"]  # no temporaries
    target.unlink()  # a lost extraction is redone
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 0 and target.read_bytes() == weights


@pytest.mark.parametrize("content, message", [
    ({"other/model.pt": b"x", "config.yaml": b"y"}, "holds no file(s) named 'avg_model.pt' (it holds: other/model.pt, "
                                                    "config.yaml)"),
    ({"a/avg_model.pt": b"x", "b/avg_model.pt": b"y"}, "holds 2 file(s) named 'avg_model.pt'"),
    (None, "not a readable zip archive"),
])
def test_pull_archive_errors_leave_nothing_cached(monkeypatch, server, tmp_path: Path, content, message) -> None:
    www, base = server
    if content is None:
        (www / "release.zip").write_bytes(b"PK but not a zip at all")
    else:
        _zip(www / "release.zip", content)
    _use(monkeypatch, _entry(f"{base}/release.zip", None, archive_member="avg_model.pt"))
    cache = tmp_path / "cache"
    res = runner.invoke(app, ["models", "pull", "toy", "--cache-dir", str(cache)])
    assert res.exit_code == 2 and message in " ".join(res.stderr.split()), res.stderr
    assert "--checkpoint" in " ".join(res.stderr.split())
    assert list((cache / "toy").iterdir()) == []


def test_extract_uses_the_pulled_checkpoint(monkeypatch, server, tmp_path: Path) -> None:
    """`extract` without --checkpoint finds the file `models pull` cached."""
    from asvbench.extract import engine
    from tests.extract._tiny import save_checkpoint, tiny_entry, write_corpus

    www, base = server
    ck = save_checkpoint(www / "tiny.pt")
    entry = replace(tiny_entry(), url=f"{base}/tiny.pt", sha256=hashlib.sha256(ck.read_bytes()).hexdigest())
    _use(monkeypatch, entry)
    monkeypatch.setattr(engine, "resolve_entry", lambda name: entry)
    monkeypatch.setenv("ASVBENCH_CACHE", str(tmp_path / "cache"))
    write_corpus(tmp_path / "audio", [8000, 9000])
    args = ["extract", "--model", "tiny", "--audio", str(tmp_path / "audio"), "--out", str(tmp_path / "s"),
            "--no-progress", "--num-workers", "0"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "models pull tiny" in " ".join(res.stderr.split())
    assert runner.invoke(app, ["models", "pull", "tiny"]).exit_code == 0
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["checkpoint"] == str(tmp_path / "cache" / "tiny" / "tiny.pt")


def test_extract_uses_a_checkpoint_pulled_from_an_archive(monkeypatch, server, tmp_path: Path) -> None:
    from asvbench.extract import engine
    from tests.extract._tiny import save_checkpoint, tiny_entry, write_corpus

    www, base = server
    ck = save_checkpoint(tmp_path / "avg_model.pt")
    sha = _zip(www / "tiny.zip", {"tiny/avg_model.pt": ck.read_bytes(), "tiny/config.yaml": b"{}"})
    entry = replace(tiny_entry(), url=f"{base}/tiny.zip", sha256=sha, archive_member="avg_model.pt")
    _use(monkeypatch, entry)
    monkeypatch.setattr(engine, "resolve_entry", lambda name: entry)
    monkeypatch.setenv("ASVBENCH_CACHE", str(tmp_path / "cache"))
    write_corpus(tmp_path / "audio", [8000, 9000])
    assert runner.invoke(app, ["models", "pull", "tiny"]).exit_code == 0
    res = runner.invoke(app, ["extract", "--model", "tiny", "--audio", str(tmp_path / "audio"), "--out",
                              str(tmp_path / "s"), "--no-progress", "--num-workers", "0"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["checkpoint"] == str(tmp_path / "cache" / "tiny" / "avg_model.pt")


def test_list_shows_the_registry() -> None:
    from asvbench.models.registry import list_models

    res = runner.invoke(app, ["models", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == [e.name for e in list_models()]
    camp = next(r for r in rows if r["name"] == "campplus-3dspeaker-cn-en-common")
    # the sha256 of the real checkpoint in ../shared/models/SOURCES.md
    assert camp["sha256"] == "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
    assert camp["embed_dim"] == 192 and camp["kind"] == "embedding" and camp["family"] == "campplus"
    assert camp["default"] is True and camp["verified"] == "both" and camp["url"].startswith("https://")
    assert {"kind": "parity", "data": "parity/3dspeaker_campplus_e192",
            "test": "tests/models/test_campplus_parity.py"} in camp["verified_by"]
    assert camp["signature"]["shapes"] == [["xvector.dense.linear.weight", [192, 1024, 1]]]
    defaults = [r["family"] for r in rows if r["default"]]
    assert sorted(defaults) == sorted({r["family"] for r in rows})  # one default per family
    assert {"aasist", "campplus-3dspeaker-cn-en-common", "ecapa-speechbrain"} <= {r["name"] for r in rows
                                                                                 if r["default"]}


def _table_rows(text: str) -> dict[str, list[str]]:
    """First line of each entry's row in the table: name -> its cells (split on runs of spaces)."""
    import re

    from asvbench.models.registry import list_models

    names = {e.name for e in list_models()}
    rows = {}
    for line in text.splitlines():
        cells = re.split(r"\s+", line.strip())
        if not line[:1].isspace() and cells[0] in names:  # continuation lines start with spaces
            rows[cells[0]] = cells
    return rows


def test_list_fits_100_columns_and_marks_defaults_and_verification(monkeypatch) -> None:
    from asvbench.models.registry import list_models

    monkeypatch.setenv("COLUMNS", "100")
    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    header = next(line for line in lines if line.startswith("name"))
    assert header.split() == ["name", "family", "kind", "source", "embed", "front-end", "default", "verified"]
    assert "https://" not in res.stdout and "92f29b94" not in res.stdout  # URLs and hashes: --wide / --json
    rows = _table_rows(res.stdout)
    assert set(rows) == {e.name for e in list_models()}  # every entry starts a row with its whole name
    camp = rows["campplus-3dspeaker-cn-en-common"]
    assert camp[1:5] == ["campplus", "embedding", "3D-Speaker", "192"] and camp[-2:] == ["yes", "both"]
    assert rows["campplus-wespeaker-e512"][-1] == "parity" and "yes" not in rows["campplus-wespeaker-e512"]
    assert rows["aasist"][-2:] == ["yes", "both"] and rows["ecapa-speechbrain"][-2:] == ["yes", "parity"]
    assert "means its default entry" in " ".join(res.stdout.split())


def test_list_without_columns_is_100_wide_and_wide_adds_urls(monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0 and max(map(len, res.stdout.splitlines())) <= 100
    res = runner.invoke(app, ["models", "list", "--wide"])
    assert res.exit_code == 0, res.output
    header = next(line for line in res.stdout.splitlines() if line.startswith("name"))
    assert header.split()[-2:] == ["URL", "sha256"]
    row = _table_rows(res.stdout)["campplus-3dspeaker-cn-en-common"]
    # whole URL and sha256 on the entry's line (shared/models/SOURCES.md)
    assert row[-1] == "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
    assert row[-2].startswith("https://modelscope.cn/") and row[-2].endswith("/campplus_cn_en_common.pt")


def test_pull_a_family_name_pulls_its_default(monkeypatch, server, tmp_path: Path) -> None:
    """`models pull campplus` fetches the campplus family default into that entry's cache folder."""
    from asvbench.models import registry

    www, base = server
    data = b"not really a checkpoint" * 100
    (www / "campplus_cn_en_common.pt").write_bytes(data)
    default = registry.get_model("campplus")
    patched = replace(default, url=f"{base}/campplus_cn_en_common.pt", sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(registry.MODELS._entries, default.name, patched)
    res = runner.invoke(app, ["models", "pull", "campplus", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    target = tmp_path / "c" / "campplus-3dspeaker-cn-en-common" / "campplus_cn_en_common.pt"
    assert res.stdout.strip() == str(target) and target.read_bytes() == data
    assert "campplus: the campplus family's default entry is campplus-3dspeaker-cn-en-common" in res.stderr


def test_list_does_not_import_torch() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys; from typer.testing import CliRunner; from asvbench.cli.main import app; "
            "r = CliRunner().invoke(app, ['models', 'list', '--json']); assert r.exit_code == 0, r.output; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
