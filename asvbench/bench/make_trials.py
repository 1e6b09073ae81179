"""``asvbench trials make``: trial lists for your own data, from a Kaldi ``utt2spk`` map.

* ``all-pairs``: every unordered pair of distinct utterances once, in key-sorted order
  (``(a, b)`` with ``a < b``); target when both have the same speaker.
* ``sampled``: for each speaker (sorted), ``per_spk`` target pairs drawn from its own
  unordered pairs (all of them when it has fewer) and ``impostors`` non-target pairs
  (an utterance of the speaker against one of another speaker), without repeats, from
  ``numpy.random.default_rng(seed)``: the same inputs and seed give the same list.

No pair appears twice (``score`` refuses repeated trials), in either order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asvbench._choices import check_choice
from asvbench.bench.specs import MAKE_FORMATS, MAKE_MODES
from asvbench.errors import AsvbenchError


@dataclass
class MadeTrials:
    enroll: list[str]
    test: list[str]
    target: list[bool]
    n_speakers: int
    n_utterances: int

    @property
    def n_target(self) -> int:
        return sum(self.target)

    @property
    def n_nontarget(self) -> int:
        return len(self.target) - self.n_target


def make_trials(utt2spk: dict[str, str], *, mode: str = "all-pairs", per_spk: int = 0, impostors: int = 0,
                seed: int = 0, where: str = "utt2spk") -> MadeTrials:
    """Pairs of utterances of ``utt2spk`` (see the module docstring)."""
    check_choice(mode, MAKE_MODES, "mode")
    utts = sorted(utt2spk)
    by_spk: dict[str, list[str]] = {}
    for u in utts:
        by_spk.setdefault(utt2spk[u], []).append(u)
    if len(by_spk) < 2:
        raise AsvbenchError(f"{len(by_spk)} speaker(s) in the map: non-target trials need at least two",
                            where=where, hint="give utterances of two or more speakers")
    if mode == "all-pairs":
        pairs = _all_pairs(utts)
    else:
        if per_spk < 0 or impostors < 0 or per_spk + impostors == 0:
            raise AsvbenchError(f"--per-spk {per_spk} --impostors {impostors}: give counts >= 0, not both 0",
                                hint="e.g. --per-spk 10 --impostors 10")
        pairs = _sampled_pairs(by_spk, per_spk, impostors, np.random.default_rng(seed))
    enroll = [a for a, _ in pairs]
    test = [b for _, b in pairs]
    target = [utt2spk[a] == utt2spk[b] for a, b in pairs]
    if not any(target):
        raise AsvbenchError("no target trial: every speaker has a single utterance", where=where,
                            hint="target trials need two utterances of one speaker")
    return MadeTrials(enroll, test, target, len(by_spk), len(utts))


def _all_pairs(utts: list[str]) -> list[tuple[str, str]]:
    i, j = np.triu_indices(len(utts), k=1)
    return [(utts[a], utts[b]) for a, b in zip(i.tolist(), j.tolist())]


def _sampled_pairs(by_spk: dict[str, list[str]], per_spk: int, impostors: int,
                   rng: np.random.Generator) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str]] = []

    def add(a: str, b: str) -> bool:
        key = (a, b) if a < b else (b, a)
        if a == b or key in seen:
            return False
        seen.add(key)
        pairs.append((a, b))
        return True

    speakers = sorted(by_spk)
    for spk in speakers:
        own = by_spk[spk]
        own_pairs = _all_pairs(own)
        for k in rng.permutation(len(own_pairs))[:per_spk].tolist():
            add(*own_pairs[k])
        others = [u for s in speakers if s != spk for u in by_spk[s]]
        wanted = min(impostors, len(own) * len(others))
        done = attempts = 0
        while done < wanted and attempts < 50 * wanted + 100:  # bounded: pairs already taken are redrawn
            attempts += 1
            done += add(own[int(rng.integers(len(own)))], others[int(rng.integers(len(others)))])
    return pairs


def format_trials(made: MadeTrials, fmt: str) -> str:
    """The list as text in ``fmt`` (voxceleb: ``1|0 enroll test``; kaldi: ``enroll test target|nontarget``;
    cnceleb: ``enroll test 1|0``)."""
    check_choice(fmt, MAKE_FORMATS, "trial format")
    rows = zip(made.enroll, made.test, made.target)
    if fmt == "voxceleb":
        lines = [f"{int(t)} {e} {s}" for e, s, t in rows]
    elif fmt == "kaldi":
        lines = [f"{e} {s} {'target' if t else 'nontarget'}" for e, s, t in rows]
    else:
        lines = [f"{e} {s} {int(t)}" for e, s, t in rows]
    return "".join(line + "\n" for line in lines)


def write_trials(path: str | Path, made: MadeTrials, fmt: str) -> Path:
    from asvbench._atomic import atomic_write_text

    atomic_write_text(path, format_trials(made, fmt))
    return Path(path)
