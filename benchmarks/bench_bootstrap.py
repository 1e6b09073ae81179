"""Benchmark the speaker-level bootstrap (asvbench.metrics.bootstrap) on a Vox1-E-shaped list.

Case: 579,818 trials over 1,251 enrolment speakers (~463 each, half target), scores with a
per-speaker offset; 1,000 speaker-level replicates of EER (interp) + minDCF (p = 0.01, 0.05).

* asvbench: :func:`binary_replicates` (scores sorted once; per-unit cell counts x multiplicities on
  a grid of the operating points, exact refinement of the cells that hold the answer);
* baseline, same run, interleaved with it: the per-replicate re-sort, i.e. each replicate's trials
  re-sampled (``np.repeat`` by the unit multiplicity) and passed to the existing metric functions
  (one ``operating_points`` sort, ``eer_from_points``, two ``min_dcf_from_points``), timed on
  ``--baseline-reps`` replicates and extrapolated linearly to 1,000 (labelled as such);
* peak memory of the asvbench path alone: a child process (``--child``) that runs it once.
* growth: the asvbench path on 1/4, 1/2 and all of the trials, and on 250 / 500 / 1,000 replicates.

Usage: python benchmarks/bench_bootstrap.py [--rounds 3] [--baseline-reps 20] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import timed_run

N_TRIALS, N_SPEAKERS, REPS = 579_818, 1_251, 1_000
PRIORS = (0.01, 0.05)


def make_case(n_trials: int = N_TRIALS, n_speakers: int = N_SPEAKERS, seed: int = 0):
    rng = np.random.default_rng(seed)
    unit = np.sort(rng.integers(0, n_speakers, n_trials))
    is_tar = rng.random(n_trials) < 0.5
    offset = rng.normal(0.0, 0.5, n_speakers)[unit]
    scores = rng.normal(np.where(is_tar, 3.0, 0.0), 1.0) + offset * is_tar
    return scores.astype(np.float32).astype(np.float64), is_tar, unit  # float32 scores: ties, as real files


def run_asvbench(scores, is_tar, unit, n_units: int, reps: int) -> dict:
    from asvbench.metrics.bootstrap import BinaryRequest, binary_replicates

    request = BinaryRequest(p_targets=PRIORS, act_dcf=False, cllr=False, min_cllr=False)
    return binary_replicates(scores, is_tar, unit, n_units, reps=reps, seed=0, request=request)


def run_baseline(scores, is_tar, unit, n_units: int, reps: int) -> dict:
    from asvbench.metrics._curve import operating_points
    from asvbench.metrics.bootstrap import multiplicities
    from asvbench.metrics.dcf import min_dcf_from_points
    from asvbench.metrics.eer import eer_from_points

    out: dict[str, list[float]] = {"eer": [], **{f"min_dcf@{p:g}": [] for p in PRIORS}}
    for r in range(reps):
        w = multiplicities(n_units, [r], 0)[0][unit]
        points = operating_points(np.repeat(scores, w), np.repeat(is_tar, w))
        out["eer"].append(eer_from_points(points).eer)
        for p in PRIORS:
            out[f"min_dcf@{p:g}"].append(min_dcf_from_points(points, p).value)
    return {k: np.array(v) for k, v in out.items()}


def _timed(fn, *args) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def child() -> None:
    scores, is_tar, unit = make_case()
    seconds, _ = _timed(run_asvbench, scores, is_tar, unit, N_SPEAKERS, REPS)
    print(f"{seconds:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-reps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="one round, 5 baseline replicates, no growth")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if args.quick:
        args.rounds, args.baseline_reps = 1, 5
    scores, is_tar, unit = make_case()
    print(f"case: {N_TRIALS:,} trials, {N_SPEAKERS:,} speakers, {int(is_tar.sum()):,} target; "
          f"{REPS:,} speaker-level replicates of EER + minDCF{PRIORS}")
    fast, slow = [], []
    for _ in range(args.rounds):  # interleaved A/B
        t, mine = _timed(run_asvbench, scores, is_tar, unit, N_SPEAKERS, REPS)
        fast.append(t)
        t, base = _timed(run_baseline, scores, is_tar, unit, N_SPEAKERS, args.baseline_reps)
        slow.append(t * REPS / args.baseline_reps)
        for key, values in base.items():  # same resamples, same numbers
            assert np.allclose(values, mine[key][: args.baseline_reps], rtol=0, atol=1e-12), key
    print(f"asvbench: min {min(fast):.2f} s, median {statistics.median(fast):.2f} s ({args.rounds} rounds)")
    print(f"baseline (per-replicate re-sort), {args.baseline_reps} replicates timed, extrapolated to {REPS:,}: "
          f"min {min(slow):.1f} s, median {statistics.median(slow):.1f} s; "
          f"ratio {statistics.median(slow) / statistics.median(fast):.0f}x (medians)")
    wall, peak, done = timed_run([sys.executable, __file__, "--child"])
    print(f"asvbench alone in a child process: bootstrap {float(done.stdout):.2f} s, process wall {wall:.2f} s, "
          f"peak RSS {peak:.0f} MB (case generation included)")
    if args.quick:
        return
    for fraction in (4, 2, 1):
        n = N_TRIALS // fraction
        s, y, u = make_case(n, N_SPEAKERS)
        t, _ = _timed(run_asvbench, s, y, u, N_SPEAKERS, REPS)
        print(f"growth: {n:,} trials, {REPS:,} replicates: {t:.2f} s")
    for reps in (250, 500, 1000):
        t, _ = _timed(run_asvbench, scores, is_tar, unit, N_SPEAKERS, reps)
        print(f"growth: {N_TRIALS:,} trials, {reps:,} replicates: {t:.2f} s")
    load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout.split()[:3]
    print(f"load average at the end: {' '.join(load)}")


if __name__ == "__main__":
    main()
