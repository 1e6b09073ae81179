"""Joining ASV trial scores, per-utterance CM scores and a SASV protocol into per-trial arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from asvbench.errors import AsvbenchError
from asvbench.io.scores import CM_STORE_COLUMNS
from asvbench.types import LABEL_NAMES

_SHOW = 3


@dataclass
class SasvTrials:
    """One row per kept trial: ids, Label codes, ASV score and the test utterance's CM outputs."""

    enroll: np.ndarray
    test: np.ndarray
    labels: np.ndarray
    asv: np.ndarray
    cm_logit: np.ndarray
    cm_prob: np.ndarray
    source: np.ndarray | None = None
    #: what was dropped under --allow-missing, or ignored: {what: count}
    counts: dict[str, int] = field(default_factory=dict)
    #: what the CM file held (:data:`asvbench.io.scores.CM_STORE_COLUMNS` or ``CM_PLAIN_COLUMNS``)
    cm_columns: tuple[str, ...] = CM_STORE_COLUMNS

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _pair_keys(enroll, test) -> pd.Index:
    return pd.Index(pd.Series(np.asarray(enroll, dtype=object)).astype(str) + "\t"
                    + pd.Series(np.asarray(test, dtype=object)).astype(str))


def _examples(values) -> str:
    vals = [str(v).replace("\t", " ") for v in list(values)[:_SHOW]]
    return ", ".join(repr(v) for v in vals)


@dataclass
class AsvJoin:
    """Trials with their ASV scores, before the CM scores are attached (``keep``: has an ASV score)."""

    enroll: np.ndarray
    test: np.ndarray
    labels: np.ndarray
    asv: np.ndarray
    keep: np.ndarray
    source: np.ndarray | None
    counts: dict[str, int]

    def kept_tests(self) -> list[str]:
        """The distinct test utterances of the kept trials, in order of appearance: the utterances
        a CM has to score."""
        return pd.unique(np.asarray(self.test, dtype=object)[self.keep]).tolist()


def join_sasv(asv_table, cm: pd.DataFrame, trials=None, *, allow_missing: bool = False,
              asv_where: str = "", cm_where: str = "") -> SasvTrials:
    """Per-trial ASV score (from ``asv_table``) and CM outputs of the test utterance (from ``cm``).

    With ``trials`` (a protocol), its trials and labels rule: every protocol trial needs an ASV
    score and a CM score, else :class:`AsvbenchError` (or, with ``allow_missing``, the trial
    is dropped and counted). ASV lines not in the protocol are counted, never used. The ASV
    file's labels must agree with the protocol's.
    """
    joined = join_asv(asv_table, trials, allow_missing=allow_missing, asv_where=asv_where)
    return attach_cm(joined, cm, allow_missing=allow_missing, cm_where=cm_where)


def join_asv(asv_table, trials=None, *, allow_missing: bool = False, asv_where: str = "") -> AsvJoin:
    """The first half of :func:`join_sasv`: the trials and their ASV scores."""
    if asv_table.enroll is None or asv_table.test is None:
        raise AsvbenchError("the ASV score file has no enrolment/test id columns", where=asv_where,
                            hint="use the 'enroll test score label' file written by asvbench score")
    counts: dict[str, int] = {}
    asv_keys = _pair_keys(asv_table.enroll, asv_table.test)
    if asv_keys.has_duplicates:
        raise AsvbenchError(f"{int(asv_keys.duplicated().sum())} trials appear more than once in the ASV scores "
                            f"(e.g. {_examples(asv_keys[asv_keys.duplicated()])})", where=asv_where)
    if trials is not None:
        enroll, test, labels = trials.enroll, trials.test, np.asarray(trials.labels)
        source = trials.extra.get("source")
        pos = asv_keys.get_indexer(_pair_keys(enroll, test))
        no_asv = pos < 0
        counts["asv_lines_not_in_protocol"] = int(asv_keys.shape[0] - np.unique(pos[~no_asv]).shape[0])
        if no_asv.any():
            if not allow_missing:
                raise AsvbenchError(
                    f"{int(no_asv.sum())} of {len(labels)} protocol trials have no ASV score "
                    f"(e.g. {_examples(_pair_keys(enroll[no_asv], test[no_asv]))})", where=asv_where,
                    hint="score the whole protocol with asvbench score (check the enrolment lists), "
                         "or pass --allow-missing to drop them (they are counted)")
            counts["trials_without_asv_score"] = int(no_asv.sum())
        asv = np.full(len(labels), np.nan)
        asv[~no_asv] = asv_table.scores[pos[~no_asv]]
        file_labels = np.full(len(labels), -1)
        file_labels[~no_asv] = asv_table.labels[pos[~no_asv]]
        disagree = (~no_asv) & (file_labels != labels)
        if disagree.any():
            k = int(np.flatnonzero(disagree)[0])
            raise AsvbenchError(
                f"{int(disagree.sum())} trials have another label in the ASV score file than in the protocol "
                f"(first: {enroll[k]} {test[k]}: {LABEL_NAMES[int(file_labels[k])]} vs {LABEL_NAMES[int(labels[k])]})",
                where=asv_where, hint="score and fuse with the same protocol")
        keep = ~no_asv
    else:
        enroll, test, labels = asv_table.enroll, asv_table.test, np.asarray(asv_table.labels)
        source = None
        asv = np.asarray(asv_table.scores, dtype=np.float64)
        keep = np.ones(len(labels), dtype=bool)
    return AsvJoin(enroll, test, labels, asv, keep, source, counts)


def attach_cm(joined: AsvJoin, cm: pd.DataFrame, *, allow_missing: bool = False, cm_where: str = "") -> SasvTrials:
    """The second half of :func:`join_sasv`: the CM outputs of each kept trial's test utterance."""
    enroll, test, labels, asv, source = joined.enroll, joined.test, joined.labels, joined.asv, joined.source
    keep, counts = joined.keep.copy(), dict(joined.counts)
    cm_pos = pd.Index(cm.index).get_indexer(pd.Index(np.asarray(test, dtype=object)))
    no_cm = cm_pos < 0
    if no_cm.any():
        utts = pd.unique(np.asarray(test, dtype=object)[no_cm])
        if not allow_missing:
            raise AsvbenchError(
                f"{len(utts)} test utterances ({int(no_cm.sum())} trials) have no CM score (e.g. {_examples(utts)})",
                where=cm_where, hint="score every test utterance with the CM, or pass --allow-missing to drop "
                                     "those trials (they are counted)")
        counts["trials_without_cm_score"] = int((no_cm & keep).sum())
        keep &= ~no_cm
    if not keep.any():
        raise AsvbenchError("no trial has both an ASV and a CM score")
    idx = cm_pos[keep]
    counts["trials_kept"] = int(keep.sum())
    return SasvTrials(
        enroll=np.asarray(enroll, dtype=object)[keep], test=np.asarray(test, dtype=object)[keep],
        labels=np.asarray(labels)[keep].astype(np.int8), asv=asv[keep],
        cm_logit=cm["cm_logit"].to_numpy(np.float64)[idx], cm_prob=cm["cm_prob_bonafide"].to_numpy(np.float64)[idx],
        source=None if source is None else np.asarray(source, dtype=object)[keep], counts=counts,
        cm_columns=tuple(cm.attrs.get("cm_columns", CM_STORE_COLUMNS)),
    )
