"""Glue between ``asvbench score`` and :mod:`asvbench.scoring.norm`: cohort store -> normaliser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.scoring._rows import unique_positions
from asvbench.scoring.norm import NORM_METHODS, build_cohort, check_top_k, normalise


@dataclass
class CohortNormaliser:
    """Callable for :func:`asvbench.scoring.pipeline.run_scoring`'s ``normalise`` hook.

    Loads the cohort store, pools multi-row utterances like the trials (``pool_norm``), averages
    per speaker when an utt2spk map is given, subtracts the trials' centring vector, and applies
    :func:`asvbench.scoring.norm.normalise` to the scored trials. ``notes`` collects what was done.
    """

    method: str
    cohort: str | Path | None
    top_k: int | None = 300
    utt2spk: str | Path | None = None
    pool_norm: str = "none"
    trust_pickle: bool = False
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_choice(self.method, NORM_METHODS, "--norm")
        if self.method != "none" and self.cohort is None:
            raise AsvbenchError(f"--norm {self.method} needs a cohort", hint="give --cohort STORE")
        if self.method == "none" and (self.cohort is not None or self.utt2spk is not None):
            raise AsvbenchError("--cohort/--cohort-utt2spk given but --norm is none",
                                hint="choose --norm znorm|tnorm|snorm|asnorm, or drop --cohort")
        if self.top_k is not None and self.top_k < 2:
            raise AsvbenchError(f"--top-k must be at least 2, got {self.top_k}")

    def settings(self) -> dict:
        return {"norm": self.method, "cohort": str(self.cohort) if self.cohort else None,
                "cohort_utt2spk": str(self.utt2spk) if self.utt2spk else None,
                "top_k": self.top_k if self.method in ("asnorm", "znorm", "tnorm") else None}

    def __call__(self, scored) -> np.ndarray:
        if self.method == "none":
            return scored.scores
        from asvbench.io.embeddings import load_embeddings
        from asvbench.io.enroll import read_utt2spk

        store = load_embeddings(self.cohort, trust_pickle=self.trust_pickle)
        if store.dim != scored.enroll_side.matrix.shape[1]:
            raise AsvbenchError(f"cohort embeddings are {store.dim}-d, trial embeddings "
                                f"{scored.enroll_side.matrix.shape[1]}-d", where=self.cohort,
                                hint="build the cohort with the same model")
        # single-row stores: the stored (float32) matrix as it is, no float64 copy of it
        vectors = store.matrix if store.offsets is None else store.pooled(pool_norm=self.pool_norm)  # type: ignore[arg-type]
        mapping = read_utt2spk(self.utt2spk) if self.utt2spk else None
        cohort = build_cohort(store.keys, vectors, mapping, center=scored.center, source=str(self.cohort))
        k = None if self.method == "snorm" else self.top_k
        try:
            check_top_k(k, cohort.matrix.shape[0])
        except AsvbenchError as exc:
            raise AsvbenchError(exc.what, where=self.cohort, hint=exc.hint) from None
        e_idx, t_idx, e_emb, t_emb = _trial_sides(scored)
        result = normalise(scored.scores, e_idx, t_idx, e_emb, t_emb, cohort.matrix, self.method, k,
                           device=self.device)
        unit = "speaker means" if cohort.per_speaker else "utterances"
        self.notes.append(f"{self.method}: cohort of {cohort.matrix.shape[0]:,} {unit} from {self.cohort}"
                          + (f", top-{k}" if k is not None else ", whole cohort")
                          + (", centred like the trials" if scored.center is not None else ""))
        return result.scores


def _trial_sides(scored):
    """Row indices and embedding tables for :func:`normalise`.

    When both sides index one matrix (a single store, no enrolment map: VoxCeleb-style lists),
    enrolment and test vectors come from one table of the utterances the trials use, passed
    as the same object, so each utterance's cohort statistics are computed once even when it
    is enrolment in some trials and test in others.
    """
    e_side, t_side = scored.enroll_side, scored.test_side
    if e_side.matrix is not t_side.matrix:
        return scored.enroll_index, scored.test_index, scored.enroll_emb, scored.test_emb
    n = scored.enroll_index.shape[0]
    rows = np.concatenate([e_side.rows[scored.enroll_index], t_side.rows[scored.test_index]])
    used, inverse = unique_positions(rows, e_side.matrix.shape[0])  # np.unique's, without a sort
    table = np.asarray(e_side.matrix[used], dtype=np.float64)
    if scored.center is not None:
        table -= scored.center
    return inverse[:n], inverse[n:], table, table


def make_normaliser(method: str, cohort, top_k: int | None, utt2spk=None, pool_norm: str = "none",
                    trust_pickle: bool = False, device: str = "cpu") -> Callable | None:
    """``None`` for ``--norm none`` (no cohort given), else a :class:`CohortNormaliser`."""
    norm = CohortNormaliser(method, cohort, top_k, utt2spk, pool_norm, trust_pickle, device)
    return None if method == "none" else norm
