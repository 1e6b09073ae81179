"""Which registered model a checkpoint file is, read from its key names and tensor shapes.

Each registry entry carries a :class:`~asvbench.models.base.CheckpointSignature`: a few keys
that tell its layout (family and source) and a few shapes that tell its size. A file is read
once (``torch.load(weights_only=True)``), unwrapped as the adapters do, and compared with every
signature: a *match* has the layout and the size; a *near* match has the layout only (a size no
entry registers). Entries of the same architecture (the same keys and shapes: AASIST trained on
ASVspoof 2019 or on ASVspoof 5) cannot be told apart by shape; the file's sha256 settles it when
an entry registers that sha256, else :func:`pick` says which one it took and why.

Imports torch only when a file is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import CheckpointSignature, ModelEntry

Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class Match:
    """``entry``'s signature against a file: ``evidence`` says what agreed; for a near match
    (layout only) ``mismatch`` says which shapes differ."""

    entry: "ModelEntry"
    evidence: str
    mismatch: str = ""


@dataclass(frozen=True)
class Identification:
    """What a checkpoint file holds, compared with the registered signatures."""

    path: Path
    shapes: Shapes  # after unwrapping and stripping ``module.``; empty: no tensor dict found
    matches: tuple[Match, ...]  # layout and size agree
    near: tuple[Match, ...]  # layout agrees, sizes do not
    top_keys: tuple[str, ...] = ()  # the file's top-level keys

    def holds(self, n: int = 6) -> str:
        """The first ``n`` keys with their shapes, for error messages."""
        if not self.shapes:
            shown = ", ".join(self.top_keys[:n]) + (", ..." if len(self.top_keys) > n else "")
            return f"no tensor dict at its top level or under a known wrapper key (its keys: {shown})"
        keys = list(self.shapes)
        shown = ", ".join(f"{k} {fmt_shape(self.shapes[k])}" for k in keys[:n])
        return f"{len(keys)} tensors: {shown}" + (", ..." if len(keys) > n else "")


def fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def read_shapes(path: str | Path, *, wrapper_keys: Iterable[str] = (),
                trust_pickle: bool = False) -> tuple[Shapes, tuple[str, ...]]:
    """Key -> shape of the tensor dict in the checkpoint at ``path`` (``module.`` prefixes
    stripped; empty when it holds none), and the file's top-level keys."""
    from asvbench.errors import AsvbenchError
    from asvbench.models.adapters import WRAPPER_KEYS, strip_prefix, unwrap_state_dict
    from asvbench.models.base import load_state_dict_file

    obj = load_state_dict_file(path, trust_pickle=trust_pickle)
    top = tuple(str(k) for k in obj)
    extra = tuple(k for k in wrapper_keys if k not in WRAPPER_KEYS)
    try:
        state = unwrap_state_dict(obj, where=path, wrapper_keys=WRAPPER_KEYS + extra)
    except AsvbenchError:  # no tensors where any adapter looks: reported as an unknown checkpoint
        return {}, top
    state = strip_prefix(state, "module.")
    return {k: tuple(int(d) for d in v.shape) for k, v in state.items()}, top


def match_signature(sig: "CheckpointSignature", shapes: Shapes) -> tuple[bool, str, str] | None:
    """None if the layout differs; else (sizes agree, evidence, mismatch) for the first prefix
    under which the layout's keys are all present."""
    needed = tuple(sig.keys) + tuple(k for k, _ in sig.shapes)
    for prefix in sig.prefixes:
        if not all(prefix + k in shapes for k in needed):
            continue
        if any(k.startswith(w) or k.startswith(prefix + w) for k in shapes for w in sig.without):
            continue
        wrong = [(k, want) for k, want in sig.shapes if shapes[prefix + k] != tuple(want)]
        where = f" under {prefix!r}" if prefix else ""
        layout = (sig.layout or "keys " + ", ".join(sig.keys[:3])) + where
        if wrong:
            mismatch = "; ".join(f"{k} is {fmt_shape(shapes[prefix + k])}, expected {fmt_shape(want)}"
                                 for k, want in wrong)
            return False, layout, mismatch
        sizes = ", ".join(f"{k} {fmt_shape(want)}" for k, want in sig.shapes)
        evidence = layout + (f"; {sizes}" if sizes else "") + (f" = {sig.size}" if sig.size else "")
        return True, evidence, ""
    return None


def identify(path: str | Path, entries: Iterable["ModelEntry"], *, trust_pickle: bool = False) -> Identification:
    """Read ``path`` once and compare it with the signatures of ``entries`` (those without one are skipped)."""
    signed = [e for e in entries if e.signature is not None]
    wrappers = tuple(dict.fromkeys(k for e in signed for k in e.signature.wrapper_keys))  # type: ignore[union-attr]
    shapes, top = read_shapes(path, wrapper_keys=wrappers, trust_pickle=trust_pickle)
    matches, near = [], []
    for entry in signed:
        found = match_signature(entry.signature, shapes)  # type: ignore[arg-type]
        if found is None:
            continue
        full, evidence, mismatch = found
        (matches if full else near).append(Match(entry, evidence, mismatch))
    return Identification(Path(path), shapes, tuple(matches), tuple(near), top)


def pick(path: str | Path, matches: Sequence[Match]) -> tuple[Match, str]:
    """One of ``matches`` (non-empty), and a sentence on how ties were settled ("" when there was none).

    Order: the entry whose registered sha256 is the file's; else, when the file is none of the
    registered releases, an entry that registers no sha256 (the layout's generic entry, not a
    named release); else the family default; else the first by name.
    """
    if len(matches) == 1:
        return matches[0], ""
    names = [m.entry.name for m in matches]
    twins = ", ".join(names[:-1]) + " and " + names[-1]
    same = f"{twins} have the same architecture (keys and shapes cannot tell them apart)"
    released = [m for m in matches if m.entry.sha256]
    if released:
        from asvbench._hashing import sha256_file

        digest = sha256_file(Path(path))
        for m in released:
            if m.entry.sha256 and m.entry.sha256.lower() == digest:
                return m, f"{same}; its sha256 is the one registered for {m.entry.name}"
    generic = [m for m in matches if not m.entry.sha256]
    if released and generic:
        return generic[0], (f"{same}; its sha256 is none of the registered releases, so it is taken as the "
                            f"layout entry {generic[0].entry.name}")
    pool = generic or list(matches)
    chosen = next((m for m in pool if m.entry.default), pool[0])
    why = "the family default" if chosen.entry.default else "the first by name"
    return chosen, (f"{same}" + ("; its sha256 is none of the registered releases" if released else "")
                    + f"; picked {chosen.entry.name} ({why}): pass --model ENTRY to choose another")
