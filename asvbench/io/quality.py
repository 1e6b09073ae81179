"""Quality measures of trials (``calibrate --dev-quality / --apply-quality``): a TSV or CSV with a
header ``enroll test q1 [q2 ...]``, matched to the trials of a score table by (enroll, test)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError


def read_quality(path: Path, table, what: str) -> tuple[np.ndarray, list[str]]:
    """(one row of quality measures per trial of ``table``, the measures' names).

    ``table``: a :class:`~asvbench.io.scores.ScoreTable` with enroll/test ids; ``what`` names it in
    messages (``dev``, ``applied``).
    """
    import pandas as pd

    from asvbench.io._text import read_text

    text = read_text(path)  # existence / encoding errors with the path
    if not text.strip():
        raise AsvbenchError("the quality file is empty", where=path,
                            hint="it needs a header 'enroll test q1 [q2 ...]' and one line per trial")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=None, engine="python", dtype=str, keep_default_na=False)
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AsvbenchError(f"cannot parse the quality file: {exc}", where=path,
                            hint="use one separator (tab, comma or space) throughout") from None
    if list(frame.columns[:2]) != ["enroll", "test"] or frame.shape[1] < 3:
        raise AsvbenchError("quality file must have a header 'enroll test q1 [q2 ...]'", where=f"{path}:1")
    names = list(frame.columns[2:])
    try:
        values = frame[names].astype(float).to_numpy()
    except ValueError as exc:
        raise AsvbenchError(f"quality measures must be numbers ({exc})", where=path) from None
    if table.enroll is None or table.test is None:
        raise AsvbenchError(f"the {what} score file has no enroll/test ids to match quality measures to")
    keys = pd.Index(frame["enroll"] + "\t" + frame["test"])
    if keys.has_duplicates:
        raise AsvbenchError("a trial appears twice in the quality file", where=path)
    want = pd.Index(pd.Series(table.enroll).astype(str) + "\t" + pd.Series(table.test).astype(str))
    pos = keys.get_indexer(want)
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise AsvbenchError(f"{int((pos < 0).sum())} {what} trials have no quality measures "
                            f"(first: {table.enroll[k]} {table.test[k]})", where=path)
    return values[pos], names
