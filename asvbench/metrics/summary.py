"""All the headline metrics of one score set, as one result object."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from asvbench._choices import check_choice
from asvbench.metrics._checks import check_binary
from asvbench.metrics._curve import points_of_split
from asvbench.metrics.cllr import cllr_of_split, min_cllr_from_points
from asvbench.metrics.dcf import act_dcf_of_split, min_dcf_from_points
from asvbench.metrics.declarations import SPOOF_ONLY_KEYS
from asvbench.metrics.eer import EER_METHODS, compute_eer, eer_from_points
from asvbench.metrics.sasv import sasv_eers
from asvbench.types import Label

DEFAULT_P_TARGETS: tuple[float, ...] = (0.01,)


@dataclass(frozen=True)
class MetricsSummary:
    """Headline metrics. Rates are fractions. ``eer`` is target vs every other trial
    (non-target and spoof); with spoof trials present the SASV EERs are filled in too."""

    n_target: int
    n_nontarget: int
    n_spoof: int
    eer: float
    eer_threshold: float
    eer_method: str
    min_dcf: dict[str, float]
    act_dcf: dict[str, float]
    cllr: float
    min_cllr: float
    c_miss: float
    c_fa: float
    sasv_eer: float | None = None
    sv_eer: float | None = None
    spf_eer: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.n_spoof == 0:
            for key in SPOOF_ONLY_KEYS:
                out.pop(key)
        if not self.extra:
            out.pop("extra")
        return out


def _p_key(p: float) -> str:
    return f"{p:g}"


#: lists this long compute actDCF and Cllr on a second thread (NumPy's sort, comparisons and
#: logaddexp release the GIL): ~0.3 s less wall at 10 M trials; below it the thread costs more
THREADED_SUMMARY_MIN = 1_000_000


@contextmanager
def _beside(work, n_scores: int):
    """``work()`` on a second thread while the body runs (inline below THREADED_SUMMARY_MIN);
    yields a future whose ``result()`` is ``work()``'s value (or raises its error)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    if n_scores < THREADED_SUMMARY_MIN:
        done: Future = Future()
        done.set_result(work())
        yield done
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(work)


def summarize(scores, labels, *, eer_method: str = "interp", p_targets=DEFAULT_P_TARGETS,
              c_miss: float = 1.0, c_fa: float = 1.0) -> MetricsSummary:
    """Compute every headline metric of ``scores`` with :class:`Label` codes ``labels``."""
    check_choice(eer_method, EER_METHODS, "EER method")
    lab = np.asarray(labels)
    s, is_tar = check_binary(scores, lab == Label.TARGET)
    n_spoof = int((lab == Label.SPOOF).sum())
    # the scores split by class once, for the curve, actDCF and Cllr (each would split them again)
    tar, non = s[is_tar], s[~is_tar]
    p_list = list(p_targets) or list(DEFAULT_P_TARGETS)

    def from_split() -> tuple[dict[str, float], float]:  # actDCF and Cllr: the scores, not the curve
        return {_p_key(p): act_dcf_of_split(tar, non, p, c_miss, c_fa).value for p in p_list}, cllr_of_split(tar, non)

    with _beside(from_split, s.shape[0]) as split_metrics:
        points = points_of_split(s, tar)
        eer = compute_eer(s, is_tar, eer_method) if eer_method == "kaldi" else eer_from_points(points, eer_method)
        mins = {_p_key(p): min_dcf_from_points(points, p, c_miss, c_fa).value for p in p_list}
        min_cllr = min_cllr_from_points(points)
    acts, cllr = split_metrics.result()
    sasv = sasv_eers(s, lab, eer_method) if n_spoof and (lab == Label.NONTARGET).any() else None
    return MetricsSummary(
        n_target=points.n_target,
        n_nontarget=int((lab == Label.NONTARGET).sum()),
        n_spoof=n_spoof,
        eer=eer.eer,
        eer_threshold=eer.threshold,
        eer_method=eer_method,
        min_dcf=mins,
        act_dcf=acts,
        cllr=cllr,
        min_cllr=min_cllr,
        c_miss=c_miss,
        c_fa=c_fa,
        sasv_eer=sasv.sasv_eer if sasv else None,
        sv_eer=sasv.sv_eer if sasv else None,
        spf_eer=sasv.spf_eer if sasv else None,
    )
