"""Options shared by several commands (metric definitions), and :func:`choice` for fixed-value options."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from asvbench.types import EER_METHODS


def choice(values: Iterable[str]) -> Any:
    """The type of an option whose values are ``values`` (the tuple or registry that defines them).

    Typer turns a ``Literal`` into a parser choice: ``--help`` lists the values, a typo is rejected by
    the parser with exit code 2 naming the valid ones, and shell completion offers them. Use it as
    ``Annotated[choice(NORM_METHODS), typer.Option("--norm", ...)]``.
    """
    return Literal[tuple(values)]  # type: ignore[valid-type]


EerMethodOpt = Annotated[
    choice(EER_METHODS), typer.Option("--eer-method", help="EER definition (see docs of compute_eer).")
]
PTargetOpt = Annotated[
    list[float] | None, typer.Option("--p-target", help="Target prior for minDCF/actDCF; repeatable. Default 0.01.")
]
CMissOpt = Annotated[float, typer.Option("--c-miss", help="Cost of a miss.")]
CFaOpt = Annotated[float, typer.Option("--c-fa", help="Cost of a false alarm.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout instead of a table.")]
#: ``--by`` of metrics / score / fuse / det (asvbench.stats.breakdown); repeatable
ByOpt = Annotated[list[str] | None, typer.Option(
    "--by", help="Also break the metrics down per condition (repeatable): source (per attack, SASV lists), gender "
                 "(enrolment lists named female/male, or the list's gender column), or a map FILE of "
                 "'KEY CONDITION' lines (utterance or model -> condition) or 'ENROLL TEST CONDITION' (per trial).")]

#: ``--ci`` and its settings (metrics / score / fuse / significance; asvbench.stats.ci)
CiOpt = Annotated[float | None, typer.Option(
    "--ci", help="Add a LEVEL % confidence interval to every metric (e.g. --ci 95): percentile bootstrap over "
                 "--ci-unit (default: the enrolment speaker).")]
CiUnitOpt = Annotated[str, typer.Option(
    "--ci-unit", help="What --ci resamples: speaker (enrolment speaker, from the ids or --utt2spk), trial "
                      "(trials as independent: too narrow when speakers repeat), or a map FILE of 'KEY UNIT' "
                      "lines (enrolment id, else test id -> unit).")]
CiRepsOpt = Annotated[int, typer.Option("--ci-reps", help="Bootstrap replicates of --ci.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resamples (same seed, same resamples).")]
Utt2spkOpt = Annotated[Path | None, typer.Option(
    "--utt2spk", help="Map 'ENROLL_ID SPEAKER' per line: the speakers of --ci-unit speaker, when the ids do not "
                      "say (VoxCeleb 'idXXXXX/...', CN-Celeb 'idXXXXX-...', ASVspoof 'LA_0073' ids do).")]


def ci_settings(ci: float | None, ci_unit: str, ci_reps: int, seed: int, utt2spk: Path | None) -> Any:
    """The :class:`~asvbench.stats.ci.CiSettings` of the ``--ci`` options, or ``None`` without ``--ci``
    (then the other ``--ci-*`` options are errors)."""
    from asvbench.errors import AsvbenchError

    if ci is None:
        given = [flag for flag, on in (("--ci-unit", ci_unit != "speaker"), ("--ci-reps", ci_reps != 1000),
                                       ("--seed", seed != 0), ("--utt2spk", utt2spk is not None)) if on]
        if given:
            raise AsvbenchError(f"{', '.join(given)}: only with --ci LEVEL", hint="add e.g. --ci 95, or drop them")
        return None
    from asvbench.stats.ci import CiSettings

    settings = CiSettings(level=ci, unit=ci_unit, reps=ci_reps, seed=seed, utt2spk=utt2spk)
    settings.check()
    return settings


#: what ``--device`` / ``--norm-device`` accept (torch device strings this tool runs on)
DEVICE_PATTERN = r"cpu|cuda|cuda:\d+|mps"


def check_device(value: str | None) -> str | None:
    import re

    if value is not None and not re.fullmatch(DEVICE_PATTERN, value):
        raise typer.BadParameter(f"{value!r} is not a device: use cpu, cuda, cuda:K (K = GPU index) or mps")
    return value


def DeviceOpt(*names: str, help: str) -> Any:  # noqa: N802 (used like typer.Option)
    """A ``--device``-style option for ``Annotated`` parameters: the parser refuses anything but cpu / cuda /
    cuda:K / mps (exit 2). Old-style ``= typer.Option(default, ...)`` parameters pass ``callback=check_device``."""
    return typer.Option(*names, callback=check_device, help=help)

#: ``--meta KEY=VALUE`` of score / fuse: system metadata in the result record (asvbench.report.save.parse_meta)
MetaOpt = Annotated[list[str] | None, typer.Option(
    "--meta", help="System metadata for the result record, repeatable: KEY=VALUE (e.g. pretraining=CNCeleb, "
                   "lm=true, params=14650000); params=auto / flops=auto count them from the model of an "
                   "`extract` store (FLOPs of a 10 s input). `asvbench report --columns KEY` shows them.")]
