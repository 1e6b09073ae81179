"""SASV-EER, SV-EER, SPF-EER over three-way labels."""

from __future__ import annotations

import numpy as np
import pytest

from asvbench.errors import AsvbenchError
from asvbench.metrics import EER_METHODS, compute_eer, sasv_eers
from asvbench.types import Label

T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF

# targets 0.9 0.8, non-targets 0.1 0.2, spoofs 0.85 0.3
SCORES = np.array([0.9, 0.8, 0.1, 0.2, 0.85, 0.3])
LABELS = np.array([T, T, N, N, S, S], dtype=np.int8)


def test_by_hand_interp():
    got = sasv_eers(SCORES, LABELS)
    # SV: tar 0.8 0.9 vs non 0.1 0.2: separated -> 0
    assert got.sv_eer == 0.0
    # SPF: tar 0.8 0.9 vs spoof 0.3 0.85. Points (FNR, FPR): -inf (0,1) | 0.3 (0,1/2) | 0.8 (1/2,1/2) ...
    # first FNR >= FPR at 0.8: d0 = -1/2, d1 = 0, a = 1 -> 1/2
    assert got.spf_eer == pytest.approx(0.5)
    # SASV: tar vs {0.1, 0.2, 0.3, 0.85}: -inf (0,1) | .1 (0,3/4) | .2 (0,1/2) | .3 (0,1/4) | .8 (1/2,1/4)
    # d0 = -1/4, d1 = 1/4, a = 1/2 -> 0 + 1/2 * 1/2 = 1/4
    assert got.sasv_eer == pytest.approx(0.25)


@pytest.mark.parametrize("method", EER_METHODS)
def test_subsets_follow_the_definition(method):
    rng = np.random.default_rng(0)
    labels = rng.choice([T, N, S], size=300).astype(np.int8)
    scores = rng.normal(size=300) + (labels == T) * 1.5 + (labels == S) * 0.7
    got = sasv_eers(scores, labels, method)
    tar = labels == T
    assert got.sasv_eer == compute_eer(scores, tar, method).eer
    keep = labels != S
    assert got.sv_eer == compute_eer(scores[keep], tar[keep], method).eer
    keep = labels != N
    assert got.spf_eer == compute_eer(scores[keep], tar[keep], method).eer


@pytest.mark.parametrize("drop,missing", [(S, "spoof"), (N, "nontarget"), (T, "target")])
def test_needs_all_three_classes(drop, missing):
    keep = LABELS != drop
    with pytest.raises(AsvbenchError, match=f"none of: {missing}"):
        sasv_eers(SCORES[keep], LABELS[keep])
