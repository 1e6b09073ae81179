"""The ``asvbench score`` job as a pure function: trials + stores -> scores file + metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.io.duplicates import duplicate_code_pairs
from asvbench.io.embeddings import load_embeddings
from asvbench.io.enroll import read_enroll_map
from asvbench.io.scores import start_trial_scores
from asvbench.metrics.summary import MetricsSummary, summarize
from asvbench.scoring.cosine import ScoredTrials, load_center, score_trials
from asvbench.trials.fingerprint import TrialsFingerprint
from asvbench.trials.read import Trials, check_duplicate_trials, read_trials
from asvbench.types import Label


@dataclass(frozen=True)
class ScoreSettings:
    eer_method: str = "interp"
    p_targets: tuple[float, ...] = (0.01,)
    c_miss: float = 1.0
    c_fa: float = 1.0
    pool_norm: str = "none"
    allow_missing: bool = False
    trust_pickle: bool = False
    compute_metrics: bool = True
    precision: str = "float32"
    #: read the trial list a chunk at a time (bounded memory): None = when the list is large
    #: (``scoring.stream.STREAM_MIN_BYTES``) and nothing needs it whole (no enrolment map,
    #: no score normalisation); False = never; True = whenever the format allows
    stream: bool | None = None
    stream_chunk_bytes: int = 32 * 1024 * 1024
    #: give the list's fingerprint (``ScoreRun.fingerprint``, from the bytes read) and resolve the benchmark
    #: it is for (``ScoreRun.benchmark``: ``benchmark``, checked against the list, or identified from it)
    #: before anything is scored
    fingerprint: bool = False
    benchmark: str | None = None
    allow_duplicates: bool = False  # keep repeated trials (counted in the notes) instead of refusing them


@dataclass
class ScoreRun:
    trials: Trials
    scored: ScoredTrials
    scores: np.ndarray  # final scores of the kept trials (normalised when a norm was applied)
    labels: np.ndarray
    out: Path | None
    summary: MetricsSummary | None
    notes: list[str] = field(default_factory=list)
    fingerprint: TrialsFingerprint | None = None  # settings.fingerprint: of the list, from the bytes read
    benchmark: str | None = None  # settings.fingerprint: the resolved benchmark name (trials.registry)


#: Stores up to this size are read into memory for scoring: random row access to a
#: memory-mapped file costs a page fault per row, a sequential read does not.
IN_MEMORY_LIMIT = 4 * 1024**3


def _load_for_scoring(path: str | Path, trust_pickle: bool):
    store = load_embeddings(path, trust_pickle=trust_pickle)
    if isinstance(store.matrix, np.memmap) and store.matrix.nbytes <= IN_MEMORY_LIMIT:
        store.matrix = np.array(store.matrix)
    return store


def run_scoring(
    trials_path: str | Path,
    embeddings: str | Path,
    *,
    out: str | Path | None,
    trials_format: str = "auto",
    enroll_embeddings: str | Path | None = None,
    enroll_maps: Sequence[str | Path] = (),
    center: str | Path | None = None,
    settings: ScoreSettings = ScoreSettings(),
    normalise: Callable[[ScoredTrials], np.ndarray] | None = None,
) -> ScoreRun:
    """Read, score, optionally normalise, write the canonical score file, compute metrics.

    Two steps run in a helper thread, overlapping GIL-bound text work with numpy work that
    releases the GIL: reading the test store while the trial list is parsed, and writing
    the score file while the metrics are computed. Large lists are streamed instead (see
    :class:`ScoreSettings` ``stream`` and :mod:`asvbench.scoring.stream`), with the same output.
    """
    if normalise is None and not enroll_maps and settings.stream is not False:
        from asvbench.scoring.stream import run_streamed

        streamed = run_streamed(trials_path, embeddings, out, trials_format, enroll_embeddings, center, settings)
        if streamed is not None:
            return streamed
    with ThreadPoolExecutor(max_workers=1) as pool:
        store_job = pool.submit(_load_for_scoring, embeddings, settings.trust_pickle)
        try:
            # repeated trials are found after scoring, on integer id codes (cheaper than on the ids)
            trials = read_trials(trials_path, trials_format, check_duplicates=False)
            if settings.compute_metrics:
                _check_two_classes(trials)
            benchmark = resolve_list_benchmark(trials.fingerprint if settings.fingerprint else None, trials_path,
                                               settings)  # the fingerprint costs 0.3 s at Vox1-E: only when asked
        except BaseException:
            store_job.cancel()
            raise  # the trial list's error comes first
        test_store = store_job.result()
    enroll_store = _load_for_scoring(enroll_embeddings, settings.trust_pickle) if enroll_embeddings else None
    enroll_map = read_enroll_map(list(enroll_maps)) if enroll_maps else None
    center_vec = load_center(center, trust_pickle=settings.trust_pickle, dim=test_store.dim) if center else None
    scored = score_trials(
        trials, test_store, enroll_store=enroll_store, enroll_map=enroll_map, center=center_vec,
        pool_norm=settings.pool_norm,  # type: ignore[arg-type]
        allow_missing=settings.allow_missing, precision=settings.precision,
    )
    trials.n_duplicates = check_duplicate_trials(
        trials, allow_duplicates=settings.allow_duplicates,
        pairs=duplicate_code_pairs(scored.kept, scored.enroll_index, scored.test_index))
    scores = normalise(scored) if normalise is not None else scored.scores
    labels = trials.labels[scored.kept]
    notes = []
    if trials.n_duplicates:
        notes.append(f"{trials.n_duplicates} repeated trials kept (--allow-duplicates): each counts once per line")
    if scored.n_missing_trials:
        notes.append(f"skipped {scored.n_missing_trials} of {len(trials)} trials whose embeddings are missing "
                     f"({'; '.join(f'{len(set(v))} {k}' for k, v in scored.missing.items())})")
    if settings.compute_metrics and not ((labels == Label.TARGET).any() and (labels != Label.TARGET).any()):
        # checked before writing: a command that fails leaves no new score file
        raise AsvbenchError(
            f"after skipping {scored.n_missing_trials} trials with missing embeddings only one class is left",
            where=trials_path, hint="fix the missing embeddings, or pass --no-metrics to only write scores",
        )
    out_path = None
    summary = None
    # begun in the main thread while no other thread runs: the writer may fork a score formatter
    write = start_trial_scores(out, trials, scored.kept, scores, labels) if out is not None else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        write_job = pool.submit(write) if write is not None else None
        try:
            if settings.compute_metrics:
                summary = summarize(scores, labels, eer_method=settings.eer_method, p_targets=settings.p_targets,
                                    c_miss=settings.c_miss, c_fa=settings.c_fa)
        finally:
            out_path = write_job.result() if write_job is not None else None
    return ScoreRun(trials, scored, scores, labels, out_path, summary, notes,
                    trials.fingerprint if settings.fingerprint else None, benchmark)


def resolve_list_benchmark(fingerprint: TrialsFingerprint | None, trials_path: str | Path,
                           settings: ScoreSettings) -> str | None:
    """With ``settings.fingerprint``: the benchmark name the list's record gets (an
    :class:`AsvbenchError` when ``settings.benchmark`` is registered and the list is not it)."""
    if not settings.fingerprint:
        return None
    from asvbench.trials.registry import resolve_benchmark  # only with a record to save (8 ms of imports)

    return resolve_benchmark(settings.benchmark, fingerprint, fallback=Path(trials_path).stem)


def _check_two_classes(trials: Trials) -> None:
    counts = trials.counts()
    if counts["target"] == 0 or counts["target"] == len(trials):
        only = "target" if counts["target"] else "non-target"
        raise AsvbenchError(
            f"the trial list holds only {only} trials ({len(trials)}); error rates need both classes",
            where=trials.source, hint="check the list, or pass --no-metrics to only write scores",
        )
