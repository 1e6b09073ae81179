"""Benchmark reading embedding stores at Vox1-E shape (145,160 x 256 float32): native, Kaldi, .npz.

Writes (seeded, cached under .bench/) the Vox1-E store of ``bench_score.py`` in three more
formats: a Kaldi ark + scp (kaldiio ``WriteHelper``, float32 vectors), an ``.npz`` (``np.savez``,
one member per key) and, for the variable-stride copy path, a Kaldi store whose keys have
varying lengths. Then, in interleaved rounds, times in this process:

* ``load_embeddings`` on each store (the readers of ``asvbench/io/kaldi.py`` / ``npz.py``,
  which includes the NaN/inf check), the native store as the reference;
* the readers they replace, measured in the same rounds: kaldiio ``load_scp`` + the per-key
  stacking (``_load_kaldi_with_kaldiio``) and ``dict(np.load(...))`` + the same stacking;
* the NaN/inf check alone (:func:`asvbench.io.embeddings.check_finite`).

and, as subprocesses, ``asvbench score`` on the native and the Kaldi store (wall incl. start-up).
Every reader's matrix is checked equal to the native one. Prints min / median per case.

Usage: python benchmarks/bench_store_read.py [--rounds N] [--no-score] [--no-before]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import WORK, asvbench_cmd, timed_run
from bench_score import make_vox1e


def make_kaldi(root, store, name="vox1e", rename=None):
    scp = root / f"{name}.scp"
    if scp.exists():
        return scp
    import kaldiio

    from asvbench.io.embeddings import load_embeddings

    s = load_embeddings(store)
    with kaldiio.WriteHelper(f"ark,scp:{root / f'{name}.ark'},{scp}") as writer:
        for i, key in enumerate(s.keys):
            writer(rename(key, i) if rename else key, np.asarray(s.matrix[i]))
    return scp


def make_npz(root, store):
    path = root / "vox1e.npz"
    if path.exists():
        return path
    from asvbench.io.embeddings import load_embeddings

    s = load_embeddings(store)
    np.savez(path, **{k: np.asarray(s.matrix[i]) for i, k in enumerate(s.keys)})
    return path


def old_npz(path):
    from asvbench.io.embeddings import _from_mapping

    return _from_mapping(dict(np.load(path, allow_pickle=False)), str(path))


def old_kaldi(path):
    from asvbench.io.embeddings import _load_kaldi_with_kaldiio

    return _load_kaldi_with_kaldiio(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-score", action="store_true", help="skip the `asvbench score` subprocess runs")
    parser.add_argument("--no-before", action="store_true", help="skip the replaced readers (kaldiio, np.load)")
    args = parser.parse_args()
    from asvbench.io.embeddings import check_finite, load_embeddings

    WORK.mkdir(parents=True, exist_ok=True)
    store, trials = make_vox1e(WORK)
    scp = make_kaldi(WORK, store)
    scp_var = make_kaldi(WORK, store, "vox1e_varkeys", rename=lambda key, i: key + "x" * (i % 7))
    npz = make_npz(WORK, store)
    reference = np.asarray(load_embeddings(store, mmap=False).matrix)
    native = load_embeddings(store)
    cases = {
        "native store (memory-mapped)": lambda: load_embeddings(store),
        "native store, read into memory": lambda: load_embeddings(store, mmap=False),
        "Kaldi scp, numpy reader": lambda: load_embeddings(scp),
        "Kaldi scp, varying key lengths, numpy reader": lambda: load_embeddings(scp_var),
        "Kaldi scp, kaldiio (before)": lambda: old_kaldi(scp),
        ".npz, bulk reader": lambda: load_embeddings(npz),
        ".npz, dict(np.load) (before)": lambda: old_npz(npz),
        "NaN/inf check alone (memory-mapped native)": lambda: check_finite(native),
    }
    if args.no_before:
        cases = {name: read for name, read in cases.items() if "(before)" not in name}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, read in cases.items():
            t0 = time.perf_counter()
            result = read()
            times[name].append(time.perf_counter() - t0)
            if result is not None:
                assert np.array_equal(np.asarray(result.matrix), reference), name
    print(f"store read, {reference.shape[0]:,} x {reference.shape[1]}, {args.rounds} interleaved rounds "
          "(min / median, s):")
    for name, values in times.items():
        print(f"  {name:48s} {min(values):6.3f} / {statistics.median(values):6.3f}")
    if args.no_score:
        return
    out = WORK / "store_read_scores.tsv"
    walls: dict[str, list[float]] = {"score, native store": [], "score, Kaldi scp": []}
    for _ in range(args.rounds):
        for name, emb in (("score, native store", store), ("score, Kaldi scp", scp)):
            wall, _, _ = timed_run(asvbench_cmd("score", "--trials", str(trials), "--embeddings", str(emb),
                                                "--out", str(out)))
            walls[name].append(wall)
    for name, values in walls.items():
        print(f"  {name:48s} {min(values):6.3f} / {statistics.median(values):6.3f}  (wall incl. start-up)")


if __name__ == "__main__":
    main()
