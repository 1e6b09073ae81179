"""The words that label a trial in a trial list, defined once (a base module: trial lists in
:mod:`asvbench.trials` and the SASV score files of :mod:`asvbench.io.scores` both read them).

Every spelling maps to a label *name* (``target``, ``nontarget``, ``spoof``, ``bonafide``).
The readers accept a subset per format (:data:`FORMAT_LABELS`, as codes of
:class:`~asvbench.types.Label`); the fingerprint counts labels with the whole vocabulary
(:func:`asvbench.trials.fingerprint.fingerprint_bytes` also fingerprints protocol and score
files, whose label column it has to guess). A new spelling goes here, and into the formats
that take it. (Score-file label columns take :data:`asvbench.types.LABEL_SPELLINGS`.)
"""

from __future__ import annotations

from asvbench.types import Label

#: label words (compared lower-cased) -> label name
LABEL_WORDS: dict[str, str] = {
    "target": "target", "tgt": "target", "nontarget": "nontarget", "non-target": "nontarget",
    "nontgt": "nontarget", "imp": "nontarget", "impostor": "nontarget", "spoof": "spoof",
    "bonafide": "bonafide", "bona-fide": "bonafide", "genuine": "bonafide",
}
#: digit labels (VoxCeleb, CN-Celeb lists) -> label name
LABEL_DIGITS: dict[str, str] = {"1": "target", "0": "nontarget"}
#: the ASVspoof5 Tool-score-fusion CSV convention (its script's defaults): 1 target, 2 nontarget, 0 spoof
SASV_FUSION_DIGITS: dict[str, str] = {"1.0": "target", "2.0": "nontarget", "0.0": "spoof", "1": "target",
                                      "2": "nontarget", "0": "spoof"}
#: the order label counts are listed in
LABEL_ORDER: tuple[str, ...] = ("target", "nontarget", "spoof", "bonafide")

#: header names of a label column (a table with a header line)
LABEL_HEADERS: tuple[str, ...] = ("asv-label", "asv_label", "sasv-label", "sasv_label", "key", "label")
#: header names of the SASV fusion CSV's label column (:data:`SASV_FUSION_DIGITS`)
SASV_FUSION_HEADERS: tuple[str, ...] = ("sasv_label", "sasv-label")

_CODES = {"target": Label.TARGET, "nontarget": Label.NONTARGET, "spoof": Label.SPOOF}


def _codes(*spellings: str) -> dict[str, int]:
    """``{spelling: Label code}`` of spellings from :data:`LABEL_WORDS` / :data:`LABEL_DIGITS`."""
    return {s: _CODES[LABEL_WORDS.get(s) or LABEL_DIGITS[s]] for s in spellings}


#: the labels each trial-list format accepts (lower-cased spelling -> Label code)
VOXCELEB_LABELS = _codes("1", "0")
KALDI_LABELS = _codes("target", "nontarget", "non-target")
SASV_KEYS = _codes("target", "nontarget", "spoof")
FORMAT_LABELS: dict[str, dict[str, int]] = {
    "voxceleb": VOXCELEB_LABELS, "kaldi": KALDI_LABELS, "cnceleb": VOXCELEB_LABELS,
    "asvspoof": SASV_KEYS, "asvspoof5": SASV_KEYS,
}
