"""Score files: reading the formats peers write, and writing asvbench's canonical TSV.

Read (auto-detected, or named with ``fmt``):

* ``wespeaker``: ``enroll test score label`` (WeSpeaker/Kaldi 4-column);
  also ``enroll test label score`` (3D-Speaker order), recognised from the first line;
* ``sasv``: SASV 2022 5-column ``spk utt source key score``;
* ``table``: CSV/TSV with a header naming a score column (``score``, or ``--score-column``)
  and a label column (``label``, ``key``, or any name ending in ``label``/``key``).

Labels: target/nontarget/spoof, 1/0 (2 = spoof), bonafide/spoof.

Written (``write_scores``): a TSV with header ``enroll test score label``, every score in
full float precision (shortest repr that round-trips), labels as words.

CM score stores (``write_cm_scores``/``read_cm_scores``): TSV with header
``utt cm_logit cm_prob_bonafide``: per-utterance countermeasure outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from asvbench._atomic import atomic_open
from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError
from asvbench.io._score_text import ScoreText, repr_lines
from asvbench.io._text import (
    exact_columns,
    file_line,
    first_data_line,
    line_of,
    map_labels,
    parse_floats,
    read_head,
    read_text,
    split_columns,
    to_floats,
)
from asvbench.io.formats import SCORE_FORMATS
from asvbench.types import LABEL_NAMES, LABEL_SPELLINGS

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where it is used (start-up time)
    import pandas as pd

    from asvbench.io._bytes import ByteKeys
    from asvbench.io.trial_ids import TrialIds



@dataclass
class ScoreTable:
    scores: np.ndarray  # float64
    labels: np.ndarray  # int8 Label codes
    enroll: np.ndarray | None = None  # object arrays of str
    test: np.ndarray | None = None
    fmt: str = ""
    source: str = ""
    n_duplicates: int = 0  # repeated (enroll, test) pairs kept with allow_duplicates
    #: uint64 hash of each row's (enroll, test) when the ids were not read (see io._pair_hash)
    pair_hashes: np.ndarray | None = None
    #: whether two of ``pair_hashes`` are equal (found beside the parse); None when there are none
    hashes_repeat: bool | None = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def detect_score_format(text: str, path: str | Path) -> str:
    no, line = first_data_line(text)
    if not no:
        raise AsvbenchError("score file is empty", where=path, hint="it must hold one trial per line")
    if "," in line or "\t" in line:
        fields = [f.strip() for f in line.replace("\t", ",").split(",")]
        if any("score" in f.lower() for f in fields):
            return "table"
    fields = line.split()
    if len(fields) == 5:
        return "sasv"
    if len(fields) == 4:
        return "wespeaker"
    if len(fields) >= 2 and any("score" in f.lower() for f in fields):
        return "table"
    raise AsvbenchError(
        f"cannot tell the score-file format from the first line ({len(fields)} fields): {line!r}",
        where=f"{path}:{no}",
        hint="expected 'enroll test score label', 'spk utt source key score', or a CSV/TSV with a header",
    )


def read_scores_with(path: str | Path, work: Callable[[np.ndarray, np.ndarray], Any], fmt: str = "auto",
                     **options) -> tuple[ScoreTable, Any]:
    """:func:`read_scores` and ``work(table.scores, table.labels)`` (e.g. the metrics), the work
    started as soon as pandas has parsed the scores, while the pair-hash pass of a large file still
    runs on the other core. The result is the same as calling one after the other: an error of the
    reader (e.g. a repeated trial) comes first, and the work runs again on the table returned if
    the reader fell back to its exact pass."""
    early = Beside(work)
    table = read_scores(path, fmt, beside=early, **options)
    return table, early.value_for(table)


def read_scores(path: str | Path, fmt: str = "auto", *, score_column: str | None = None,
                label_column: str | None = None, label_map: dict[str, int] | None = None,
                with_ids: bool = True, allow_duplicates: bool = False, beside: "Beside | None" = None) -> ScoreTable:
    """Read a score file with labels. See the module docstring for the formats.

    ``label_map`` (see :func:`asvbench.types.parse_label_map`) replaces the default label spellings;
    numeric labels other than 0/1 (e.g. 2) are ambiguous between conventions and need one.
    ``with_ids=False`` skips the enrolment/test id columns (faster, for metrics only).

    A trial (enroll, test) on two lines is an error naming both lines (with
    ``allow_duplicates``: kept and counted in ``n_duplicates``); with two different labels it
    always is. Without ids (``with_ids=False``), the ids of a whitespace-separated file or a TSV
    are hashed from its bytes beside the reader (:mod:`asvbench.io._pair_hash`); only a repeated
    hash (or a file that pass cannot read: CSV, runs of spaces, CRLF) makes the ids be read,
    to confirm and name both lines. SASV 5-column files: target/nontarget rows must name the
    source bonafide. ``beside``: see :func:`read_scores_with`.
    """
    check_choice(fmt, SCORE_FORMATS, "score format")
    text = read_head(path)  # the whole file is only read as text to locate errors
    if fmt == "auto":  # naming a column implies a table with a header
        fmt = "table" if score_column is not None or label_column is not None else detect_score_format(text, path)
    spellings = label_map or {**LABEL_SPELLINGS, "1.0": 1, "0.0": 0}
    if fmt == "wespeaker":
        names = _four_column_names(text, path, spellings)
        layout = _Layout(r"\s+", names, 0, "score", "label", "enroll", "test")
    elif fmt == "sasv":
        layout = _Layout(r"\s+", ["spk", "utt", "source", "key", "score"], 0, "score", "key", "spk", "utt")
    else:
        layout = _table_layout(text, path, score_column, label_column)
    table = _read_layout(path, text, layout, spellings, with_ids, beside)
    table.fmt = fmt
    if fmt == "sasv":
        _check_sasv_score_sources(path, layout)
    if layout.enroll is not None and layout.test is not None:
        ids = table
        if not with_ids and table.hashes_repeat is not False:  # repeated hashes, or none to check: read the ids
            ids = _read_layout(path, text, layout, spellings, True)
        if ids.enroll is not None and ids.test is not None:
            table.n_duplicates = _check_duplicate_scores(path, ids, layout, allow_duplicates)
    return table


def _repeats(hashes: np.ndarray) -> bool:
    ordered = np.sort(hashes)
    return bool((ordered[1:] == ordered[:-1]).any())


def _hash_pass(path, **options) -> tuple:
    """The token pass and whether its pair hashes repeat: the sort runs on the pass's thread,
    beside pandas' parse (NumPy's sort releases the GIL), not after it."""
    from asvbench.io._pair_hash import tokens_and_pair_hashes

    tokens = tokens_and_pair_hashes(path, **options)
    return tokens, None if tokens.pair_hashes is None else _repeats(tokens.pair_hashes)


def _check_duplicate_scores(path: str | Path, table: ScoreTable, layout: "_Layout", allow: bool) -> int:
    from asvbench.io.duplicates import duplicate_rows

    pairs = duplicate_rows(table.enroll, table.test)
    if not pairs.shape[0]:
        return 0
    conflict = table.labels[pairs[:, 0]] != table.labels[pairs[:, 1]]
    if allow and not conflict.any():
        return int(pairs.shape[0])
    text = read_text(path)
    a, b = (int(r) for r in pairs[int(np.flatnonzero(conflict)[0]) if conflict.any() else 0])
    no_a, no_b = file_line(text, a, layout.skiprows), file_line(text, b, layout.skiprows)
    if conflict.any():
        raise AsvbenchError(f"the same trial has two labels: line {no_a} {line_of(text, no_a)!r} and line {no_b} "
                            f"{line_of(text, no_b)!r}", where=f"{path}:{no_b}",
                            hint="fix the wrong label, or drop one of the lines")
    raise AsvbenchError(
        f"trial scored twice: line {no_b} {line_of(text, no_b)!r} repeats the trial of {path}:{no_a} "
        f"({pairs.shape[0]} repeated trials in all); each would be counted twice in the metrics",
        where=f"{path}:{no_b}", hint="remove the repeated lines, or pass --allow-duplicates to keep them")


def _check_sasv_score_sources(path: str | Path, layout: "_Layout") -> None:
    """A spoof source with key target/nontarget (or bonafide with key spoof) is an error, as in trial lists."""
    from asvbench.io._sasv import check_sasv_sources
    from asvbench.labels import SASV_KEYS

    text = read_text(path)
    frame = split_columns(text, path, len(layout.names), layout.names, skiprows=layout.skiprows)
    keys = frame["key"].str.strip().str.lower().map(SASV_KEYS)
    if keys.isna().any():  # other key spellings (1/0, label maps): the source cannot be checked against them
        return
    check_sasv_sources(frame["source"].to_numpy(object), keys.to_numpy(np.int8), text, path)


@dataclass(frozen=True)
class _Layout:
    sep: str
    names: list[str]
    skiprows: int  # header lines
    score: str
    label: str
    enroll: str | None
    test: str | None


def _four_column_names(text: str, path: str | Path, spellings: dict[str, int]) -> list[str]:
    no, line = first_data_line(text)
    fields = line.split()
    if not no:
        raise AsvbenchError("score file is empty", where=path, hint="it must hold one trial per line")
    if len(fields) != 4:
        raise AsvbenchError(f"expected 4 columns 'enroll test score label', found {len(fields)}: {line!r}",
                            where=f"{path}:{no}", hint="or name another layout with --format")
    # WeSpeaker: enroll test score label; 3D-Speaker: enroll test label score.
    if fields[3].strip().lower() in spellings and _is_float(fields[2]):
        return ["enroll", "test", "score", "label"]
    if fields[2].strip().lower() in spellings and _is_float(fields[3]):
        return ["enroll", "test", "label", "score"]
    raise AsvbenchError(f"4-column line has no label/score pair: {line!r}", where=f"{path}:{no}",
                        hint="expected 'enroll test score label' with label target/nontarget/spoof or 1/0 "
                             "(other numeric codes need --label-map)")


def _table_layout(text: str, path: str | Path, score_column: str | None, label_column: str | None) -> _Layout:
    no, header = first_data_line(text)
    header = header.removeprefix("\ufeff")  # a UTF-8 BOM (pandas drops it too): not part of the first name
    sep = "\t" if "\t" in header else ("," if "," in header else r"\s+")
    columns = [c.strip() for c in (header.split() if sep == r"\s+" else header.split(sep))]
    if len(set(columns)) != len(columns):
        raise AsvbenchError(f"duplicate column names in the header: {header!r}", where=f"{path}:{no}")
    score = _pick_column(columns, score_column, ("score", "sasv_score", "sasv-score"), ("score",), "score", path)
    label = _pick_column(columns, label_column, ("label", "key", "sasv_label", "asv-label", "asv_label"),
                         ("label", "key"), "label", path)
    enroll = next((c for c in columns if c.lower() in ("enroll", "enrol", "spk", "speaker", "model")), None)
    test = next((c for c in columns if c.lower() in ("test", "utt", "filename", "utterance")), None)
    return _Layout(sep, columns, no, score, label, enroll, test)


def _read_layout(path: str | Path, text: str, layout: _Layout, spellings: dict[str, int],
                 with_ids: bool, beside: "Beside | None" = None) -> ScoreTable:
    """Parse with pandas' C reader, only the needed columns, scores straight to float64.

    Anything odd (a wrong column count, a non-number) re-reads the text line by line to
    report the first bad line as file:line. ``beside``: run on the parsed scores and labels
    while the pair-hash pass finishes (see :func:`read_scores_with`).
    """
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    wanted = [layout.score, layout.label]
    if with_ids:
        wanted += [c for c in (layout.enroll, layout.test) if c is not None]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # pandas drops fields beyond the columns it is asked for: count every token beside it
        id_cols = None if with_ids or layout.enroll is None or layout.test is None else (
            layout.names.index(layout.enroll), layout.names.index(layout.test))
        spaced, tabbed = layout.sep == r"\s+", layout.sep == "\t" and id_cols is not None
        # a TSV (asvbench's own score files) gets its pair hashes only: its fields may hold spaces
        tokens = pool.submit(_hash_pass, path, n_cols=len(layout.names), id_cols=id_cols,
                             skip_lines=layout.skiprows, tabs_only=tabbed) if spaced or tabbed else None
        try:
            frame = pd.read_csv(
                path, encoding="utf-8", sep=layout.sep, names=layout.names, **_header_rows(layout.skiprows),
                usecols=wanted, dtype={c: {layout.score: np.float64, layout.label: "category"}.get(c, str)
                                       for c in wanted},
                engine="c", keep_default_na=False, na_filter=False, skip_blank_lines=True, quoting=3,
            )
        except (ValueError, pd.errors.ParserError):
            frame = None
        columns = _frame_columns(frame, layout, spellings) if frame is not None else None
        if beside is not None and isinstance(columns, tuple):
            beside.run(*columns)
        token_pass, repeat = tokens.result() if tokens is not None else (None, None)
    n_tokens = token_pass.n_tokens if token_pass is not None and spaced else None
    if frame is None or (n_tokens is not None and n_tokens != len(layout.names) * len(frame)):
        # a bad value, or a line with more fields than the layout: the exact pass finds the line
        return _read_layout_exact(path, read_text(path), layout, spellings, with_ids)
    if columns == "empty":
        raise AsvbenchError("no data lines", where=path)
    if columns is None:  # a non-number, a non-finite score or an unknown label: the exact pass finds its line
        return _read_layout_exact(path, read_text(path), layout, spellings, with_ids)
    scores, labels = columns
    ids = {c: frame[c].to_numpy(object) for c in (layout.enroll, layout.test) if with_ids and c is not None}
    hashes = token_pass.pair_hashes if token_pass is not None else None
    if hashes is not None and hashes.shape[0] != scores.shape[0]:
        hashes = repeat = None  # rows of the two passes do not line up: read the ids instead
    return ScoreTable(scores=scores, labels=labels, enroll=ids.get(layout.enroll), test=ids.get(layout.test),
                      source=str(path), pair_hashes=hashes, hashes_repeat=repeat)


def _frame_columns(frame, layout: _Layout, spellings: dict[str, int]):
    """(float64 scores, int8 label codes) of pandas' frame; "empty" without rows; None when a
    score is not a finite number or a label is not a known spelling (the exact pass reports it)."""
    import pandas as pd

    if frame.empty:
        return "empty"
    try:
        scores = frame[layout.score].to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError):
        return None
    if not np.isfinite(scores).all():  # NaN or +-inf
        return None
    categories = frame[layout.label].cat
    lookup = np.array([spellings.get(str(v).strip().lower(), -1) for v in categories.categories], dtype=np.int8)
    if (lookup < 0).any():
        return None
    return scores, lookup[categories.codes.to_numpy()]


class Beside:
    """Work on a score table's scores and labels that :func:`read_scores` may start before its
    checks end (see :func:`read_scores_with`); it keeps the outcome, error included."""

    def __init__(self, work: Callable[[np.ndarray, np.ndarray], Any]):
        self._work = work
        self._scores: np.ndarray | None = None
        self._outcome: tuple[bool, Any] = (False, None)

    def run(self, scores: np.ndarray, labels: np.ndarray) -> None:
        self._scores = scores
        try:
            self._outcome = (True, self._work(scores, labels))
        except Exception as error:  # noqa: BLE001 (raised again by value_for, after the reader's own errors)
            self._outcome = (False, error)

    def value_for(self, table: ScoreTable) -> Any:
        """The work's value on ``table`` (run again when the table is not the one it ran on)."""
        if self._scores is not table.scores:
            return self._work(table.scores, table.labels)
        ok, value = self._outcome
        if not ok:
            raise value
        return value


def _header_rows(skiprows: int) -> dict:
    """pandas' arguments that skip the ``skiprows`` lines above the data.

    A header on line 1 is read as pandas' header row (``header=0``, replaced by ``names``):
    ``skiprows=1`` gives the same rows but cost 0.5 s more on 10 M lines (pandas 3.1). The
    line counted by :func:`~asvbench.io._text.first_data_line` (``str.splitlines``, which
    breaks at more characters than pandas) is a non-blank prefix of pandas' first line, so
    both skip the same line.
    """
    return {"header": 0} if skiprows == 1 else {"header": None, "skiprows": skiprows}


def _read_layout_exact(path: str | Path, text: str, layout: _Layout, spellings: dict[str, int],
                       with_ids: bool) -> ScoreTable:
    if layout.sep == r"\s+":
        columns = exact_columns(text, path, layout.names, skiprows=layout.skiprows)
    else:
        columns = _exact_delimited(text, path, layout)
    scores = to_floats(columns[layout.score], text, path, "score", skiprows=layout.skiprows)
    bad = ~np.isfinite(scores)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        no = file_line(text, row, layout.skiprows)
        raise AsvbenchError(f"score is {columns[layout.score][row]!r} (not finite): {line_of(text, no)!r}",
                            where=f"{path}:{no}", hint="fix or drop that trial; metrics are undefined for it")
    labels = map_labels(columns[layout.label], text, path, spellings, skiprows=layout.skiprows)
    ids = {c: np.array(columns[c], dtype=object) for c in (layout.enroll, layout.test) if with_ids and c is not None}
    return ScoreTable(scores=scores, labels=labels, enroll=ids.get(layout.enroll), test=ids.get(layout.test),
                      source=str(path))


def _exact_delimited(text: str, path: str | Path, layout: _Layout) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {c: [] for c in layout.names}
    for no, line in enumerate(text.splitlines(), start=1):
        if no <= layout.skiprows or not line.strip():
            continue
        fields = line.split(layout.sep)
        if len(fields) != len(layout.names):
            raise AsvbenchError(f"expected {len(layout.names)} columns, found {len(fields)}: {line!r}",
                                where=f"{path}:{no}", hint=f"columns are: {layout.sep.join(layout.names)}")
        for name, value in zip(layout.names, fields):
            columns[name].append(value.strip())
    if not columns[layout.score]:
        raise AsvbenchError("score table has a header but no rows", where=path)
    return columns


def _pick_column(columns: list[str], wanted: str | None, defaults: tuple[str, ...], suffixes: tuple[str, ...],
                 what: str, path: str | Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise AsvbenchError(f"no {what} column {wanted!r} in the header", where=f"{path}:1",
                                hint=f"columns are: {', '.join(columns)}")
        return wanted
    lowered = {c.lower(): c for c in columns}
    for name in defaults:
        if name in lowered:
            return lowered[name]
    matches = [c for c in columns if c.lower().endswith(suffixes)]
    if len(matches) == 1:
        return matches[0]
    flag = "--score-column" if what == "score" else "--label-column"
    raise AsvbenchError(
        f"cannot tell which column holds the {what}" + (f" (candidates: {', '.join(matches)})" if matches else ""),
        where=f"{path}:1", hint=f"name it with {flag}; columns are: {', '.join(columns)}",
    )


def write_scores(path: str | Path, enroll, test, scores: np.ndarray, labels: np.ndarray | None, *,
                 score_text: ScoreText | None = None) -> Path:
    """Write the canonical score TSV atomically: ``enroll test score label`` with a header.

    Scores are written as the shortest decimal that round-trips to the same float64
    (``repr``), so no precision is lost and no ties are created. ``score_text``: those
    lines, already started with :meth:`~asvbench.io._score_text.ScoreText.start`.
    """
    names = np.array([LABEL_NAMES[i] for i in range(3)], dtype=object)
    n = len(scores)
    label_text = names[np.asarray(labels, dtype=np.int64)].tolist() if labels is not None else ["-"] * n
    lines = score_text.result() if score_text is not None else repr_lines(scores)
    score_strings = lines.decode("ascii").split("\n")[:-1]
    enroll = enroll.tolist() if isinstance(enroll, np.ndarray) else list(enroll)
    test = test.tolist() if isinstance(test, np.ndarray) else list(test)
    with atomic_open(path, "w") as handle:
        handle.write("enroll\ttest\tscore\tlabel\n")
        handle.write("\n".join(map("\t".join, zip(enroll, test, score_strings, label_text))))
        handle.write("\n")
    return Path(path)


def start_trial_scores(path: str | Path, trials: TrialIds, kept: np.ndarray, scores: np.ndarray,
                       labels: np.ndarray | None) -> Callable[[], Path]:
    """Begin :func:`write_trial_scores`: the score texts start formatting now, maybe in a forked
    helper process, so call this from the main thread while no other thread runs; the returned
    call (on any thread) writes the file and reaps the helper."""
    score_text = ScoreText.start(scores)
    return partial(write_trial_scores, path, trials, kept, scores, labels, score_text=score_text)


def write_trial_score_rows(handle, trials: TrialIds, kept: np.ndarray, scores: np.ndarray,
                           lines: bytes | None = None) -> None:
    """:func:`write_score_rows` of the ``kept`` trials of a list read at the byte level (one chunk of
    a streamed list): the same bytes as :func:`write_trial_scores`. ``lines``: the score lines of
    ``scores`` when already formatted; without them, call from the main thread while no other
    thread runs (the score texts may be formatted in a forked helper)."""
    if lines is None:
        text = ScoreText.start(scores)
        try:
            lines = text.result()
        finally:
            text.close()
    rows = np.flatnonzero(kept)
    enroll, test = trials.key_bytes["enroll"], trials.key_bytes["test"]
    write_score_rows(handle, enroll.take(rows), test.take(rows), lines, trials.labels[kept])


def write_trial_scores(path: str | Path, trials: TrialIds, kept: np.ndarray, scores: np.ndarray,
                       labels: np.ndarray | None, *, score_text: ScoreText | None = None) -> Path:
    """:func:`write_scores` for the ``kept`` trials of ``trials`` (same bytes on disk).

    Lists read by the byte-level parser are written without making a string per id: the
    output lines are gathered from the trial file's bytes, the score texts and the label
    words with numpy. ``score_text``: the score lines, already started with
    :meth:`~asvbench.io._score_text.ScoreText.start` (from the main thread).
    """
    try:
        enroll, test = trials.key_bytes.get("enroll"), trials.key_bytes.get("test")
        if enroll is None or test is None or enroll.buf is not test.buf:
            return write_scores(path, trials.enroll[kept], trials.test[kept], scores, labels, score_text=score_text)
        rows = np.flatnonzero(kept)
        text = score_text.result() if score_text is not None else repr_lines(scores)
        return _write_scores_bytes(path, enroll.take(rows), test.take(rows), text, labels)
    finally:
        if score_text is not None:
            score_text.close()  # reaps the helper process if an error came first


_LINES_PER_CHUNK = 65536


def _write_scores_bytes(path: str | Path, enroll: "ByteKeys", test: "ByteKeys", score_lines: bytes,
                        labels: np.ndarray | None) -> Path:
    """Each chunk of lines is laid out as a fixed-width byte matrix, one NUL-padded field
    after another (enroll, tab, test, tab, score, tab + label word + newline); dropping the
    NULs leaves the lines. The ids come from an ASCII trial file without control
    characters, so a NUL byte can only be padding."""
    with atomic_open(path, "wb") as handle:
        handle.write(SCORE_HEADER)
        write_score_rows(handle, enroll, test, score_lines, labels)
    return Path(path)


#: first line of the canonical score TSV
SCORE_HEADER = b"enroll\ttest\tscore\tlabel\n"


def write_score_rows(handle, enroll: "ByteKeys", test: "ByteKeys", score_lines: bytes,
                     labels: np.ndarray | None) -> None:
    """The data lines of :func:`_write_scores_bytes` into an open binary ``handle`` (no header),
    so that a list scored a chunk at a time is written with the same bytes."""
    from asvbench.io._bytes import fixed_width

    n = len(enroll)
    score_text = np.frombuffer(score_lines, np.uint8)
    score_end = np.flatnonzero(score_text == 10)
    score_start = np.concatenate(([0], score_end[:-1] + 1))
    suffixes = [f"\t{LABEL_NAMES[i]}\n".encode() for i in range(3)] + [b"\t-\n"]
    suffix_rows = np.zeros((4, max(map(len, suffixes))), np.uint8)
    for i, word in enumerate(suffixes):
        suffix_rows[i, : len(word)] = np.frombuffer(word, np.uint8)
    which = np.asarray(labels, dtype=np.int64) if labels is not None else np.full(n, 3, dtype=np.int64)
    widths = [int(enroll.lengths.max(initial=0)), 1, int(test.lengths.max(initial=0)), 1,
              int((score_end - score_start).max(initial=0)), suffix_rows.shape[1]]
    edges = np.cumsum([0] + widths)
    for lo in range(0, n, _LINES_PER_CHUNK):
        hi = min(n, lo + _LINES_PER_CHUNK)
        lines = np.zeros((hi - lo, int(edges[-1])), np.uint8)
        lines[:, edges[0] : edges[1]] = fixed_width(enroll.buf, enroll.starts[lo:hi], enroll.lengths[lo:hi], widths[0])
        lines[:, edges[1]] = 9
        lines[:, edges[2] : edges[3]] = fixed_width(test.buf, test.starts[lo:hi], test.lengths[lo:hi], widths[2])
        lines[:, edges[3]] = 9
        lines[:, edges[4] : edges[5]] = fixed_width(score_text, score_start[lo:hi], score_end[lo:hi] - score_start[lo:hi],
                                                    widths[4])
        lines[:, edges[5] : edges[6]] = suffix_rows[which[lo:hi]]
        handle.write(lines[lines != 0].tobytes())


# ----------------------------------------------------------------------------- CM score stores

CM_COLUMNS = ("utt", "cm_logit", "cm_prob_bonafide")


def write_cm_scores(path: str | Path, utts, logits: np.ndarray, probs: np.ndarray) -> Path:
    """Write per-utterance CM outputs (bona fide logit and softmax probability) as TSV atomically."""
    with atomic_open(path, "w") as handle:
        handle.write("\t".join(CM_COLUMNS) + "\n")
        for u, lg, pr in zip(utts, np.asarray(logits, np.float64).tolist(), np.asarray(probs, np.float64).tolist()):
            handle.write(f"{u}\t{lg!r}\t{pr!r}\n")
    return Path(path)


#: ``frame.attrs["cm_columns"]`` of :func:`read_cm_scores`: what the file holds
CM_STORE_COLUMNS = ("cm_logit", "cm_prob_bonafide")
CM_PLAIN_COLUMNS = ("score",)


def read_cm_scores(path: str | Path) -> pd.DataFrame:
    """Read per-utterance CM scores; returns a DataFrame indexed by ``utt`` with float columns
    ``cm_logit`` and ``cm_prob_bonafide``.

    Accepted: the store ``utt cm_logit cm_prob_bonafide`` (``asvbench extract`` of a CM), or a
    plain 2-column ``utt score`` file, headerless or with a header (the ASVspoof 5 submission's
    ``filename cm-score``). A plain score is put in ``cm_logit`` and ``cm_prob_bonafide`` is NaN;
    ``frame.attrs["cm_columns"]`` says which: :data:`CM_STORE_COLUMNS` or :data:`CM_PLAIN_COLUMNS`.
    Every value must be finite.
    """
    import pandas as pd

    text = read_text(path)
    no, first = first_data_line(text)
    if not no:
        raise AsvbenchError("CM score file is empty", where=path)
    fields = first.split()
    header = not _is_float(fields[-1])
    if header and fields[0] == "utt" and len(fields) == 3:
        if tuple(fields[1:]) != CM_STORE_COLUMNS:
            raise AsvbenchError(f"a CM score store header is 'utt {' '.join(CM_STORE_COLUMNS)}', found {first!r}",
                                where=f"{path}:{no}")
        frame = split_columns(text, path, 3, list(CM_COLUMNS), skiprows=no)
        columns = {c: _cm_floats(frame[c], text, path, c, no) for c in CM_STORE_COLUMNS}
        kind = CM_STORE_COLUMNS
    elif len(fields) == 2:
        frame = split_columns(text, path, 2, ["utt", "score"], skiprows=no if header else 0)
        columns = {"cm_logit": _cm_floats(frame["score"], text, path, "score", no if header else 0),
                   "cm_prob_bonafide": np.nan}
        kind = CM_PLAIN_COLUMNS
    else:
        raise AsvbenchError(f"cannot tell the CM score format from its first line ({len(fields)} fields): {first!r}",
                            where=f"{path}:{no}",
                            hint="expected 'utt cm_logit cm_prob_bonafide' (asvbench extract) or 'utt score'")
    out = pd.DataFrame(columns, index=frame["utt"].to_numpy(object))
    if out.index.has_duplicates:
        from asvbench.io.duplicates import repeated_keys

        skip = no if header else 0
        first, later = (file_line(text, int(r), skip) for r in repeated_keys(pd.util.hash_array(
            out.index.to_numpy(object), categorize=False))[0])
        dup = out.index[out.index.duplicated()][0]
        raise AsvbenchError(f"utterance {dup!r} appears more than once in the CM scores: lines {first} and {later}",
                            where=f"{path}:{later}", hint="give each utterance one CM score")
    out.index.name = "utt"
    out.attrs["cm_columns"] = kind
    return out


def _cm_floats(column, text: str, path: str | Path, what: str, skiprows: int) -> np.ndarray:
    values = parse_floats(column, text, path, what, skiprows=skiprows)
    bad = ~np.isfinite(values)
    if bad.any():
        no = file_line(text, int(np.flatnonzero(bad)[0]), skiprows)
        raise AsvbenchError(f"{what} is not finite: {line_of(text, no)!r}", where=f"{path}:{no}",
                            hint="fix or drop that utterance; metrics are undefined for it")
    return values
