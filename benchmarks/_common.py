"""Helpers for the benchmark scripts: timed subprocess runs with peak RSS, generated data."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("ASVBENCH_BENCH_DIR", REPO / ".bench"))


def timed_run(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB of the child, completed process).

    Peak RSS comes from wait4() of this one child, so earlier children do not mix in.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read() if proc.stdout else ""
    stderr = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    done = subprocess.CompletedProcess(cmd, code, stdout, stderr)
    if code != 0:
        raise SystemExit(f"command failed ({code}): {' '.join(cmd)}\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, done


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child: this one without PYTHONDONTWRITEBYTECODE (set on the project
    machine), so that a child compiles an edited module once and later runs load its bytecode, as on a
    user's machine; without it every run recompiles the edited modules (0.3-0.7 s CPU for `score`)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def asvbench_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "asvbench", *args]


def peak_rss_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
