"""Benchmark reading a large canonical score TSV the way ``asvbench metrics`` does, and the
byte-level alternatives tried for issue 13 (session 7), all in the same run.

Generates (seeded, cached under .bench/) ``metrics_scores_N.tsv``: the ``enroll\\ttest\\tscore\\tlabel``
file ``asvbench score`` writes, for the N-trial list of ``bench_score.py`` (scores: ``repr`` of
normal draws, as cosine scores print). Then, as subprocesses in interleaved rounds (the order
alternates), CPU (user + system from ``wait4``), wall and peak RSS of:

* ``current``: ``read_scores(path, with_ids=False)`` (pandas' C reader for the score and label
  columns, the pair-hash pass beside it on a second thread);
* ``bytes+pandas``: one pass over the bytes in 16 MB pieces on two threads: the fields found
  from the whitespace offsets (``_bytes.regular_separators``), the pair hashes and label
  codes from them, the score fields gathered into one column that pandas parses;
* ``bytes+numpy``: the same with the scores parsed by ``benchmarks/_float_parse.py`` (vectorised,
  exact; measured slower than pandas, so it stays a benchmark prototype, not package code).

Every variant's scores and labels are checked equal (bit for bit) to ``current``'s. In this
process: the score column of one 16 MB piece parsed by each float parser (ns per score), and
``split_ascii`` on the N-trial list through its regular path and its general path.

Usage: python benchmarks/bench_metrics_read.py [--trials N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import REPO, WORK
from bench_score import make_large_trials

_PIECE = 1 << 24


def make_score_file(n_trials: int) -> Path:
    path = WORK / f"metrics_scores_{n_trials}.tsv"
    if path.exists():
        return path
    trials = make_large_trials(WORK, n_trials)
    rng = np.random.default_rng(7)
    words = {"1": "target", "0": "nontarget"}
    tmp = path.with_suffix(".tmp")
    with open(trials) as src, open(tmp, "w") as out:
        out.write("enroll\ttest\tscore\tlabel\n")
        while True:
            lines = src.readlines(1 << 24)
            if not lines:
                break
            scores = (rng.standard_normal(len(lines)) * 0.3).tolist()
            out.write("".join(f"{e}\t{t}\t{s!r}\t{words[lab]}\n"
                              for (lab, e, t), s in zip((ln.split() for ln in lines), scores)))
    tmp.rename(path)
    return path


# ----------------------------------------------------------------------------- the byte-level prototype

def read_bytes(path: str, parser: str):
    """(scores, labels, pair hashes) of a regular canonical TSV in one pass over its bytes."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from asvbench.io._pair_hash import line_chunks
    from asvbench.types import LABEL_SPELLINGS

    spellings = {**LABEL_SPELLINGS, "1.0": 1, "0.0": 0}
    parts: list = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque = deque()
        for data in line_chunks(path, 1, _PIECE):
            pending.append(pool.submit(_piece, bytes(data), spellings, parser))  # the pieces are views of the file
            if len(pending) > 2:
                parts.append(pending.popleft().result())
        parts.extend(job.result() for job in pending)
    if any(part is None for part in parts):
        raise SystemExit("the prototype found an irregular piece")
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))


def _piece(data: bytes, spellings: dict, parser: str):
    from asvbench.io._bytes import field_spans, regular_separators
    from asvbench.io._pair_hash import pair_hashes

    if not data.isascii():
        return None
    buf = np.frombuffer(data, np.uint8)
    ws = regular_separators(buf, 4, tabs_only=True)
    if ws is None:
        return None
    labels = _label_codes(buf, *field_spans(ws, 3), spellings)
    scores = parse_scores(buf, *field_spans(ws, 2), parser)
    if labels is None or scores is None:
        return None
    return scores, labels, pair_hashes(buf, ws, (0, 1), tabs_only=True)


def _label_codes(buf, starts, lengths, spellings):
    from asvbench.io._bytes import fixed_width

    if int(lengths.max(initial=0)) > 16:
        return None
    words = fixed_width(buf, starts, lengths, 16).view(np.uint64)
    codes = np.empty(starts.shape[0], np.int8)
    todo = np.arange(starts.shape[0])
    while todo.shape[0]:
        row = int(todo[0])
        same = (words[todo, 0] == words[row, 0]) & (words[todo, 1] == words[row, 1])
        code = spellings.get(buf[starts[row]: starts[row] + lengths[row]].tobytes().decode().lower(), -1)
        if code < 0:
            return None
        codes[todo[same]] = code
        todo = todo[~same]
    return codes


def parse_scores(buf, starts, lengths, parser: str):
    if parser == "numpy":
        from _float_parse import parse_decimal_tokens

        return parse_decimal_tokens(buf, starts, lengths)
    import io

    import pandas as pd

    from asvbench.io._bytes import fixed_width

    column = fixed_width(buf, starts, lengths, int(lengths.max(initial=0)) + 1)
    column[np.arange(starts.shape[0]), lengths] = 10
    if parser == "tokens":  # numpy's own string-to-float conversion (the exact path's)
        return np.array(column[column != 0].tobytes().split()).astype(np.float64)
    frame = pd.read_csv(io.BytesIO(column[column != 0].tobytes()), sep="\t", header=None, names=["s"],
                        dtype={"s": np.float64}, engine="c", na_filter=False, quoting=3)
    return frame["s"].to_numpy(np.float64)


_CHILD = """
import sys, numpy as np
sys.path.insert(0, {bench!r})
variant, path, out = sys.argv[1:4]
if variant == "current":
    from asvbench.io.scores import read_scores
    t = read_scores(path, with_ids=False)
    scores, labels = t.scores, t.labels
else:
    from bench_metrics_read import read_bytes
    scores, labels, _ = read_bytes(path, variant.split("+")[1])
np.save(out, np.concatenate([scores.view(np.int64), labels.astype(np.int64)]))
"""


def run_variant(variant: str, path: Path, out: Path) -> tuple[float, float, float]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD.format(bench=str(Path(__file__).parent)), variant,
                             str(path), str(out)], env=env, cwd="/")
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{variant} failed")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def bench_read(path: Path, rounds: int) -> None:
    variants = ["current", "bytes+pandas", "bytes+numpy"]
    got: dict[str, list] = {v: [] for v in variants}
    for r in range(rounds):
        for v in (variants if r % 2 == 0 else variants[::-1]):
            wall, cpu, rss = run_variant(v, path, WORK / f"metrics_read_{v}.npy")
            got[v].append((wall, cpu, rss))
            print(f"  round {r + 1} {v:13s} wall {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {rss:5.0f} MB; "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    reference = np.load(WORK / "metrics_read_current.npy")
    for v, runs in got.items():
        walls, cpus = [w for w, _, _ in runs], [c for _, c, _ in runs]
        same = np.array_equal(np.load(WORK / f"metrics_read_{v}.npy"), reference)
        print(f"{v:13s} wall min {min(walls):.2f} / median {statistics.median(walls):.2f} s, CPU min {min(cpus):.2f} / "
              f"median {statistics.median(cpus):.2f} s, peak RSS {max(m for _, _, m in runs):.0f} MB; "
              f"scores+labels equal to current: {same}")
    for v in variants:
        (WORK / f"metrics_read_{v}.npy").unlink()


def bench_float_parsers(path: Path, rounds: int) -> None:
    from _float_parse import parse_vectorised

    from asvbench.io._bytes import field_spans, regular_separators
    from asvbench.io._pair_hash import line_chunks

    data = next(iter(line_chunks(path, 1, _PIECE)))
    buf = np.frombuffer(data, np.uint8)
    starts, lengths = field_spans(regular_separators(buf, 4, tabs_only=True), 2)
    n = starts.shape[0]
    times: dict[str, list[float]] = {p: [] for p in ("numpy", "pandas", "tokens")}
    reference = parse_scores(buf, starts, lengths, "pandas")
    for r in range(rounds):
        for p in (list(times) if r % 2 == 0 else list(times)[::-1]):
            t0 = time.process_time()
            values = parse_scores(buf, starts, lengths, p)
            times[p].append((time.process_time() - t0) / n * 1e9)
            assert np.array_equal(values.view(np.int64), reference.view(np.int64)), p
    for p, ts in times.items():
        print(f"score column of one 16 MB piece ({n:,} scores), {p:6s}: CPU min {min(ts):.0f} / "
              f"median {statistics.median(ts):.0f} ns per score")
    _, slow = parse_vectorised(buf, starts, lengths)
    print(f"  numpy parser: {slow.shape[0]:,} of {n:,} scores left to float() (midpoints, odd shapes)")


def bench_split(n_trials: int, rounds: int) -> None:
    from unittest import mock

    from asvbench.io import _bytes

    raw = make_large_trials(WORK, n_trials).read_bytes()
    names = ["label", "enroll", "test"]
    times: dict[str, list[float]] = {"regular": [], "general": []}
    out = {}
    for r in range(rounds):
        for name in (list(times) if r % 2 == 0 else list(times)[::-1]):
            with mock.patch.object(_bytes, "_split_regular", _bytes._split_regular if name == "regular"
                                   else (lambda buf, n_cols: None)):
                t0 = time.process_time()
                out[name] = _bytes.split_ascii(raw, names, "trials")
                times[name].append(time.process_time() - t0)
    same = all(np.array_equal(getattr(out["regular"], f), getattr(out["general"], f))
               for f in ("starts", "lengths", "line_ends"))
    for name, ts in times.items():
        print(f"split_ascii, {n_trials:,}-trial list, {name} path: CPU min {min(ts):.3f} / "
              f"median {statistics.median(ts):.3f} s")
    print(f"  same tokens and line ends: {same}; load {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    path = make_score_file(args.trials)
    print(f"score file {path} ({path.stat().st_size / 1e6:.0f} MB); load {os.getloadavg()[0]:.2f}")
    bench_read(path, args.rounds)  # first: a child's peak RSS counts this process's pages before its exec
    bench_float_parsers(path, 3)
    bench_split(min(args.trials, 2_000_000), 3)


if __name__ == "__main__":
    main()
