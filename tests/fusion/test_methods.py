"""Fusion methods on small hand-computed cases, rho search, and real SASV scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.fusion import (
    fit_sasv_calibration,
    fuse_llr_sum,
    fuse_nonlinear,
    fuse_product,
    fuse_sum,
    parse_rho_grid,
    select_rho,
)
from asvbench.metrics import sasv_eers
from tests.fusion._asvspoof5 import load_asvspoof5_dev


def test_product_hand_computed():
    # 0.9 * (0.6 + 1) / 2 = 0.72; 0.5 * (-1 + 1) / 2 = 0; 1.0 * (1 + 1) / 2 = 1
    np.testing.assert_allclose(fuse_product([0.6, -1.0, 1.0], [0.9, 0.5, 1.0]), [0.72, 0.0, 1.0])


def test_sum_and_llr_sum_hand_computed():
    np.testing.assert_allclose(fuse_sum([0.5, -0.25], [0.9, 0.1]), [1.4, -0.15])
    np.testing.assert_allclose(fuse_llr_sum([2.0, -3.0], [1.0, 0.5]), [3.0, -2.5])


def test_nonlinear_hand_computed():
    # rho = 0.5, llr_asv = llr_cm = 0: -log(0.5 * 1 + 0.5 * 1) = 0
    assert fuse_nonlinear([0.0], [0.0], 0.5)[0] == pytest.approx(0.0)
    # rho = 0.25, llr_asv = log 2, llr_cm = log 4: -log(0.75 / 2 + 0.25 / 4) = -log(0.4375)
    assert fuse_nonlinear([math.log(2)], [math.log(4)], 0.25)[0] == pytest.approx(-math.log(0.4375))
    # the ends: rho = 0 -> llr_asv, rho = 1 -> llr_cm
    np.testing.assert_allclose(fuse_nonlinear([1.5, -2.0], [7.0, 3.0], 0.0), [1.5, -2.0])
    np.testing.assert_allclose(fuse_nonlinear([1.5, -2.0], [7.0, 3.0], 1.0), [7.0, 3.0])
    # stable for huge LLRs (the direct formula overflows exp(1000))
    assert fuse_nonlinear([-1000.0], [-1000.0], 0.5)[0] == pytest.approx(-1000.0)


@settings(max_examples=60, deadline=None)
@given(st.floats(-30, 30), st.floats(-30, 30), st.floats(0, 1))
def test_nonlinear_is_a_soft_minimum(a, c, rho):
    # -log((1-rho) e^-a + rho e^-c) lies between min(a, c) and max(a, c)
    # and matches the direct formula where that does not overflow
    v = fuse_nonlinear([a], [c], rho)[0]
    assert min(a, c) - 1e-9 <= v <= max(a, c) + 1e-9
    direct = -math.log((1 - rho) * math.exp(-a) + rho * math.exp(-c))
    assert v == pytest.approx(direct, rel=1e-9, abs=1e-9)


def test_rho_grid_and_errors():
    np.testing.assert_allclose(parse_rho_grid("0:1:5"), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(parse_rho_grid("0.1,0.9"), [0.1, 0.9])
    lab = np.array([1, 0, 2, 1, 0, 2])
    with pytest.raises(AsvbenchError, match="rho grid is empty"):
        select_rho(np.zeros(6), np.zeros(6), lab, parse_rho_grid("0:1:0"))
    with pytest.raises(AsvbenchError, match="cannot parse"):
        parse_rho_grid("a:b")
    with pytest.raises(AsvbenchError, match="rho must lie"):
        fuse_nonlinear([0.0], [0.0], 1.5)
    with pytest.raises(AsvbenchError, match="probability"):
        fuse_product([0.1], [np.nan])


def test_rho_search_picks_the_grid_minimum():
    # ASV separates targets from non-targets only; CM separates spoofs only.
    # rho = 0 -> the ASV LLRs: spoofs (3.05, 2.95) interleave targets (3, 3.1): SASV-EER > 0;
    # rho = 1 -> the CM LLRs: non-targets (3.1, 3.0) interleave targets (3, 2.9): SASV-EER > 0;
    # rho = 0.5 -> soft minimum: targets ~ -log(e^-3) = 3, every impostor has one LLR near -3,
    # so it scores ~ -3 + log 2 ~ -2.3: separated, SASV-EER 0.
    lab = np.array([1, 1, 0, 0, 2, 2])
    asv = np.array([3.0, 3.1, -3.0, -3.1, 3.05, 2.95])
    cm = np.array([3.0, 2.9, 3.1, 3.0, -3.0, -2.9])
    r = select_rho(asv, cm, lab, [0.0, 0.5, 1.0])
    assert r.rho == 0.5 and r.sasv_eer == 0.0
    assert r.eers[0] > 0 and r.eers[2] > 0


def test_real_scores_nonlinear_beats_single_systems(shared_dir):
    asv, cm, lab = load_asvspoof5_dev(shared_dir)
    cal = fit_sasv_calibration(asv, cm, lab)
    la, lc = cal.apply(asv, cm)
    search = select_rho(la, lc, lab, np.linspace(0, 1, 11))
    fused = sasv_eers(fuse_nonlinear(la, lc, search.rho), lab, "roc")
    asv_only = sasv_eers(asv, lab, "roc")
    cm_only = sasv_eers(cm, lab, "roc")
    # single systems fail their blind spot (ASV on spoofs, CM on zero-effort impostors)
    assert asv_only.spf_eer > 0.15 and cm_only.sv_eer > 0.4
    assert fused.sasv_eer < 0.2 * min(asv_only.sasv_eer, cm_only.sasv_eer)
    assert search.sasv_eer == pytest.approx(fused.sasv_eer)
    # calibration: ASV LLRs of bona fide trials are calibrated (Cllr well below 1 bit)
    from asvbench.metrics import cllr
    assert cllr(la[lab != 2], lab[lab != 2] == 1) < 0.2
