"""Where `asvbench score` spends its CPU on the Vox1-E shape (145,160 x 256, 579,818 trials), stage
by stage, and the whole command, each against a previous tree in the same run (issue 13).

Stages (one child process per round, stages run one after another, no thread overlap; CPU seconds of
the process and its threads from ``time.process_time``, so the load of other processes counts less
than in wall times): the imports of the score path, the trial parse, the store read (Kaldi ``.scp``
by default), the store's key index and the lookup of both sides, ``score_trials`` (lookup, norms and
cosine together), the repeated-trial check, the metrics ``summarize`` and the score file (the parent's
part; the formatter child's CPU is given apart). The start-up of the interpreter is the CPU used
before the child's first line.

Whole command: ``asvbench score --json`` on the Kaldi and the native store, CPU (user + sys of the
command and its threads and children, ``os.wait4``), wall and peak RSS; the score files of both trees
are compared byte for byte (sha256) and the metrics of the JSON compared exactly.

Old code: ``--previous DIR``, a checkout (e.g. ``git worktree add --detach /tmp/before HEAD~3``)
put first on ``PYTHONPATH`` of its children. Rounds alternate the order (ABBA). Bytecode is cached
(``_common.child_env``). Prints min / median and the load average at the start and end.

Usage: python benchmarks/bench_score_stages.py [--rounds N] [--previous DIR] [--current DIR] [--store scp|native]
       [--no-command] [--no-stages]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, WORK, child_env

STAGES = ["start-up (interpreter)", "imports of the score path", "trial parse", "store read", "store key index",
          "key lookup, both sides", "score_trials (lookup + norms + cosine)", "repeated-trial check",
          "metrics summarize", "score file (parent)", "score formatter child", "total (process)"]


def child(store: str, trials: str, out: str) -> None:
    """One round of the stages, printed as JSON (CPU and wall per stage)."""
    import resource

    started = time.process_time()
    stages: dict[str, list[float]] = {"start-up (interpreter)": [started, 0.0]}

    def timed(name, work):
        cpu, wall = time.process_time(), time.perf_counter()
        result = work()
        stages[name] = [time.process_time() - cpu, time.perf_counter() - wall]
        return result

    def imports():
        import asvbench.cli.main
        import asvbench.cli.score_cmd
        import asvbench.scoring.pipeline  # noqa: F401

    timed("imports of the score path", imports)
    from asvbench.io.duplicates import duplicate_code_pairs
    from asvbench.io.scores import start_trial_scores
    from asvbench.io.store_index import StoreKeys, both_trial_positions
    from asvbench.metrics.summary import summarize
    from asvbench.scoring.cosine import score_trials
    from asvbench.scoring.pipeline import _load_for_scoring
    from asvbench.trials.read import check_duplicate_trials, read_trials

    trial_list = timed("trial parse", lambda: read_trials(trials, "auto", check_duplicates=False))
    test_store = timed("store read", lambda: _load_for_scoring(store, False))
    timed("store key index", test_store.byte_index)
    keys = StoreKeys(test_store)
    timed("key lookup, both sides", lambda: both_trial_positions(trial_list, keys, keys))
    scored = timed("score_trials (lookup + norms + cosine)", lambda: score_trials(trial_list, test_store))
    timed("repeated-trial check", lambda: check_duplicate_trials(
        trial_list, pairs=duplicate_code_pairs(scored.kept, scored.enroll_index, scored.test_index)))
    labels = trial_list.labels[scored.kept]
    summary = timed("metrics summarize", lambda: summarize(scored.scores, labels))
    timed("score file (parent)", lambda: start_trial_scores(out, trial_list, scored.kept, scored.scores, labels)())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages["score formatter child"] = [children.ru_utime + children.ru_stime, 0.0]
    stages["total (process)"] = [time.process_time() + stages["score formatter child"][0], 0.0]
    import asvbench

    print(json.dumps({"stages": stages, "module": asvbench.__file__, "summary": summary.to_dict()}))


def _env(tree: Path | None) -> dict[str, str]:
    return child_env(PYTHONPATH=str(tree)) if tree is not None else child_env()


def run_stages(tree: Path | None, store: Path, trials: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(store), str(trials), str(out)], cwd=REPO,
                          env=_env(tree), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_command(tree: Path | None, store: Path, trials: Path, out: Path) -> tuple[float, float, float, dict, str]:
    """(wall, CPU, peak RSS MB, the JSON metrics, sha256 of the score file) of one `asvbench score`."""
    cmd = [sys.executable, "-m", "asvbench", "score", "--trials", str(trials), "--embeddings", str(store),
           "--out", str(out), "--json"]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        # cwd "/": `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH's tree
        proc = subprocess.Popen(cmd, cwd="/", env=_env(tree), stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (its threads and children included)
        wall = time.perf_counter() - start
        stdout.seek(0), stderr.seek(0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"score failed: {stderr.read()[-2000:]}")
        answer = json.loads(stdout.read())
    answer.pop("scores_file")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, answer, \
        hashlib.sha256(out.read_bytes()).hexdigest()


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _fmt(values: list[float]) -> str:
    return f"{min(values):6.3f} / {statistics.median(values):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--previous", type=Path, help="checkout of the code to compare with (on PYTHONPATH)")
    parser.add_argument("--current", type=Path, help="checkout to measure as 'now' (default: this tree)")
    parser.add_argument("--store", choices=("scp", "native"), default="scp", help="store of the stage runs")
    parser.add_argument("--no-command", action="store_true", help="skip the whole-command A/B")
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage runs")
    args = parser.parse_args()
    from bench_score import make_vox1e
    from bench_store_read import make_kaldi

    native, trials = make_vox1e(WORK)
    scp = make_kaldi(WORK, native)
    trees = {"now": args.current.resolve() if args.current else None}
    trees |= {"previous": args.previous.resolve()} if args.previous else {}
    print(f"load at start: {_load()}")
    if not args.no_stages:
        store = scp if args.store == "scp" else native
        cpu: dict[str, dict[str, list[float]]] = {t: {s: [] for s in STAGES} for t in trees}
        metrics: dict[str, dict] = {}
        for r in range(args.rounds):
            for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
                got = run_stages(trees[name], store, trials, WORK / f"stages_{name}.tsv")
                for stage, (c, _) in got["stages"].items():
                    cpu[name][stage].append(c)
                metrics[name] = got["summary"]
                assert trees[name] is None or str(trees[name]) in got["module"], got["module"]
        print(f"stages, {args.store} store, CPU seconds min / median of {args.rounds} rounds:")
        print(f"  {'stage':42s} " + "  ".join(f"{t:>15s}" for t in trees))
        for stage in STAGES:
            print(f"  {stage:42s} " + "  ".join(f"{_fmt(cpu[t][stage]):>15s}" for t in trees))
        if len(metrics) == 2:
            print(f"  metrics equal: {metrics['now'] == metrics['previous']}")
    if not args.no_command:
        results: dict[tuple[str, str], list] = {}
        hashes: dict[tuple[str, str], set] = {}
        answers: dict[tuple[str, str], dict] = {}
        for r in range(args.rounds):
            for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
                for label, store in (("Kaldi scp", scp), ("native", native)):
                    wall, c, rss, answer, digest = run_command(trees[name], store, trials, WORK / f"cmd_{name}.tsv")
                    results.setdefault((name, label), []).append((wall, c, rss))
                    hashes.setdefault((name, label), set()).add(digest)
                    answers[(name, label)] = answer
        print("`asvbench score --json`, wall / CPU / peak RSS, min / median:")
        for (name, label), rows in results.items():
            walls, cpus, rss = ([row[i] for row in rows] for i in range(3))
            print(f"  {name:9s} {label:10s} wall {_fmt(walls)} s   CPU {_fmt(cpus)} s   RSS {max(rss):5.0f} MB")
        same_bytes = len(set().union(*hashes.values())) == 1
        same_metrics = all(a == next(iter(answers.values())) for a in answers.values())
        print(f"  score files byte-identical across trees and stores: {same_bytes}; JSON metrics equal: {same_metrics}")
    print(f"load at end: {_load()}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
