"""Streamed ``score`` writes each chunk's lines one chunk late, their score texts formatted by a
forked child meanwhile: the same bytes as the whole-list writer, and no child left behind."""

from __future__ import annotations

import os

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.scoring.pipeline import ScoreSettings, run_scoring
from asvbench.scoring.stream import StreamedTrials
from asvbench.testing import write_store, write_trials
from asvbench.types import Label

T, N = Label.TARGET, Label.NONTARGET


@pytest.fixture(params=["child", "in place"])
def formatter_or_not(request, monkeypatch):
    """Score texts from the formatter child, or (no fork, one CPU) formatted as each chunk comes."""
    if request.param == "in place":
        import asvbench.scoring.stream as stream

        monkeypatch.setattr(stream.FormatterProcess, "start", classmethod(lambda cls: None))
    return request.param


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)  # a child running or a zombie: no error
    except ChildProcessError:
        return True
    return False


def _case(tmp_path, n_trials: int, missing_every: int = 0):
    rng = np.random.default_rng(7)
    keys = [f"spk{i % 9}/" + "x" * int(rng.integers(0, 9)) + f"{i}.wav" for i in range(40)]
    write_store(tmp_path / "store", {k: rng.standard_normal(8) for k in keys})
    flat = rng.choice(len(keys) ** 2, size=n_trials, replace=False)
    enroll = [keys[i // len(keys)] for i in flat]
    test = [keys[i % len(keys)] if not missing_every or (j + 1) % missing_every else f"gone{j}.wav"
            for j, i in enumerate(flat)]
    labels = [T if j % 4 == 0 else N for j in range(n_trials)]
    write_trials(tmp_path / "trials.txt", enroll, test, labels, "voxceleb")
    return tmp_path / "trials.txt", tmp_path / "store"


@pytest.mark.parametrize("chunk_bytes", [1, 300, 5_000, 1 << 20])  # every line its own chunk .. one chunk
@pytest.mark.parametrize("missing_every", [0, 7])
def test_pipelined_chunks_write_the_whole_list_bytes(tmp_path, formatter_or_not, chunk_bytes, missing_every):
    trials, store = _case(tmp_path, 300, missing_every)
    options = {"allow_missing": bool(missing_every)}
    whole = run_scoring(trials, store, out=tmp_path / "whole.tsv", settings=ScoreSettings(stream=False, **options))
    streamed = run_scoring(trials, store, out=tmp_path / "streamed.tsv",
                           settings=ScoreSettings(stream=True, stream_chunk_bytes=chunk_bytes, **options))
    assert isinstance(streamed.trials, StreamedTrials)
    assert (tmp_path / "streamed.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()
    np.testing.assert_array_equal(streamed.scores, whole.scores)
    assert streamed.summary == whole.summary
    assert _no_child_left()


def test_a_failure_with_a_chunk_held_back_leaves_no_output_and_no_child(tmp_path, formatter_or_not):
    # missing keys in a later chunk, not allowed: the whole-list path reports them after the
    # streamed run gave up with the previous chunk's lines still held back
    trials, store = _case(tmp_path, 200, missing_every=150)
    out = tmp_path / "s.tsv"
    with pytest.raises(AsvbenchError, match="missing"):
        run_scoring(trials, store, out=out, settings=ScoreSettings(stream=True, stream_chunk_bytes=400))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "trials.txt"]
    assert _no_child_left()
