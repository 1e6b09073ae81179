"""Options shared by several commands, and :func:`choice` for fixed-value options.

The option groups that ``metrics``, ``score`` and ``fuse`` share are declared once, as option blocks
(:class:`MetricOptions`, :class:`RecordOptions`, :class:`CiOptions`): a command takes a block as one
parameter and :func:`with_option_blocks` spreads its fields into the command line.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from asvbench.io.formats import TRIAL_FORMATS, TRIAL_LAYOUTS
from asvbench.types import EER_METHODS


def choice(values: Iterable[str]) -> Any:
    """The type of an option whose values are ``values`` (the tuple or registry that defines them).

    Typer turns a ``Literal`` into a parser choice: ``--help`` lists the values, a typo is rejected by
    the parser with exit code 2 naming the valid ones, and shell completion offers them. Use it as
    ``Annotated[choice(NORM_METHODS), typer.Option("--norm", ...)]``.
    """
    return Literal[tuple(values)]  # type: ignore[valid-type]


def trial_formats_help(formats: Iterable[str] = TRIAL_FORMATS) -> str:
    """``voxceleb '1|0 enroll test', kaldi ...``: the trial-list formats ``formats`` and their lines, for the
    help of a format choice (from :data:`~asvbench.io.formats.TRIAL_FORMATS`: a new format shows up in every
    help)."""
    return ", ".join(f"{name} {TRIAL_LAYOUTS[name]}" for name in formats if name != "auto")


def trial_format_names(formats: Iterable[str] = TRIAL_FORMATS) -> str:
    """``voxceleb, kaldi, ... or asvspoof5``: the names only, for the help of a trial-list path (whose help
    must not spell 'a|b' values: it is no choice)."""
    names = [name for name in formats if name != "auto"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


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


# --------------------------------------------------------------------------- result records (metrics / score / fuse)
SaveResultOpt = Annotated[Path | None, typer.Option(
    "--save-result", help="Also write a result record (JSON) for `asvbench report` / `asvbench compare`.")]
SystemOpt = Annotated[str | None, typer.Option(
    "--system", help="System name in the result record (default: the score file's name).")]
VariantOpt = Annotated[str, typer.Option(
    "--variant", help="Variant shown after the system name in tables, e.g. 'AS-Norm' or 'LM'.")]
BenchmarkOpt = Annotated[str | None, typer.Option(
    "--benchmark", help="Registered benchmark name (`asvbench trials list`) or custom:NAME; "
                        "default: identified from the trial list.")]
#: ``--meta KEY=VALUE``: system metadata in the result record (asvbench.report.save.parse_meta)
MetaOpt = Annotated[list[str] | None, typer.Option(
    "--meta", help="System metadata for the result record, repeatable: KEY=VALUE (e.g. pretraining=CNCeleb, "
                   "lm=true, params=14650000); with `score`, params=auto / flops=auto count them from the model "
                   "of an `extract` store (FLOPs of a 10 s input). `asvbench report --columns KEY` shows them.")]


# --------------------------------------------------------------------------- option blocks
class OptionBlock:
    """A group of options declared once: a dataclass whose fields are ``Annotated`` option types with
    their defaults. A command takes it as one parameter (``record: RecordOptions``)."""

    @classmethod
    def parameters(cls, kind: inspect._ParameterKind) -> list[inspect.Parameter]:
        hints = typing.get_type_hints(cls, include_extras=True)
        return [inspect.Parameter(f.name, kind, annotation=hints[f.name], default=f.default) for f in fields(cls)]

    @classmethod
    def gather(cls, values: dict[str, Any]) -> OptionBlock:
        """The block of the option values in ``values`` (removed from it)."""
        return cls(**{f.name: values.pop(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class MetricOptions(OptionBlock):
    """The ASV metric definitions of ``metrics`` and ``score``: EER method, DCF priors and costs."""

    eer_method: EerMethodOpt = "interp"
    p_target: PTargetOpt = None
    c_miss: CMissOpt = 1.0
    c_fa: CFaOpt = 1.0

    @property
    def p_targets(self) -> tuple[float, ...]:
        return tuple(self.p_target or (0.01,))


@dataclass(frozen=True)
class RecordOptions(OptionBlock):
    """``--save-result`` and what the record says of the system (``metrics`` / ``score`` / ``fuse``)."""

    save_result: SaveResultOpt = None
    system: SystemOpt = None
    benchmark: BenchmarkOpt = None
    variant: VariantOpt = ""
    meta: MetaOpt = None

    def __post_init__(self) -> None:
        if self.meta and self.save_result is None:
            from asvbench.errors import AsvbenchError

            raise AsvbenchError(f"--meta {self.meta[0]} goes into the result record, but no record is written",
                                hint="add --save-result FILE.json, or drop --meta")


@dataclass(frozen=True)
class CiOptions(OptionBlock):
    """``--ci`` and its settings (``metrics`` / ``score`` / ``fuse``)."""

    ci: CiOpt = None
    ci_unit: CiUnitOpt = "speaker"
    ci_reps: CiRepsOpt = 1000
    seed: SeedOpt = 0
    utt2spk: Utt2spkOpt = None

    def settings(self) -> Any:
        """See :func:`ci_settings`."""
        return ci_settings(self.ci, self.ci_unit, self.ci_reps, self.seed, self.utt2spk)


def with_option_blocks(command: Callable) -> Callable:
    """Spread each :class:`OptionBlock` parameter of ``command`` into its options (for Typer, which reads
    the signature), and gather them back into the block when the command is called."""
    hints = typing.get_type_hints(command, include_extras=True)
    blocks = {name: hint for name, hint in hints.items() if isinstance(hint, type) and issubclass(hint, OptionBlock)}
    params: list[inspect.Parameter] = []
    for param in inspect.signature(command).parameters.values():
        if param.name in blocks:
            params.extend(blocks[param.name].parameters(param.kind))
        else:
            params.append(param.replace(annotation=hints.get(param.name, param.annotation)))

    @functools.wraps(command)
    def spread(*args: Any, **kwargs: Any) -> Any:
        for name, block in blocks.items():
            kwargs[name] = block.gather(kwargs)
        return command(*args, **kwargs)

    spread.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return spread
