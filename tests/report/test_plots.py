"""DET and histogram plots: files in every format, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.report.plots import DetSeries, plot_det, plot_histograms
from asvbench.results import DetData, det_data_from_scores


def _series():
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(2, 1, 200), rng.normal(0, 1, 2000)]
    y = np.r_[np.ones(200, bool), np.zeros(2000, bool)]
    return [DetSeries("sys", det_data_from_scores(s, y))]


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_det_formats(tmp_path, suffix, magic):
    path = plot_det(_series(), tmp_path / f"d{suffix}", title="t")
    assert path.read_bytes().startswith(magic)


def test_det_marks_eer_in_legend(tmp_path):
    svg = plot_det(_series(), tmp_path / "d.svg", simulated=True).read_text()
    assert "SIMULATED DATA" in svg and "EER" in svg


def test_histograms(tmp_path):
    path = plot_histograms({"target": np.arange(10.0), "nontarget": np.arange(20.0) - 5, "spoof": []},
                           tmp_path / "h.png")
    assert path.stat().st_size > 1000


def test_bad_suffix_and_empty(tmp_path):
    with pytest.raises(AsvbenchError, match="unknown plot format"):
        plot_det(_series(), tmp_path / "d.jpg")
    with pytest.raises(AsvbenchError, match="no curves"):
        plot_det([], tmp_path / "d.png")
    with pytest.raises(AsvbenchError, match="no scores"):
        plot_histograms({"target": []}, tmp_path / "h.png")


def test_points_off_axes_are_drawn(tmp_path):
    det = DetData(fpr=(1.0, 0.0), fnr=(0.0, 1.0), eer=0.5, min_dcf_point=(0.0, 1.0), p_target=0.01)
    assert plot_det([DetSeries("trivial", det)], tmp_path / "d.png").exists()
