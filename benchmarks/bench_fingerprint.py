"""Benchmark the trial-list fingerprint a result record carries, on the Vox1-E list of ``bench_score.py``.

In interleaved rounds, in this process:

* **before** (the path of ``score --save-result`` until issue 15): ``read_trials`` for scoring, then
  ``fingerprint_trials(path)``, which reads the file again and fingerprints its decoded text;
* **after**: ``read_trials`` and its ``.fingerprint``, computed from the bytes already read (the
  byte-level path hashes the normalised records built from the token offsets, in numpy);
* the two fingerprints alone (``fingerprint_bytes`` of the bytes vs the token-based one).

With ``--stream``, also the streamed scoring path (lists of 256 MB and more): ``score_streamed``
of the list against the Vox1-E store with and without ``fingerprint=True`` (it hashes the chunks
as they are read; the file is not read a second time).

Both fingerprints are checked equal. Prints min / median seconds per case.

Usage: python benchmarks/bench_fingerprint.py [--rounds N] [--stream]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _common import WORK
from bench_score import make_vox1e


def _before(path):
    from asvbench.trials.fingerprint import fingerprint_trials
    from asvbench.trials.read import read_trials

    read_trials(path, check_duplicates=False)
    return fingerprint_trials(path)


def _after(path):
    from asvbench.trials.read import read_trials

    return read_trials(path, check_duplicates=False).fingerprint


def _text_fingerprint(path):
    from asvbench.trials.fingerprint import fingerprint_bytes

    return fingerprint_bytes(path.read_bytes(), source=str(path))


def _token_fingerprint(trials):
    trials._fingerprint = None
    trials._fingerprint_of = trials._keep_fingerprint_of
    return trials.fingerprint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    store_path, path = make_vox1e(WORK)
    from asvbench.trials.read import read_trials

    parsed = read_trials(path, check_duplicates=False)
    parsed._keep_fingerprint_of = parsed._fingerprint_of
    assert _before(path) == _after(path) == _text_fingerprint(path) == _token_fingerprint(parsed)
    cases = {"before: read + fingerprint_trials (2nd read)": lambda: _before(path),
             "after: read_trials(...).fingerprint": lambda: _after(path),
             "fingerprint alone, from the text": lambda: _text_fingerprint(path),
             "fingerprint alone, from the tokens": lambda: _token_fingerprint(parsed)}
    if args.stream:
        from asvbench.io.embeddings import load_embeddings
        from asvbench.scoring.stream import score_streamed

        store = load_embeddings(store_path)
        store.matrix = store.matrix[:]  # in memory, as scoring has it
        for flag in (False, True):
            cases[f"score_streamed, fingerprint={flag}"] = (
                lambda flag=flag: score_streamed(path, "voxceleb", store, out=None, fingerprint=flag))
        assert score_streamed(path, "voxceleb", store, out=None, fingerprint=True).fingerprint == _after(path)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    fp = _after(path)
    print(f"list: {path.name}, {fp.n_lines:,} trials, {path.stat().st_size / 1e6:.1f} MB; "
          f"{args.rounds} interleaved rounds; load {os.getloadavg()[0]:.1f}")
    for name, got in times.items():
        print(f"  {name:48s} min {min(got):.3f} s   median {statistics.median(got):.3f} s")


if __name__ == "__main__":
    main()
