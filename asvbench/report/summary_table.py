"""Rich rendering of one :class:`~asvbench.metrics.summary.MetricsSummary` (rates shown in %)."""

from __future__ import annotations

from rich.table import Table

from asvbench.metrics.summary import MetricsSummary


def metrics_table(summary: MetricsSummary, title: str | None = None) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("trials (target / nontarget / spoof)",
                  f"{summary.n_target:,} / {summary.n_nontarget:,} / {summary.n_spoof:,}")
    table.add_row(f"EER ({summary.eer_method})", f"{summary.eer * 100:.4f} %")
    table.add_row("EER threshold", f"{summary.eer_threshold:.6g}")
    for p, value in summary.min_dcf.items():
        table.add_row(f"minDCF (p={p}, Cmiss={summary.c_miss:g}, Cfa={summary.c_fa:g})", f"{value:.4f}")
    for p, value in summary.act_dcf.items():
        table.add_row(f"actDCF (p={p}, scores as LLRs)", f"{value:.4f}")
    table.add_row("Cllr (bits)", f"{summary.cllr:.4f}")
    table.add_row("minCllr (bits)", f"{summary.min_cllr:.4f}")
    if summary.sasv_eer is not None:
        table.add_row("SASV-EER", f"{summary.sasv_eer * 100:.4f} %")
        table.add_row("SV-EER", f"{summary.sv_eer * 100:.4f} %")
        table.add_row("SPF-EER", f"{summary.spf_eer * 100:.4f} %")
    return table
