"""SASV equal error rates over three-way labelled trials (target / nontarget / spoof).

Definitions followed: SASV 2022 challenge evaluation plan (Jung et al., 2022), sec. 4, and the
baseline's ``metrics.get_all_EERs``:

* SASV-EER: target vs (non-target + spoof), the whole trial list;
* SV-EER:   target vs non-target (spoof trials left out);
* SPF-EER:  target vs spoof (bona fide non-targets left out).

The EER method is selectable; the SASV baseline itself uses ``roc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.metrics.eer import compute_eer
from asvbench.types import Label


@dataclass(frozen=True)
class SasvEers:
    sasv_eer: float
    sv_eer: float
    spf_eer: float


def sasv_eers(scores, labels, method: str = "interp") -> SasvEers:
    """SASV-EER, SV-EER and SPF-EER of scores with :class:`~asvbench.types.Label` codes."""
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    counts = {name: int((lab == code).sum()) for name, code in
              (("target", Label.TARGET), ("nontarget", Label.NONTARGET), ("spoof", Label.SPOOF))}
    missing = [name for name, n in counts.items() if n == 0]
    if missing:
        raise AsvbenchError(
            f"SASV metrics need target, nontarget and spoof trials; none of: {', '.join(missing)} ({counts})"
        )
    is_tar = lab == Label.TARGET
    sv = lab != Label.SPOOF
    spf = lab != Label.NONTARGET
    return SasvEers(
        sasv_eer=compute_eer(s, is_tar, method).eer,
        sv_eer=compute_eer(s[sv], is_tar[sv], method).eer,
        spf_eer=compute_eer(s[spf], is_tar[spf], method).eer,
    )
