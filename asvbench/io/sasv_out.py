"""Writing fused SASV scores (``asvbench fuse --out``), atomically, in one of
:data:`~asvbench.io.formats.SASV_OUT_FORMATS`:

* ``sasv``: the SASV 2022 submission, ``spk utt source key score`` (space-separated, no header);
* ``asvspoof5``: the ASVspoof 5 Track 2 score TSV, ``spk filename cm-score asv-score sasv-score``
  (``cm-score`` is the CM logit or plain score);
* ``tsv``: asvbench's canonical ``enroll test score label``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asvbench._atomic import atomic_open
from asvbench._choices import check_choice
from asvbench.io.formats import SASV_OUT_FORMATS
from asvbench.io.scores import write_scores
from asvbench.types import LABEL_NAMES, Label


def write_sasv_scores(path: str | Path, fmt: str, *, enroll, test, labels, fused, source=None, cm=None,
                      asv=None) -> None:
    """Write ``fused`` (one score per trial) to ``path`` in format ``fmt``.

    ``source``: the attack (or ``bonafide``) of each trial for ``sasv`` (default: ``spoof`` for
    spoof trials, else ``bonafide``); ``cm`` and ``asv``: the per-trial CM and ASV scores of
    ``asvspoof5``.
    """
    check_choice(fmt, SASV_OUT_FORMATS, "fused-score format")
    labels = np.asarray(labels)
    scores = np.asarray(fused, dtype=np.float64).tolist()
    if fmt == "tsv":
        write_scores(path, enroll, test, np.asarray(scores), labels)
        return
    keys = [LABEL_NAMES[int(v)] for v in labels]
    with atomic_open(path, "w") as handle:
        if fmt == "sasv":
            sources = source if source is not None else np.where(labels == Label.SPOOF, "spoof", "bonafide")
            for row in zip(enroll, test, sources, keys, scores):
                handle.write(f"{row[0]} {row[1]} {row[2]} {row[3]} {row[4]!r}\n")
        else:
            handle.write("spk\tfilename\tcm-score\tasv-score\tsasv-score\n")
            for row in zip(enroll, test, np.asarray(cm).tolist(), np.asarray(asv).tolist(), scores):
                handle.write(f"{row[0]}\t{row[1]}\t{row[2]!r}\t{row[3]!r}\t{row[4]!r}\n")
