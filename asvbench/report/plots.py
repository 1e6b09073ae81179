"""DET curves and score histograms (matplotlib, imported lazily, Agg canvas, no pyplot state).

DET: Martin et al., "The DET curve in assessment of detection task performance",
Eurospeech 1997: miss probability against false-alarm probability, both on normal-deviate
(probit) axes. Axes run from 0.01 % to 50 % by default. Each curve is marked at its EER
(circle, on the diagonal) and at its minDCF operating point (square); the legend gives
the EER. Curve data come from :func:`asvbench.metrics.det_curve` (via
:func:`asvbench.results.det_data_from_scores`) or from the compact curve stored in a
result record. The output format follows the file suffix (``.png``, ``.pdf``, ``.svg``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench._atomic import atomic_path
from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.results import DetData

PLOT_FORMATS = ("png", "pdf", "svg")
#: Tick positions (fractions) and their labels in %.
DET_TICKS = (0.0001, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
_LABEL_COLOURS = {"target": "#1b7837", "nontarget": "#2166ac", "spoof": "#b2182b", "bonafide": "#1b7837"}


@dataclass(frozen=True)
class DetSeries:
    """One curve to draw."""

    label: str
    det: DetData


def _tick_label(p: float) -> str:
    pct = p * 100
    return f"{pct:g}"


def _plot_format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    suffixes = tuple("." + f for f in PLOT_FORMATS)
    check_choice(path.suffix.lower(), suffixes, "plot format", where=path, hint=f"name the file with one of: {', '.join(suffixes)}")
    return fmt


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    fmt = _plot_format(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, bbox_inches="tight")
    return path


def plot_det(series: Sequence[DetSeries], out: str | Path, *, title: str = "", simulated: bool = False,
             lo: float = 1e-4, hi: float = 0.5) -> Path:
    """Draw DET curves of ``series`` into ``out`` (PNG/PDF/SVG by suffix)."""
    from scipy.special import ndtri

    path = Path(out)
    _plot_format(path)
    if not series:
        raise AsvbenchError("no curves to plot")
    if not 0 < lo < hi < 1:
        raise AsvbenchError(f"bad DET axis range {lo}..{hi}", hint="need 0 < low < high < 1")
    fig = _figure(6.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    eps = 1e-9

    def probit(v):
        return ndtri(np.clip(np.asarray(v, np.float64), eps, 1 - eps))

    styles = ["-", "--", "-.", ":"]
    for k, s in enumerate(series):
        det = s.det
        legend = s.label
        if det.eer is not None:
            legend += f" (EER {det.eer * 100:.2f}%)"
        (line,) = ax.plot(probit(det.fpr), probit(det.fnr), linestyle=styles[(k // 10) % len(styles)],
                          linewidth=2.0, label=legend)
        colour = line.get_color()
        if det.eer is not None:
            ax.plot(probit(det.eer), probit(det.eer), marker="o", markersize=8, color=colour,
                    markeredgecolor="black", linestyle="none")
        if det.min_dcf_point is not None:
            # an operating point outside the axes (e.g. accept-all) is drawn on the border
            fa, miss = (min(max(v, lo), hi) for v in det.min_dcf_point)
            ax.plot(probit(fa), probit(miss), marker="s", markersize=7, color=colour,
                    markeredgecolor="black", linestyle="none", clip_on=False, zorder=5)
    ax.plot(probit([lo, hi]), probit([lo, hi]), color="grey", linewidth=0.8, linestyle=":")
    ticks = [t for t in DET_TICKS if lo <= t <= hi]
    for set_ticks, set_labels, set_lim in ((ax.set_xticks, ax.set_xticklabels, ax.set_xlim),
                                           (ax.set_yticks, ax.set_yticklabels, ax.set_ylim)):
        set_ticks(probit(ticks))
        set_labels([_tick_label(t) for t in ticks], fontsize=11)
        set_lim(probit(lo), probit(hi))
    ax.set_xlabel("False alarm rate (%)", fontsize=13)
    ax.set_ylabel("Miss rate (%)", fontsize=13)
    ax.grid(True, color="0.85", linewidth=0.7)
    ax.set_aspect("equal")
    # marker legend entries (EER / minDCF) after the curves
    ax.plot([], [], marker="o", color="white", markeredgecolor="black", linestyle="none", label="EER")
    p_target = next((s.det.p_target for s in series if s.det.p_target is not None), None)
    if any(s.det.min_dcf_point is not None for s in series):
        ax.plot([], [], marker="s", color="white", markeredgecolor="black", linestyle="none",
                label="minDCF" + (f" (p={p_target:g})" if p_target else ""))
    # legend below the axes, so it never hides a curve
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=10, frameon=False,
              ncol=1 if max(len(s.label) for s in series) > 24 else 2)
    full_title = title or "DET"
    if simulated:
        full_title = f"SIMULATED DATA: {full_title}"
    ax.set_title(full_title, fontsize=13, color="#b2182b" if simulated else "black")
    return _save(fig, path)


def plot_histograms(groups: Mapping[str, np.ndarray], out: str | Path, *, title: str = "",
                    simulated: bool = False, bins: int = 60) -> Path:
    """Score histograms (density) per trial class, e.g. target / nontarget / spoof."""
    path = Path(out)
    _plot_format(path)
    present = {k: np.asarray(v, np.float64) for k, v in groups.items() if len(v)}
    if not present:
        raise AsvbenchError("no scores to plot")
    finite = np.concatenate([v[np.isfinite(v)] for v in present.values()])
    if finite.size == 0:
        raise AsvbenchError("no finite scores to plot")
    lo, hi = np.percentile(finite, [0.1, 99.9])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for name, values in present.items():
        colour = _LABEL_COLOURS.get(name)
        ax.hist(values, bins=edges, density=True, histtype="stepfilled", alpha=0.25, color=colour)
        ax.hist(values, bins=edges, density=True, histtype="step", linewidth=1.8, color=colour,
                label=f"{name} ({len(values):,})")
    ax.set_xlabel("Score", fontsize=13)
    ax.set_ylabel("Density", fontsize=13)
    ax.tick_params(labelsize=11)
    ax.legend(fontsize=10)
    ax.grid(True, color="0.9", linewidth=0.7)
    full_title = title or "Score distributions"
    if simulated:
        full_title = f"SIMULATED DATA: {full_title}"
    ax.set_title(full_title, fontsize=13, color="#b2182b" if simulated else "black")
    return _save(fig, path)
