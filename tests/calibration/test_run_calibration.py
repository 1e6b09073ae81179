"""``calibration.run_calibration`` called directly (no CLI): the fitted map, the applied LLRs and the
Cllr / actDCF of each set against a logistic regression and the metric formulas written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asvbench.calibration.run import CalibrationSettings, run_calibration
from asvbench.errors import AsvbenchError


def _write(path, scores, labels):
    names = {1: "target", 0: "nontarget", 2: "spoof"}
    path.write_text("enroll\ttest\tscore\tlabel\n" + "".join(
        f"m{k % 7}\tu{k}\t{s!r}\t{names[v]}\n" for k, (s, v) in enumerate(zip(np.asarray(scores).tolist(), labels))))
    return path


def _set(n: int, seed: int, spoof: int = 0):
    """Overlapping target / non-target scores (and ``spoof`` spoof trials, which calibration ignores)."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n, int), np.zeros(n, int), np.full(spoof, 2)]
    scores = rng.normal(np.where(labels == 1, 1.0, np.where(labels == 0, -0.5, 3.0)), 1.0)
    return scores, labels


def _balanced_logistic(s: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) minimising the P = 0.5 prior-weighted logistic loss (Cllr): each class weighs one half,
    and logit(0.5) = 0, so LLR = a * s + b (Newton's method on the weighted likelihood)."""
    w = np.where(y, 0.5 / y.sum(), 0.5 / (~y).sum())
    design = np.column_stack([s, np.ones_like(s)])
    theta = np.zeros(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        step = np.linalg.solve(design.T @ (design * (w * p * (1 - p))[:, None]), design.T @ (w * (y - p)))
        theta += step
        if np.abs(step).max() < 1e-13:
            break
    return float(theta[0]), float(theta[1])


def _cllr(llr: np.ndarray, y: np.ndarray) -> float:
    """Brümmer's Cllr: mean over targets of log2(1 + e^-llr) and over non-targets of log2(1 + e^llr), halved."""
    return 0.5 * (np.mean(np.log2(1 + np.exp(-llr[y]))) + np.mean(np.log2(1 + np.exp(llr[~y]))))


def _act_dcf(llr: np.ndarray, y: np.ndarray, p: float) -> float:
    """Normalised actual DCF (C_miss = C_fa = 1): accept when llr > -logit(p) (the Bayes threshold)."""
    t = -math.log(p / (1 - p))
    p_miss, p_fa = float(np.mean(llr[y] <= t)), float(np.mean(llr[~y] > t))
    return (p * p_miss + (1 - p) * p_fa) / min(p, 1 - p)


def test_linear_fit_applied_sets_and_metrics(tmp_path):
    dev_s, dev_y = _set(300, seed=1, spoof=5)
    ev_s, ev_y = _set(100, seed=2)
    dev = _write(tmp_path / "dev.tsv", dev_s, dev_y)
    ev = _write(tmp_path / "eval.tsv", ev_s, ev_y)
    run = run_calibration(dev, [ev], CalibrationSettings(p_targets=(0.01, 0.5)))

    keep = dev_y != 2
    a, b = _balanced_logistic(dev_s[keep], dev_y[keep] == 1)
    assert run.model["method"] == "linear" and run.model["converged"]
    assert run.model["scale"] == pytest.approx(a, rel=1e-5) and run.model["offset"] == pytest.approx(b, abs=1e-5)
    [applied] = run.applied
    np.testing.assert_allclose(applied.llr, a * ev_s + b, rtol=1e-5, atol=1e-5)
    y = ev_y == 1
    assert applied.before["cllr"] == pytest.approx(_cllr(ev_s, y), rel=1e-9)
    assert applied.after["cllr"] == pytest.approx(_cllr(a * ev_s + b, y), rel=1e-4)
    assert applied.after["act_dcf"]["0.5"] == pytest.approx(_act_dcf(a * ev_s + b, y, 0.5))
    # on its own development set, the fit cannot do worse than the raw scores
    assert run.dev.after["cllr"] < run.dev.before["cllr"]
    out = tmp_path / "eval.llr.tsv"
    assert run.to_dict([out])["applied"] == [{"file": str(ev), "out": str(out), "before": applied.before,
                                              "after": applied.after}]
    assert not out.exists()  # run_calibration reads; the command writes


def test_pav_model_and_one_class_dev(tmp_path):
    dev_s, dev_y = _set(50, seed=3)
    run = run_calibration(_write(tmp_path / "dev.tsv", dev_s, dev_y), settings=CalibrationSettings(method="pav"))
    assert run.model["method"] == "pav" and run.model["knots"] >= 2
    llr = run.dev.llr
    # PAV is monotone: a higher score never gets a lower LLR
    order = np.argsort(dev_s, kind="stable")
    assert np.all(np.diff(llr[order]) >= -1e-12)
    only_targets = _write(tmp_path / "targets.tsv", dev_s[:50], dev_y[:50])
    with pytest.raises(AsvbenchError, match="holds only target trials"):
        run_calibration(only_targets)


def test_unknown_method_is_refused(tmp_path):
    dev_s, dev_y = _set(20, seed=4)
    with pytest.raises(AsvbenchError, match="unknown calibration method 'platt'"):
        run_calibration(_write(tmp_path / "dev.tsv", dev_s, dev_y), settings=CalibrationSettings(method="platt"))
