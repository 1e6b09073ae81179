"""``asvbench._download.download_verified``: the one download-verify-rename routine of
``models pull`` and ``trials fetch``, against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from asvbench._download import download_verified
from asvbench.errors import AsvbenchError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def served(tmp_path: Path):
    """``tmp_path/www/data.bin`` served on 127.0.0.1; yields (www, base URL, the bytes)."""
    www = tmp_path / "www"
    www.mkdir()
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB block
    (www / "data.bin").write_bytes(data)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}", data
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_renames(served, tmp_path: Path) -> None:
    _, base, data = served
    calls: list[tuple[int, int | None]] = []
    target = tmp_path / "out" / "data.bin"
    got = download_verified(f"{base}/data.bin", target, what="toy",
                            expected_sha256=hashlib.sha256(data).hexdigest().upper(),
                            progress=lambda done, total: calls.append((done, total)))
    assert target.read_bytes() == data
    assert (got.path, got.sha256, got.n_bytes) == (target, hashlib.sha256(data).hexdigest(), len(data))
    assert calls == [(1 << 20, len(data)), (len(data), len(data))]  # two blocks, the server's length
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.bin"]


def test_sha_mismatch_names_url_and_expected_and_leaves_nothing(served, tmp_path: Path) -> None:
    _, base, data = served
    out = tmp_path / "out"
    with pytest.raises(AsvbenchError) as err:
        download_verified(f"{base}/data.bin", out / "data.bin", what="toy", expected_sha256="ab" * 32)
    assert err.value.where == f"{base}/data.bin"
    assert "ab" * 32 in err.value.what and hashlib.sha256(data).hexdigest() in err.value.what
    assert list(out.iterdir()) == []


def test_failed_content_check_leaves_nothing_and_keeps_an_old_target(served, tmp_path: Path) -> None:
    _, base, _ = served
    out = tmp_path / "out"
    out.mkdir()
    (out / "data.bin").write_bytes(b"old")

    def refuse(path: Path) -> None:
        assert path.parent == out and path.name.endswith(".part")  # checked before the rename
        raise AsvbenchError("not the list we expect")

    with pytest.raises(AsvbenchError, match="not the list we expect"):
        download_verified(f"{base}/data.bin", out / "data.bin", what="toy", check=refuse)
    assert [p.name for p in out.iterdir()] == ["data.bin"] and (out / "data.bin").read_bytes() == b"old"


def test_http_error_and_web_page(served, tmp_path: Path) -> None:
    www, base, _ = served
    out = tmp_path / "out"
    with pytest.raises(AsvbenchError) as err:
        download_verified(f"{base}/missing.bin", out / "x.bin", what="toy", failure_hint="download by hand")
    assert err.value.what.startswith("download failed") and err.value.where == f"{base}/missing.bin"
    assert err.value.hint == "download by hand"
    (www / "page.html").write_text("<html>model page</html>")
    page = AsvbenchError("serves a web page")
    with pytest.raises(AsvbenchError) as err:
        download_verified(f"{base}/page.html", out / "x.bin", what="toy", web_page_error=page)
    assert err.value is page
    assert list(out.iterdir()) == []
