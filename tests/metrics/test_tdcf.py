"""t-DCF (legacy and 2021 forms) on hand-computed cases; ASV operating point from ASV scores."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.metrics.tdcf import ASVSPOOF5_ORGANISER_ASV, AsvErrorRates, asv_error_rates, min_tdcf
from tests.fusion._asvspoof5 import load_asvspoof5_dev

CM = np.array([2.0, 3.0, 1.0, 2.5])  # bona fide 2, 3; spoof 1, 2.5
BONA = np.array([True, True, False, False])
ASV = AsvErrorRates(p_miss=0.1, p_fa_nontarget=0.2, p_fa_spoof=0.5, threshold=None, source="test")


def test_legacy_hand_computed():
    # C1 = 0.9405 (1 - 0.1) - 0.0095 * 10 * 0.2 = 0.84645 - 0.019 = 0.82745; C2 = 10 * 0.05 * 0.5 = 0.25
    # CM reject <= 1: Pmiss_cm 0, Pfa_cm 0.5 -> 0.25 * 0.5 / min(C1, C2) = 0.5 (accept-all 1,
    # <=2: (0.413725 + 0.125)/0.25, <=2.5: 0.413725/0.25, <=3: 0.82745/0.25)
    r = min_tdcf(CM, BONA, ASV, "legacy")
    assert (r.c1, r.c2) == (pytest.approx(0.82745), pytest.approx(0.25))
    assert r.min_tdcf == pytest.approx(0.5)
    assert r.threshold == 1.0


def test_2021_hand_computed():
    # C0 = 0.9405 * 0.1 + 0.0095 * 10 * 0.2 = 0.11305; C1 = 0.9405 - C0 = 0.82745; C2 = 0.25
    # reject <= 1: (C0 + 0.25 * 0.5) / (C0 + 0.25) = 0.23805 / 0.36305
    r = min_tdcf(CM, BONA, ASV, "2021")
    assert r.c0 == pytest.approx(0.11305)
    assert r.min_tdcf == pytest.approx(0.23805 / 0.36305)


def test_asv_rates_at_eer_threshold():
    # ASV targets 5, 6; non-targets 1, 4; spoofs 3, 7. Nearest EER point: reject <= 4
    # (FNR 0 = FPR 0). Spoofs above 4: only 7 -> Pfa_spoof 0.5.
    s = np.array([5.0, 6.0, 1.0, 4.0, 3.0, 7.0])
    lab = np.array([1, 1, 0, 0, 2, 2])
    r = asv_error_rates(s, lab)
    assert (r.p_miss, r.p_fa_nontarget, r.p_fa_spoof, r.threshold) == (0.0, 0.0, 0.5, 4.0)
    assert "EER threshold" in r.source


def test_real_scores_sanity(shared_dir):
    asv, cm, lab = load_asvspoof5_dev(shared_dir)
    rates = asv_error_rates(asv, lab)
    # the rates are those of the EER point: Pmiss and Pfa_non within one trial of each other
    assert abs(rates.p_miss - rates.p_fa_nontarget) < 1.0 / 1484 + 1.0 / 5768
    legacy = min_tdcf(cm, lab != 2, rates, "legacy")
    revised = min_tdcf(cm, lab != 2, rates, "2021")
    fixed = min_tdcf(cm, lab != 2, ASVSPOOF5_ORGANISER_ASV, "2021")
    for r in (legacy, revised, fixed):
        assert 0.0 < r.min_tdcf <= 1.0  # a trivial CM (accept-all / reject-all) costs 1


def test_degenerate_weights_and_bad_form():
    with pytest.raises(AsvbenchError, match="not positive"):
        min_tdcf(CM, BONA, AsvErrorRates(0.1, 0.2, 0.0, None, "test"), "legacy")
    with pytest.raises(AsvbenchError, match="unknown t-DCF form"):
        min_tdcf(CM, BONA, ASV, "2019")
