"""The SASV rule shared by trial lists and score files: a target or non-target trial is bona fide,
a spoof trial names its attack."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError, at_line
from asvbench.io._text import file_line, line_of
from asvbench.types import Label


def check_sasv_sources(sources: np.ndarray, labels: np.ndarray, text: str, path: str | Path) -> None:
    """Target and non-target trials must be bona fide; spoof trials must name an attack."""
    import pandas as pd

    bona = pd.Series(sources).str.lower().to_numpy() == "bonafide"
    bad = (bona & (labels == Label.SPOOF)) | (~bona & (labels != Label.SPOOF))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        no = file_line(text, row)
        raise AsvbenchError(
            f"source and key disagree (target/nontarget must be bonafide, spoof must name an attack): "
            f"{line_of(text, no)!r}", where=at_line(path, no),
        )
