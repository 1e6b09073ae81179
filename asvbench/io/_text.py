"""Helpers for whitespace-separated text files: fast pandas parsing with file:line errors."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asvbench.errors import AsvbenchError, at_line

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where it is used (start-up time)
    import pandas as pd


def _existing_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise AsvbenchError("file not found", where=p)
    if p.is_dir():
        raise AsvbenchError("expected a file, got a directory", where=p)
    return p


def _check_regular(p: Path) -> None:
    """A device never ends (/dev/zero) and a socket cannot be read: refused. A named pipe is read
    (``--trials <(zcat trials.gz)``)."""
    import stat

    mode = p.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise AsvbenchError("not a regular file (a device or socket)", where=p, hint="give the path of a text file")


def read_bytes(path: str | Path) -> bytes:
    p = _existing_file(path)
    _check_regular(p)
    return strip_bom(p.read_bytes())


UTF8_BOM = b"\xef\xbb\xbf"


def strip_bom(raw: bytes) -> bytes:
    """``raw`` without a leading UTF-8 byte-order mark (editors on Windows write one)."""
    return raw[3:] if raw.startswith(UTF8_BOM) else raw


def utf8_error(raw: bytes, exc: UnicodeDecodeError, path: str | Path) -> AsvbenchError:
    """A decoding error at the file line (and column) of the bad byte, not a byte offset."""
    line_no = raw.count(b"\n", 0, exc.start) + 1
    line_start = raw.rfind(b"\n", 0, exc.start) + 1
    return AsvbenchError(f"not a UTF-8 text file: byte 0x{raw[exc.start]:02x} ({exc.reason}) in column "
                         f"{exc.start - line_start + 1}", where=at_line(path, line_no),
                         hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")


def decode_text(raw: bytes, path: str | Path) -> str:
    """``raw`` as UTF-8 text with universal newlines (as ``Path.read_text``); a leading BOM is dropped."""
    raw = strip_bom(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise utf8_error(raw, exc, path) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def read_text(path: str | Path) -> str:
    return decode_text(read_bytes(path), path)


def head_text(raw: bytes, path: str | Path, n_bytes: int = 65536) -> str:
    """The first ``n_bytes`` of ``raw`` (whole lines only) as text, for format detection."""
    raw = strip_bom(raw)
    head = raw[:n_bytes]
    if len(raw) > n_bytes and b"\n" in head:  # cut before the line that runs past n_bytes
        head = head[: head.rindex(b"\n") + 1]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise utf8_error(head, exc, path) from None


def read_head(path: str | Path, n_bytes: int = 65536) -> str:
    """The first ``n_bytes`` of a text file (whole lines only), for format detection."""
    p = _existing_file(path)
    _check_regular(p)
    with open(p, "rb") as handle:
        return head_text(handle.read(n_bytes + 4), p, n_bytes)


def first_data_line(text: str) -> tuple[int, str]:
    """(1-based line number, text) of the first non-blank line; (0, "") when there is none."""
    for no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return no, line
    return 0, ""


def line_of(text: str, line_no: int) -> str:
    """The text of 1-based line ``line_no``."""
    lines = text.splitlines()
    return lines[line_no - 1] if 0 < line_no <= len(lines) else ""


def data_line_numbers(text: str) -> np.ndarray:
    """1-based file line numbers of the non-blank lines, in order."""
    return np.asarray([i + 1 for i, line in enumerate(text.splitlines()) if line.strip()], dtype=np.int64)


def split_columns(text: str, path: str | Path, n_cols: int, names: list[str], *, skiprows: int = 0,
                  sep: str = r"\s+") -> pd.DataFrame:
    """Parse ``text`` into exactly ``n_cols`` string columns; a line with another count is an error."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=names, dtype=str, skiprows=skiprows,
                            engine="c", skip_blank_lines=True, keep_default_na=False, na_filter=False,
                            comment=None, quoting=3)
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        if match:
            no = int(match.group(1))
            raise AsvbenchError(
                f"expected {n_cols} columns, found {match.group(2)}: {line_of(text, no)!r}",
                where=at_line(path, no), hint=f"each line must be: {' '.join(names)}",
            ) from None
        raise AsvbenchError(f"cannot parse: {exc}", where=path) from None
    if frame.empty:
        raise AsvbenchError("no data lines", where=path)
    short = frame[names[-1]] == ""
    if short.any():
        no = file_line(text, int(np.flatnonzero(short.to_numpy())[0]), skiprows)
        raise AsvbenchError(f"expected {n_cols} columns, found fewer: {line_of(text, no)!r}",
                            where=at_line(path, no), hint=f"each line must be: {' '.join(names)}")
    return frame


def file_line(text: str, row: int, skiprows: int = 0) -> int:
    """1-based file line number of data row ``row`` (0-based, blank lines skipped)."""
    numbers = data_line_numbers(text)
    return int(numbers[skiprows + row]) if skiprows + row < len(numbers) else row + 1 + skiprows


def parse_labels(column: pd.Series, text: str, path: str | Path, skiprows: int = 0,
                 spellings: dict[str, int] | None = None) -> np.ndarray:
    """Map label words to :class:`~asvbench.types.Label` codes; an unknown word is an error at its line."""
    import pandas as pd

    from asvbench.types import LABEL_SPELLINGS

    table = spellings or LABEL_SPELLINGS
    codes = pd.Categorical(column.str.strip().str.lower())
    lookup = np.array([table.get(c, -1) for c in codes.categories], dtype=np.int8)
    labels = lookup[codes.codes] if len(lookup) else np.zeros(0, np.int8)
    bad = labels < 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        no = file_line(text, row, skiprows)
        valid = sorted(set(table))
        hint = f"labels must be one of: {', '.join(valid)}"
        if spellings is None or len(table) > 6:
            hint += "; numeric codes beyond 0/1 need --label-map (e.g. 1=target,2=nontarget,0=spoof)"
        raise AsvbenchError(f"unknown label {column.iloc[row]!r}: {line_of(text, no)!r}", where=at_line(path, no),
                            hint=hint)
    return labels


def parse_floats(column: pd.Series, text: str, path: str | Path, what: str, skiprows: int = 0) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~column.str.lower().isin(["nan"]).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        no = file_line(text, row, skiprows)
        raise AsvbenchError(f"{what} {column.iloc[row]!r} is not a number: {line_of(text, no)!r}",
                            where=at_line(path, no))
    return values


def fast_columns(text: str, path: str | Path, names: list[str], *, skiprows: int = 0) -> dict[str, list[str]]:
    """Split whitespace-separated ``text`` into ``len(names)`` columns of strings.

    Fast path: one ``str.split()`` over the whole text with a marker token standing for each
    newline, accepted only when every marker falls right after a group of ``len(names)``
    tokens (so every line has the right count; a line with one token too many and another
    with one too few cannot cancel out). Otherwise each line is checked and the first bad
    one is reported as ``file:line``.
    """
    body = text
    for _ in range(skiprows):
        body = body[body.find("\n") + 1 :] if "\n" in body else ""
    n = len(names)
    if body and not body.endswith("\n"):
        body += "\n"
    n_lines = body.count("\n")
    tokens = body.replace("\n", " \x00 ").split()
    if len(tokens) == n_lines:  # only newline markers
        raise AsvbenchError("no data lines", where=path)
    if len(tokens) != (n + 1) * n_lines or tokens[n :: n + 1].count("\x00") != n_lines:
        return exact_columns(text, path, names, skiprows=skiprows)
    return {name: tokens[i :: n + 1] for i, name in enumerate(names)}


def exact_columns(text: str, path: str | Path, names: list[str], *, skiprows: int = 0) -> dict[str, list[str]]:
    """Line-by-line version of :func:`fast_columns`: reports the first line with a wrong column count."""
    columns: list[list[str]] = [[] for _ in names]
    for no, line in enumerate(text.splitlines(), start=1):
        if no <= skiprows:
            continue
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names):
            raise AsvbenchError(f"expected {len(names)} columns, found {len(fields)}: {line!r}",
                                where=at_line(path, no), hint=f"each line must be: {' '.join(names)}")
        for column, value in zip(columns, fields):
            column.append(value)
    if not columns[0]:
        raise AsvbenchError("no data lines", where=path)
    return dict(zip(names, columns))


def map_labels(values: list[str], text: str, path: str | Path, spellings: dict[str, int] | None = None,
               skiprows: int = 0) -> np.ndarray:
    """Label words -> int8 codes via a lookup of the distinct values; unknown words are errors at their line."""
    import pandas as pd

    from asvbench.types import LABEL_SPELLINGS

    table = spellings or LABEL_SPELLINGS
    lookup = {v: table.get(v.strip().lower(), -1) for v in set(values)}
    codes = np.fromiter(map(lookup.__getitem__, values), dtype=np.int8, count=len(values))
    if (codes < 0).any():
        return parse_labels(pd.Series(values, dtype=object), text, path, skiprows, spellings)
    return codes


def to_floats(values: list[str], text: str, path: str | Path, what: str, skiprows: int = 0) -> np.ndarray:
    import pandas as pd

    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        return parse_floats(pd.Series(values, dtype=object), text, path, what, skiprows)


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) with uniques in order of first appearance."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes, np.asarray(uniques, dtype=object)
