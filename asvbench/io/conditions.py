"""Condition maps: which condition (codec, duration bin, language, channel, gender, speaker, ...)
each utterance, enrolment model or trial belongs to.

File format (:func:`read_condition_map`), plain UTF-8 text, whitespace-separated, one entry a line;
blank lines and lines starting with ``#`` are skipped:

================================  ===========================================================
``KEY CONDITION``                 an *utterance map*: KEY is an utterance id or an enrolment
                                  model id (``LA_E_1234567 mp3``, ``LA_0015 female``,
                                  ``id10270/x6uYqmx31kE/00001.wav id10270``)
``ENROLL TEST CONDITION``         a *trial map*: one condition per trial (``enroll test`` pair)
================================  ===========================================================

Every line of one file has the same number of fields (2 or 3); a key (or pair) is listed once;
CONDITION is one token (no spaces). Anything else is an :class:`~asvbench.errors.AsvbenchError`
with ``file:line``.

How a map gives each trial one condition (:meth:`ConditionMap.for_trials`, used by ``--by FILE``):

* trial map: the condition of the trial's ``(enroll, test)`` pair;
* utterance map: the condition of the *test* side when every test id is in the map, else of the
  *enrolment* side when every enrolment id is (so a ``model gender`` map works as is);
* a trial that gets no condition, or a map key that names no trial (on the side used), is an
  error: the first unmapped trial, or the first unknown key with its ``file:line``, and how many
  there are (maps built from enrolment lists may name models the trials do not use).

Other users (e.g. a resampling unit per side, for bootstrap intervals) call
:meth:`ConditionMap.lookup` per side, which returns ``None`` for ids the map lacks and leaves
the policy to them; :meth:`ConditionMap.unknown_keys` lists keys no given id matches.

:func:`gender_map_from_enroll_lists` builds an utterance map ``model -> female|male`` from
enrolment lists whose file names say the gender (ASVspoof 2019
``ASVspoof2019.LA.asv.eval.female.trn.txt`` / ``...male.trn.txt``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asvbench.errors import AsvbenchError, at_line
from asvbench.io._text import decode_text, read_bytes

#: the kinds of map, by the number of fields a line has
MAP_KINDS = {2: "utterance", 3: "trial"}
_SHOW = 3


@dataclass(frozen=True)
class ConditionMap:
    """A parsed condition map (see the module docstring).

    ``conditions`` maps a key (an id, or an ``(enroll, test)`` pair for trial maps) to its
    condition; ``lines`` maps the same key to its 1-based line number in ``path``.
    """

    path: str
    kind: str  # "utterance" | "trial"
    conditions: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)
    #: whether keys that name no trial are an error (not for maps built from enrolment lists)
    strict: bool = True

    def __len__(self) -> int:
        return len(self.conditions)

    def names(self) -> list[str]:
        """The distinct conditions, sorted."""
        return sorted(set(self.conditions.values()))

    def lookup(self, ids: Sequence[str]) -> np.ndarray:
        """The condition of each id (utterance maps), ``None`` where the map has none."""
        self._need("utterance", "lookup")
        get = self.conditions.get
        return np.array([get(str(i)) for i in ids], dtype=object)

    def unknown_keys(self, *id_sets: Sequence[str]) -> list:
        """Map keys found in none of ``id_sets`` (in file order); trial maps take ``(enroll, test)``
        pairs as one id set of tuples."""
        known: set = set()
        for ids in id_sets:
            known.update(ids)
        return [k for k in self.conditions if k not in known]

    def for_trials(self, enroll: Sequence[str], test: Sequence[str]) -> np.ndarray:
        """One condition per trial (object array of str), by the rules of the module docstring."""
        enroll = [str(e) for e in enroll]
        test = [str(t) for t in test]
        if self.kind == "trial":
            pairs = list(zip(enroll, test))
            found = np.array([self.conditions.get(p) for p in pairs], dtype=object)
            self._check_unmapped(found, pairs, "trial")
            if self.strict:
                self._check_unknown(self.unknown_keys(pairs), "names no trial of the list")
            return found
        side, ids = self._side(enroll, test)
        found = self.lookup(ids)
        self._check_unmapped(found, ids, f"{side} id")
        if self.strict:
            self._check_unknown(self.unknown_keys(ids), f"is no {side} id of the trials")
        return found

    def _side(self, enroll: list[str], test: list[str]) -> tuple[str, list[str]]:
        """The side an utterance map describes: test if it maps every test id, else enrolment if it
        maps every enrolment id, else the side with more mapped ids (whose gaps are then reported)."""
        n_test = sum(t in self.conditions for t in test)
        n_enroll = sum(e in self.conditions for e in enroll)
        if n_test == len(test) or (n_enroll < len(enroll) and n_test >= n_enroll):
            return "test", test
        return "enrolment", enroll

    def _need(self, kind: str, what: str) -> None:
        if self.kind != kind:
            raise AsvbenchError(f"{what} needs a {kind} map; this is a {self.kind} map", where=self.path)

    def _check_unmapped(self, found: np.ndarray, keys: list, what: str) -> None:
        missing = [k for k, v in zip(keys, found) if v is None]
        if missing:
            examples = list(dict.fromkeys(missing))[:_SHOW]
            shown = ", ".join(repr(" ".join(k) if isinstance(k, tuple) else k) for k in examples)
            raise AsvbenchError(
                f"{len(missing):,} of {len(keys):,} trials have no condition in the map (e.g. {what} {shown})",
                where=self.path,
                hint="list every test utterance (or every enrolment model, or every 'enroll test' pair) of the "
                     "trials in the map")

    def _check_unknown(self, unknown: list, what: str) -> None:
        if unknown:
            key = unknown[0]
            name = " ".join(key) if isinstance(key, tuple) else key
            raise AsvbenchError(
                f"key {name!r} {what} ({len(unknown):,} such key{'s' if len(unknown) > 1 else ''} in the map)",
                where=at_line(self.path, self.lines[key]),
                hint="a condition map may list only utterances, models or trials of the scored list: remove the "
                     "line, or check that the map and the trials name utterances alike")


def read_condition_map(path: str | Path) -> ConditionMap:
    """Read a condition map (format: the module docstring)."""
    text = decode_text(read_bytes(path), path)
    conditions: dict = {}
    lines: dict = {}
    n_fields = 0
    for no, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in MAP_KINDS:
            raise AsvbenchError(f"a condition map line has 2 fields (KEY CONDITION) or 3 (ENROLL TEST CONDITION), "
                                f"this one {len(fields)}: {line!r}", where=at_line(path, no),
                                hint="one entry a line; a condition is one token (no spaces)")
        if n_fields and len(fields) != n_fields:
            first = next(iter(lines.values()))
            raise AsvbenchError(f"this line has {len(fields)} fields, line {first} has {n_fields}: {line!r}",
                                where=at_line(path, no), hint="a map is all 'KEY CONDITION' or all "
                                                              "'ENROLL TEST CONDITION' lines")
        n_fields = len(fields)
        key = fields[0] if n_fields == 2 else (fields[0], fields[1])
        if key in conditions:
            name = key if isinstance(key, str) else " ".join(key)
            raise AsvbenchError(f"key {name!r} is listed twice (first on line {lines[key]})",
                                where=at_line(path, no), hint="a condition map gives each key one condition")
        conditions[key] = fields[-1]
        lines[key] = no
    if not conditions:
        raise AsvbenchError("condition map is empty", where=path,
                            hint="one 'KEY CONDITION' (or 'ENROLL TEST CONDITION') a line")
    return ConditionMap(str(path), MAP_KINDS[n_fields], conditions, lines)


_GENDER_IN_NAME = re.compile(r"(?:^|[._-])(female|male)(?:[._-]|$)", re.IGNORECASE)


def gender_of_list(path: str | Path) -> str:
    """``female`` or ``male`` from an enrolment list's file name (``...female.trn.txt``)."""
    found = _GENDER_IN_NAME.findall(Path(path).name)
    if len(set(g.lower() for g in found)) != 1:
        raise AsvbenchError("--by gender: the enrolment list's file name does not say the gender", where=path,
                            hint="name the lists ...female... / ...male... (as ASVspoof 2019 "
                                 "ASVspoof2019.LA.asv.eval.female.trn.txt), or give --by MAP with 'model gender' "
                                 "lines")
    return found[0].lower()


def gender_map_from_enroll_lists(paths: Sequence[str | Path]) -> ConditionMap:
    """An utterance map ``model -> female|male`` from enrolment lists named by gender."""
    from asvbench.io.enroll import read_enroll_map

    if not paths:
        raise AsvbenchError("--by gender needs the gender of each enrolment model",
                            hint="give the enrolment lists (--enroll-map ...female.trn.txt --enroll-map "
                                 "...male.trn.txt), or --by MAP with 'model gender' lines")
    conditions: dict = {}
    lines: dict = {}
    for path in paths:
        gender = gender_of_list(path)
        text = decode_text(read_bytes(path), path)
        line_no = {ln.split()[0]: no for no, ln in enumerate(text.splitlines(), start=1) if ln.split()}
        for model in read_enroll_map(path):
            if conditions.get(model, gender) != gender:
                raise AsvbenchError(f"model {model!r} is in a female and a male enrolment list",
                                    where=at_line(path, line_no[model]))
            conditions[model] = gender
            lines[model] = line_no[model]
    return ConditionMap(", ".join(str(p) for p in paths), "utterance", conditions, lines, strict=False)


def read_score_sources(path: str | Path) -> np.ndarray:
    """The ``source`` column (``bonafide`` or the attack id) of a SASV 5-column score file
    ``spk utt source key score``, one value per trial in file order."""
    from asvbench.io._text import split_columns

    frame = split_columns(decode_text(read_bytes(path), path), path, 5, ["spk", "utt", "source", "key", "score"])
    return frame["source"].to_numpy(object)
