"""A countermeasure evaluation (:class:`~asvbench.metrics.cm.CmEvaluation`) as tables and as a
result record (``asvbench metrics CM_SCORES --protocol P``, ``--save-result``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.metrics.cm import CmEvaluation
    from asvbench.results import ResultRecord


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.4f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cm_tables(evaluation: CmEvaluation, title: str | None = None) -> Group:
    """The pooled metrics, then one row per attack and the pooled row (rates in %), as the ASVspoof
    evaluation packages print them."""
    s = evaluation.summary
    head = Table(title=title, show_header=True, header_style="bold")
    head.add_column("metric")
    head.add_column("value", justify="right")
    m = s.pooled
    costs = f"P(bona fide)={s.p_bonafide:g}, Cmiss={s.c_miss:g}, Cfa={s.c_fa:g}"
    head.add_row("utterances (bona fide / spoof)", f"{m.n_bonafide:,} / {m.n_spoof:,}")
    head.add_row(f"EER ({s.eer_method})", f"{_pct(m.eer)} %")
    head.add_row("EER threshold", f"{m.eer_threshold:.6g}")
    head.add_row(f"minDCF ({costs})", _num(m.min_dcf))
    head.add_row("actDCF (scores as LLRs)", _num(m.act_dcf))
    head.add_row("Cllr (bits)", _num(m.cllr))
    head.add_row("minCllr (bits)", _num(m.min_cllr))
    head.caption = f"score: {evaluation.score_column}; protocol: {evaluation.protocol_format}"
    attacks = Table(title="bona fide vs each attack", show_header=True, header_style="bold")
    for col in ("attack", "spoofs", "EER %", "minDCF", "actDCF", "Cllr"):
        attacks.add_column(col, justify="left" if col == "attack" else "right")
    for name, row in s.per_attack.items():
        if row is None:
            attacks.add_row(name, "0", "-", "-", "-", "-")
        else:
            attacks.add_row(name, f"{row.n_spoof:,}", _pct(row.eer), _num(row.min_dcf), _num(row.act_dcf),
                            _num(row.cllr))
    return Group(head, attacks)


def record_metrics(evaluation: CmEvaluation) -> dict:
    """The record's metrics: pooled values (DCFs keyed by P(bona fide), as ``asvbench metrics``
    records them), and the EER per attack."""
    s = evaluation.summary
    m = s.pooled
    p = f"{s.p_bonafide:g}"
    return {"n_bonafide": m.n_bonafide, "n_spoof": m.n_spoof, "eer": m.eer, "min_dcf": {p: m.min_dcf},
            "act_dcf": {p: m.act_dcf}, "cllr": m.cllr, "min_cllr": m.min_cllr,
            "eer_per_attack": {name: (row.eer if row is not None else None)
                               for name, row in s.per_attack.items() if name != "pooled"}}


def save_cm_result(path: str | Path, evaluation: CmEvaluation, *, system: str | None, benchmark: str | None,
                   variant: str = "", meta: Mapping[str, Any] | None = None) -> ResultRecord:
    """Write the result record of a CM evaluation (DET: bona fide vs spoof) atomically."""
    from asvbench.results import det_data_from_scores, make_record, save_result

    s = evaluation.summary
    det = det_data_from_scores(evaluation.scores, evaluation.is_bonafide, p_target=s.p_bonafide, c_miss=s.c_miss,
                               c_fa=s.c_fa)
    definitions = {"eer_method": s.eer_method, "p_target": [s.p_bonafide], "c_miss": s.c_miss, "c_fa": s.c_fa,
                   "positive_class": "bonafide", "score_column": evaluation.score_column}
    record = make_record(record_metrics(evaluation), system=system or Path(evaluation.scores_path).stem,
                         benchmark=benchmark, variant=variant, trials_path=evaluation.protocol_path,
                         scores_path=evaluation.scores_path, definitions=definitions, det=det,
                         command="asvbench metrics --protocol", meta=meta)
    save_result(path, record)
    return record
