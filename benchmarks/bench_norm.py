"""AS-norm benchmark at the VoxCeleb1-E shape: asvbench vs the WeSpeaker approach, same run.

Shape (random data, seeded): 145,160 utterances (256-d), 579,818 trials between them, a cohort of
5,994 speaker means, top-300 AS-norm. Each approach runs in its own subprocess so that its peak
RSS (``ru_maxrss``, data included) is its own.

* ``asvbench``: :func:`asvbench.scoring.norm.normalise` (one statistics pass per utterance, float32
  blocks, top-k selection without sorting, vectorised application).
* ``wespeaker``: the approach of WeSpeaker ``wespeaker/bin/score_norm.py`` as described in
  ``shared/docs/peers.md`` (implemented here from that description, not copied): for the enrolment
  list and the test list separately, the full (n_utt x n_cohort) float32 score matrix, a full
  ``np.sort`` along the cohort axis, top-n mean and population std; then a per-trial Python loop
  with dict lookups by key to apply ``0.5 ((s - mu_e) / sd_e + (s - mu_t) / sd_t)``.
  At full size that needs ~7 GB and over a minute, so by default it runs on a FRACTION of the
  utterances and trials (``--ref-fraction``, 1/8) and the full-size time and memory are
  EXTRAPOLATED linearly (labelled as such in the output).

Usage: ``python benchmarks/bench_norm.py [--threads 2] [--ref-fraction 0.125] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

N_UTT, N_TRIALS, N_COHORT, DIM, TOP_K = 145_160, 579_818, 5_994, 256, 300


def _data(fraction: float):
    import numpy as np

    rng = np.random.default_rng(0)
    n_utt = int(round(N_UTT * fraction))
    n_trials = int(round(N_TRIALS * fraction))
    emb = rng.standard_normal((n_utt, DIM), dtype=np.float32)
    emb += rng.standard_normal(DIM, dtype=np.float32)  # a shared offset, as real embeddings have
    cohort = rng.standard_normal((N_COHORT, DIM), dtype=np.float32) + emb[:1000].mean(axis=0)
    e_idx = rng.integers(0, n_utt, n_trials)
    t_idx = rng.integers(0, n_utt, n_trials)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    scores = np.empty(n_trials, dtype=np.float64)
    for lo in range(0, n_trials, 65536):  # blocked, so that data generation does not set the RSS peak
        hi = lo + 65536
        scores[lo:hi] = np.einsum("ij,ij->i", unit[e_idx[lo:hi]], unit[t_idx[lo:hi]])
    del unit
    return emb, cohort, e_idx, t_idx, scores


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_asvbench(fraction: float, device: str) -> dict:
    from asvbench.scoring.norm import normalise

    emb, cohort, e_idx, t_idx, scores = _data(fraction)
    rss_data = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    out = normalise(scores, e_idx, t_idx, emb, emb, cohort, "asnorm", TOP_K, device=device)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _rss_mb(), "rss_after_data_mb": rss_data,
            "checksum": float(out.scores[:1000].sum()), "first": out.scores[:5].tolist()}


def run_wespeaker(fraction: float) -> dict:
    import numpy as np

    emb, cohort, e_idx, t_idx, scores = _data(fraction)
    keys = np.array([f"id{i:06d}/utt.wav" for i in range(emb.shape[0])], dtype=object)
    rss_data = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()

    def stats(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        c = cohort / np.linalg.norm(cohort, axis=1, keepdims=True)
        full = v @ c.T  # (n_utt, n_cohort), float32
        top = np.sort(full, axis=1)[:, ::-1][:, :TOP_K]  # full sort, descending, top-n
        return np.mean(top, axis=1), np.std(top, axis=1)

    enroll_keys = sorted(set(keys[e_idx].tolist()))
    test_keys = sorted(set(keys[t_idx].tolist()))
    index = {k: i for i, k in enumerate(keys.tolist())}
    e_mean, e_std = stats(emb[[index[k] for k in enroll_keys]])
    t_mean, t_std = stats(emb[[index[k] for k in test_keys]])
    e_stats = {k: (m, s) for k, m, s in zip(enroll_keys, e_mean.tolist(), e_std.tolist())}
    t_stats = {k: (m, s) for k, m, s in zip(test_keys, t_mean.tolist(), t_std.tolist())}
    out = []
    for e, t, s in zip(keys[e_idx].tolist(), keys[t_idx].tolist(), scores.tolist()):  # per-trial loop
        me, se = e_stats[e]
        mt, st = t_stats[t]
        out.append(0.5 * ((s - me) / se + (s - mt) / st))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _rss_mb(), "rss_after_data_mb": rss_data,
            "checksum": float(np.sum(out[:1000])), "first": out[:5]}


def _child(mode: str, fraction: float, threads: int, device: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--child", mode, "--fraction", str(fraction), "--device", device]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ref-fraction", type=float, default=0.125,
                        help="fraction of utterances/trials for the WeSpeaker approach (1 = full size)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the torch top-k path")
    parser.add_argument("--child", choices=["asvbench", "wespeaker"], help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "asvbench":
        print(json.dumps(run_asvbench(args.fraction, args.device)))
        return
    if args.child == "wespeaker":
        print(json.dumps(run_wespeaker(args.fraction)))
        return
    ours = _child("asvbench", 1.0, args.threads, args.device)
    ref = _child("wespeaker", args.ref_fraction, args.threads, "cpu")
    f = args.ref_fraction
    result = {
        "shape": {"utterances": N_UTT, "trials": N_TRIALS, "cohort": N_COHORT, "dim": DIM, "top_k": TOP_K},
        "threads": args.threads, "device": args.device,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "asvbench": {"wall_s": round(ours["wall_s"], 2), "cpu_s": round(ours["cpu_s"], 2), "peak_rss_mb": round(ours["peak_rss_mb"]),
                     "rss_after_data_mb": round(ours["rss_after_data_mb"])},
        "wespeaker_approach": {
            "measured_fraction": f, "wall_s_measured": round(ref["wall_s"], 2), "cpu_s_measured": round(ref["cpu_s"], 2),
            "cpu_s": round(ref["cpu_s"] / f, 1),
            "peak_rss_mb_measured": round(ref["peak_rss_mb"]),
            "wall_s": round(ref["wall_s"] / f, 1),
            # working memory beyond the data scales with the number of utterances
            "peak_rss_mb": round(ref["rss_after_data_mb"] / f + (ref["peak_rss_mb"] - ref["rss_after_data_mb"]) / f),
            "full_size": "measured" if f == 1.0 else f"EXTRAPOLATED linearly from a {f:g} fraction",
        },
    }
    result["speedup"] = round(result["wespeaker_approach"]["wall_s"] / result["asvbench"]["wall_s"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
