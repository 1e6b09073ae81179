"""The SASV2022 DoubleRoc protocol end to end on real audio, by the README's own commands.

The README section "Reproduce the SASV2022 DoubleRoc table" is run as printed (subprocesses of the
installed ``asvbench``, in one directory holding the files under the README's names): ``extract
--crops 5`` with each of the four ASV systems of the table (ECAPA-TDNN, SE-ResNet-34, SE-Res2Net-50,
Res2NeXt-50), ``score --pool-norm none`` and ``l2``, ``fuse --cm cm_eval.tsv --method product`` into
result records, and ``report`` of the 8 records; ``cm_eval.tsv`` comes from the README's AASIST
``extract`` command with the real clovaai ``AASIST.pth``.

**The ASV numbers here are not the paper's.** No released checkpoint of the four systems is in
``../shared``: each ``--checkpoint`` is the architecture with the deterministic rule-B weights of
``shared/parity/FILL_RULE.md``, written in its source's own layout under the release's file name
(``tests/e2e/_doubleroc.py``). So the test checks the pipeline: crops stored, both poolings, the
product fusion, the three EERs and the table; the published EERs need the released checkpoints.

Audio (documented subset, to keep the run short): the 5 ASVspoof2019 LA eval files of ``../shared``
(4 bona fide, 1 spoof) and the 30 s enrolment files of 4 of their claimed speakers, cut to their first
6 s, named by their first official enrolment utterance id. Trials: the 6 official eval SASV lines
among them (3 target, 2 non-target, 1 spoof); enrolment lists: the official lines restricted to the
utterance present.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.e2e._doubleroc import SYSTEMS, write_checkpoints
from tests.e2e._read import score_file, store_rows
from tests.test_readme_commands import readme_commands

pytestmark = pytest.mark.slow

SECTION = "## Reproduce the SASV2022 DoubleRoc table"
EVAL_UTTS = ("LA_E_4311043", "LA_E_8411060", "LA_E_8411845", "LA_E_9296375", "LA_E_9297933")
#: the 3 target speakers (LA_0016 also claims the spoof) and one speaker with only a non-target trial
SPEAKERS = ("LA_0016", "LA_0018", "LA_0023", "LA_0043")
ENROL_SECONDS = 6
PROTOCOLS = "trials/asvspoof2019_la"
TRIALS = "ASVspoof2019.LA.asv.eval.gi.trl.txt"
#: README output names: system short name per registry entry
SHORT = {"ecapa-taoruijie-c1024": "ecapa", "resnetse34v2-doubleroc": "resnet34",
         "res2net50v2-doubleroc": "res2net50", "res2next50-doubleroc": "res2next50"}
VARIANTS = {"none": "NoNorm", "l2": "L2Norm"}
CROP_SAMPLES = 48_240  # 3.015 s at 16 kHz, the default --crop-seconds


def _enrolment_audio(shared_dir: Path, flac: Path) -> dict[str, str]:
    """Each speaker's enrolment file, first ENROL_SECONDS s, as ``<first enrolment utt>.flac``."""
    import soundfile as sf

    enrol_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s/eval")
    utt_of = {}
    for spk in SPEAKERS:
        (src,) = sorted(enrol_dir.glob(f"{spk}_*.flac"))
        utt = src.stem.removeprefix(f"{spk}_")  # <speaker>_<first enrolment utt id>.flac
        wav, rate = sf.read(src, frames=ENROL_SECONDS * 16000, dtype="float32")
        sf.write(flac / f"{utt}.flac", wav, rate)
        utt_of[spk] = utt
    return utt_of


def _protocol_files(shared_dir: Path, ws: Path, utt_of: dict[str, str]) -> None:
    """The official eval trial and enrolment lines restricted to the files present."""
    for sex in ("female", "male"):
        name = f"ASVspoof2019.LA.asv.eval.{sex}.trn.txt"
        lines = [ln.split() for ln in shared_path(shared_dir, f"{PROTOCOLS}/{name}").read_text().splitlines()]
        kept = [f"{spk} {utt_of[spk]}\n" for spk, utts in lines if spk in utt_of and utt_of[spk] in utts.split(",")]
        (ws / name).write_text("".join(kept))
    official = shared_path(shared_dir, f"{PROTOCOLS}/{TRIALS}").read_text().splitlines()
    kept = [ln for ln in official if ln.split()[0] in utt_of and ln.split()[1] in EVAL_UTTS]
    (ws / TRIALS).write_text("\n".join(kept) + "\n")


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asvbench")
    proc = subprocess.run([str(exe), *shlex.split(command)[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, f"{command}\n{proc.stderr[-2000:]}"
    return proc


def _section_commands() -> list[str]:
    commands = readme_commands(only=SECTION)
    assert commands, f"README has no section {SECTION!r}"
    return commands


@pytest.fixture(scope="module")
def run(shared_dir, tmp_path_factory) -> dict:
    """The workspace after the README's AASIST command and every command of the DoubleRoc section."""
    ws = tmp_path_factory.mktemp("doubleroc")
    flac = ws / "ASVspoof2019_LA_eval" / "flac"
    flac.mkdir(parents=True)
    eval_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    for utt in EVAL_UTTS:
        (flac / f"{utt}.flac").symlink_to(eval_dir / f"{utt}.flac")
    _protocol_files(shared_dir, ws, _enrolment_audio(shared_dir, flac))
    write_checkpoints(shared_dir, ws)
    (ws / "AASIST.pth").symlink_to(shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth"))
    (cm_command,) = [c for c in readme_commands() if c.startswith("asvbench extract") and "cm_eval.tsv" in c.split()]
    _run(cm_command, ws)
    outputs = {command: _run(command, ws).stdout for command in _section_commands()}
    return {"ws": ws, "outputs": outputs}


def test_the_section_runs_every_system_with_both_poolings():
    commands = _section_commands()
    extracts = [c.split() for c in commands if c.startswith("asvbench extract")]
    assert sorted(w[w.index("--model") + 1] for w in extracts) == sorted(s.entry for s in SYSTEMS)
    assert all(w[w.index("--crops") + 1] == "5" for w in extracts)
    scores = [c.split() for c in commands if c.startswith("asvbench score")]
    assert sorted((w[w.index("--embeddings") + 1], w[w.index("--pool-norm") + 1]) for w in scores) == sorted(
        (f"emb_{s}/", norm) for s in SHORT.values() for norm in VARIANTS)
    fuses = [c.split() for c in commands if c.startswith("asvbench fuse")]
    assert len(fuses) == 8 and all(w[w.index("--method") + 1] == "product" for w in fuses)


def _trials(ws: Path) -> list[tuple[str, str, str]]:
    return [(ln.split()[0], ln.split()[1], ln.split()[3]) for ln in (ws / TRIALS).read_text().splitlines()]


def test_the_trial_list_is_the_official_lines_of_the_files_present(run):
    keys = [key for _, _, key in _trials(run["ws"])]
    assert (keys.count("target"), keys.count("nontarget"), keys.count("spoof")) == (3, 2, 1)


def _enrol_utts(ws: Path) -> dict[str, list[str]]:
    lines = [ln.split() for f in ("female", "male")
             for ln in (ws / f"ASVspoof2019.LA.asv.eval.{f}.trn.txt").read_text().splitlines()]
    return {spk: utts.split(",") for spk, utts in lines}


@pytest.mark.parametrize("entry", list(SHORT))
def test_each_utterance_stores_the_whole_and_5_crops(run, entry):
    import soundfile as sf

    store = store_rows(run["ws"] / f"emb_{SHORT[entry]}")
    assert len(store) == len(EVAL_UTTS) + len(SPEAKERS)
    assert all(rows.shape[0] == 6 for rows in store.values())
    for utt, rows in store.items():
        n = sf.info(str(run["ws"] / "ASVspoof2019_LA_eval" / "flac" / f"{utt}.flac")).frames
        # shorter than a crop: wrap-padded once, so all 5 crops start at 0 and are the same samples
        if n <= CROP_SAMPLES:
            np.testing.assert_allclose(rows[2:], np.broadcast_to(rows[1], rows[2:].shape), rtol=1e-5, atol=1e-6)
        else:
            assert not np.allclose(rows[1], rows[5], rtol=1e-3)


def _pooled_cosine(enrol_rows: np.ndarray, test_rows: np.ndarray, pool_norm: str) -> float:
    """DoubleRoc scoring: the mean of every row of the enrolment utterances and of the test
    utterance (rows unit-normalised first for L2Norm), then the cosine of the two means."""
    if pool_norm == "l2":
        enrol_rows = enrol_rows / np.linalg.norm(enrol_rows, axis=1, keepdims=True)
        test_rows = test_rows / np.linalg.norm(test_rows, axis=1, keepdims=True)
    e, t = enrol_rows.mean(axis=0), test_rows.mean(axis=0)
    return float(e @ t / (np.linalg.norm(e) * np.linalg.norm(t)))


@pytest.mark.parametrize("entry", list(SHORT))
def test_scores_are_the_pooled_cosines_of_the_stored_rows(run, entry):
    ws, short = run["ws"], SHORT[entry]
    store, enrol = store_rows(ws / f"emb_{short}"), _enrol_utts(ws)
    by_norm = {norm: score_file(ws / f"{short}_{variant.lower()}.tsv") for norm, variant in VARIANTS.items()}
    for spk, utt, _ in _trials(ws):
        enrol_rows = np.concatenate([store[u] for u in enrol[spk]])
        expected = {norm: _pooled_cosine(enrol_rows, store[utt], norm) for norm in VARIANTS}
        for norm, scores in by_norm.items():
            # float32 dot products of unit vectors (score --precision float32): 1e-6
            assert scores[(spk, utt)] == pytest.approx(expected[norm], abs=1e-6)
        observed = by_norm["none"][(spk, utt)] - by_norm["l2"][(spk, utt)]
        assert observed == pytest.approx(expected["none"] - expected["l2"], abs=2e-6)


def test_the_two_poolings_differ_where_the_row_norms_do(run):
    """NoNorm weighs each row by its norm, L2Norm weighs rows equally: with norms that differ by a
    third or more (rule-B ECAPA and Res2NeXt-50 here) the scores differ beyond float32 rounding; with
    rows of almost one norm (rule-B SE-ResNet-34, SE-Res2Net-50: within 3 %) they need not."""
    ws, checked = run["ws"], 0
    for short in SHORT.values():
        norms = np.linalg.norm(np.load(ws / f"emb_{short}" / "embeddings.npy"), axis=1)
        if norms.max() < 1.3 * norms.min():
            continue
        none, l2 = score_file(ws / f"{short}_nonorm.tsv"), score_file(ws / f"{short}_l2norm.tsv")
        assert max(abs(none[k] - l2[k]) for k in none) > 1e-5, short
        checked += 1
    assert checked >= 1


def _cm_probabilities(ws: Path) -> dict[str, float]:
    lines = (ws / "cm_eval.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    column = header.index("cm_prob_bonafide")
    return {ln.split("\t")[0]: float(ln.split("\t")[column]) for ln in lines[1:]}


def _roc_eer(positive: np.ndarray, negative: np.ndarray) -> float:
    """EER of the SASV 2022 baseline, written out: the FPR where 1 - FPR = TPR on the ROC whose points
    are one per distinct score (ties grouped), joined by straight lines from (0, 0) to (1, 1)."""
    thresholds = np.unique(np.concatenate([positive, negative]))[::-1]
    fpr = np.r_[0.0, [(negative >= t).mean() for t in thresholds]]
    tpr = np.r_[0.0, [(positive >= t).mean() for t in thresholds]]
    gap = 1 - fpr - tpr  # falls from 1 to -1 along the curve
    i = int(np.flatnonzero(gap <= 0)[0])
    if gap[i] == 0:
        return float(fpr[i])
    w = gap[i - 1] / (gap[i - 1] - gap[i])  # the crossing on the segment (i-1, i)
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1]))


def _fused_eers(fused: dict[tuple[str, str], float], trials) -> dict[str, float]:
    def of(label: str) -> np.ndarray:
        return np.array([fused[(spk, utt)] for spk, utt, key in trials if key == label])

    t, n, s = of("target"), of("nontarget"), of("spoof")
    return {"sasv_eer": _roc_eer(t, np.r_[n, s]), "sv_eer": _roc_eer(t, n), "spf_eer": _roc_eer(t, s)}


@pytest.mark.parametrize("entry", list(SHORT))
@pytest.mark.parametrize("pool_norm", list(VARIANTS))
def test_records_hold_the_eers_of_the_product_fusion(run, entry, pool_norm):
    ws, name = run["ws"], f"{SHORT[entry]}_{VARIANTS[pool_norm].lower()}"
    asv, cm, trials = score_file(ws / f"{name}.tsv"), _cm_probabilities(ws), _trials(ws)
    # DoubleRoc: P(bona fide) x (cosine + 1) / 2
    fused = {(spk, utt): cm[utt] * (asv[(spk, utt)] + 1) / 2 for spk, utt, _ in trials}
    record = json.loads((ws / f"{name}.json").read_text())
    assert record["fusion"]["method"] == "product" and record["variant"] == VARIANTS[pool_norm]
    for metric, value in _fused_eers(fused, trials).items():
        assert record["metrics"][metric] == pytest.approx(value, abs=1e-9), metric


def test_fuse_writes_the_product_of_the_two_score_files(run, tmp_path):
    """The fused scores themselves (`fuse --out`, beside the README's runs) for one system."""
    ws, name = run["ws"], "res2net50_l2norm"
    _run(f"asvbench fuse --asv {ws / name}.tsv --cm {ws / 'cm_eval.tsv'} --trials {ws / TRIALS} --method product "
         f"--out {tmp_path / 'sasv.txt'}", tmp_path)
    asv, cm = score_file(ws / f"{name}.tsv"), _cm_probabilities(ws)
    rows = [ln.split() for ln in (tmp_path / "sasv.txt").read_text().splitlines()]
    assert len(rows) == len(_trials(ws))
    for spk, utt, _, _, score in rows:
        assert float(score) == pytest.approx(cm[utt] * (asv[(spk, utt)] + 1) / 2, abs=1e-12)


def test_the_report_is_the_table_of_8_rows_and_3_eers(run):
    (report,) = [out for command, out in run["outputs"].items() if command.startswith("asvbench report")]
    header = next(ln for ln in report.splitlines() if ln.startswith("|") and "system" in ln.lower())
    for column in ("SASV-EER", "SV-EER", "SPF-EER"):
        assert column in header
    body = [ln for ln in report.splitlines() if ln.startswith("|") and not set(ln) <= set("|-: ")][1:]
    assert len(body) == 8
    for system in SYSTEMS:
        for variant in VARIANTS.values():
            (row,) = [ln for ln in body if re.search(rf"\b{re.escape(system.row)}\b.*\b{variant}\b", ln)]
            record = json.loads((run["ws"] / f"{SHORT[system.entry]}_{variant.lower()}.json").read_text())
            assert record["system"] == system.row
            cells = [c.strip().strip("*") for c in row.strip("|").split("|")]
            for metric in ("sasv_eer", "sv_eer", "spf_eer"):
                assert f"{100 * record['metrics'][metric]:.2f}" in cells, (metric, row)
