"""Benchmark CLI start-up: ``asvbench --version`` and ``asvbench score --help`` (bytecode cached).

Interleaved rounds of fresh interpreters, each command's wall time; min and median of the
rounds. Measured in the same rounds as floors: a bare interpreter (``python -c pass``), and
``import typer`` (the CLI framework, which every command pays). Then ``python -X importtime``
of ``import asvbench.cli.main``: the slowest top-level imports and whether numpy, pandas or
torch is among them (none should be).

Usage: python benchmarks/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "python -c 'import typer' (floor)": [sys.executable, "-c", "import typer"],
    "asvbench --version": [sys.executable, "-m", "asvbench", "--version"],
    "asvbench score --help": [sys.executable, "-m", "asvbench", "score", "--help"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def import_profile(top: int = 8) -> tuple[list[tuple[int, str]], list[str]]:
    """(cumulative µs, module) of the slowest imports directly under asvbench.cli.main, and heavy modules loaded."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import asvbench.cli.main"],
                          capture_output=True, text=True, check=True)
    rows = []
    heavy = set()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        module = name.strip()
        if module.split(".")[0] in ("numpy", "pandas", "torch", "scipy"):
            heavy.add(module.split(".")[0])
        if name.startswith("   ") and not name.startswith("     "):  # depth 1: imported by asvbench.cli.main
            rows.append((int(cumulative), module))
    return sorted(rows, reverse=True)[:top], sorted(heavy)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    for cmd in CASES.values():  # compile and cache the bytecode first
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, cmd in CASES.items():
            times[name].append(wall(cmd))
    print(f"start-up, {args.rounds} interleaved rounds (min / median, s):")
    for name, values in times.items():
        print(f"  {name:36s} {min(values):6.3f} / {statistics.median(values):6.3f}")
    rows, heavy = import_profile()
    print("slowest imports of asvbench.cli.main (cumulative ms):")
    for micros, module in rows:
        print(f"  {module:36s} {micros / 1000:7.1f}")
    print(f"numpy / pandas / torch / scipy imported at start-up: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
