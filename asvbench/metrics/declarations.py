"""Every headline metric declared once: its JSON key, how tables show it, which way is better.

The summary (:class:`~asvbench.metrics.summary.MetricsSummary`), the report tables, the fusion
records and ``compare`` all read this table, so a new metric is one line here (and its function).
Rates are stored as fractions; ``scale="percent"`` means tables show them times 100.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricDeclaration:
    """How one metric is named, stored and shown.

    ``key``: the JSON key in records (a nested ``{p: value}`` dict flattens to ``key@p``);
    ``fusion_key``: its name in an ``asvbench fuse`` result, when that differs;
    ``definition``: which record definition changes its value (``eer_method`` or ``dcf``:
    p_target and costs), used to refuse tables that mix definitions in one column.
    """

    key: str
    label: str
    unit: str = ""
    scale: str = "fraction"  # "percent": shown x 100 with a "(%)" header
    decimals: int = 3
    lower_better: bool = True
    fusion_key: str = ""
    definition: str = ""
    spoof_only: bool = False  # only present when the trials include spoofs

    def factor(self, scale: str | None = None) -> float:
        """What a stored value is multiplied by for display: 100 for a rate shown in percent."""
        return 100.0 if self.scale == "percent" and (scale or "percent") == "percent" else 1.0

    def header(self, scale: str | None = None) -> str:
        """Column header: ``EER (%)`` for a rate in percent, ``EER`` for one shown as a fraction."""
        if self.scale == "percent":
            return f"{self.label} (%)" if self.factor(scale) == 100.0 else self.label
        return f"{self.label} ({self.unit})" if self.unit else self.label


def _rate(key: str, label: str, **kw) -> MetricDeclaration:
    return MetricDeclaration(key, label, unit="%", scale="percent", decimals=2, **kw)


METRICS: tuple[MetricDeclaration, ...] = (
    _rate("eer", "EER", definition="eer_method"),
    _rate("sasv_eer", "SASV-EER", fusion_key="sasv_eer", definition="eer_method", spoof_only=True),
    _rate("sv_eer", "SV-EER", fusion_key="sv_eer", definition="eer_method", spoof_only=True),
    _rate("spf_eer", "SPF-EER", fusion_key="spf_eer", definition="eer_method", spoof_only=True),
    _rate("t_eer", "t-EER"),
    MetricDeclaration("min_dcf", "minDCF", definition="dcf"),
    MetricDeclaration("act_dcf", "actDCF", definition="dcf"),
    MetricDeclaration("cllr", "Cllr"),
    MetricDeclaration("min_cllr", "minCllr"),
    MetricDeclaration("min_a_dcf", "min a-DCF", decimals=4, fusion_key="min_adcf"),
    MetricDeclaration("a_dcf", "a-DCF", decimals=4),
    MetricDeclaration("min_t_dcf", "min t-DCF", decimals=4),
    MetricDeclaration("t_dcf", "t-DCF", decimals=4),
)

BY_KEY: dict[str, MetricDeclaration] = {m.key: m for m in METRICS}

#: keys of :class:`MetricsSummary` present only with spoof trials
SPOOF_ONLY_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if m.spoof_only)


def declaration(key: str) -> MetricDeclaration | None:
    """The declaration of a (possibly flattened, ``min_dcf@0.01``) metric key, or None."""
    return BY_KEY.get(key.partition("@")[0])
