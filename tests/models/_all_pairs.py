"""The all-pairs trial list the real-speech tests score (LibriSpeech 10x10, the LA enrolment segments)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path


def write_all_pairs_trials(keys: list[str], speaker_of: Callable[[str], str], path: Path) -> tuple[int, int]:
    """VoxCeleb-format trial list ``label enroll test`` of every unordered pair; (targets, non-targets)."""
    lines, n_target = [], 0
    for a, b in itertools.combinations(keys, 2):
        target = speaker_of(a) == speaker_of(b)
        n_target += target
        lines.append(f"{int(target)} {a} {b}\n")
    path.write_text("".join(lines))
    return n_target, len(lines) - n_target
