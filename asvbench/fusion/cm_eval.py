"""A countermeasure evaluated on a CM protocol (``asvbench metrics CM_SCORES --protocol P``).

The CM score file (:func:`asvbench.io.scores.read_cm_scores`: the ``asvbench extract`` store,
whose bona fide logit is evaluated, or a plain ``utt score`` file) is joined to the protocol
(:func:`asvbench.io.cm_protocol.read_cm_protocol`) by utterance; the metrics are those of
:mod:`asvbench.metrics.cm` (bona fide = positive class), pooled and per attack.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.metrics.cm import CM_C_FA, CM_C_MISS, CM_EER_METHOD, CM_P_BONA, CmEvaluation, cm_summary

_SHOW = 3


def evaluate_cm(scores_path: str | Path, protocol_path: str | Path, *, protocol_format: str = "auto",
                allow_missing: bool = False, eer_method: str = CM_EER_METHOD, p_bonafide: float = CM_P_BONA,
                c_miss: float = CM_C_MISS, c_fa: float = CM_C_FA) -> CmEvaluation:
    """Join the CM scores to the protocol and compute pooled and per-attack metrics.

    Every protocol utterance needs a score, else :class:`AsvbenchError` (with ``allow_missing``
    the unscored ones are left out and counted). Scores of utterances the protocol does not
    list are counted and not used.
    """
    from asvbench.io.cm_protocol import read_cm_protocol
    from asvbench.io.scores import CM_PLAIN_COLUMNS, read_cm_scores

    cm = read_cm_scores(scores_path)
    proto = read_cm_protocol(protocol_path, protocol_format)
    pos = cm.index.get_indexer(proto.utt)
    scored = pos >= 0
    counts = {"protocol_utterances": len(proto), "utterances_without_score": int((~scored).sum()),
              "scores_not_in_protocol": int(len(cm) - scored.sum())}
    if not scored.all():
        _missing(proto.utt[~scored], len(proto), allow_missing, scores_path)
    bona = proto.is_bonafide[scored]
    if bona.all() or not bona.any():
        only = "bona fide" if bona.any() else "spoofed"
        raise AsvbenchError(f"the {int(scored.sum())} scored utterances of the protocol are all {only}; CM metrics "
                            "need bona fide and spoofed utterances", where=scores_path,
                            hint="score utterances of both classes (see the protocol's key column)")
    scores = cm["cm_logit"].to_numpy(np.float64)[pos[scored]]
    attacks = proto.attack[scored]
    names = proto.attack_names() if proto.has_attacks else []
    summary = cm_summary(scores, bona, attacks, attack_names=names, eer_method=eer_method, p_bonafide=p_bonafide,
                         c_miss=c_miss, c_fa=c_fa)
    counts["utterances_scored"] = int(scored.sum())
    column = "score" if cm.attrs.get("cm_columns") == CM_PLAIN_COLUMNS else "cm_logit"
    return CmEvaluation(summary, proto.utt[scored], scores, bona, attacks, str(scores_path), str(protocol_path),
                        proto.fmt, column, counts)


def _missing(utts: np.ndarray, n_protocol: int, allow_missing: bool, where: str | Path) -> None:
    if len(utts) == n_protocol:
        raise AsvbenchError(f"no utterance of the protocol ({n_protocol}) has a CM score "
                            f"(e.g. {', '.join(repr(u) for u in utts[:_SHOW])})", where=where,
                            hint="check that the scores and the protocol name utterances alike (asvbench extract "
                                 "--key-style stem gives ASVspoof ids such as LA_E_1234567)")
    if not allow_missing:
        raise AsvbenchError(
            f"{len(utts)} of {n_protocol} protocol utterances have no CM score "
            f"(e.g. {', '.join(repr(u) for u in utts[:_SHOW])})", where=where,
            hint="score every utterance of the protocol, or pass --allow-missing to evaluate the scored ones "
                 "(the others are counted)")
