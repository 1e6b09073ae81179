"""The e2e tests read what the CLI wrote with numpy and plain text, independently of asvbench's readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def store_rows(path: Path) -> dict[str, np.ndarray]:
    """utt -> (rows, D) float64 from a native store's files (embeddings.npy, offsets.npy, keys.txt)."""
    matrix = np.load(path / "embeddings.npy").astype(np.float64)
    keys = (path / "keys.txt").read_text().split()
    offsets = np.load(path / "offsets.npy")
    return {k: matrix[offsets[i]:offsets[i + 1]] for i, k in enumerate(keys)}


def score_file(path: Path) -> dict[tuple[str, str], float]:
    """(enroll, test) -> score of a score TSV whose header is ``enroll test score label``."""
    lines = path.read_text().splitlines()[1:]
    return {(ln.split("\t")[0], ln.split("\t")[1]): float(ln.split("\t")[2]) for ln in lines}
