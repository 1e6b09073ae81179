"""DET plots from result records (their stored compact curves)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asvbench.errors import AsvbenchError
from asvbench.report.plots import DetSeries, plot_det
from asvbench.results import ResultRecord


def plot_records_det(records: Sequence[ResultRecord], out: str | Path, *, sources: Sequence[str] | None = None,
                     title: str = "") -> list[Path]:
    """One DET plot per benchmark; with several benchmarks, ``out``'s stem gets ``-<benchmark>``."""
    sources = list(sources) if sources is not None else [r.label for r in records]
    by_bench: dict[str, list[tuple[ResultRecord, str]]] = {}
    for rec, src in zip(records, sources):
        if rec.det is None:
            raise AsvbenchError(f"record for {rec.label!r} has no DET curve", where=src,
                                hint="records written by --save-result with scores carry one; "
                                     "or draw from score files with `asvbench det`")
        by_bench.setdefault(rec.benchmark, []).append((rec, src))
    out = Path(out)
    paths = []
    for bench, items in by_bench.items():
        path = out
        if len(by_bench) > 1:
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in bench)
            path = out.with_name(f"{out.stem}-{safe}{out.suffix}")
        series = [DetSeries(rec.label, rec.det) for rec, _ in items]  # type: ignore[arg-type]
        paths.append(plot_det(series, path, title=f"{title + ': ' if title else ''}{bench}",
                              simulated=any(rec.simulated for rec, _ in items)))
    return paths
