"""Benchmark the score formatter (``io/_float_text.float_repr_lines``) against ``repr``, same run.

Cases (in this process, rounds interleaved, the order alternating each round):

* **repr, list given**: ``"\\n".join(map(repr, values_list))`` with the Python list made beforehand;
* **repr_lines before** (the score writer's path until session 7): ``.tolist()``, the join, ``.encode``;
* **formatter**: ``float_repr_lines(values)`` (numpy array in, the same bytes out).

Each on ``--n`` random cosines in [-1, 1] and on scores of typical magnitudes (1e-6..1e3, both
signs); the outputs are checked byte-equal, and the number of values the formatter left to
``repr`` is printed. Figures: CPU (``time.process_time``) and wall, min / median per score, the
load average before and after, and this process's peak RSS.

Usage: python benchmarks/bench_score_format.py [--n 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from _common import peak_rss_self_mb


def _repr_list(values_list):
    return "\n".join(map(repr, values_list))


def _repr_lines_before(values):
    return ("\n".join(map(repr, values.tolist())) + "\n").encode("ascii")


def _formatter(values):
    from asvbench.io._float_text import float_repr_lines

    return float_repr_lines(values)


def _time(function, argument):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(argument)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_case(name: str, values: np.ndarray, rounds: int) -> None:
    from asvbench.io._float_text import float_repr_lines_counted

    values_list = values.tolist()
    cases = {
        "repr, list given": (_repr_list, values_list),
        "repr_lines before": (_repr_lines_before, values),
        "formatter": (_formatter, values),
    }
    text, by_repr = float_repr_lines_counted(values)
    assert text == _repr_lines_before(values), "the formatter's text differs from repr's"
    times: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    for round_ in range(rounds):
        order = list(cases) if round_ % 2 == 0 else list(reversed(cases))
        for case in order:
            function, argument = cases[case]
            wall, cpu, _ = _time(function, argument)
            times[case].append((wall, cpu))
    n = values.shape[0]
    print(f"\n{name}: {n:,} scores, {rounds} rounds; left to repr by the formatter: {by_repr:,}")
    print(f"{'case':<20} {'CPU ns/score min / median':>28} {'wall ns/score min / median':>28}")
    for case, pairs in times.items():
        walls, cpus = [w / n * 1e9 for w, _ in pairs], [c / n * 1e9 for _, c in pairs]
        print(f"{case:<20} {min(cpus):>13.0f} / {statistics.median(cpus):<12.0f} "
              f"{min(walls):>13.0f} / {statistics.median(walls):<12.0f}")
    formatter_cpu = [c for _, c in times["formatter"]]
    for baseline in ("repr, list given", "repr_lines before"):
        base_cpu = [c for _, c in times[baseline]]
        print(f"speed-up over {baseline!r}, CPU: min {min(base_cpu) / min(formatter_cpu):.2f}x, "
              f"median {statistics.median(base_cpu) / statistics.median(formatter_cpu):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    print(f"load average before: {_loadavg()}")
    bench_case("cosines in [-1, 1]", rng.uniform(-1.0, 1.0, args.n), args.rounds)
    magnitudes = 10.0 ** rng.uniform(-6.0, 3.0, args.n)
    bench_case("typical magnitudes 1e-6..1e3", np.where(rng.random(args.n) < 0.5, -magnitudes, magnitudes), args.rounds)
    print(f"\nload average after: {_loadavg()}; peak RSS of this process {peak_rss_self_mb():.0f} MB")


if __name__ == "__main__":
    main()
