"""Options shared by several commands (metric definitions)."""

from __future__ import annotations

from typing import Annotated

import typer

from asvbench.metrics.eer import EER_METHODS

EerMethodOpt = Annotated[
    str, typer.Option("--eer-method", help=f"EER definition: {'|'.join(EER_METHODS)} (see docs of compute_eer).")
]
PTargetOpt = Annotated[
    list[float] | None, typer.Option("--p-target", help="Target prior for minDCF/actDCF; repeatable. Default 0.01.")
]
CMissOpt = Annotated[float, typer.Option("--c-miss", help="Cost of a miss.")]
CFaOpt = Annotated[float, typer.Option("--c-fa", help="Cost of a false alarm.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout instead of a table.")]
