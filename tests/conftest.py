"""Shared fixtures. Real data comes from ``../shared`` beside the repository (never copied in)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

# The suite's verdict must not depend on the draw: property tests replay the same examples on every
# run (a new failure is then reproducible from the commit alone). ASVBENCH_HYPOTHESIS=explore draws
# fresh examples, for a local hunt (with ASVBENCH_FUZZ_EXAMPLES=5000 on the parser fuzz tests).
_hypothesis_settings.register_profile("replay", derandomize=True, database=None)
_hypothesis_settings.register_profile("explore")
_hypothesis_settings.load_profile("explore" if os.environ.get("ASVBENCH_HYPOTHESIS") == "explore" else "replay")

REPO = Path(__file__).resolve().parents[1]
#: Prefix of the skip reason when ../shared is missing; .ci/run turns such skips into failures.
SHARED_SKIP_REASON = "needs ../shared"


def pytest_configure(config: pytest.Config) -> None:
    """Point the user caches (rendered ``--help`` pages, pulled models) at a temporary directory, so
    that neither a test nor a subprocess it starts writes under the user's ``~/.cache``."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="asvbench-test-cache-"))
    os.environ["XDG_CACHE_HOME"] = str(root)
    os.environ.setdefault("ASVBENCH_CACHE", str(root / "asvbench" / "models"))


def _shared_root() -> Path:
    return Path(os.environ.get("ASVBENCH_SHARED", REPO.parent / "shared")).resolve()


def _missing(reason: str) -> None:
    """Skip, or fail when ASVBENCH_REQUIRE_SHARED=1 (CI always has ../shared)."""
    if os.environ.get("ASVBENCH_REQUIRE_SHARED") == "1":
        pytest.fail(f"{reason} (ASVBENCH_REQUIRE_SHARED=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` data directory; skips (reason 'needs ../shared ...') when absent."""
    root = _shared_root()
    if not (root / "README.md").is_file():
        _missing(f"{SHARED_SKIP_REASON}: real data directory {root} is absent")
    return root


def shared_path(shared_dir: Path, relative: str) -> Path:
    """A path inside ../shared that must exist (skip naming it otherwise)."""
    path = shared_dir / relative
    if not path.exists():
        _missing(f"{SHARED_SKIP_REASON}: {relative} is missing from {shared_dir}")
    return path


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body with ``n`` torch intra-op threads, then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def two_torch_threads() -> Iterator[None]:
    """Two torch threads for a whole test module (``pytestmark = pytest.mark.usefixtures(...)``):
    model tests then run alike on any machine, and the count is restored after the module."""
    with torch_threads(2):
        yield
