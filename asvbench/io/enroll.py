"""Enrolment maps (``model utt1,utt2,...``) and Kaldi ``utt2spk`` files."""

from __future__ import annotations

from pathlib import Path

from asvbench.errors import AsvbenchError, at_line
from asvbench.io._text import file_line, read_text, split_columns


class EnrollMap(dict):
    """``{model: [utterances]}`` read by :func:`read_enroll_map`; ``lines[model]`` is ``path:line``."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, str] = {}


def read_enroll_map(paths: str | Path | list[str | Path]) -> EnrollMap:
    """Read one or more enrolment maps into ``{model: [utterances]}``.

    Lines are ``model utt1,utt2,...`` or ``model utt1 utt2 ...``. A model defined twice (on two
    lines, or in two files) is an error naming both lines (merging them silently would change
    its model); so is an utterance listed twice for one model (it would weigh twice).
    """
    mapping = EnrollMap()
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        text = read_text(path)
        for no, line in enumerate(text.splitlines(), start=1):
            fields = line.replace(",", " ").split()
            if not fields:
                continue
            where = at_line(path, no)
            if len(fields) < 2:
                raise AsvbenchError(f"enrolment line has a model but no utterances: {line!r}",
                                    where=where, hint="lines must be: model utt1,utt2,...")
            model, utts = fields[0], fields[1:]
            if model in mapping:
                raise AsvbenchError(f"enrolment model {model!r} is defined twice: at {mapping.lines[model]} and here",
                                    where=where, hint="give each model one line with all its utterances")
            if len(set(utts)) != len(utts):
                dup = next(u for k, u in enumerate(utts) if u in utts[:k])
                raise AsvbenchError(f"utterance {dup!r} is listed twice for model {model!r}", where=where,
                                    hint="list each enrolment utterance once (it would weigh twice in the model)")
            mapping[model] = utts
            mapping.lines[model] = where
    if not mapping:
        raise AsvbenchError("enrolment map is empty", where=paths if isinstance(paths, (str, Path)) else paths[0],
                            hint="lines must be: model utt1,utt2,...")
    return mapping


def read_utt2spk(path: str | Path) -> dict[str, str]:
    """Read a Kaldi ``utt2spk`` file (``utt spk`` per line)."""
    text = read_text(path)
    frame = split_columns(text, path, 2, ["utt", "spk"])
    utts, spks = frame["utt"].tolist(), frame["spk"].tolist()
    mapping = dict(zip(utts, spks))
    if len(mapping) < len(utts):
        # in plain Python: pandas' string columns compare a value holding NUL unequal to itself
        first_row: dict[str, int] = {}
        for later, utt in enumerate(utts):
            first = first_row.setdefault(utt, later)
            if first != later:
                raise AsvbenchError(f"utterance {utt!r} is listed twice: lines {file_line(text, first)} and "
                                    f"{file_line(text, later)}", where=at_line(path, file_line(text, later)),
                                    hint="give each utterance one speaker, on one line")
    return mapping
