"""Benchmark `asvbench score` and `asvbench metrics` at Vox1-E and CN-Celeb scale.

Generates (seeded, cached under .bench/):
* a Vox1-E-shaped case: 145,160 utterances x 256-d float32 embeddings, 579,818 trials
  (VoxCeleb `label enroll test` format);
* a CN-Celeb-shaped score file: 3,484,292 trials (17,755 target).

Prints wall time (including interpreter start-up) and peak RSS of the asvbench commands, and
of the naive baselines measured in the same run:
* scoring: a per-trial Python loop over a dict of embeddings, one cosine per trial (how
  WeSpeaker's score.py, 3D-Speaker and SpeechBrain score), timed on the first
  BASELINE_TRIALS trials and extrapolated linearly to the whole list (labelled as such);
* metrics: line-by-line Python parsing + sort/cumsum EER + minDCF (WeSpeaker's
  compute_metrics.py approach), on the full 3.48 M-trial file.

Large trial lists (``--trials N``, e.g. 10000000 or 100000000): N distinct trials over the
Vox1-E store's keys (generated once, cached under .bench/), scored by ``asvbench score``
(which streams lists of 256 MiB and more a chunk at a time) and, with ``--whole-baseline``,
by the whole-list path of the same code (``ScoreSettings(stream=False)``), interleaved,
``--repeat`` rounds each; then ``asvbench metrics`` on the written scores.

With ``--previous TREE`` (a checkout of an earlier revision, e.g. ``git worktree add /tmp/wt HEAD``)
the large-list case is instead an A/B of ``asvbench score`` from this tree against that one
(``PYTHONPATH``), rounds interleaved: wall, CPU (from ``wait4``, its score formatters included),
peak RSS, and whether the score files are byte-identical.

Usage: python benchmarks/bench_score.py [--quick] [--trials N [--repeat R] [--whole-baseline | --previous TREE]]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import WORK, asvbench_cmd, timed_run

N_UTT, DIM, N_TRIALS = 145_160, 256, 579_818
N_CNC, N_CNC_TARGET = 3_484_292, 17_755
BASELINE_TRIALS = 50_000
METRICS_COMMAND_MAX_TRIALS = 20_000_000


def make_vox1e(root):
    store = root / "vox1e_store"
    trials = root / "vox1e_trials_distinct.txt"
    if store.exists() and trials.exists():
        return store, trials
    from asvbench.io.embeddings import write_native_store

    rng = np.random.default_rng(0)
    n_spk = 1_251
    spk = rng.integers(0, n_spk, N_UTT)
    centres = rng.standard_normal((n_spk, DIM)).astype(np.float32)
    emb = centres[spk] + 1.5 * rng.standard_normal((N_UTT, DIM)).astype(np.float32)
    keys = [f"id{10000 + s}/vid{i % 97:05d}/{i:06d}.wav" for i, s in enumerate(spk)]
    write_native_store(store, keys, emb, manifest={"model": "simulated", "note": "benchmark data"})
    a = rng.integers(0, N_UTT, N_TRIALS)
    b = rng.integers(0, N_UTT, N_TRIALS)
    # half the trials are same-speaker: pick b among a's speaker
    by_spk = [np.flatnonzero(spk == s) for s in range(n_spk)]
    half = np.arange(N_TRIALS) % 2 == 0
    b[half] = [by_spk[spk[i]][j % len(by_spk[spk[i]])] for i, j in zip(a[half], rng.integers(0, 10_000, half.sum()))]
    a, b = _distinct_pairs(a, b, rng)
    label = (spk[a] == spk[b]).astype(int)
    trials.write_text("".join(f"{lab} {keys[i]} {keys[j]}\n" for lab, i, j in zip(label, a, b)))
    return store, trials


def _distinct_pairs(a, b, rng):
    """The pairs (a, b) with repeats dropped (first kept, order kept), topped up with fresh random pairs
    to the same count: a real list names each pair once, and ``score`` refuses repeats."""
    n, n_utt = len(a), int(max(a.max(), b.max())) + 1
    while True:
        codes = a.astype(np.int64) * n_utt + b
        _, first = np.unique(codes, return_index=True)
        keep = np.sort(first)
        if len(keep) == n:
            return a, b
        extra = n - len(keep)
        a = np.concatenate([a[keep], rng.integers(0, n_utt, extra)])
        b = np.concatenate([b[keep], rng.integers(0, n_utt, extra)])


def make_cnceleb_scores(root):
    path = root / "cnc_scores_all_pairs.txt"
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    label = np.zeros(N_CNC, dtype=bool)
    label[rng.choice(N_CNC, N_CNC_TARGET, replace=False)] = True
    score = rng.normal(0.0, 0.1, N_CNC) + 0.35 * label
    # CN-Celeb's eval list is every pair of its 196 enrolment models and 17,777 test utterances
    model = np.repeat(np.arange(800, 996), 17_777)
    test = np.tile(np.arange(17_777), 196)
    lab = np.where(label, "target", "nontarget")
    path.write_text("".join(f"id{m:05d}-enroll test/utt{t:05d}.wav {s!r} {word}\n"
                            for m, t, s, word in zip(model.tolist(), test.tolist(), score.tolist(), lab)))
    return path


def make_large_trials(root, n_trials: int):
    """``n_trials`` distinct ``label enroll test`` lines over the Vox1-E keys (all 28 bytes long):
    trial p pairs a = perm[p mod n] with b = (p div n + shift[a]) mod n, so no pair repeats;
    the label says whether a and b share a speaker (as in make_vox1e's store)."""
    path = root / f"large_trials_{n_trials}.txt"
    if path.exists():
        return path
    store, _ = make_vox1e(root)
    from asvbench.io.embeddings import load_embeddings

    keys = load_embeddings(store).keys
    spk = np.array([int(k[2:7]) for k in keys])
    width = len(keys[0])
    assert all(len(k) == width for k in keys)
    key_rows = np.frombuffer("".join(keys).encode("ascii"), np.uint8).reshape(len(keys), width)
    rng = np.random.default_rng(2)
    perm = rng.permutation(len(keys))
    shift = rng.integers(0, len(keys), len(keys))
    line = 2 + width + 1 + width + 1
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        for lo in range(0, n_trials, 1 << 20):
            p = np.arange(lo, min(n_trials, lo + (1 << 20)), dtype=np.int64)
            a = perm[p % len(keys)]
            b = (p // len(keys) + shift[a]) % len(keys)
            rows = np.empty((p.shape[0], line), np.uint8)
            rows[:, 0] = np.where(spk[a] == spk[b], ord("1"), ord("0"))
            rows[:, 1] = rows[:, 2 + width] = ord(" ")
            rows[:, 2 : 2 + width] = key_rows[a]
            rows[:, 3 + width : 3 + 2 * width] = key_rows[b]
            rows[:, -1] = ord("\n")
            handle.write(rows.tobytes())
    tmp.rename(path)
    return path


_WHOLE = ("import sys; from asvbench.scoring.pipeline import ScoreSettings, run_scoring; "
          "run_scoring(sys.argv[1], sys.argv[2], out=sys.argv[3], settings=ScoreSettings(stream=False))")


def _score_with_tree(tree, trials, store, out) -> tuple[float, float, float]:
    """``asvbench score`` (metrics on) with ``PYTHONPATH=tree``: (wall s, CPU s of it and of the
    children it waited for, i.e. its score formatters, peak RSS MB)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(tree))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "asvbench", "score", "--trials", str(trials), "--embeddings",
                             str(store), "--out", str(out)], env=env, cwd="/", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"asvbench score from {tree} failed")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def bench_previous(n_trials: int, repeat: int, previous: str) -> None:
    """The working tree against ``previous`` (a checkout, e.g. ``git worktree add /tmp/wt HEAD``),
    rounds interleaved (the order alternates), outputs compared byte for byte."""
    import os
    import statistics
    from pathlib import Path

    store, _ = make_vox1e(WORK)
    trials = make_large_trials(WORK, n_trials)
    trees = {"now": Path(__file__).resolve().parent.parent, "previous": Path(previous).resolve()}
    got: dict[str, list] = {name: [] for name in trees}
    for r in range(repeat):
        for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
            wall, cpu, rss = _score_with_tree(trees[name], trials, store, WORK / f"large_scores_{name}.tsv")
            got[name].append((wall, cpu, rss))
            print(f"  round {r + 1} {name}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB; "
                  f"load average {os.getloadavg()[0]:.2f}")
    for name, runs in got.items():
        walls, cpus = [w for w, _, _ in runs], [c for _, c, _ in runs]
        print(f"{name}: wall min {min(walls):.2f} / median {statistics.median(walls):.2f} s, CPU min {min(cpus):.2f} / "
              f"median {statistics.median(cpus):.2f} s, peak RSS max {max(m for _, _, m in runs):.0f} MB")
    same = _same_bytes(WORK / "large_scores_now.tsv", WORK / "large_scores_previous.tsv")
    print(f"score files byte-identical: {same}")
    for name in trees:
        (WORK / f"large_scores_{name}.tsv").unlink()


def bench_large(n_trials: int, repeat: int, whole: bool) -> None:
    import os
    import sys

    store, _ = make_vox1e(WORK)
    trials = make_large_trials(WORK, n_trials)
    out = WORK / f"large_scores_{n_trials}.tsv"
    size = trials.stat().st_size
    print(f"large list: {n_trials:,} trials, {size / 1e6:,.0f} MB; load average {os.getloadavg()[0]:.2f}")
    rounds = {"streamed": [], "whole": []}
    for r in range(repeat):
        wall, rss, proc = timed_run(asvbench_cmd("score", "--trials", str(trials), "--embeddings", str(store),
                                                 "--out", str(out), "--json"))
        eer = json.loads(proc.stdout)["eer"]
        rounds["streamed"].append((wall, rss))
        print(f"  round {r + 1}: asvbench score (streamed) + metrics {wall:.2f} s, peak RSS {rss:.0f} MB "
              f"(EER {eer * 100:.3f} %)")
        if whole:
            ref = WORK / f"large_scores_{n_trials}_whole.tsv"
            wall, rss, _ = timed_run([sys.executable, "-c", _WHOLE, str(trials), str(store), str(ref)])
            rounds["whole"].append((wall, rss))
            same = _same_bytes(out, ref)
            ref.unlink()
            print(f"  round {r + 1}: whole-list path (same code, stream=False) {wall:.2f} s, peak RSS {rss:.0f} MB; "
                  f"output byte-identical: {same}")
    for name, got in rounds.items():
        if got:
            walls = sorted(w for w, _ in got)
            print(f"{name}: wall min {walls[0]:.2f} / median {walls[len(walls) // 2]:.2f} s, "
                  f"peak RSS max {max(m for _, m in got):.0f} MB")
    if n_trials <= METRICS_COMMAND_MAX_TRIALS:
        wall_m, rss_m, _ = timed_run(asvbench_cmd("metrics", str(out), "--json"))
        print(f"asvbench metrics on the {n_trials:,} written scores: {wall_m:.2f} s, peak RSS {rss_m:.0f} MB; "
              f"load average {os.getloadavg()[0]:.2f}")
    else:  # it reads the whole score file at once (about 120 B a trial at 10 M; 270 B before session 6)
        print(f"asvbench metrics not run on {n_trials:,} scores (more than {METRICS_COMMAND_MAX_TRIALS:,}: "
              f"its whole-file reader would need about {n_trials * 120 / 1e9:.0f} GB)")
    out.unlink()


def _same_bytes(a, b, chunk: int = 1 << 24) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(chunk), fb.read(chunk)
            if x != y:
                return False
            if not x:
                return True


def _cosine_numpy(x, y):
    return float(x.dot(y) / (np.linalg.norm(x) * np.linalg.norm(y)))


def _cosine_function():
    """WeSpeaker/3D-Speaker call sklearn's cosine_similarity per trial; use it when installed."""
    try:
        from sklearn.metrics.pairwise import cosine_similarity
    except ImportError:
        return "numpy dot/norm per trial", _cosine_numpy
    return "sklearn cosine_similarity per trial (as WeSpeaker score.py)", \
        lambda x, y: float(cosine_similarity(x[None], y[None])[0, 0])


def baseline_loop_score(store, trials, limit):
    """Per-trial cosine over a dict of embeddings (WeSpeaker score.py style)."""
    from asvbench.io.embeddings import load_embeddings

    name, cosine = _cosine_function()
    t0 = time.perf_counter()
    s = load_embeddings(store)
    table = {k: np.asarray(s.matrix[i]) for i, k in enumerate(s.keys)}
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = []
    with open(trials) as handle:
        for n, line in enumerate(handle):
            if n >= limit:
                break
            _, e, t = line.split()
            out.append(cosine(table[e], table[t]))
    return name, load, time.perf_counter() - t0


def baseline_metrics(path):
    """WeSpeaker compute_metrics.py approach: Python line parsing, argsort, cumsum, EER + minDCF."""
    t0 = time.perf_counter()
    scores, labels = [], []
    with open(path) as handle:
        for line in handle:
            tok = line.split()
            scores.append(float(tok[2]))
            labels.append(tok[3] == "target")
    s = np.array(scores)
    y = np.array(labels)
    idx = np.argsort(s)
    tar = y[idx].astype(float)
    non = 1 - tar
    fnr = np.cumsum(tar) / tar.sum()
    fpr = 1 - np.cumsum(non) / non.sum()
    x1 = np.argmax(fnr - fpr >= 0)
    eer = fnr[x1]
    dcf = np.min(0.01 * fnr + 0.99 * fpr) / 0.01
    return time.perf_counter() - t0, float(eer), float(dcf)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the CN-Celeb-scale case")
    parser.add_argument("--trials", type=int, help="only the large-list case, with this many generated trials")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the large-list case")
    parser.add_argument("--whole-baseline", action="store_true",
                        help="large-list case: also run the whole-list path (interleaved) and compare the bytes")
    parser.add_argument("--previous", metavar="TREE",
                        help="large-list case: A/B of `score` against this checkout (PYTHONPATH), interleaved")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.trials and args.previous:
        bench_previous(args.trials, args.repeat, args.previous)
        return
    if args.trials:
        bench_large(args.trials, args.repeat, args.whole_baseline)
        return
    store, trials = make_vox1e(WORK)
    out = WORK / "vox1e_scores.tsv"
    wall, rss, proc = timed_run(asvbench_cmd("score", "--trials", str(trials), "--embeddings", str(store),
                                             "--out", str(out), "--json"))
    res = json.loads(proc.stdout)
    print(f"Vox1-E score+metrics (asvbench score, {N_TRIALS:,} trials, {N_UTT:,} x {DIM}): "
          f"{wall:.2f} s wall incl. start-up, peak RSS {rss:.0f} MB (EER {res['eer'] * 100:.3f} %)")
    wall_m, rss_m, _ = timed_run(asvbench_cmd("metrics", str(out), "--json"))
    print(f"Vox1-E metrics only (asvbench metrics): {wall_m:.2f} s, peak RSS {rss_m:.0f} MB")
    name, load, loop = baseline_loop_score(store, trials, BASELINE_TRIALS)
    per_trial = loop / BASELINE_TRIALS
    print(f"baseline per-trial Python loop ({name}): {BASELINE_TRIALS:,} trials in {loop:.2f} s ({1 / per_trial:,.0f} trials/s) "
          f"+ {load:.2f} s to build the dict; extrapolated to {N_TRIALS:,} trials: {load + per_trial * N_TRIALS:.1f} s "
          f"-> asvbench is {(load + per_trial * N_TRIALS) / wall:.0f}x faster")
    if args.quick:
        return
    cnc = make_cnceleb_scores(WORK)
    wall_c, rss_c, proc = timed_run(asvbench_cmd("metrics", str(cnc), "--json"))
    res = json.loads(proc.stdout)
    print(f"CN-Celeb-scale metrics (asvbench metrics, {N_CNC:,} trials): {wall_c:.2f} s wall incl. start-up, "
          f"peak RSS {rss_c:.0f} MB (EER {res['eer'] * 100:.3f} %, minDCF {res['min_dcf']['0.01']:.4f})")
    base, eer, dcf = baseline_metrics(cnc)
    print(f"baseline (Python parsing + sort/cumsum, WeSpeaker compute_metrics style): {base:.2f} s "
          f"(EER {eer * 100:.3f} %, minDCF {dcf:.4f}) -> asvbench is {base / wall_c:.1f}x faster")


if __name__ == "__main__":
    main()
