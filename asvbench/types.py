"""Shared domain types: trial labels and their text spellings."""

from __future__ import annotations

from enum import IntEnum


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
    "2": Label.SPOOF,
    # CM-style labels (bona fide = target for a binary CM evaluation)
    "bonafide": Label.TARGET,
    "bona-fide": Label.TARGET,
    "genuine": Label.TARGET,
}

LABEL_NAMES: dict[int, str] = {Label.TARGET: "target", Label.NONTARGET: "nontarget", Label.SPOOF: "spoof"}
