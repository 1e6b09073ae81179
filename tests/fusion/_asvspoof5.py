"""Loader for the real "ASVspoof 5 dev" SASV scores in ../shared (labels 1 target, 2 nontarget, 0 spoof)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import shared_path

RELATIVE = "models/reference_scores/asvspoof5_dev_scores_label.csv"


def load_asvspoof5_dev(shared_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(asv_score, cm_score, Label codes) of the 29,548 trials.

    models/SOURCES.md and the Tool-score-fusion README say 1.0 target bona fide, 2.0 non-target
    bona fide, 3.0 spoof, but the file holds 1.0 / 2.0 / 0.0 (0.0 = spoof, the default
    ``--label_value_spoof 0`` of ``score-fusion.py``): 1,484 / 5,768 / 22,296 trials, the exact
    class counts of the ASVspoof 2019 LA dev SASV protocol. Mapped to Label codes 1, 0, 2.
    """
    frame = pd.read_csv(shared_path(shared_dir, RELATIVE))
    code = frame["sasv_label"].to_numpy()
    labels = np.select([code == 1.0, code == 2.0, code == 0.0], [1, 0, 2], default=-1).astype(np.int8)
    assert (labels >= 0).all(), f"unexpected label codes {sorted(set(code[labels < 0]))}"
    return frame["asv_score"].to_numpy(np.float64), frame["cm_score"].to_numpy(np.float64), labels
