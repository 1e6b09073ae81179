"""Streamed scoring (a chunk of lines at a time) gives the bytes and metrics of the whole-list path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.scoring.pipeline import ScoreSettings, run_scoring
from asvbench.scoring.stream import StreamedTrials
from asvbench.testing import write_store, write_trials
from asvbench.trials.chunks import NotStreamable, iter_trial_chunks
from asvbench.trials.read import read_trials
from asvbench.types import Label

T, N = Label.TARGET, Label.NONTARGET


def _case(tmp_path, seed: int, n_keys: int, n_trials: int, fmt: str = "voxceleb", newline: str = "\n",
          missing: int = 0, dim: int = 4):
    """A store of ``n_keys`` keys of assorted lengths and ``n_trials`` distinct pairs of them
    (the first ``missing`` trials name a key that is not in the store)."""
    rng = np.random.default_rng(seed)
    keys = [f"id{i}/" + "u" * int(rng.integers(0, 12)) + f"{i}.wav" for i in range(n_keys)]
    write_store(tmp_path / "store", {k: rng.standard_normal(dim) + 0.5 for k in keys})
    flat = rng.choice(n_keys * n_keys, size=min(n_trials, n_keys * n_keys), replace=False)
    enroll = [keys[i // n_keys] for i in flat]
    test = [keys[i % n_keys] for i in flat]
    for j in range(min(missing, len(test))):
        test[j] = f"absent{j}.wav"
    labels = [T if i % 3 == 0 else N for i in range(len(flat))]
    write_trials(tmp_path / "trials.txt", enroll, test, labels, fmt, newline=newline)
    return tmp_path / "trials.txt", tmp_path / "store"


def _both(tmp_path, trials, store, chunk_bytes: int, **options):
    """(whole-list run, streamed run, whole bytes, streamed bytes)."""
    whole = run_scoring(trials, store, out=tmp_path / "whole.tsv", settings=ScoreSettings(stream=False, **options))
    streamed = run_scoring(trials, store, out=tmp_path / "streamed.tsv",
                           settings=ScoreSettings(stream=True, stream_chunk_bytes=chunk_bytes, **options))
    return whole, streamed, (tmp_path / "whole.tsv").read_bytes(), (tmp_path / "streamed.tsv").read_bytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_keys=st.integers(2, 12), n_trials=st.integers(2, 60),
       chunk_bytes=st.integers(1, 400), fmt=st.sampled_from(["voxceleb", "kaldi", "cnceleb"]),
       newline=st.sampled_from(["\n", "\r\n"]), precision=st.sampled_from(["float32", "float64"]))
def test_streamed_equals_whole(tmp_path_factory, seed, n_keys, n_trials, chunk_bytes, fmt, newline, precision):
    # chunk sizes from 1 byte (a chunk is cut inside nearly every line) to several lines
    tmp_path = tmp_path_factory.mktemp("stream")
    trials, store = _case(tmp_path, seed, n_keys, n_trials, fmt, newline)
    whole, streamed, a, b = _both(tmp_path, trials, store, chunk_bytes, precision=precision)
    assert isinstance(streamed.trials, StreamedTrials)  # the streamed path did run
    assert a == b
    np.testing.assert_array_equal(streamed.scores, whole.scores)
    np.testing.assert_array_equal(streamed.labels, whole.labels)
    assert streamed.summary == whole.summary
    # ids, when something asks for them (score --by), are read again from the file
    np.testing.assert_array_equal(streamed.trials.enroll, whole.trials.enroll)
    np.testing.assert_array_equal(streamed.trials.test, whole.trials.test)


def test_streamed_with_centre_and_missing_keys_allowed(tmp_path):
    trials, store = _case(tmp_path, 3, 10, 80, missing=7)
    np.save(tmp_path / "c.npy", np.full(4, 0.25))
    whole = run_scoring(trials, store, out=tmp_path / "whole.tsv", center=tmp_path / "c.npy",
                        settings=ScoreSettings(stream=False, allow_missing=True))
    streamed = run_scoring(trials, store, out=tmp_path / "streamed.tsv", center=tmp_path / "c.npy",
                           settings=ScoreSettings(stream=True, stream_chunk_bytes=97, allow_missing=True))
    assert isinstance(streamed.trials, StreamedTrials)
    assert (tmp_path / "whole.tsv").read_bytes() == (tmp_path / "streamed.tsv").read_bytes()
    assert streamed.notes == whole.notes and "skipped 7 of 80 trials" in streamed.notes[0]
    assert streamed.scored.n_missing_trials == 7
    assert streamed.summary == whole.summary


def test_missing_keys_not_allowed_same_error(tmp_path):
    trials, store = _case(tmp_path, 4, 8, 50, missing=3)
    with pytest.raises(AsvbenchError) as whole:
        run_scoring(trials, store, out=tmp_path / "w.tsv", settings=ScoreSettings(stream=False))
    with pytest.raises(AsvbenchError) as streamed:
        run_scoring(trials, store, out=tmp_path / "s.tsv", settings=ScoreSettings(stream=True, stream_chunk_bytes=64))
    assert str(streamed.value) == str(whole.value) and "3 test keys" in str(whole.value)
    assert not (tmp_path / "s.tsv").exists()


@pytest.mark.parametrize("bad_line", ["1 a.wav", "1 a.wav b.wav c.wav", "maybe a.wav b.wav", "1 \u00e9.wav b.wav"])
def test_bad_line_in_a_later_chunk_is_reported_at_its_file_line(tmp_path, bad_line):
    trials, store = _case(tmp_path, 5, 8, 40)
    lines = trials.read_text().splitlines()
    lines.insert(33, bad_line)  # file line 34, several chunks in
    trials.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(AsvbenchError) as whole:
        run_scoring(trials, store, out=tmp_path / "w.tsv", settings=ScoreSettings(stream=False))
    with pytest.raises(AsvbenchError) as streamed:
        run_scoring(trials, store, out=tmp_path / "s.tsv", settings=ScoreSettings(stream=True, stream_chunk_bytes=50))
    assert str(streamed.value) == str(whole.value)
    assert not (tmp_path / "s.tsv").exists()


def test_failure_after_the_last_chunk_leaves_no_output(tmp_path):
    # every non-target trial names a missing key: after skipping them only targets are left
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [0.0, 1.0]})
    write_trials(tmp_path / "trials.txt", ["a", "a", "b", "b"], ["a", "x", "b", "y"], [T, N, T, N])
    out = tmp_path / "s.tsv"
    with pytest.raises(AsvbenchError, match="only one class is left"):
        run_scoring(tmp_path / "trials.txt", tmp_path / "store", out=out,
                    settings=ScoreSettings(stream=True, stream_chunk_bytes=8, allow_missing=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "trials.txt"]  # no temporary left either


def test_one_class_list_same_error(tmp_path):
    write_store(tmp_path / "store", {"a": [1.0, 0.0], "b": [0.0, 1.0]})
    write_trials(tmp_path / "trials.txt", ["a", "b"], ["b", "a"], [N, N])
    with pytest.raises(AsvbenchError) as whole:
        run_scoring(tmp_path / "trials.txt", tmp_path / "store", out=tmp_path / "w.tsv",
                    settings=ScoreSettings(stream=False))
    with pytest.raises(AsvbenchError) as streamed:
        run_scoring(tmp_path / "trials.txt", tmp_path / "store", out=tmp_path / "s.tsv",
                    settings=ScoreSettings(stream=True, stream_chunk_bytes=8))
    assert str(streamed.value) == str(whole.value) and not (tmp_path / "s.tsv").exists()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), chunk_bytes=st.integers(1, 300), blank=st.integers(0, 39), crlf=st.booleans())
def test_chunks_cover_the_list(tmp_path_factory, n, chunk_bytes, blank, crlf):
    # blank lines and a missing final newline anywhere; chunks concatenate to the whole list
    path = tmp_path_factory.mktemp("chunks") / "trials.txt"
    eol = "\r\n" if crlf else "\n"
    lines = [f"{i % 2} e{i}.wav t{i * 7}.wav" for i in range(n)]
    lines.insert(min(blank, n), "")
    path.write_bytes(eol.join(lines).encode())
    pieces = []
    chunks = [c.trials for c in iter_trial_chunks(path, "voxceleb", chunk_bytes, on_bytes=pieces.append)]
    assert b"".join(pieces) == path.read_bytes()
    whole = read_trials(path, "voxceleb")
    assert sum(len(c) for c in chunks) == n
    np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), whole.labels)
    np.testing.assert_array_equal(np.concatenate([c.enroll for c in chunks]), whole.enroll)
    np.testing.assert_array_equal(np.concatenate([c.test for c in chunks]), whole.test)


def test_a_list_without_trials_is_not_streamed(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n\n")
    with pytest.raises(NotStreamable):
        list(iter_trial_chunks(path, "voxceleb", 4))


def test_large_lists_stream_by_default(tmp_path, monkeypatch):
    import asvbench.scoring.stream as stream

    trials, store = _case(tmp_path, 6, 6, 20)
    monkeypatch.setattr(stream, "STREAM_MIN_BYTES", trials.stat().st_size)
    assert isinstance(run_scoring(trials, store, out=None).trials, StreamedTrials)
    monkeypatch.setattr(stream, "STREAM_MIN_BYTES", trials.stat().st_size + 1)
    assert not isinstance(run_scoring(trials, store, out=None).trials, StreamedTrials)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_trials=st.integers(2, 40), chunk_bytes=st.integers(1, 300),
       fmt=st.sampled_from(["voxceleb", "kaldi", "cnceleb"]), newline=st.sampled_from(["\n", "\r\n"]),
       final_newline=st.booleans(), odd=st.sampled_from(["", "blank", "spaces", "comma", "label-key"]))
def test_streamed_fingerprint_equals_fingerprint_trials(tmp_path_factory, seed, n_trials, chunk_bytes, fmt, newline,
                                                       final_newline, odd):
    from asvbench.scoring.stream import score_streamed
    from asvbench.trials.fingerprint import fingerprint_trials

    tmp_path = tmp_path_factory.mktemp("fp")
    trials, store = _case(tmp_path, seed, 8, n_trials, fmt, newline)
    text = trials.read_bytes().decode()
    if not final_newline:
        text = text.rstrip("\r\n")
    if odd == "blank":
        text = newline + text.replace(newline, newline + newline, 1)
    elif odd == "spaces":
        text = text.replace(" ", " \t  ", 3)
    elif odd == "comma":  # fingerprint_trials splits such lines at the comma: the fallback must give its answer
        text = text.replace(".wav", ",x.wav", 2)
    elif odd == "label-key":  # a first line that fingerprint_trials takes for a header ("..._key")
        first = {"voxceleb": "0 a_key b.wav", "kaldi": "a_key b.wav nontarget", "cnceleb": "a_key b.wav 0"}[fmt]
        text = first + newline + text
    trials.write_bytes(text.encode())
    from asvbench.io.embeddings import load_embeddings

    run = score_streamed(trials, fmt, load_embeddings(store), out=None, allow_missing=True, chunk_bytes=chunk_bytes,
                         fingerprint=True)
    assert run.fingerprint == fingerprint_trials(trials)


def test_score_save_result_of_a_streamed_list_has_the_file_fingerprint(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    import asvbench.scoring.stream as stream
    from asvbench.cli.main import app
    from asvbench.trials.fingerprint import fingerprint_trials

    trials, store = _case(tmp_path, 8, 8, 40)
    monkeypatch.setattr(stream, "STREAM_MIN_BYTES", 1)  # stream this small list
    calls = []
    real = stream.FingerprintBuilder.result
    monkeypatch.setattr(stream.FingerprintBuilder, "result",
                        lambda self, fallback: calls.append(self.label_col) or real(self, fallback))
    import asvbench.results as results

    def no_second_read(path):
        raise AssertionError(f"{path} read again for its fingerprint")

    monkeypatch.setattr(stream, "fingerprint_trials", no_second_read)
    monkeypatch.setattr(results, "fingerprint_trials", no_second_read)
    result = CliRunner().invoke(app, ["score", "--trials", str(trials), "--embeddings", str(store),
                                      "--out", str(tmp_path / "s.tsv"), "--save-result", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert calls == [0]  # the streamed path computed it (VoxCeleb: the label is column 0)
    record = json.loads((tmp_path / "r.json").read_text())
    want = fingerprint_trials(trials)
    assert record["trials"]["content_sha256"] == want.content_sha256
    assert record["trials"]["sha256"] == want.sha256 and record["trials"]["n_lines"] == 40


@pytest.mark.parametrize("allow", [False, True])
def test_a_trial_repeated_in_another_chunk_is_handled_as_on_the_whole_list(tmp_path, allow):
    trials, store = _case(tmp_path, 9, 8, 40)
    lines = trials.read_text().splitlines()
    trials.write_text("\n".join(lines + [lines[2]]) + "\n")  # line 41 repeats line 3, chunks apart
    runs = {}
    for stream in (False, True):
        options = ScoreSettings(stream=stream, stream_chunk_bytes=64, allow_duplicates=allow)
        try:
            runs[stream] = run_scoring(trials, store, out=tmp_path / f"{stream}.tsv", settings=options)
        except AsvbenchError as exc:
            runs[stream] = str(exc)
    if allow:
        assert runs[True].notes == runs[False].notes and runs[True].trials.n_duplicates == 1
        assert (tmp_path / "True.tsv").read_bytes() == (tmp_path / "False.tsv").read_bytes()
    else:
        assert runs[True] == runs[False] and "line 41" in runs[True]
