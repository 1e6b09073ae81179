"""The score writer starts its own score-text formatter (``start_trial_scores``, and
``write_trial_score_rows`` for a streamed chunk): the same bytes as ``write_trial_scores``."""

from __future__ import annotations

import io

import numpy as np

from asvbench.io.scores import SCORE_HEADER, start_trial_scores, write_trial_score_rows, write_trial_scores
from asvbench.trials.read import read_trials


def test_started_writer_and_rows_give_the_same_bytes(tmp_path):
    path = tmp_path / "trials.txt"
    path.write_text("".join(f"{i % 2} spk{i % 7}/u{i}.wav spk{i % 5}/v{i}.wav\n" for i in range(300)))
    trials = read_trials(path, "voxceleb")
    kept = np.arange(300) % 3 != 0
    rng = np.random.default_rng(0)
    scores = rng.standard_normal(int(kept.sum()))
    labels = trials.labels[kept]
    reference = write_trial_scores(tmp_path / "ref.tsv", trials, kept, scores, labels).read_bytes()
    write = start_trial_scores(tmp_path / "started.tsv", trials, kept, scores, labels)
    assert write().read_bytes() == reference
    rows = io.BytesIO()
    write_trial_score_rows(rows, trials, kept, scores)
    assert SCORE_HEADER + rows.getvalue() == reference
    # the first kept line, by hand: trial 1 (label 1 = target), its score as repr
    assert reference.splitlines()[1] == f"spk1/u1.wav\tspk1/v1.wav\t{float(scores[0])!r}\ttarget".encode()
