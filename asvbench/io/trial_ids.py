"""What ``io`` needs of a parsed trial list (:class:`asvbench.trials.read.Trials`, which imports
``io``): its ids and labels, as a protocol, so that ``io`` never imports ``trials``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from asvbench.io._bytes import ByteKeys


class TrialIds(Protocol):
    """Enrolment and test ids (``str`` arrays, or byte keys when the byte-level parser read the
    list) and the label codes of a trial list."""

    labels: np.ndarray
    key_bytes: dict[str, ByteKeys]

    @property
    def enroll(self) -> np.ndarray: ...

    @property
    def test(self) -> np.ndarray: ...
