"""``--save-result`` for the commands that compute metrics (score, metrics, fuse).

The options are Typer annotations shared by those commands; :func:`save_summary_result`
builds the :class:`~asvbench.results.ResultRecord` and writes it atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from asvbench.results import ModelInfo, ResultRecord, fingerprint_trials, record_from_summary, save_result

SaveResultOpt = Annotated[Path | None, typer.Option(
    "--save-result", help="Also write a result record (JSON) for `asvbench report` / `asvbench compare`.")]
SystemOpt = Annotated[str | None, typer.Option(
    "--system", help="System name in the result record (default: the score file's name).")]
VariantOpt = Annotated[str, typer.Option(
    "--variant", help="Variant shown after the system name in tables, e.g. 'AS-Norm' or 'LM'.")]
BenchmarkOpt = Annotated[str | None, typer.Option(
    "--benchmark", help="Registered benchmark name (`asvbench trials list`) or custom:NAME; "
                        "default: identified from the trial list.")]


def save_summary_result(
    path: str | Path,
    summary,
    *,
    system: str | None,
    benchmark: str | None,
    variant: str = "",
    scores=None,
    labels=None,
    trials_path: str | Path | None = None,
    scores_path: str | Path | None = None,
    enroll: Sequence[str] | None = None,
    test: Sequence[str] | None = None,
    model: Sequence[ModelInfo] = (),
    normalization: Mapping[str, Any] | None = None,
    fusion: Mapping[str, Any] | None = None,
    definitions: Mapping[str, Any] | None = None,
    command: str = "",
) -> ResultRecord:
    """Build the record of one run and write it to ``path`` (atomically).

    Without ``trials_path``, a score file that is itself registered (such as the ASVspoof5
    fusion CSV) is fingerprinted as the trial list; otherwise the trials are fingerprinted
    from the scored labels (and enroll/test names when given).
    """
    trials = None
    if trials_path is None and scores_path is not None:
        from asvbench.trials_registry import identify_benchmark

        fp = fingerprint_trials(scores_path)
        if identify_benchmark(fp) is not None:
            trials = fp
    name = system or Path(scores_path or trials_path or "system").stem
    record = record_from_summary(
        summary, system=name, scores=scores, labels=labels, benchmark=benchmark, variant=variant,
        trials_path=trials_path, trials=trials, scores_path=scores_path, enroll=enroll, test=test,
        model=tuple(model), normalization=normalization, fusion=fusion, definitions=definitions,
        command=command,
    )
    save_result(path, record)
    return record
