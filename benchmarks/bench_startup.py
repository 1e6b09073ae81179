"""Benchmark CLI start-up: ``asvbench --version`` and ``asvbench score --help`` (bytecode cached).

``score --help`` is measured twice: from the help cache (``asvbench/cli/_help_cache.py``, a cache
directory of this run, filled by the warm-up call) and rendered by rich (``ASVBENCH_HELP_CACHE=0``,
what the first call after a change pays).

Interleaved rounds of fresh interpreters, each command's wall time; min and median of the
rounds. Measured in the same rounds as floors: a bare interpreter (``python -c pass``), and
``import typer`` (the CLI framework, which every command pays). Then ``python -X importtime``
of ``import asvbench.cli.main``: the slowest top-level imports and whether numpy, pandas or
torch is among them (none should be).

Usage: python benchmarks/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HELP = [sys.executable, "-m", "asvbench", "score", "--help"]
CASES = {  # name: (command, extra environment)
    "python -c pass (floor)": ([sys.executable, "-c", "pass"], {}),
    "python -c 'import typer' (floor)": ([sys.executable, "-c", "import typer"], {}),
    "asvbench --version": ([sys.executable, "-m", "asvbench", "--version"], {}),
    "asvbench score --help (cached)": (HELP, {}),
    "asvbench score --help (rendered)": (HELP, {"ASVBENCH_HELP_CACHE": "0"}),
}


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


HEAVY = ("numpy", "pandas", "torch", "scipy", "typer", "rich")


def import_profile(top: int = 8) -> tuple[list[tuple[int, str]], list[str]]:
    """(cumulative µs, module) of the slowest imports made by building the app (``asvbench.cli.main.app``,
    what a command other than --version or a cached --help pays), and the heavy modules that
    ``import asvbench.cli.main`` alone loads (none should be)."""
    code = "import asvbench.cli.main as m; import sys; print('MARK', file=sys.stderr); m.app"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, check=True)
    before, _, after = proc.stderr.partition("MARK")
    heavy = {row[1].split(".")[0] for row in _import_rows(before, depth=None)} & set(HEAVY)
    return sorted(_import_rows(after, depth=0), reverse=True)[:top], sorted(heavy)


def _import_rows(text: str, depth: int | None) -> list[tuple[int, str]]:
    rows = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if depth is None or (len(name) - len(name.lstrip()) - 1) // 2 == depth:
            rows.append((int(cumulative), name.strip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache_home:
        # PYTHONDONTWRITEBYTECODE (set on the project machine) would leave edited modules uncompiled
        base = {k: v for k, v in os.environ.items() if k not in ("ASVBENCH_HELP_CACHE", "PYTHONDONTWRITEBYTECODE")}
        base.update(XDG_CACHE_HOME=cache_home, COLUMNS="100")
        envs = {name: {**base, **extra} for name, (_, extra) in CASES.items()}
        for name, (cmd, _) in CASES.items():  # compile and cache the bytecode (and the help page) first
            wall(cmd, envs[name])
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.rounds):
            for name, (cmd, _) in CASES.items():
                times[name].append(wall(cmd, envs[name]))
    print(f"load average {os.getloadavg()[0]:.1f} (1 min)")
    print(f"start-up, {args.rounds} interleaved rounds (min / median, s):")
    for name, values in times.items():
        print(f"  {name:36s} {min(values):6.3f} / {statistics.median(values):6.3f}")
    rows, heavy = import_profile()
    print("slowest imports when the app is built (cumulative ms):")
    for micros, module in rows:
        print(f"  {module:36s} {micros / 1000:7.1f}")
    print(f"{' / '.join(HEAVY)} imported by `import asvbench.cli.main`: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
