"""Tests of the benchmark scripts' own building blocks (``benchmarks/`` is not a package: loaded by path)."""

import importlib.util
from pathlib import Path

_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", _BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_float_parse = _load("_float_parse")
