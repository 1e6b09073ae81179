"""`asvbench trials list|verify|identify|fetch` (fetch against a loopback HTTP server only)."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

runner = CliRunner()
SASV_DEV = "trials/asvspoof2019_la/ASVspoof2019.LA.asv.dev.gi.trl.txt"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return None


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture()
def http_dir(tmp_path):
    """Serve tmp_path/www on 127.0.0.1 (random port); yields (dir, base_url)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_list_json():
    result = runner.invoke(app, ["trials", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {b["name"] for b in json.loads(result.stdout)}
    assert {"vox1-o-cleaned", "cnc-eval-avg", "asvspoof2019-la-sasv-eval"} <= names


def test_list_table():
    result = runner.invoke(app, ["trials", "list"])
    assert result.exit_code == 0 and "vox1-o-cleaned" in result.stdout


def test_verify_ok_and_mismatch(shared_dir):
    ok = runner.invoke(app, ["trials", "verify", "sasv-dev", str(shared_path(shared_dir, SASV_DEV))])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.stdout
    bad = runner.invoke(app, ["trials", "verify", "vox1-o-cleaned",
                              str(shared_path(shared_dir, "trials/voxceleb1/veri_test.txt"))])
    assert bad.exit_code == 1
    assert "original instead of cleaned" in flat(bad.stdout)


def test_verify_unknown_name_is_user_error(shared_dir):
    result = runner.invoke(app, ["trials", "verify", "vox9", str(shared_path(shared_dir, SASV_DEV))])
    assert result.exit_code == 2
    assert "unknown benchmark 'vox9'" in flat(result.stderr)


def test_identify(shared_dir, tmp_path):
    result = runner.invoke(app, ["trials", "identify", str(shared_path(shared_dir, SASV_DEV))])
    assert result.exit_code == 0 and "asvspoof2019-la-sasv-dev" in result.stdout
    (tmp_path / "mine.txt").write_text("1 a b\n")
    assert runner.invoke(app, ["trials", "identify", str(tmp_path / "mine.txt")]).exit_code == 1


def test_fetch_from_loopback_mirror(shared_dir, http_dir, tmp_path):
    www, base = http_dir
    (www / "list.txt").write_bytes(shared_path(shared_dir, SASV_DEV).read_bytes())
    dest = tmp_path / "dest"
    result = runner.invoke(app, ["trials", "fetch", "asvspoof2019-la-sasv-dev", "--to", str(dest),
                                 "--url", f"{base}/list.txt"])
    assert result.exit_code == 0, result.output
    got = dest / "ASVspoof2019.LA.asv.dev.gi.trl.txt"
    assert got.read_bytes() == shared_path(shared_dir, SASV_DEV).read_bytes()
    assert [p.name for p in dest.iterdir()] == [got.name]  # no temporary files left


def test_fetch_registered_url_monkeypatched(shared_dir, http_dir, tmp_path, monkeypatch):
    import dataclasses

    from asvbench.trials import registry as reg

    www, base = http_dir
    (www / "v.txt").write_bytes(shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt").read_bytes())
    patched = tuple(dataclasses.replace(b, url=f"{base}/v.txt") if b.name == "vox1-o-cleaned" else b
                    for b in reg._packaged())
    monkeypatch.setattr(reg, "_packaged", lambda: patched)
    path, report = reg.fetch_benchmark("vox1-o-cleaned", tmp_path / "d")
    assert report.ok and path.name == "veri_test2.txt"


def test_fetch_wrong_file_is_not_kept(shared_dir, http_dir, tmp_path):
    www, base = http_dir
    (www / "wrong.txt").write_bytes(shared_path(shared_dir, "trials/voxceleb1/veri_test.txt").read_bytes())
    dest = tmp_path / "dest"
    result = runner.invoke(app, ["trials", "fetch", "vox1-o-cleaned", "--to", str(dest), "--url",
                                 f"{base}/wrong.txt"])
    assert result.exit_code == 2
    assert "does not verify" in flat(result.stderr) and "original instead of cleaned" in flat(result.stderr)
    assert not any(dest.iterdir())


def test_fetch_errors(http_dir, tmp_path):
    _, base = http_dir
    missing = runner.invoke(app, ["trials", "fetch", "vox1-o-cleaned", "--to", str(tmp_path), "--url",
                                  f"{base}/nope.txt"])
    assert missing.exit_code == 2 and "download failed" in flat(missing.stderr)
    archive = runner.invoke(app, ["trials", "fetch", "cnc-eval-avg", "--to", str(tmp_path)])
    assert archive.exit_code == 2 and "inside an archive" in flat(archive.stderr)
