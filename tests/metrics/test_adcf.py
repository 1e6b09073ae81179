"""a-DCF: a hand-computed case, an independent brute-force implementation, real SASV scores, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.metrics.adcf import ADCF_COSTS, AdcfCosts, min_adcf
from tests.fusion._asvspoof5 import load_asvspoof5_dev

TAR, NON, SPF = 1, 0, 2


def _brute_adcf(scores, labels, c: AdcfCosts) -> float:
    """Independent: loop over accept-all and every distinct score as 'reject <= t'."""
    best = np.inf
    for t in [-np.inf, *sorted(set(scores.tolist()))]:
        acc = scores > t
        cost = (c.c_miss * c.p_target * np.mean(~acc[labels == TAR])
                + c.c_fa_asv * c.p_nontarget * np.mean(acc[labels == NON])
                + c.c_fa_cm * c.p_spoof * np.mean(acc[labels == SPF]))
        best = min(best, cost / min(c.c_fa_asv * c.p_nontarget + c.c_fa_cm * c.p_spoof, c.c_miss * c.p_target))
    return best


def test_hand_computed():
    # targets 3, 2; non-target 1; spoofs 0, 2.5; default costs, normaliser min(0.5 + 1.0, 0.9) = 0.9
    # reject <= 2.5: Pmiss 1/2, Pfa_non 0, Pfa_spf 0 -> 0.9 * 0.5 / 0.9 = 0.5
    # (the others: accept-all 1.5/0.9, <=0: 1.0/0.9, <=1: 0.5/0.9, <=2: 0.95/0.9, <=3: 0.9/0.9)
    s = np.array([3.0, 2.0, 1.0, 0.0, 2.5])
    lab = np.array([TAR, TAR, NON, SPF, SPF])
    r = min_adcf(s, lab)
    assert r.min_adcf == pytest.approx(0.5)
    assert r.threshold == 2.5
    assert (r.p_miss, r.p_fa_nontarget, r.p_fa_spoof) == (0.5, 0.0, 0.0)


def test_asvspoof5_costs_normaliser():
    # Track 2: min(10 * 0.0095 + 10 * 0.05, 0.9405) = min(0.595, 0.9405) = 0.595
    assert ADCF_COSTS["asvspoof5"].normaliser == pytest.approx(0.595)
    assert ADCF_COSTS["default"].normaliser == pytest.approx(0.9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.sampled_from([TAR, NON, SPF])), min_size=3, max_size=30),
       st.sampled_from(["default", "asvspoof5"]))
def test_matches_brute_force_with_ties(rows, costs):
    s = np.array([r[0] for r in rows], dtype=float)
    lab = np.array([r[1] for r in rows])
    if len(set(lab.tolist())) < 3:
        with pytest.raises(AsvbenchError, match="need target, nontarget and spoof"):
            min_adcf(s, lab, costs)
        return
    got = min_adcf(s, lab, costs)
    assert got.min_adcf == pytest.approx(_brute_adcf(s, lab, ADCF_COSTS[costs]), abs=1e-12)
    assert 0.0 <= got.min_adcf <= 1.0 + 1e-12  # the trivial systems are candidates
    perm = np.random.default_rng(0).permutation(s.shape[0])
    assert min_adcf(s[perm], lab[perm], costs).min_adcf == got.min_adcf
    assert min_adcf(np.exp(s), lab, costs).min_adcf == pytest.approx(got.min_adcf, abs=1e-12)  # monotone


def test_real_sasv_scores_against_brute_force(shared_dir):
    asv, cm, lab = load_asvspoof5_dev(shared_dir)
    rng = np.random.default_rng(1)
    pick = rng.choice(asv.shape[0], 1500, replace=False)
    for scores in (asv, cm):
        got = min_adcf(scores[pick], lab[pick])
        assert got.min_adcf == pytest.approx(_brute_adcf(scores[pick], lab[pick], ADCF_COSTS["default"]), abs=1e-12)
    # the whole list: the ASV system alone cannot reject spoofs, the CM alone cannot reject
    # zero-effort impostors; both are far from 0 and below the trivial cost 1
    full_asv = min_adcf(asv, lab).min_adcf
    full_cm = min_adcf(cm, lab).min_adcf
    assert 0.1 < full_asv < 1.0 and 0.1 < full_cm < 1.0


def test_bad_costs():
    s = np.array([1.0, 2.0, 3.0])
    lab = np.array([TAR, NON, SPF])
    with pytest.raises(AsvbenchError, match="sum to 1"):
        min_adcf(s, lab, AdcfCosts(p_target=0.5))
    with pytest.raises(AsvbenchError, match="unknown a-DCF cost"):
        min_adcf(s, lab, "nope")
    with pytest.raises(AsvbenchError, match="NaN"):
        min_adcf(np.array([1.0, np.nan, 3.0]), lab)
