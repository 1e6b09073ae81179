"""Countermeasure (CM) protocols: which utterance is bona fide, and which attack made each spoof.

Formats (auto-detected from the first data line, or named with ``fmt``):

================  ====================================================  ===========================================
name              line                                                  used by
================  ====================================================  ===========================================
``asvspoof2019``  ``speaker utt - attack key``                          ASVspoof 2019 LA/PA ``cm.{train.trn,dev.trl,
                                                                        eval.trl}.txt`` (attack ``-`` for bona fide)
``asvspoof5``     ``speaker utt gender codec codec_q codec_seed         ASVspoof 5 ``ASVspoof5.{train,dev.track_1,
                  attack_tag attack key tmp`` (10 fields); the          eval.track_1}.tsv`` (whitespace-separated
                  challenge's first release had 6 fields,               despite the name, no header)
                  ``speaker utt gender codec attack key``
``table``         a header naming an utterance column (``filename``,    the ASVspoof 5 evaluation package's key
                  ``utt``, ...), a key column (``cm-label``, ``key``,   (``filename cm-label``, tab-separated)
                  ``label``) and optionally an attack column
================  ====================================================  ===========================================

``key`` is ``bonafide`` or ``spoof``. A protocol lists each utterance once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError, at_line
from asvbench.io._text import (
    decode_text,
    file_line,
    first_data_line,
    head_text,
    line_of,
    parse_labels,
    read_bytes,
    split_columns,
)
from asvbench.io.formats import CM_PROTOCOL_FORMATS

_KEYS = {"bonafide": 1, "bona-fide": 1, "spoof": 0}
#: whitespace layouts: field names; the utterance, attack and key fields are named utt, attack, key
_LAYOUTS: dict[tuple[str, int], list[str]] = {
    ("asvspoof2019", 5): ["speaker", "utt", "env", "attack", "key"],
    ("asvspoof5", 10): ["speaker", "utt", "gender", "codec", "codec_q", "codec_seed", "attack_tag", "attack", "key",
                        "tmp"],
    ("asvspoof5", 6): ["speaker", "utt", "gender", "codec", "attack", "key"],
}
_UTT_COLUMNS = ("filename", "utt", "utterance", "file", "flac_file_name", "trial", "trial_anon")
_KEY_COLUMNS = ("cm-label", "cm_label", "key", "label", "cm-key", "cm_key")
_ATTACK_COLUMNS = ("attack", "attack_label", "attack_anon", "attack_id", "system_id", "attack-label")


@dataclass
class CmProtocol:
    """One row per utterance: its id, whether it is bona fide, and its attack (``-`` when unknown)."""

    utt: np.ndarray  # object array of str
    is_bonafide: np.ndarray  # bool
    attack: np.ndarray  # object array of str; bona fide rows: "-"
    fmt: str
    source: str = ""

    def __len__(self) -> int:
        return int(self.utt.shape[0])

    @property
    def has_attacks(self) -> bool:
        return bool((self.attack[~self.is_bonafide] != "-").any())

    def attack_names(self) -> list[str]:
        """The attacks of the spoofed utterances, sorted (A07 ... A19)."""
        return sorted(set(self.attack[~self.is_bonafide].tolist()) - {"-"})


def detect_cm_protocol_format(text: str, path: str | Path) -> str:
    no, line = first_data_line(text)
    if not no:
        raise AsvbenchError("CM protocol is empty", where=path, hint="it must hold one utterance per line")
    fields = [f.lower() for f in line.split()]
    if len(fields) == 5 and fields[4] in _KEYS:
        return "asvspoof2019"
    if (len(fields) == 10 and fields[8] in _KEYS) or (len(fields) == 6 and fields[5] in _KEYS):
        return "asvspoof5"
    if any(f in _UTT_COLUMNS for f in fields) and any(f in _KEY_COLUMNS for f in fields):
        return "table"
    raise AsvbenchError(
        f"cannot tell the CM protocol format from its first line ({len(fields)} fields): {line!r}",
        where=at_line(path, no),
        hint="expected ASVspoof 2019 'speaker utt - attack key', ASVspoof 5 Track 1 (10 fields, key 9th), or a "
             "table with a header (filename, cm-label); name it with --protocol-format",
    )


def read_cm_protocol(path: str | Path, fmt: str = "auto") -> CmProtocol:
    """Read a CM protocol (see the module docstring)."""
    check_choice(fmt, CM_PROTOCOL_FORMATS, "CM protocol format")
    raw = read_bytes(path)
    if fmt == "auto":
        fmt = detect_cm_protocol_format(head_text(raw, path), path)
    text = decode_text(raw, path)
    if fmt == "table":
        utt, key, attack, skip = _table_columns(text, path)
    else:
        utt, key, attack, skip = _whitespace_columns(text, path, fmt)
    codes = parse_labels(key, text, path, skiprows=skip, spellings=_KEYS)
    proto = CmProtocol(utt.to_numpy(object), codes == 1, np.array(attack.to_numpy(object), dtype=object), fmt,
                       str(path))
    proto.attack[proto.is_bonafide] = "-"
    _check(proto, text, path, skip)
    return proto


def _whitespace_columns(text: str, path: str | Path, fmt: str):
    _, line = first_data_line(text)
    n = len(line.split())
    names = _LAYOUTS.get((fmt, n))
    if names is None:
        counts = " or ".join(str(k[1]) for k in _LAYOUTS if k[0] == fmt)
        raise AsvbenchError(f"an {fmt} CM protocol line has {counts} fields, the first line has {n}: {line!r}",
                            where=path, hint="check --protocol-format, or pass the protocol the challenge released")
    frame = split_columns(text, path, len(names), names)
    return frame["utt"], frame["key"], frame["attack"], 0


def _table_columns(text: str, path: str | Path):
    import pandas as pd

    no, header = first_data_line(text)
    sep = "\t" if "\t" in header else ("," if "," in header else None)
    columns = [c.strip() for c in header.split(sep)]
    names = [f"c{i}" for i in range(len(columns))]
    frame = pd.DataFrame(_table_fields(text, path, no, sep, columns, names))
    lowered = {c.lower(): name for c, name in zip(columns, names)}

    def pick(options: tuple[str, ...], what: str) -> str | None:
        found = next((lowered[o] for o in options if o in lowered), None)
        if found is None and what:
            raise AsvbenchError(f"the CM protocol header has no {what} column", where=at_line(path, no),
                                hint=f"name one of: {', '.join(options)}; columns are: {', '.join(columns)}")
        return found

    utt, key = pick(_UTT_COLUMNS, "utterance"), pick(_KEY_COLUMNS, "key (bonafide/spoof)")
    attack = pick(_ATTACK_COLUMNS, "")
    attacks = frame[attack] if attack else pd.Series(["-"] * len(frame), dtype=object)
    return frame[utt], frame[key], attacks, 1  # one header line above the rows


def _table_fields(text: str, path: str | Path, header_no: int, sep: str | None, columns: list[str],
                  names: list[str]) -> dict[str, list[str]]:
    """The rows below the header, split on ``sep`` (None: whitespace); each must have a field per column."""
    fields: list[list[str]] = [[] for _ in names]
    for no, line in enumerate(text.splitlines(), start=1):
        if no <= header_no or not line.strip():
            continue
        parts = line.split(sep)
        if len(parts) != len(names):
            raise AsvbenchError(f"expected {len(names)} columns, found {len(parts)}: {line!r}", where=at_line(path, no),
                                hint=f"the header names: {' '.join(columns)}")
        for column, value in zip(fields, parts):
            column.append(value.strip())
    if not fields[0]:
        raise AsvbenchError("the CM protocol has a header but no rows", where=path)
    return dict(zip(names, fields))


def _check(proto: CmProtocol, text: str, path: str | Path, skip: int) -> None:
    import pandas as pd

    dup = pd.Index(proto.utt).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        no = file_line(text, row, skip)
        raise AsvbenchError(f"utterance {proto.utt[row]!r} is listed twice: {line_of(text, no)!r}",
                            where=at_line(path, no), hint="a CM protocol lists each utterance once")
    if proto.fmt != "table":
        unnamed = ~proto.is_bonafide & np.isin(proto.attack, ["-", "bonafide"])
        if unnamed.any():
            no = file_line(text, int(np.flatnonzero(unnamed)[0]), skip)
            raise AsvbenchError(f"a spoofed utterance names no attack: {line_of(text, no)!r}", where=at_line(path, no),
                                hint="check --protocol-format: the attack field is the one before the key")
