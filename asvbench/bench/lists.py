"""Which trial lists a ``bench`` run scores, and which utterances they need.

A registered benchmark (:data:`asvbench.bench.specs.BENCH_SPECS`) takes its lists from
``--trials-dir`` under the registry's file names (a missing one is an error naming the file, the
registry entry and its sha256); a custom benchmark is the ``--trials`` files given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from asvbench._choices import check_choice
from asvbench.bench.specs import BENCH_SPECS
from asvbench.errors import AsvbenchError


@dataclass(frozen=True)
class BenchList:
    label: str  # the list's name in file names and table columns
    path: Path
    benchmark: str  # the benchmark name of its result record
    enroll_maps: tuple[Path, ...] = ()
    kind: str = "asv"


@dataclass
class Needs:
    """Utterances one list uses: test side, enrolment utterances, and enrolment models."""

    test: set[str] = field(default_factory=set)
    enroll_utts: set[str] = field(default_factory=set)
    models: dict[str, list[str]] = field(default_factory=dict)  # model -> utterances (with a map)


def resolve_lists(name: str, trials: tuple[Path, ...], trials_dir: Path | None, enroll_maps: tuple[Path, ...],
                  enroll_mode: str) -> tuple[list[BenchList], str | None, str]:
    """The lists, the benchmark's key style (None: custom, the caller's) and its kind."""
    if trials:
        if name in BENCH_SPECS:
            raise AsvbenchError(f"{name!r} is a registered benchmark; --trials is for custom ones",
                                hint="drop --trials (give --trials-dir), or choose another NAME")
        return [BenchList(_label(p, trials), Path(p), f"custom:{name}/{_label(p, trials)}", tuple(enroll_maps))
                for p in trials], None, "asv"
    spec = BENCH_SPECS[check_choice(name, BENCH_SPECS, "benchmark", hint=f"registered: {', '.join(BENCH_SPECS)}; "
                                                                           "or give your own lists with --trials FILE")]
    if trials_dir is None:
        raise AsvbenchError(f"benchmark {name} needs its trial lists: give --trials-dir DIR",
                            hint=f"get them with: asvbench trials fetch {spec.lists_for(enroll_mode)[0]} --to DIR")
    out = []
    for entry_name in spec.lists_for(enroll_mode):
        path = _registered_file(entry_name, trials_dir)
        maps = tuple(_map_file(trials_dir, m, entry_name) for m in spec.enroll_maps.get(entry_name, ()))
        out.append(BenchList(entry_name, path, entry_name, maps, spec.kind))
    return out, spec.key_style, spec.kind


def _label(path: Path, all_paths: tuple[Path, ...]) -> str:
    stems = [Path(p).stem for p in all_paths]
    if stems.count(Path(path).stem) > 1:
        raise AsvbenchError(f"two --trials files share the name {Path(path).stem!r}",
                            hint="rename one: the name labels its scores, record and table column")
    return Path(path).stem


def _registered_file(entry_name: str, trials_dir: Path) -> Path:
    from asvbench.trials.registry import get_benchmark

    bench = get_benchmark(entry_name)
    path = Path(trials_dir) / bench.filename
    if not path.is_file():
        sha = bench.content_sha256 or (bench.copies[0].sha256 if bench.copies else None)
        raise AsvbenchError(
            f"trial list {bench.filename} of registry entry {bench.name} ({bench.title}) is not in --trials-dir; "
            f"expected sha256 {sha or 'unknown (not recorded in the registry)'}", where=path,
            hint=f"asvbench trials fetch {bench.name} --to {trials_dir} (needs a network), or copy your list there")
    return path


def _map_file(trials_dir: Path, file_name: str, entry_name: str) -> Path:
    path = Path(trials_dir) / file_name
    if not path.is_file():
        raise AsvbenchError(f"enrolment map {file_name} of {entry_name} is not in --trials-dir", where=path,
                            hint="copy the benchmark's enrolment lists beside its trial list")
    return path


def list_needs(bench_list: BenchList) -> tuple[object, Needs]:
    """Read the list (and its enrolment maps); the utterances and models it uses.

    A custom list none of whose enrolment ids is a model of the maps enrols utterances (``needs.models``
    stays empty): one run can hold lists of both kinds."""
    from asvbench.io.enroll import read_enroll_map
    from asvbench.trials.read import read_trials

    trials = read_trials(bench_list.path)
    needs = Needs(test=set(trials.test.tolist()))
    enroll_ids = set(trials.enroll.tolist())
    if not bench_list.enroll_maps:
        needs.test |= enroll_ids
        return trials, needs
    mapping = read_enroll_map(list(bench_list.enroll_maps))
    unknown = sorted(enroll_ids - set(mapping))
    if len(unknown) == len(enroll_ids) and bench_list.benchmark.startswith("custom:"):
        # none of its enrolment ids is a model of the --enroll-map(s): a list of utterance pairs
        needs.test |= enroll_ids
        return trials, needs
    if unknown:
        raise AsvbenchError(f"{len(unknown)} enrolment models of the list are not in its enrolment map, "
                            f"e.g. {unknown[:3]}", where=bench_list.path,
                            hint=f"check the map(s): {', '.join(map(str, bench_list.enroll_maps))}")
    needs.models = {m: list(mapping[m]) for m in sorted(enroll_ids)}
    needs.enroll_utts = {u for utts in needs.models.values() for u in utts}
    return trials, needs
