"""Writing fused SASV scores (``asvbench fuse --out``), atomically.

* ``sasv``: the SASV 2022 submission, ``spk utt source key score`` (space-separated, no header);
* ``asvspoof5``: the ASVspoof 5 Track 2 score TSV, ``spk filename cm-score asv-score sasv-score``
  (``cm-score`` is the CM logit or plain score);
* ``tsv``: asvbench's canonical ``enroll test score label``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asvbench.fusion.options import SASV_OUT_FORMATS  # noqa: F401 - re-exported

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.fusion.join import SasvTrials


def write_fused(path: str | Path, fmt: str, data: SasvTrials, fused) -> None:
    """Write ``fused`` (one score per trial of ``data``) to ``path`` in format ``fmt``."""
    from asvbench._atomic import atomic_open
    from asvbench.io.scores import write_scores
    from asvbench.types import LABEL_NAMES

    scores = np.asarray(fused, dtype=np.float64).tolist()
    if fmt == "tsv":
        write_scores(path, data.enroll, data.test, np.asarray(scores), data.labels)
        return
    keys = [LABEL_NAMES[int(v)] for v in data.labels]
    with atomic_open(path, "w") as handle:
        if fmt == "sasv":
            source = data.source if data.source is not None else np.where(data.labels == 2, "spoof", "bonafide")
            for row in zip(data.enroll, data.test, source, keys, scores):
                handle.write(f"{row[0]} {row[1]} {row[2]} {row[3]} {row[4]!r}\n")
        else:
            handle.write("spk\tfilename\tcm-score\tasv-score\tsasv-score\n")
            for row in zip(data.enroll, data.test, data.cm_logit.tolist(), data.asv.tolist(), scores):
                handle.write(f"{row[0]}\t{row[1]}\t{row[2]!r}\t{row[3]!r}\t{row[4]!r}\n")
