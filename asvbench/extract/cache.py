"""The local checkpoint cache: where ``asvbench models pull`` puts files, and the download.

Cache root: ``$ASVBENCH_CACHE`` if set, else ``~/.cache/asvbench/models``. A model's file lives
at ``<root>/<model name>/<file name from the URL>``. Downloads are written to a temporary file
beside the target, checked against the registered sha256, and renamed only when they match;
a mismatch removes the file and is an error.

Models released inside a zip archive (``ModelEntry.archive_member``, e.g. WeSpeaker's
``avg_model.pt``): the archive is kept as ``<root>/<model name>/<model name>.zip`` (the sha256
is the archive's) and the member is extracted beside it, also through a temporary file; the
cached checkpoint is the extracted member.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from asvbench._download import download_verified
from asvbench._hashing import sha256_file
from asvbench.errors import AsvbenchError

CACHE_ENV = "ASVBENCH_CACHE"


def cache_root(cache_dir: str | Path | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/asvbench/models").expanduser()


def _file_name(url: str) -> str:
    name = Path(unquote(urlparse(url).path)).name
    return name or "checkpoint"


def _download_path(name: str, url: str, cache_dir: str | Path | None, archive_member: str | None) -> Path:
    return cache_root(cache_dir) / name / (f"{name}.zip" if archive_member else _file_name(url))


def cached_path(name: str, url: str | None, cache_dir: str | Path | None = None,
                archive_member: str | None = None) -> Path | None:
    """Where the checkpoint of model ``name`` is (or would be) cached; None without a URL.
    With ``archive_member``: the member extracted from the downloaded archive."""
    if not url:
        return None
    if archive_member:
        return cache_root(cache_dir) / name / Path(archive_member).name
    return _download_path(name, url, cache_dir, None)


def _archive_entry(archive: zipfile.ZipFile, member: str, where: str) -> zipfile.ZipInfo:
    """The archive's file named ``member`` (at its top or in one folder, as releases nest it)."""
    names = [info for info in archive.infolist() if not info.is_dir()]
    found = [info for info in names if info.filename == member or info.filename.endswith("/" + member)]
    if len(found) != 1:
        listing = ", ".join(info.filename for info in names[:10]) + (" ..." if len(names) > 10 else "")
        raise AsvbenchError(
            f"the downloaded archive holds {'no' if not found else len(found)} file(s) named {member!r} "
            f"(it holds: {listing or 'nothing'})",
            where=where, hint="the release changed; extract the checkpoint by hand and pass --checkpoint PATH",
        )
    return found[0]


def extract_member(archive_path: Path, member: str, target: Path, *, where: str) -> Path:
    """Extract ``member`` of the zip at ``archive_path`` to ``target`` (temporary file, then rename)."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise AsvbenchError(f"the download is not a readable zip archive ({exc})", where=where,
                            hint="the URL may serve something else now; download by hand and pass "
                                 "--checkpoint PATH") from None
    with archive:
        info = _archive_entry(archive, member, where)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, archive.open(info) as src:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(tmp_name, target)
        except zipfile.BadZipFile as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise AsvbenchError(f"the archive member {info.filename} is corrupt ({exc})", where=where,
                                hint="retry the pull; if it persists, report it") from None
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    return target


@dataclass(frozen=True)
class PullResult:
    name: str
    path: Path
    sha256: str
    verified: bool  # the registry had a sha256 and it matched
    downloaded: bool  # False: already in the cache (and verified)
    n_bytes: int


def pull(name: str, url: str | None, sha256: str | None, *, cache_dir: str | Path | None = None,
         progress: Callable[[int, int | None], None] | None = None, timeout: float = 60.0,
         archive_member: str | None = None) -> PullResult:
    """Download ``url`` into the cache (atomic), verifying ``sha256`` when registered; with
    ``archive_member``, ``url`` is a zip archive and the result is that member, extracted."""
    if not url:
        raise AsvbenchError(f"model {name!r} has no registered download URL",
                            hint="download its checkpoint by hand and pass --checkpoint PATH to extract")
    download = _download_path(name, url, cache_dir, archive_member)
    checkpoint = cached_path(name, url, cache_dir, archive_member)
    assert checkpoint is not None
    expected = sha256.lower() if sha256 else None
    if (download.is_file() and checkpoint.is_file() and expected is not None
            and sha256_file(download) == expected):
        return PullResult(name, checkpoint, expected, True, False, download.stat().st_size)
    fetched = download_verified(
        url, download, what=name, expected_sha256=expected, progress=progress, timeout=timeout,
        failure_hint="check the network, or download by hand and pass --checkpoint",
        web_page_error=AsvbenchError(f"the registered URL of {name} serves a web page, not a checkpoint",
                                     where=url, hint="download the checkpoint by hand from that page and "
                                                     "pass --checkpoint PATH"))
    if archive_member:
        try:
            extract_member(download, archive_member, checkpoint, where=url)
        except AsvbenchError:
            download.unlink(missing_ok=True)  # not the archive we expect: do not leave it cached
            raise
    return PullResult(name, checkpoint, fetched.sha256, expected is not None, True, fetched.n_bytes)
