"""``asvbench score`` on a trial list read a chunk at a time: memory bounded at any list length.

Each chunk of whole lines (:func:`asvbench.trials.chunks.iter_trial_chunks`) is parsed,
looked up in the stores, scored, and its lines of the score file are written; only the
scores (float64, 8 bytes a trial), the labels (1 byte) and which trials were kept (1 byte)
stay, for the metrics. A chunk's lines are written once the next chunk is scored (a forked
child, started once, formats its score texts meanwhile). Every trial's score is computed exactly as for the
whole list (dot products, norms and centring are per row), and the lines are written by the
same code (:func:`asvbench.io.scores.write_trial_score_rows`), so the score file is
byte-identical.

A list the chunked reader cannot take, a missing key without ``allow_missing``, or a
repeated trial makes :func:`score_streamed` raise
:class:`~asvbench.trials.chunks.NotStreamable` before anything is written at ``out``:
the caller then runs the whole-list path, which reports those cases as it always has.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asvbench._atomic import atomic_open
from asvbench.io._score_text import FormatterProcess
from asvbench.io.scores import SCORE_HEADER, write_trial_score_rows
from asvbench.scoring.cosine import score_trials
from asvbench.trials.chunks import CHUNK_BYTES, LABEL_COLUMN, NotStreamable, iter_trial_chunks
from asvbench.trials.fingerprint import FingerprintBuilder, TrialsFingerprint, fingerprint_trials
from asvbench.trials.read import Trials

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.scoring.pipeline import ScoreRun

#: lists at least this large are streamed by default (about 4 M VoxCeleb trials)
STREAM_MIN_BYTES = 256 * 1024 * 1024


@dataclass
class StreamedScores:
    """What :class:`~asvbench.scoring.cosine.ScoredTrials` tells about a streamed list."""

    scores: np.ndarray  # (n_kept,) float64
    kept: np.ndarray  # (n_trials,) bool
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_missing_trials(self) -> int:
        return int((~self.kept).sum())


class StreamedTrials(Trials):
    """The labels of a streamed list; its ids are read again from the file on first use."""

    def __init__(self, labels: np.ndarray, fmt: str, source: str):
        super().__init__(None, None, labels, fmt, source)

    def _side(self, which: str) -> np.ndarray:
        if self._ids[which] is None:
            from asvbench.trials.read import read_trials

            whole = read_trials(self.source, self.fmt)
            self._ids = {"enroll": whole.enroll, "test": whole.test}
        return self._ids[which]


@dataclass
class StreamedRun:
    trials: StreamedTrials
    scored: StreamedScores
    labels: np.ndarray  # labels of the kept trials
    out: Path | None
    fingerprint: TrialsFingerprint | None = None  # when asked for


class _PairHashes:
    """Every (enrolment, test) pair seen, to find a trial repeated across chunks.

    A trial whose two keys were found in single-row stores is its pair of store rows
    (``enroll_row * n_test_rows + test_row``: the store keys are unique, so a repeated pair of
    keys is a repeated pair of rows, found exactly and without hashing the keys again). Any
    other trial (a missing key, pooled stores) is a 64-bit hash of its key bytes (the trial
    reader's ``pair_hashes``). A kept trial never repeats a trial with a missing key (their
    keys differ), so the two are checked apart. A repeat found here is confirmed by the
    whole-list reader (the caller falls back to it).
    """

    def __init__(self, n_test_rows: int):
        from asvbench.io.duplicates import pair_hashes

        self._hash = pair_hashes
        self._n_test_rows = np.int64(n_test_rows)
        self._rows: list[np.ndarray] = []
        self._hashes: list[np.ndarray] = []

    def add(self, chunk: Trials, scored) -> None:
        """Note the pairs of ``chunk``, as ``scored`` (its :class:`ScoredTrials`) found them."""
        if not scored.store_rows:  # the same for every chunk of a run: it depends on the stores only
            self._hashes.append(self._hash(*_sides(chunk)))
            return
        # fresh int64 arrays (fancy indexing copies): safe to change in place
        enroll_rows = scored.enroll_side.rows[scored.enroll_index].astype(np.int64, copy=False)
        enroll_rows *= self._n_test_rows
        enroll_rows += scored.test_side.rows[scored.test_index]
        self._rows.append(enroll_rows)
        if not scored.kept.all():
            rest = np.flatnonzero(~scored.kept)
            self._hashes.append(self._hash(*_sides(chunk, rest)))

    def any_repeated(self) -> bool:
        return any(_has_repeat(parts) for parts in (self._rows, self._hashes))


def _sides(chunk: Trials, rows: np.ndarray | None = None) -> tuple:
    """(enrolment, test) keys of ``chunk``'s trials (``rows`` of them), as :func:`pair_hashes` takes them."""
    if "enroll" in chunk.key_bytes and "test" in chunk.key_bytes:
        sides = (chunk.key_bytes["enroll"], chunk.key_bytes["test"])
        return sides if rows is None else tuple(side.take(rows) for side in sides)
    sides = (chunk.enroll, chunk.test)
    return sides if rows is None else tuple(side[rows] for side in sides)


def _has_repeat(parts: list[np.ndarray]) -> bool:
    if not parts:
        return False
    values = np.concatenate(parts)
    values.sort()
    return bool((values[1:] == values[:-1]).any())


class _PipelinedRows:
    """Writes each chunk's score lines one chunk late: a forked child (forked once, here, from
    the main thread before any scoring thread starts) formats a chunk's score texts, the
    longest single step, while this process parses and scores the next chunk.

    The lines are the same bytes, in the same order, as writing each chunk at once. Without a
    child (no fork, one CPU) each chunk is written at once, as before.
    """

    def __init__(self, handle):
        self._handle = handle
        self._formatter: FormatterProcess | None = None
        self._pending: tuple | None = None  # (trials, kept, scores) of the chunk held back

    def __enter__(self) -> "_PipelinedRows":
        if self._handle is not None:
            self._handle.write(SCORE_HEADER)
            self._formatter = FormatterProcess.start()
        return self

    def add(self, trials: Trials, kept: np.ndarray, scores: np.ndarray) -> None:
        if self._handle is None:
            return
        if self._formatter is None:
            write_trial_score_rows(self._handle, trials, kept, scores)  # main thread, no other thread: may fork
            return
        self.flush()
        self._formatter.submit(scores)
        self._pending = (trials, kept, scores)

    def flush(self) -> None:
        """Write the chunk held back (waits for its score texts)."""
        if self._pending is not None:
            trials, kept, scores = self._pending
            self._pending = None
            lines = self._formatter.result(scores)  # type: ignore[union-attr]
            write_trial_score_rows(self._handle, trials, kept, scores, lines=lines)

    def __exit__(self, *exc) -> None:
        self._pending = None  # abandoned by an error: nothing more is written
        if self._formatter is not None:
            self._formatter.close()


def score_streamed(trials_path: str | Path, fmt: str, test_store, *, out: str | Path | None, enroll_store=None,
                   center: np.ndarray | None = None, pool_norm: str = "none", allow_missing: bool = False,
                   precision: str = "float32", chunk_bytes: int = CHUNK_BYTES, fingerprint: bool = False,
                   finish=None) -> StreamedRun:
    """Score ``trials_path`` a chunk at a time, writing ``out`` (atomically) as it goes.

    ``fingerprint``: also compute the list's :class:`~asvbench.trials.fingerprint.TrialsFingerprint`
    from the bytes read (``run.fingerprint``; only a list whose first line the fingerprint reads
    another way than the parser, e.g. one with a comma, is read again for it). ``finish(run)`` is called before ``out`` is
    put in place (metrics, checks): if it raises, nothing is left at ``out``. Raises
    :class:`NotStreamable` for the cases the whole-list path must handle (module docstring).
    """
    parts: dict[str, list[np.ndarray]] = {"scores": [], "kept": [], "labels": []}
    missing: dict[str, list[str]] = {}
    pairs = _PairHashes(len(test_store))
    memo: dict = {}  # each store row's inverse norm, computed once for all chunks
    prints = FingerprintBuilder(Path(trials_path), LABEL_COLUMN[fmt]) if fingerprint else None
    with atomic_open(out, "wb") if out is not None else contextlib.nullcontext() as handle, \
            _PipelinedRows(handle) as rows:
        for chunk in iter_trial_chunks(trials_path, fmt, chunk_bytes,
                                       on_bytes=prints.add_bytes if prints is not None else None):
            trials = chunk.trials
            scored = score_trials(trials, test_store, enroll_store=enroll_store, center=center,
                                  pool_norm=pool_norm,  # type: ignore[arg-type]
                                  allow_missing=True, precision=precision, allow_none_kept=True, memo=memo)
            pairs.add(trials, scored)
            if scored.missing and not allow_missing:
                raise NotStreamable("missing keys")  # the whole-list path names all of them
            for what, keys in scored.missing.items():
                missing.setdefault(what, []).extend(keys)
            if prints is not None:
                prints.add_columns(chunk.columns, trials.labels)
            rows.add(trials, scored.kept, scored.scores)
            parts["scores"].append(scored.scores)
            parts["kept"].append(scored.kept)
            parts["labels"].append(trials.labels)
            del chunk, trials, scored
        rows.flush()
        if pairs.any_repeated():
            raise NotStreamable("repeated trials")
        all_labels = np.concatenate(parts.pop("labels"))
        kept = np.concatenate(parts.pop("kept"))
        streamed = StreamedTrials(all_labels, fmt, str(trials_path))
        if prints is not None:
            streamed.fingerprint = prints.result(fallback=lambda: fingerprint_trials(trials_path))
        run = StreamedRun(streamed,
                          StreamedScores(np.concatenate(parts.pop("scores")), kept,
                                         {k: list(dict.fromkeys(v)) for k, v in missing.items()}),
                          all_labels[kept], Path(out) if out is not None else None,
                          streamed.fingerprint)
        if finish is not None:
            finish(run)
    return run


def run_streamed(trials_path, embeddings, out, trials_format: str, enroll_embeddings, center,
                 settings) -> ScoreRun | None:
    """:func:`~asvbench.scoring.pipeline.run_scoring` a chunk at a time, or None when the list is
    not to be streamed or turns out not streamable (the whole-list path then reads it; nothing
    has been written at ``out``)."""
    from asvbench.trials.chunks import stream_format

    if not Path(trials_path).is_file():  # a pipe is read once, by the whole-list reader
        return None
    fmt = stream_format(trials_path, trials_format)
    if fmt is None or (settings.stream is None and Path(trials_path).stat().st_size < STREAM_MIN_BYTES):
        return None
    from asvbench.metrics.summary import summarize
    from asvbench.scoring.cosine import load_center
    from asvbench.scoring.pipeline import ScoreRun, _check_two_classes, _load_for_scoring, resolve_list_benchmark

    test_store = _load_for_scoring(embeddings, settings.trust_pickle)
    enroll_store = _load_for_scoring(enroll_embeddings, settings.trust_pickle) if enroll_embeddings else None
    center_vec = load_center(center, trust_pickle=settings.trust_pickle, dim=test_store.dim) if center else None
    summary = []
    benchmark = []

    def finish(run: StreamedRun) -> None:  # before the score file is put in place
        # the first moment the fingerprint is known: a streamed list is hashed once, as it is scored
        benchmark.append(resolve_list_benchmark(run.fingerprint, trials_path, settings))
        if settings.compute_metrics:
            _check_two_classes(run.trials)
            _check_two_classes_left(run.labels, run.scored.n_missing_trials, trials_path)
            summary.append(summarize(run.scored.scores, run.labels, eer_method=settings.eer_method,
                                     p_targets=settings.p_targets, c_miss=settings.c_miss, c_fa=settings.c_fa))

    try:
        run = score_streamed(trials_path, fmt, test_store, out=out, enroll_store=enroll_store, center=center_vec,
                             pool_norm=settings.pool_norm, allow_missing=settings.allow_missing,
                             precision=settings.precision, chunk_bytes=settings.stream_chunk_bytes,
                             fingerprint=settings.fingerprint, finish=finish)
    except NotStreamable:
        return None
    return ScoreRun(run.trials, run.scored, run.scored.scores, run.labels, run.out,  # type: ignore[arg-type]
                    summary[0] if summary else None, _missing_notes(run.scored, len(run.trials)), run.fingerprint,
                    benchmark[0])


def _missing_notes(scored: StreamedScores, n_trials: int) -> list[str]:
    """The whole-list path's note on skipped trials, word for word."""
    if not scored.n_missing_trials:
        return []
    return [f"skipped {scored.n_missing_trials} of {n_trials} trials whose embeddings are missing "
            f"({'; '.join(f'{len(set(v))} {k}' for k, v in scored.missing.items())})"]


def _check_two_classes_left(labels: np.ndarray, n_missing: int, trials_path) -> None:
    """The whole-list path's check after skipping missing trials, word for word."""
    from asvbench.errors import AsvbenchError
    from asvbench.types import Label

    if not ((labels == Label.TARGET).any() and (labels != Label.TARGET).any()):
        raise AsvbenchError(
            f"after skipping {n_missing} trials with missing embeddings only one class is left",
            where=trials_path, hint="fix the missing embeddings, or pass --no-metrics to only write scores",
        )
