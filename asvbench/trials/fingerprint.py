"""The identity of a trial list: :class:`TrialsFingerprint`.

Computed from the bytes the reader already holds (:attr:`asvbench.trials.read.Trials.fingerprint`),
a chunk at a time while a list is streamed (:class:`FingerprintBuilder`), from a file or bytes
(:func:`fingerprint_trials`, :func:`fingerprint_bytes`: also protocol and score files, whose
label column is guessed from the first line), or from the labels of a score table
(:func:`fingerprint_labels`). All of them give the same fingerprint for the same list.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asvbench.errors import AsvbenchError
from asvbench.labels import (
    LABEL_DIGITS,
    LABEL_HEADERS,
    LABEL_ORDER,
    LABEL_WORDS,
    SASV_FUSION_DIGITS,
    SASV_FUSION_HEADERS,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from asvbench.io._bytes import AsciiColumns


@dataclass(frozen=True)
class TrialsFingerprint:
    """Identity of a trial list.

    ``sha256`` is of the file's bytes; ``content_sha256`` of its records normalised to
    single spaces, LF endings and a final newline (so a CRLF and an LF copy of one list
    share it). ``n_lines`` counts non-blank lines (a header line included).
    ``label_counts`` maps label names (target, nontarget, spoof, bonafide) to counts, or is
    empty when no label column was recognised.
    """

    sha256: str | None
    content_sha256: str
    n_lines: int
    label_counts: dict[str, int] = field(default_factory=dict)
    line_endings: str = "lf"  # lf | crlf | mixed | none
    final_newline: bool = True
    source: str = ""  # informational: the path it came from

    def same_trials(self, other: TrialsFingerprint) -> bool:
        return self.content_sha256 == other.content_sha256

    def describe(self) -> str:
        counts = ", ".join(f"{v:,} {k}" for k, v in self.label_counts.items())
        return f"{self.n_lines:,} lines" + (f" ({counts})" if counts else "") + f", sha256 {self.content_sha256[:12]}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> TrialsFingerprint:
        try:
            return cls(
                sha256=data.get("sha256"),
                content_sha256=str(data["content_sha256"]),
                n_lines=int(data["n_lines"]),
                label_counts={str(k): int(v) for k, v in (data.get("label_counts") or {}).items()},
                line_endings=str(data.get("line_endings", "lf")),
                final_newline=bool(data.get("final_newline", True)),
                source=str(data.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AsvbenchError(f"malformed trials fingerprint ({exc})", where=where,
                                hint="it needs content_sha256 and n_lines") from None


_HEADER_LABELS = (*LABEL_HEADERS, "cm-label", "cm_label")


def _line_endings(n_lf: int, n_crlf: int) -> str:
    if n_lf == 0:
        return "none"
    if n_crlf == n_lf:
        return "crlf"
    return "lf" if n_crlf == 0 else "mixed"


def label_column(first: list[str]) -> tuple[int | None, dict[str, str] | None, bool]:
    """(column index, value mapping, first line is a header) from the first record."""
    lowered = [t.lower() for t in first]
    for i, tok in enumerate(lowered):
        if tok in SASV_FUSION_HEADERS:
            return i, SASV_FUSION_DIGITS, True
    for i, tok in enumerate(lowered):
        if tok in _HEADER_LABELS or tok.endswith(("_label", "_key")):
            return i, {**LABEL_WORDS, **LABEL_DIGITS}, True
    if lowered and lowered[-1] in LABEL_WORDS:
        return len(lowered) - 1, LABEL_WORDS, False
    if lowered and lowered[0] in LABEL_DIGITS and len(lowered) >= 3:
        return 0, LABEL_DIGITS, False
    if lowered and lowered[-1] in LABEL_DIGITS and len(lowered) >= 3:
        return len(lowered) - 1, LABEL_DIGITS, False
    return None, None, False


def _split(line: str) -> list[str]:
    return [t.strip() for t in line.split(",")] if "," in line else line.split()


def _ordered(counts: Mapping[str, int]) -> dict[str, int]:
    return {k: counts[k] for k in LABEL_ORDER if counts.get(k)}


def fingerprint_bytes(data: bytes, source: str = "") -> TrialsFingerprint:
    """Fingerprint a trial list given as bytes (see :class:`TrialsFingerprint`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AsvbenchError(f"trial list is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            where=source or None) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise AsvbenchError("trial list is empty", where=source or None)
    normalised = "\n".join(" ".join(line.split()) for line in lines) + "\n"
    counts: dict[str, int] = {}
    col, mapping, header = label_column(_split(lines[0]))
    if col is not None and mapping is not None:
        body = lines[1:] if header else lines
        raw = Counter(tokens[col].lower() if len(tokens) > col else "" for tokens in map(_split, body))
        if all(k in mapping for k in raw):
            merged: Counter[str] = Counter()
            for k, v in raw.items():
                merged[mapping[k]] += v
            counts = _ordered(merged)
    return TrialsFingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        content_sha256=hashlib.sha256(normalised.encode("utf-8")).hexdigest(),
        n_lines=len(lines),
        label_counts=counts,
        line_endings=_line_endings(data.count(b"\n"), data.count(b"\r\n")),
        final_newline=data.endswith(b"\n"),
        source=source,
    )


def fingerprint_trials(path: str | Path) -> TrialsFingerprint:
    """Fingerprint the trial list at ``path``: sha256 of the bytes and of the normalised
    content, non-blank line count, label counts, line-ending style."""
    p = Path(path)
    if not p.is_file():
        raise AsvbenchError("trial list not found" if not p.exists() else "expected a file, got a directory",
                            where=p)
    return fingerprint_bytes(p.read_bytes(), source=str(p))


def fingerprint_labels(labels, enroll=None, test=None, source: str = "") -> TrialsFingerprint:
    """Fingerprint the trials of a score table (no trial file): the content hashed is one
    ``enroll test label`` line per trial (``index label`` when names are absent)."""
    import numpy as np

    from asvbench.types import LABEL_NAMES

    lab = np.asarray(labels, dtype=np.int64)
    names = [LABEL_NAMES.get(int(c), str(c)) for c in lab.tolist()]
    if enroll is not None and test is not None:
        rows = (f"{e} {t} {n}" for e, t, n in zip(enroll, test, names))
    else:
        rows = (f"{i} {n}" for i, n in enumerate(names))
    text = "\n".join(rows) + "\n"
    return TrialsFingerprint(
        sha256=None, content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), n_lines=len(names),
        label_counts=_ordered(Counter(names)), source=source,
    )


class FingerprintBuilder:
    """:func:`fingerprint_bytes` of a list read by the byte-level parser, from its bytes and
    tokens, a piece at a time (a streamed list) or at once (a whole list), in numpy.

    The sha256 of the bytes, and of the records normalised to single spaces and LF endings
    (built from the token offsets), are updated a piece at a time; the line and label counts
    come from the parsed pieces. When the first line would make :func:`fingerprint_bytes` read
    the labels another way than the parser did (a comma, a header-like token, another label
    column), :meth:`result` returns what ``fallback()`` gives instead.
    """

    def __init__(self, source: str | Path, label_col: int):
        self.source = str(source)
        self.label_col = label_col
        self.raw = hashlib.sha256()
        self.content = hashlib.sha256()
        self.n_lines = self.n_lf = self.n_crlf = 0
        self.last_byte = b""
        self.counts: np.ndarray | None = None
        self.first: list[str] | None = None
        self.comma = False

    def add_bytes(self, piece: bytes) -> None:
        self.raw.update(piece)
        self.comma = self.comma or b"," in piece
        self.n_lf += piece.count(b"\n")
        self.n_crlf += piece.count(b"\r\n")
        if piece:
            self.last_byte = piece[-1:]

    def add_columns(self, cols: AsciiColumns, labels: np.ndarray) -> None:
        """The tokens of the bytes given to :meth:`add_bytes` (for a piece: after it), and their labels."""
        import numpy as np

        from asvbench.io._bytes import fixed_width

        if self.first is None:
            self.first = cols.line_text(0).split()
        widths = [int(cols.lengths[:, j].max()) for j in range(cols.starts.shape[1])]
        edges = np.cumsum([0] + [w + 1 for w in widths])
        for lo in range(0, len(cols), 65536):
            hi = min(len(cols), lo + 65536)
            rows = np.zeros((hi - lo, int(edges[-1])), np.uint8)
            for j, w in enumerate(widths):
                rows[:, edges[j] : edges[j] + w] = fixed_width(cols.buf, cols.starts[lo:hi, j], cols.lengths[lo:hi, j], w)
                rows[:, edges[j + 1] - 1] = 32
            rows[:, -1] = 10
            self.content.update(rows[rows != 0].tobytes())
        self.n_lines += len(cols)
        counts = np.bincount(labels, minlength=3)[:3]
        self.counts = counts if self.counts is None else self.counts + counts

    def result(self, fallback: Callable[[], TrialsFingerprint]) -> TrialsFingerprint:
        from asvbench.types import LABEL_NAMES, Label

        col, mapping, header = label_column(self.first or [])
        if self.comma or header or col != self.label_col or mapping is None or self.counts is None:
            return fallback()  # fingerprint_bytes splits lines with a comma at the commas
        counts = {LABEL_NAMES[code]: int(self.counts[code]) for code in (Label.TARGET, Label.NONTARGET)}
        return TrialsFingerprint(sha256=self.raw.hexdigest(), content_sha256=self.content.hexdigest(),
                                 n_lines=self.n_lines, label_counts=_ordered(counts),
                                 line_endings=_line_endings(self.n_lf, self.n_crlf),
                                 final_newline=self.last_byte == b"\n", source=self.source)
