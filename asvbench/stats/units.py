"""The resampling unit of each trial for the bootstrap: the trial itself, its speaker, or a mapped unit.

Which speaker: the **enrolment side** (the claimed identity, the enrolled model's speaker). A target
trial's two sides are the same speaker anyway; a non-target trial is charged to the speaker it claims
to be, so every trial of one enrolled speaker (its targets and the impostor attempts against it) is
drawn, or left out, together. This is the client-level resampling of Poh & Bengio (ICASSP 2007) and
the subset bootstrap of Bolle, Ratha & Pankanti (CVIU 2004), whose subsets are the enrolled
individuals. The dependence of non-target trials that share a *test* speaker is not resampled: the
intervals are still optimistic where a few test speakers dominate the impostor trials.

Speakers come from the enrolment keys when their form says it (:func:`speaker_of_key`), or from a
``--utt2spk`` map (``KEY SPEAKER``). ``--ci-unit FILE`` maps any id to any unit (a session, a
recording condition): a trial takes the unit of its enrolment id, else of its test id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError
from asvbench.types import Label

#: the named units of ``--ci-unit`` (anything else is a map file)
UNIT_KINDS: tuple[str, ...] = ("speaker", "trial")

_CNCELEB = re.compile(r"^(id\d{5})[-_]")  # id00800-enroll, id00800-singing-01-001.wav
_ASVSPOOF_SPEAKER = re.compile(r"^[A-Z]{1,3}_\d{4}$")  # LA_0073 (2019), D_0062 (ASVspoof 5)
_LIBRISPEECH = re.compile(r"^(\d+)-\d+-\d+(\.\w+)?$")  # 1272-128104-0000


def speaker_of_key(key: str) -> str | None:
    """The speaker an enrolment key names, or ``None`` when its form does not say.

    * ``spk/...`` (VoxCeleb ``id10270/x6uYqmx31kE/00001.wav``, Kaldi-style paths): the first component;
    * CN-Celeb ``id00800-enroll`` / ``id00800-singing-01-001.wav``: ``id00800``;
    * an ASVspoof enrolment id (``LA_0073``, ASVspoof 5 ``D_0062``): the id itself (one per speaker);
    * LibriSpeech ``1272-128104-0000``: ``1272``.
    """
    if "/" in key:
        head = key.strip("/").split("/", 1)[0]
        return head or None
    for pattern in (_CNCELEB, _LIBRISPEECH):
        found = pattern.match(key)
        if found:
            return found.group(1)
    return key if _ASVSPOOF_SPEAKER.match(key) else None


@dataclass(frozen=True)
class Units:
    """Unit index per trial (``0 .. n_units - 1``, units in sorted-name order) and how they were found."""

    kind: str  # "speaker", "trial" or "map"
    index: np.ndarray
    names: tuple[str, ...]
    source: str  # e.g. "enrolment keys (spk/... paths)", "--utt2spk spk.map"

    @property
    def n_units(self) -> int:
        return len(self.names)

    def per_class(self, labels) -> dict[str, int]:
        """Units that hold at least one trial of each class present."""
        lab = np.asarray(labels)
        out = {}
        for name, code in (("target", Label.TARGET), ("nontarget", Label.NONTARGET), ("spoof", Label.SPOOF)):
            chosen = lab == code
            if chosen.any():
                out[name] = int(np.unique(self.index[chosen]).shape[0])
        return out

    def describe(self) -> dict:
        return {"unit": self.kind, "n_units": self.n_units, "from": self.source}


def _indexed(kind: str, names_per_trial: Sequence[str], source: str) -> Units:
    names, index = np.unique(np.asarray(names_per_trial, dtype=object).astype(str), return_inverse=True)
    return Units(kind, index.astype(np.int64), tuple(str(n) for n in names), source)


def trial_units(n_trials: int) -> Units:
    return Units("trial", np.arange(n_trials, dtype=np.int64), tuple(str(i) for i in range(n_trials)), "trials")


def derive_units(unit: str, enroll: Sequence[str] | None, test: Sequence[str] | None, n_trials: int, *,
                 utt2spk: Path | None = None, where: str = "") -> Units:
    """Units for ``--ci-unit trial|speaker|FILE`` from the trials' ids (``enroll`` / ``test``, or ``None``
    when the score file has none) and an optional ``--utt2spk`` map."""
    if unit == "trial":
        return trial_units(n_trials)
    if unit == "speaker":
        if utt2spk is not None:
            return _mapped("speaker", _need_ids(enroll, where, "speaker"), None, _read_map(utt2spk),
                           f"--utt2spk {utt2spk}", utt2spk)
        return _from_keys(_need_ids(enroll, where, "speaker"), where)
    path = Path(unit)
    if not path.is_file():
        raise AsvbenchError(f"--ci-unit {unit!r}: neither trial, speaker nor a map file",
                            hint="use --ci-unit speaker (default), trial, or a file of 'KEY UNIT' lines")
    return _mapped("map", _need_ids(enroll, where, "map"), test, _read_map(path), f"--ci-unit {path}", path)


def _need_ids(enroll, where: str, what: str) -> Sequence[str]:
    if enroll is None:
        raise AsvbenchError("the score file has no enrolment / test ids, so trials cannot be grouped by "
                            f"{'speaker' if what == 'speaker' else 'unit'}", where=where or None,
                            hint="use --ci-unit trial (trials taken as independent: narrower intervals), or a "
                                 "score file with 'enroll test score label' columns")
    return enroll


def _from_keys(enroll: Sequence[str], where: str) -> Units:
    speakers = [speaker_of_key(str(k)) for k in enroll]
    missing = [str(k) for k, s in zip(enroll, speakers) if s is None]
    if missing:
        raise AsvbenchError(
            f"cannot tell the speaker of {len(set(missing)):,} enrolment id(s) from their form "
            f"(first: {missing[0]!r}); speakers are read from 'spk/...' paths, CN-Celeb 'id00800-...', "
            "ASVspoof 'LA_0073' and LibriSpeech '1272-...' ids", where=where or None,
            hint="give --utt2spk FILE ('ENROLL_ID SPEAKER' per line), or --ci-unit trial")
    return _indexed("speaker", speakers, "enrolment ids")  # type: ignore[arg-type]


def _read_map(path: Path) -> dict[str, str]:
    from asvbench.io.enroll import read_utt2spk

    return read_utt2spk(path)


def _mapped(kind: str, enroll: Sequence[str], test: Sequence[str] | None, mapping: Mapping[str, str],
            source: str, path: Path) -> Units:
    names = []
    missing: list[str] = []
    for i, key in enumerate(enroll):
        unit = mapping.get(str(key))
        if unit is None and test is not None:
            unit = mapping.get(str(test[i]))
        if unit is None:
            missing.append(str(key))
        names.append(unit)
    if missing:
        sides = "enrolment id (or test id)" if test is not None else "enrolment id"
        raise AsvbenchError(f"{len(missing):,} trials have an {sides} that the map does not list "
                            f"(first: {missing[0]!r})", where=path, hint="add those ids to the map")
    return _indexed(kind, names, source)


def check_units(units: Units, labels, classes: Sequence[str] = ("target", "nontarget")) -> dict[str, int]:
    """Units per class; fewer than 2 units holding a class the metrics need is an error (every
    resample would repeat one unit's trials of that class, and the interval says nothing)."""
    per_class = units.per_class(labels)
    for name in classes:
        n = per_class.get(name, 0)
        if n < 2:
            raise AsvbenchError(
                f"the bootstrap needs at least 2 {units.kind}s with {name} trials; found {n}",
                hint="use more data, or --ci-unit trial" if units.kind != "trial" else "use more trials")
    return per_class
