"""The trials registry: the benchmarks asvbench knows, and checks of trial files against them.

The registry is a JSON file, ``asvbench/data/trials_registry.json`` (it ships in the wheel;
``trials/registry.json`` in the repository is a symbolic link to it). Each benchmark has its official
download URL, expected line and label counts, and the sha256 of known copies where known
(``verified`` says whether the figures were checked against a real copy or are the
published ones). See ``trials/README.md``.

* :func:`identify_benchmark`: which registered benchmark a trial file (or fingerprint) is.
* :func:`verify_file`: compare a file with a benchmark; the report says what differs
  (e.g. the original instead of the cleaned list, CRLF instead of LF endings).
* :func:`resolve_benchmark`: the benchmark name a result record gets (checked against the list).
* :func:`fetch_benchmark`: download a list and verify it before it lands in the target dir.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from asvbench.errors import AsvbenchError
from asvbench.trials.fingerprint import TrialsFingerprint, fingerprint_bytes, fingerprint_trials

REGISTRY_SCHEMA = "asvbench.trials-registry/1"
#: Prefixes of benchmark names that are not in the trials registry.
FREE_PREFIXES = ("custom:", "simulated:")


@dataclass(frozen=True)
class KnownCopy:
    """One known byte-exact copy of a list."""

    sha256: str
    line_endings: str = "lf"
    final_newline: bool = True
    note: str = ""


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark (a trial or protocol list)."""

    name: str
    title: str
    kind: str  # asv | sasv | cm
    group: str
    variant: str
    format: str
    filename: str
    url: str
    download: str  # file | archive
    n_lines: int | None
    label_counts: dict[str, int] | None
    copies: tuple[KnownCopy, ...] = ()
    content_sha256: str | None = None
    verified: bool = False
    aliases: tuple[str, ...] = ()
    archive_member: str | None = None
    notes: str = ""

    @property
    def shas(self) -> set[str]:
        return {c.sha256 for c in self.copies}


def _parse(data: Any, where: str) -> tuple[Benchmark, ...]:
    if not isinstance(data, dict) or data.get("schema") != REGISTRY_SCHEMA:
        raise AsvbenchError(f"not a trials registry (expected schema {REGISTRY_SCHEMA!r})", where=where)
    out = []
    for i, entry in enumerate(data.get("benchmarks", [])):
        try:
            out.append(Benchmark(
                name=entry["name"], title=entry.get("title", entry["name"]), kind=entry["kind"],
                group=entry.get("group", entry["name"]), variant=entry.get("variant", ""),
                format=entry.get("format", ""), filename=entry["filename"], url=entry["url"],
                download=entry.get("download", "file"), n_lines=entry.get("n_lines"),
                label_counts=entry.get("label_counts"),
                copies=tuple(KnownCopy(**c) for c in entry.get("sha256", [])),
                content_sha256=entry.get("content_sha256"), verified=bool(entry.get("verified", False)),
                aliases=tuple(entry.get("aliases", [])), archive_member=entry.get("archive_member"),
                notes=entry.get("notes", ""),
            ))
        except (KeyError, TypeError) as exc:
            raise AsvbenchError(f"malformed registry entry #{i + 1} ({exc})", where=where) from None
    return tuple(out)


def load_registry(path: str | Path | None = None) -> tuple[Benchmark, ...]:
    """The registered benchmarks (the packaged registry unless ``path`` is given)."""
    if path is not None:
        p = Path(path)
        try:
            return _parse(json.loads(p.read_text(encoding="utf-8")), str(p))
        except (OSError, json.JSONDecodeError) as exc:
            raise AsvbenchError(f"cannot read the trials registry ({exc})", where=p) from None
    return _packaged()


@functools.lru_cache(maxsize=1)
def _packaged() -> tuple[Benchmark, ...]:
    text = resources.files("asvbench").joinpath("data/trials_registry.json").read_text(encoding="utf-8")
    return _parse(json.loads(text), "asvbench/data/trials_registry.json")


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def find_benchmark(name: str) -> Benchmark | None:
    """The benchmark called ``name`` (or one of its aliases; case and ``_``/``-`` ignored)."""
    wanted = _key(name)
    for bench in _packaged():
        if wanted == _key(bench.name) or wanted in {_key(a) for a in bench.aliases}:
            return bench
    return None


def get_benchmark(name: str) -> Benchmark:
    """Like :func:`find_benchmark`, but an unknown name is an :class:`AsvbenchError`."""
    bench = find_benchmark(name)
    if bench is None:
        names = [b.name for b in _packaged()]
        close = difflib.get_close_matches(_key(name), names, n=3, cutoff=0.5)
        hint = (f"did you mean {', '.join(close)}? " if close else "") + (
            "registered: " + ", ".join(names) + " (see `asvbench trials list`); "
            "for your own list use a name starting with custom:")
        raise AsvbenchError(f"unknown benchmark {name!r}", hint=hint)
    return bench


def identify_benchmark(path_or_fingerprint: str | Path | TrialsFingerprint) -> Benchmark | None:
    """The registered benchmark whose list this is (sha256 of the bytes, or of the normalised
    content, so CRLF copies match), or ``None``."""
    fp = path_or_fingerprint
    if not isinstance(fp, TrialsFingerprint):
        fp = fingerprint_trials(fp)
    for bench in _packaged():
        if fp.sha256 and fp.sha256 in bench.shas:
            return bench
    for bench in _packaged():
        if bench.content_sha256 and fp.content_sha256 == bench.content_sha256:
            return bench
    return None


def resolve_benchmark(name: str | None, fingerprint: TrialsFingerprint | None, fallback: str = "") -> str:
    """The benchmark name a record gets.

    * ``name`` given and registered (name or alias): the canonical name; when the registry
      knows the list's content sha256 and ``fingerprint`` disagrees, that is an error
      (the message says what differs, e.g. original vs cleaned list).
    * ``name`` given with a ``custom:``/``simulated:`` prefix: used as is.
    * ``name`` given, unregistered and unprefixed: an error listing the registered names.
    * no ``name``: the registered benchmark whose fingerprint matches, else
      ``custom:<fallback>``.
    """
    if name:
        if name.startswith(FREE_PREFIXES):
            if len(name.split(":", 1)[1].strip()) == 0:
                raise AsvbenchError(f"benchmark name {name!r} is empty after the prefix")
            return name
        bench = get_benchmark(name)
        if fingerprint is not None and bench.content_sha256:
            report = verify_fingerprint(bench, fingerprint)
            if not report.ok:
                raise AsvbenchError(
                    f"the trial list does not match benchmark {bench.name!r}: " + "; ".join(report.problems),
                    where=fingerprint.source or None,
                    hint="check you passed the right list, or name it custom:<name>",
                )
        return bench.name
    if fingerprint is not None:
        found = identify_benchmark(fingerprint)
        if found is not None:
            return found.name
    stem = fallback or (Path(fingerprint.source).stem if fingerprint and fingerprint.source else "unnamed")
    return f"custom:{stem}"


# --------------------------------------------------------------------------- verification

@dataclass
class VerifyReport:
    """Outcome of checking a trial file against a benchmark."""

    benchmark: Benchmark
    fingerprint: TrialsFingerprint
    problems: list[str] = field(default_factory=list)  # mismatches: verification fails
    notes: list[str] = field(default_factory=list)  # differences that do not change the trials
    checked: list[str] = field(default_factory=list)  # what matched

    @property
    def ok(self) -> bool:
        return not self.problems


def _endings_text(line_endings: str, final_newline: bool) -> str:
    return f"{line_endings.upper()} line endings, {'with' if final_newline else 'no'} final newline"


def verify_fingerprint(bench: Benchmark, fp: TrialsFingerprint) -> VerifyReport:
    """Compare a fingerprint with a registered benchmark; see :class:`VerifyReport`."""
    report = VerifyReport(bench, fp)
    if fp.sha256 is None:
        return _verify_label_counts_only(bench, fp, report)
    content_same = bool(bench.content_sha256) and fp.content_sha256 == bench.content_sha256
    if fp.sha256 and fp.sha256 in bench.shas:
        copy = next(c for c in bench.copies if c.sha256 == fp.sha256)
        report.checked.append(f"sha256 {fp.sha256[:16]}... = known copy ({copy.note or copy.line_endings})")
    elif content_same:
        known = "; ".join(_endings_text(c.line_endings, c.final_newline) for c in bench.copies) or "none"
        report.checked.append("content sha256 matches (same trials)")
        report.notes.append(
            f"byte-level sha256 differs only in formatting: this file has "
            f"{_endings_text(fp.line_endings, fp.final_newline)}; registered copies: {known}")
    elif bench.content_sha256:
        report.problems.append(f"sha256 differs: expected content {bench.content_sha256[:16]}..., "
                               f"found {fp.content_sha256[:16]}...")
    else:
        report.notes.append("no sha256 registered for this benchmark: checked the counts only")

    if bench.n_lines is not None:
        if fp.n_lines == bench.n_lines:
            report.checked.append(f"{fp.n_lines:,} lines")
        else:
            diff = fp.n_lines - bench.n_lines
            report.problems.append(f"expected {bench.n_lines:,} lines, found {fp.n_lines:,} "
                                   f"({'+' if diff > 0 else ''}{diff:,})")
    if bench.label_counts:
        if not fp.label_counts:
            report.problems.append("no label column recognised (expected counts "
                                   + ", ".join(f"{v:,} {k}" for k, v in bench.label_counts.items()) + ")")
        else:
            bad = [f"{k}: expected {bench.label_counts.get(k, 0):,}, found {fp.label_counts.get(k, 0):,}"
                   for k in sorted(set(bench.label_counts) | set(fp.label_counts))
                   if bench.label_counts.get(k, 0) != fp.label_counts.get(k, 0)]
            if bad:
                report.problems.append("label counts differ (" + "; ".join(bad) + ")")
            else:
                report.checked.append(", ".join(f"{v:,} {k}" for k, v in fp.label_counts.items()))
    if report.problems:
        report.problems.extend(_explain(bench, fp))
    if not bench.verified:
        report.notes.append("the registry figures for this benchmark are published ones, not checked "
                            "against a real copy")
    return report


def _verify_label_counts_only(bench: Benchmark, fp: TrialsFingerprint, report: VerifyReport) -> VerifyReport:
    """A fingerprint taken from a score table's labels (no trial file): compare label counts."""
    report.notes.append("no trial file: checked the label counts of the scored trials only")
    if bench.label_counts and fp.label_counts:
        expected = {k: v for k, v in bench.label_counts.items() if k in ("target", "nontarget", "spoof")}
        if expected and expected != fp.label_counts:
            bad = [f"{k}: expected {expected.get(k, 0):,}, found {fp.label_counts.get(k, 0):,}"
                   for k in sorted(set(expected) | set(fp.label_counts))
                   if expected.get(k, 0) != fp.label_counts.get(k, 0)]
            report.problems.append("label counts differ (" + "; ".join(bad) + ")")
        elif expected:
            report.checked.append(", ".join(f"{v:,} {k}" for k, v in fp.label_counts.items()))
    return report


def _explain(bench: Benchmark, fp: TrialsFingerprint) -> list[str]:
    """Why a mismatch might have happened: it is another registered list, or a sibling variant."""
    other = identify_benchmark(fp)
    if other is not None and other.name != bench.name:
        rel = ""
        if other.group == bench.group:
            rel = f" ({other.variant} instead of {bench.variant})"
        return [f"this file is the registered list {other.name!r}: {other.title}{rel}"]
    hints = []
    for sib in _packaged():
        if sib.name != bench.name and sib.n_lines == fp.n_lines and sib.group == bench.group:
            hints.append(f"its line count matches {sib.name!r} ({sib.title}); is it the {sib.variant} list?")
    return hints


def verify_file(name: str, path: str | Path) -> VerifyReport:
    """Check the trial file at ``path`` against registered benchmark ``name``."""
    return verify_fingerprint(get_benchmark(name), fingerprint_trials(path))


# --------------------------------------------------------------------------- download

def fetch_benchmark(name: str, to_dir: str | Path, *, url: str | None = None, timeout: float = 60.0,
                    overwrite: bool = False) -> tuple[Path, VerifyReport]:
    """Download benchmark ``name`` into ``to_dir`` and verify it.

    The download (:func:`asvbench._download.download_verified`) goes to a temporary file beside
    the target and is renamed into place only when it verifies; a failed check removes it and
    raises :class:`AsvbenchError` with the report. ``url`` overrides the registered URL (a mirror). Lists that ship only inside an
    archive are not fetched: the error says where to get them and how to verify.
    """
    from asvbench._download import download_verified

    bench = get_benchmark(name)
    if bench.download != "file" and url is None:
        raise AsvbenchError(
            f"{bench.name} ships inside an archive, not as a single file",
            hint=f"download {bench.url}, extract {bench.archive_member or bench.filename}, then run "
                 f"`asvbench trials verify {bench.name} FILE` (or pass --url for a direct copy)")
    target = Path(to_dir) / bench.filename
    if target.exists() and not overwrite:
        report = verify_file(bench.name, target)
        if report.ok:
            return target, report
        raise AsvbenchError(f"{target} exists and does not verify: " + "; ".join(report.problems),
                            where=target, hint="remove it or pass --force")
    source = url or bench.url
    reports: list[VerifyReport] = []

    def check(downloaded: Path) -> None:  # before the rename: a list that does not verify is not kept
        report = verify_fingerprint(bench, fingerprint_bytes(downloaded.read_bytes(), source=source))
        if not report.ok:
            raise AsvbenchError(f"downloaded {bench.name} does not verify: " + "; ".join(report.problems),
                                where=source, hint="the file was not kept; the source may have changed")
        reports.append(report)

    download_verified(source, target, what=f"trial list {bench.name}", check=check, timeout=timeout,
                      failure_hint="check the network, or download by hand and run `asvbench trials "
                                   f"verify {bench.name} FILE`")
    report = reports[0]
    return target, report
