"""The local checkpoint cache: where ``asvbench models pull`` puts files, and the download.

Cache root: ``$ASVBENCH_CACHE`` if set, else ``~/.cache/asvbench/models``. A model's file lives
at ``<root>/<model name>/<file name from the URL>``. Downloads are written to a temporary file
beside the target, checked against the registered sha256, and renamed only when they match;
a mismatch removes the file and is an error.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from asvbench.errors import AsvbenchError
from asvbench.results import sha256_file  # noqa: F401 - re-exported for the engine

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


def cached_path(name: str, url: str | None, cache_dir: str | Path | None = None) -> Path | None:
    """Where the checkpoint of model ``name`` is (or would be) cached; None without a URL."""
    if not url:
        return None
    return cache_root(cache_dir) / name / _file_name(url)


@dataclass(frozen=True)
class PullResult:
    name: str
    path: Path
    sha256: str
    verified: bool  # the registry had a sha256 and it matched
    downloaded: bool  # False: already in the cache (and verified)
    n_bytes: int


def pull(name: str, url: str | None, sha256: str | None, *, cache_dir: str | Path | None = None,
         progress: Callable[[int, int | None], None] | None = None, timeout: float = 60.0) -> PullResult:
    """Download ``url`` into the cache (atomic), verifying ``sha256`` when registered."""
    import urllib.error
    import urllib.request

    if not url:
        raise AsvbenchError(f"model {name!r} has no registered download URL",
                            hint="download its checkpoint by hand and pass --checkpoint PATH to extract")
    target = cached_path(name, url, cache_dir)
    assert target is not None
    expected = sha256.lower() if sha256 else None
    if target.is_file() and expected is not None and sha256_file(target) == expected:
        return PullResult(name, target, expected, True, False, target.stat().st_size)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    n_bytes = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - registered URL
                    if str(response.headers.get("Content-Type", "")).lower().startswith("text/html"):
                        raise AsvbenchError(f"the registered URL of {name} serves a web page, not a checkpoint",
                                            where=url, hint="download the checkpoint by hand from that page and "
                                                            "pass --checkpoint PATH")
                    total = response.headers.get("Content-Length")
                    total_n = int(total) if total and total.isdigit() else None
                    while block := response.read(1 << 20):
                        handle.write(block)
                        h.update(block)
                        n_bytes += len(block)
                        if progress:
                            progress(n_bytes, total_n)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise AsvbenchError(f"download failed: {reason}", where=url,
                                    hint="check the network, or download by hand and pass --checkpoint") from None
        digest = h.hexdigest()
        if expected is not None and digest != expected:
            raise AsvbenchError(
                f"sha256 mismatch for {name}: expected {expected}, got {digest}; the download was removed",
                where=url, hint="the file at the URL changed or the transfer was corrupted; retry, or report it",
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PullResult(name, target, digest, expected is not None, True, n_bytes)
