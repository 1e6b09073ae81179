"""Shared domain types: trial labels and their text spellings."""

from __future__ import annotations

from enum import IntEnum

#: EER definitions (``--eer-method``); see :func:`asvbench.metrics.eer.compute_eer`. Here, not in
#: :mod:`asvbench.metrics`, so the CLI offers the choices without importing numpy
EER_METHODS: tuple[str, ...] = ("interp", "rocch", "roc", "nearest", "kaldi")
#: named a-DCF cost settings (``--adcf-costs``); the costs: :data:`asvbench.metrics.adcf.ADCF_COSTS` (same keys)
ADCF_COST_NAMES: tuple[str, ...] = ("default", "asvspoof5")


class Label(IntEnum):
    """Trial label codes used in every label array (``int8``)."""

    NONTARGET = 0
    TARGET = 1
    SPOOF = 2


#: Every spelling of a label that the readers accept (lower-cased before lookup).
LABEL_SPELLINGS: dict[str, Label] = {
    "target": Label.TARGET,
    "tgt": Label.TARGET,
    "1": Label.TARGET,
    "true": Label.TARGET,
    "nontarget": Label.NONTARGET,
    "non-target": Label.NONTARGET,
    "non": Label.NONTARGET,
    "imp": Label.NONTARGET,
    "impostor": Label.NONTARGET,
    "0": Label.NONTARGET,
    "false": Label.NONTARGET,
    "spoof": Label.SPOOF,
    # CM-style labels (bona fide = target for a binary CM evaluation)
    "bonafide": Label.TARGET,
    "bona-fide": Label.TARGET,
    "genuine": Label.TARGET,
}

LABEL_NAMES: dict[int, str] = {Label.TARGET: "target", Label.NONTARGET: "nontarget", Label.SPOOF: "spoof"}


#: Named numeric label conventions for ``--label-map``.
LABEL_MAP_PRESETS: dict[str, dict[str, Label]] = {
    # ASVspoof5 Tool-score-fusion (score-fusion.py defaults: --label_value_target 1,
    # --label_value_nontarget 2, --label_value_spoof 0); its README's "3.0: spoofed" is not what the code uses.
    "asvspoof5-fusion": {"1": Label.TARGET, "2": Label.NONTARGET, "0": Label.SPOOF},
}


def parse_label_map(text: str) -> dict[str, Label]:
    """Parse ``--label-map``: a preset name or ``VALUE=LABEL[,VALUE=LABEL...]`` (e.g. ``1=target,2=nontarget,0=spoof``).

    Numeric values also match their float spelling (``1`` matches ``1.0``).
    """
    from asvbench.errors import AsvbenchError

    if text in LABEL_MAP_PRESETS:
        mapping = dict(LABEL_MAP_PRESETS[text])
    else:
        mapping = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            value, sep, name = item.partition("=")
            label = {"target": Label.TARGET, "nontarget": Label.NONTARGET, "spoof": Label.SPOOF}.get(name.strip().lower())
            if not sep or label is None or not value.strip():
                raise AsvbenchError(
                    f"bad --label-map item {item!r}",
                    hint="use VALUE=target|nontarget|spoof pairs separated by commas, or a preset: "
                         + ", ".join(LABEL_MAP_PRESETS),
                )
            mapping[value.strip().lower()] = label
    for value in list(mapping):
        try:
            as_float = float(value)
        except ValueError:
            continue
        mapping.setdefault(repr(as_float), mapping[value])
        if as_float.is_integer():
            mapping.setdefault(str(int(as_float)), mapping[value])
    return mapping
