"""The check behind the bad-input tables of the readers' tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from asvbench.errors import AsvbenchError


def assert_bad_file(read: Callable[[Path, str], Any], tmp_path: Path, name: str, content: str, fmt: str,
                    fragments: Sequence[str]) -> None:
    """Reading ``content`` (written to ``<name>.txt``) with ``read(path, fmt)`` raises an
    :class:`AsvbenchError` whose message names the file and holds every fragment."""
    path = tmp_path / f"{name}.txt"
    path.write_text(content)
    with pytest.raises(AsvbenchError) as info:
        read(path, fmt)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
