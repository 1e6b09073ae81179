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

* ``kaldi_cohort`` (``--kaldi-cohort``): the ``score --norm asnorm --cohort X.scp --cohort-utt2spk``
  path from a 119,880-utterance Kaldi ark/scp cohort (20 utterances for each of the 5,994
  speakers, generated once under .bench/ with kaldiio): store read, speaker means
  (:func:`~asvbench.scoring.norm.build_cohort`), then the same ``normalise``.
* ``--previous REV``: also runs ``normalise`` as it was at git revision REV (its
  ``scoring/norm.py`` loaded from ``git show``), interleaved with the current one, and prints
  the largest difference of the normalised scores between the two.

* ``--phases``: the product, the top-k partition and the statistics of ``normalise``'s CPU path,
  timed apart in one more subprocess (the selection single-threaded there, not overlapped with
  the product), wall and CPU; ``gemm_gflop_per_cpu_s`` is the product's rate per CPU-second,
  comparable with the core's FP32 peak whatever the load.

Every approach runs ``--repeat`` times, interleaved; min / median walls are printed.

Usage: ``python benchmarks/bench_norm.py [--threads 2] [--ref-fraction 0.125] [--device cpu]
[--repeat 3] [--kaldi-cohort] [--previous REV] [--phases]``.
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
    import numpy as np

    np.save(_scores_file("current"), out.scores)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _rss_mb(), "rss_after_data_mb": rss_data,
            "checksum": float(out.scores[:1000].sum()), "first": out.scores[:5].tolist()}


def _previous_normalise(rev: str):
    """``normalise`` of ``asvbench/scoring/norm.py`` as it was at git revision ``rev``."""
    import types
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{rev}:asvbench/scoring/norm.py"], cwd=repo, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType("previous_norm")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{rev}:asvbench/scoring/norm.py", "exec"), module.__dict__)
    return module.normalise


def run_previous(fraction: float, rev: str) -> dict:
    import numpy as np

    normalise = _previous_normalise(rev)
    emb, cohort, e_idx, t_idx, scores = _data(fraction)
    rss_data = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    out = normalise(scores, e_idx, t_idx, emb, emb, cohort, "asnorm", TOP_K)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.save(_scores_file("previous"), out.scores)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _rss_mb(), "rss_after_data_mb": rss_data}


def _scores_file(name: str):
    from pathlib import Path

    work = Path(os.environ.get("ASVBENCH_BENCH_DIR", Path(__file__).resolve().parents[1] / ".bench"))
    work.mkdir(parents=True, exist_ok=True)
    return work / f"norm_scores_{name}.npy"


N_COHORT_UTT_PER_SPK = 20


def _kaldi_cohort(emb_mean):
    """(scp path, utt2spk path) of a 119,880-utterance float32 Kaldi cohort (cached)."""
    import numpy as np

    scp = _scores_file("x").parent / "cohort_119880.scp"
    utt2spk = scp.with_suffix(".utt2spk")
    if scp.exists() and utt2spk.exists():
        return scp, utt2spk
    import kaldiio

    rng = np.random.default_rng(5)
    centres = rng.standard_normal((N_COHORT, DIM), dtype=np.float32) + emb_mean
    lines = []
    with kaldiio.WriteHelper(f"ark,scp:{scp.with_suffix('.ark')},{scp}") as writer:
        for s in range(N_COHORT):
            rows = centres[s] + 0.5 * rng.standard_normal((N_COHORT_UTT_PER_SPK, DIM), dtype=np.float32)
            for u in range(N_COHORT_UTT_PER_SPK):
                key = f"spk{s:05d}-utt{u:02d}"
                writer(key, rows[u])
                lines.append(f"{key} spk{s:05d}\n")
    utt2spk.write_text("".join(lines))
    return scp, utt2spk


def run_kaldi_cohort(fraction: float) -> dict:
    from asvbench.io.embeddings import load_embeddings
    from asvbench.io.enroll import read_utt2spk
    from asvbench.scoring.norm import build_cohort, normalise

    emb, _, e_idx, t_idx, scores = _data(fraction)
    scp, utt2spk = _kaldi_cohort(emb[:1000].mean(axis=0))
    rss_data = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    store = load_embeddings(scp)
    t_read = time.perf_counter() - t0
    vectors = store.matrix if store.offsets is None else store.pooled()
    cohort = build_cohort(store.keys, vectors, read_utt2spk(utt2spk))
    t_cohort = time.perf_counter() - t0 - t_read
    normalise(scores, e_idx, t_idx, emb, emb, cohort.matrix, "asnorm", TOP_K)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _rss_mb(), "rss_after_data_mb": rss_data,
            "store_read_s": t_read, "speaker_means_s": t_cohort, "cohort_size": int(cohort.matrix.shape[0])}


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


def run_phases(fraction: float) -> dict:
    """Where ``normalise``'s time goes at this shape: the same blocked float32 product, in-place top-k
    partition and float64 statistics as :func:`asvbench.scoring.norm._topk_stats_numpy`, timed apart
    (single-threaded selection here; the pipeline spreads it over a thread pool)."""
    import numpy as np

    from asvbench.scoring import norm

    emb, cohort, *_ = _data(fraction)
    t0 = time.perf_counter()
    e32 = norm._unit_rows(emb, "trial", np.float32)
    c32t = np.ascontiguousarray(norm._unit_rows(cohort, "cohort", np.float32).T)
    times = {"unit_rows_s": time.perf_counter() - t0, "gemm_s": 0.0, "topk_s": 0.0, "stats_s": 0.0,
             "gemm_cpu_s": 0.0, "topk_cpu_s": 0.0}
    block = np.empty((norm.DEFAULT_BLOCK_ROWS, N_COHORT), dtype=np.float32)
    for lo in range(0, e32.shape[0], norm.DEFAULT_BLOCK_ROWS):
        out = block[: min(norm.DEFAULT_BLOCK_ROWS, e32.shape[0] - lo)]
        t0, c0 = time.perf_counter(), time.process_time()
        np.matmul(e32[lo : lo + out.shape[0]], c32t, out=out)
        t1, c1 = time.perf_counter(), time.process_time()
        top = norm._topk_rows(out, TOP_K).astype(np.float64)
        t2, c2 = time.perf_counter(), time.process_time()
        times["gemm_cpu_s"] += c1 - c0
        times["topk_cpu_s"] += c2 - c1
        mu = top.mean(axis=1)
        np.sqrt(np.mean((top - mu[:, None]) ** 2, axis=1))
        t3 = time.perf_counter()
        times["gemm_s"] += t1 - t0
        times["topk_s"] += t2 - t1
        times["stats_s"] += t3 - t2
    times["gemm_gflop_per_s"] = 2.0 * e32.shape[0] * N_COHORT * DIM / times["gemm_s"] / 1e9
    # per CPU-second of all BLAS threads: what one core delivers, whatever else runs on the machine
    times["gemm_gflop_per_cpu_s"] = 2.0 * e32.shape[0] * N_COHORT * DIM / times["gemm_cpu_s"] / 1e9
    phases = ("unit_rows_s", "gemm_s", "topk_s", "stats_s")
    return {"wall_s": sum(times[k] for k in phases), "cpu_s": 0.0,
            "peak_rss_mb": _rss_mb(), "rss_after_data_mb": 0.0, **times}


def _child(mode: str, fraction: float, threads: int, device: str, previous: str = "HEAD") -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--child", mode, "--fraction", str(fraction), "--device", device,
           "--previous", previous]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ref-fraction", type=float, default=0.125,
                        help="fraction of utterances/trials for the WeSpeaker approach (1 = full size)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the torch top-k path")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds of every approach")
    parser.add_argument("--kaldi-cohort", action="store_true",
                        help="also time the path from a 119,880-utterance Kaldi cohort store + utt2spk")
    parser.add_argument("--previous", default=None, metavar="REV",
                        help="also time normalise as it was at this git revision, and compare the scores")
    parser.add_argument("--phases", action="store_true",
                        help="also time the product, the top-k selection and the statistics apart (asvbench)")
    parser.add_argument("--child", choices=["asvbench", "wespeaker", "previous", "kaldi_cohort", "phases"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        runners = {"asvbench": lambda: run_asvbench(args.fraction, args.device),
                   "wespeaker": lambda: run_wespeaker(args.fraction),
                   "previous": lambda: run_previous(args.fraction, args.previous),
                   "kaldi_cohort": lambda: run_kaldi_cohort(args.fraction),
                   "phases": lambda: run_phases(args.fraction)}
        print(json.dumps(runners[args.child]()))
        return
    modes = {"asvbench": 1.0, "wespeaker": args.ref_fraction}
    if args.previous:
        modes["previous"] = 1.0
    if args.kaldi_cohort:
        modes["kaldi_cohort"] = 1.0
    if args.phases:
        modes["phases"] = 1.0
    rounds: dict[str, list[dict]] = {m: [] for m in modes}
    for _ in range(args.repeat):
        for mode, fraction in modes.items():
            rounds[mode].append(_child(mode, fraction, args.threads, args.device if mode == "asvbench" else "cpu",
                                       args.previous or "HEAD"))
    f = args.ref_fraction
    result = {
        "shape": {"utterances": N_UTT, "trials": N_TRIALS, "cohort": N_COHORT, "dim": DIM, "top_k": TOP_K},
        "threads": args.threads, "device": args.device, "repeat": args.repeat,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    for mode, got in rounds.items():
        walls = sorted(r["wall_s"] for r in got)
        entry = {"wall_s_min": round(walls[0], 2), "wall_s_median": round(walls[len(walls) // 2], 2),
                 "cpu_s_min": round(min(r["cpu_s"] for r in got), 2),
                 "peak_rss_mb": round(max(r["peak_rss_mb"] for r in got)),
                 "rss_after_data_mb": round(got[0]["rss_after_data_mb"])}
        for extra in ("store_read_s", "speaker_means_s", "unit_rows_s", "gemm_s", "topk_s", "stats_s",
                      "gemm_cpu_s", "topk_cpu_s", "gemm_gflop_per_s", "gemm_gflop_per_cpu_s"):
            if extra in got[0]:
                entry[extra + "_min"] = round(min(r[extra] for r in got), 2)
        if mode == "wespeaker":
            ref = got[0]
            entry = {"measured_fraction": f, "wall_s_measured_min": entry["wall_s_min"],
                     "wall_s_measured_median": entry["wall_s_median"],
                     "wall_s_min": round(walls[0] / f, 1), "wall_s_median": round(walls[len(walls) // 2] / f, 1),
                     "cpu_s_min": round(entry["cpu_s_min"] / f, 1),
                     # working memory beyond the data scales with the number of utterances
                     "peak_rss_mb": round(ref["rss_after_data_mb"] / f + (ref["peak_rss_mb"] - ref["rss_after_data_mb"]) / f),
                     "full_size": "measured" if f == 1.0 else f"EXTRAPOLATED linearly from a {f:g} fraction"}
        result[mode] = entry
    result["speedup_vs_wespeaker_min"] = round(result["wespeaker"]["wall_s_min"] / result["asvbench"]["wall_s_min"], 1)
    if args.previous:
        import numpy as np

        a, b = np.load(_scores_file("current")), np.load(_scores_file("previous"))
        result["previous"]["max_abs_difference_of_normalised_scores"] = float(np.abs(a - b).max())
        result["speedup_vs_previous_min"] = round(result["previous"]["wall_s_min"] / result["asvbench"]["wall_s_min"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
