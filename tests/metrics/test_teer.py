"""Concurrent t-EER against a direct loop over all (ASV, CM) operating-point pairs written here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.metrics.teer import compute_teer
from tests.fusion._asvspoof5 import load_asvspoof5_dev


def _rates(scores, masks):
    """Per distinct threshold (accept-all first): for each mask, the fraction of its trials with
    score <= t (rejected). Rates are formed as the reference does (Pmiss = k/n, Pfa = 1 - k/n),
    so that exact ties between candidate points resolve the same way."""
    thr = [-np.inf, *sorted(set(scores.tolist()))]
    return thr, [np.array([np.mean(scores[m] <= t) for t in thr]) for m in masks]


def _loop_teer(asv, cm, lab):
    """The ASVspoof 5 ``compute_teer`` search (rho = 0 branch), with plain loops."""
    ta, (rej_tar, rej_non, rej_spf) = _rates(asv, [lab == 1, lab == 0, lab == 2])
    tc, (rej_bona, rej_spoof) = _rates(cm, [lab != 2, lab == 2])
    pmiss_asv, acc_non, acc_spf = rej_tar, 1 - rej_non, 1 - rej_spf
    pmiss_cm, pfa_cm = rej_bona, 1 - rej_spoof
    best, value = np.inf, None
    for i in range(len(ta)):
        if not pmiss_asv[i] < acc_non[i]:
            continue
        h = [abs(pmiss_cm[j] + (1 - pmiss_cm[j]) * pmiss_asv[i] - (1 - pmiss_cm[j]) * acc_non[i])
             for j in range(len(tc))]
        j = int(np.argmin(h))
        with np.errstate(divide="ignore", invalid="ignore"):
            crit = abs(acc_non[i] / acc_spf[i] - pfa_cm[j] / (1 - pmiss_cm[j]))
        if np.isnan(crit):
            crit = np.inf
        if crit < best:
            best, value = crit, acc_spf[i] * pfa_cm[j]
    return value


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(3, 12), st.booleans())
def test_matches_loop(seed, n_per_class, integer_scores):
    rng = np.random.default_rng(seed)
    lab = np.repeat([1, 0, 2], n_per_class)
    asv = rng.normal(np.where(lab == 1, 2.0, np.where(lab == 2, 1.0, 0.0)), 1.0)
    cm = rng.normal(np.where(lab == 2, -1.0, 1.0), 1.0)
    if integer_scores:  # ties
        asv, cm = np.round(asv), np.round(cm)
    want = _loop_teer(asv, cm, lab)
    if want is None:
        with pytest.raises(AsvbenchError):
            compute_teer(asv, cm, lab)
        return
    assert compute_teer(asv, cm, lab).teer == pytest.approx(want, abs=1e-12)


def test_hand_computed():
    # ASV: targets 4, 5; non-targets 1, 2; spoofs 3, 6. CM: bona fide (target and non-target
    # trials) 5, 5, 5, 5; spoofs 0, 9.
    # ASV reject <= 3: Pmiss 0 < Pfa_non 0, no; reject <= 2: Pmiss 0, Pfa_non 0 no; reject <= 1:
    # Pmiss 0 < Pfa_non 1/2 -> allowed, root Pmiss_cm = 0.5 / 1.5 = 1/3: CM points have Pmiss_cm
    # 0 (accept-all, <= 0) or 1, nearest 0 -> CM accept-all (first index): Pfa_cm 1.
    # crit |Pfa_non / Pfa_spf - Pfa_cm / (1 - Pmiss_cm)| = |0.5 / 1 - 1| = 0.5;
    # accept-all ASV (Pmiss 0 < Pfa_non 1): root 1/2 -> nearest Pmiss_cm 0 or 1 (tie: first, 0),
    # crit |1/1 - 1| = 0 -> t-EER = Pfa_spf 1 * Pfa_cm 1 = 1.
    asv = np.array([4.0, 5.0, 1.0, 2.0, 3.0, 6.0])
    cm = np.array([5.0, 5.0, 5.0, 5.0, 0.0, 9.0])
    lab = np.array([1, 1, 0, 0, 2, 2])
    assert compute_teer(asv, cm, lab).teer == pytest.approx(_loop_teer(asv, cm, lab))
    assert compute_teer(asv, cm, lab).teer == pytest.approx(1.0)


def test_real_scores_subsample_against_loop(shared_dir):
    asv, cm, lab = load_asvspoof5_dev(shared_dir)
    rng = np.random.default_rng(3)
    pick = np.concatenate([rng.choice(np.flatnonzero(lab == c), 60, replace=False) for c in (1, 0, 2)])
    assert compute_teer(asv[pick], cm[pick], lab[pick]).teer == pytest.approx(
        _loop_teer(asv[pick], cm[pick], lab[pick]), abs=1e-12)
    full = compute_teer(asv, cm, lab)
    # a good tandem: t-EER is a small error rate, and tandem miss ~ tandem false alarm there
    assert 0.0 < full.teer < 0.1
    assert full.p_miss_tandem == pytest.approx(full.p_fa_tandem, abs=0.01)
