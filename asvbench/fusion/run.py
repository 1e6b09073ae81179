"""One fusion run on joined trials: choose the CM value, calibrate on dev when the method needs
it, choose rho, fuse (the computing part of ``asvbench fuse``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.fusion.calibrate import fit_sasv_calibration
from asvbench.fusion.join import SasvTrials
from asvbench.fusion.methods import (
    LLR_METHODS,
    cm_input,
    fuse_llr_sum,
    fuse_nonlinear,
    fuse_product,
    fuse_sum,
    parse_rho_grid,
    select_rho,
)
from asvbench.io.scores import CM_PLAIN_COLUMNS


@dataclass
class FusionOutcome:
    """Fused eval scores, fused dev scores (LLR methods), and what was done (JSON-ready)."""

    fused: np.ndarray
    dev_fused: np.ndarray | None
    info: dict = field(default_factory=dict)


def cm_values(data: SasvTrials, method: str, cm_score: str) -> tuple[np.ndarray, str]:
    """The CM value of each trial that ``method`` fuses (see :func:`~asvbench.fusion.methods.cm_input`)."""
    return cm_input(method, cm_score, data.cm_logit, data.cm_prob, plain=data.cm_columns == CM_PLAIN_COLUMNS)


def fuse_trials(data: SasvTrials, method: str, *, cm_score: str = "auto", dev: SasvTrials | None = None,
                rho: float | None = None, rho_grid: str = "0:1:101", eer_method: str = "roc",
                dev_name: str = "") -> FusionOutcome:
    """Fuse the ASV and CM scores of ``data`` with ``method``.

    LLR methods calibrate both scores on ``dev`` (required) and, for ``nonlinear`` without a
    fixed ``rho``, choose rho on ``dev`` by SASV-EER over ``rho_grid``.
    """
    cm, cm_used = cm_values(data, method, cm_score)
    info: dict = {"cm_score": cm_used}
    if method not in LLR_METHODS:
        fused = fuse_product(data.asv, cm) if method == "product" else fuse_sum(data.asv, cm)
        return FusionOutcome(fused, None, info)
    if dev is None:
        raise AsvbenchError(f"{method} fusion calibrates ASV and CM scores on a development set",
                            hint="give --dev-asv and --dev-cm (and --dev-trials)")
    dev_cm, _ = cm_values(dev, method, cm_score)
    cal = fit_sasv_calibration(dev.asv, dev_cm, dev.labels)
    info["calibration"] = {"asv": {"scale": cal.asv.scale, "offset": cal.asv.offset},
                           "cm": {"scale": cal.cm.scale, "offset": cal.cm.offset}, "fitted_on": dev_name}
    llr_asv, llr_cm = cal.apply(data.asv, cm)
    dev_llr_asv, dev_llr_cm = cal.apply(dev.asv, dev_cm)
    if method == "llr-sum":
        return FusionOutcome(fuse_llr_sum(llr_asv, llr_cm), fuse_llr_sum(dev_llr_asv, dev_llr_cm), info)
    if rho is None:
        search = select_rho(dev_llr_asv, dev_llr_cm, dev.labels, parse_rho_grid(rho_grid), eer_method)
        rho = search.rho
        info["rho"] = {"value": rho, "chosen_on": dev_name, "dev_sasv_eer": search.sasv_eer,
                       "grid_size": len(search.grid)}
    else:
        info["rho"] = {"value": rho, "chosen_on": "--rho"}
    return FusionOutcome(fuse_nonlinear(llr_asv, llr_cm, rho), fuse_nonlinear(dev_llr_asv, dev_llr_cm, rho), info)
