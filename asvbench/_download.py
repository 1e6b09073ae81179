"""One download routine for ``models pull`` and ``trials fetch``: stream to a temporary file
beside the target (hashing while streaming), verify, and rename into place only when it verifies.

A failed download, an HTTP error, a sha256 mismatch or a failed content check leaves nothing
behind: neither the target nor the temporary ``.NAME.XXXX.part`` file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asvbench.errors import AsvbenchError

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    n_bytes: int


def download_verified(url: str, target: str | Path, *, what: str, expected_sha256: str | None = None,
                      check: Callable[[Path], None] | None = None,
                      progress: Callable[[int, int | None], None] | None = None,
                      timeout: float = 60.0, failure_hint: str = "check the network and retry",
                      web_page_error: AsvbenchError | None = None) -> Downloaded:
    """Download ``url`` to ``target``; ``what`` names the thing in messages.

    ``expected_sha256``: the download must hash to it (mismatch: :class:`AsvbenchError` naming
    the URL and both digests). ``check(temporary_path)``: a content check that raises
    :class:`AsvbenchError` (e.g. a trial-list fingerprint). ``web_page_error``: raised when the
    server answers with an HTML page (a model page instead of the file). ``progress(done, total)``
    is called per block, ``total`` being ``None`` when the server gives no length.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            digest, n_bytes = _stream(url, handle, progress, timeout, failure_hint, web_page_error)
        expected = expected_sha256.lower() if expected_sha256 else None
        if expected is not None and digest != expected:
            raise AsvbenchError(
                f"sha256 mismatch for {what}: expected {expected}, got {digest}; the download was removed",
                where=url, hint="the file at the URL changed or the transfer was corrupted; retry, or report it",
            )
        if check is not None:
            check(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Downloaded(target, digest, n_bytes)


def _stream(url: str, handle, progress: Callable[[int, int | None], None] | None, timeout: float,
            failure_hint: str, web_page_error: AsvbenchError | None) -> tuple[str, int]:
    """Copy the response body of ``url`` into ``handle``; returns (sha256, bytes)."""
    import urllib.error
    import urllib.request

    digest = hashlib.sha256()
    n_bytes = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - registered or user-given URL
            if web_page_error is not None and _is_web_page(response):
                raise web_page_error
            total = _content_length(response)
            while block := response.read(_BLOCK):
                handle.write(block)
                digest.update(block)
                n_bytes += len(block)
                if progress:
                    progress(n_bytes, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AsvbenchError(f"download failed: {reason}", where=url, hint=failure_hint) from None
    return digest.hexdigest(), n_bytes


def _is_web_page(response) -> bool:
    return str(response.headers.get("Content-Type", "")).lower().startswith("text/html")


def _content_length(response) -> int | None:
    total = response.headers.get("Content-Length")
    return int(total) if total and total.isdigit() else None
