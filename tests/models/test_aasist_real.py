"""AASIST checkpoints on real ASVspoof 2019 LA eval audio, through the registry loaders.

Expected values are published: Dharva12/AASIST-Audio-Spoofing-Detection-Test ran the released
``AASIST.pth`` on these 5 files (``shared/models/reference_scores/dharva12_aasist_inference_results.txt``;
4-decimal values as quoted in issue 3); AASIST-L / ASVspoof5 values are from
``shared/docs/checkpoint-keys/reference_outputs_aasist.tsv`` (clovaai ``models/AASIST.py``, 3 decimals).
Labels: official ``ASVspoof2019.LA.cm.eval.trl.txt`` (LA_E_8411845 is spoof A10, the others bona fide).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asvbench.models.aasist import cm_scores
from asvbench.models.registry import get_model
from tests.conftest import shared_path
from tests.models._batch import padded_batch
from tests.models._la_eval import SPOOF, UTTS, read_la_eval

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("two_torch_threads")]

# bona fide logit (out[:, 1]) of the released AASIST.pth, published
AASIST_PUBLISHED = {"LA_E_4311043": 3.8465, "LA_E_8411060": 5.0664, "LA_E_8411845": -2.7513,
                    "LA_E_9296375": 6.3667, "LA_E_9297933": 5.6164}


@pytest.fixture(scope="module")
def la_eval(shared_dir) -> dict[str, torch.Tensor]:
    return read_la_eval(shared_dir)


def _reference_table(shared_dir) -> dict[tuple[str, str], float]:
    path = shared_path(shared_dir, "docs/checkpoint-keys/reference_outputs_aasist.tsv")
    table = {}
    for line in path.read_text().splitlines()[1:]:
        model, score, file = line.split("\t")
        table[(model, file.split("/")[-1].removesuffix(".flac"))] = float(score)
    return table


def _logits(lm, la_eval) -> torch.Tensor:
    batch, lengths = padded_batch([la_eval[u] for u in UTTS])
    logits = lm.forward(batch, lengths)
    assert logits.shape == (5, 2)
    return logits


def _scores(model_name: str, ckpt, la_eval) -> dict[str, float]:
    logits = _logits(get_model(model_name).loader(ckpt), la_eval)
    return {u: float(logits[i, 1]) for i, u in enumerate(UTTS)}


@pytest.fixture(scope="module")
def aasist(shared_dir):
    return get_model("aasist").loader(shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth"))


def test_aasist_reproduces_published_bonafide_logits(aasist, la_eval):
    logits = _logits(aasist, la_eval)
    scores = {u: float(logits[i, 1]) for i, u in enumerate(UTTS)}
    for u, expect in AASIST_PUBLISHED.items():
        assert scores[u] == pytest.approx(expect, abs=1e-3), u
    assert min(scores, key=scores.get) == SPOOF
    # softmax bona fide probability: same order, below 0.5 only for the spoof
    bona, prob = cm_scores(logits)
    assert np.argsort(bona.numpy()).tolist() == np.argsort(prob.numpy()).tolist()
    for i, u in enumerate(UTTS):
        assert (float(prob[i]) < 0.5) == (u == SPOOF), u
    # the zero-padded batch of 5 different lengths equals one-at-a-time (first and last file)
    for i in (0, 4):
        wav = la_eval[UTTS[i]]
        single = aasist.forward(wav.unsqueeze(0), torch.tensor([len(wav)]))
        assert torch.allclose(single[0], logits[i], atol=1e-4)


def test_aasist_l_loads_strictly_and_ranks_the_spoof_lowest(shared_dir, la_eval):
    ckpt = shared_path(shared_dir, "models/aasist_clovaai/AASIST-L.pth")
    scores = _scores("aasist-l", ckpt, la_eval)
    assert min(scores, key=scores.get) == SPOOF
    table = _reference_table(shared_dir)
    for u in UTTS:  # reference values have 3 decimals
        assert scores[u] == pytest.approx(table[("AASIST-L.pth", u)], abs=1.5e-3), u


def test_asvspoof5_aasist_matches_reference_outputs(shared_dir, la_eval):
    # ASVspoof 5 baseline: same architecture; it does not separate these 2019 files (all high)
    ckpt = shared_path(shared_dir, "models/aasist_asvspoof5/AASIST_ASVspoof5_best.pth")
    scores = _scores("aasist-asvspoof5", ckpt, la_eval)
    table = _reference_table(shared_dir)
    for u in UTTS:
        assert scores[u] == pytest.approx(table[("AASIST_ASVspoof5_best.pth", u)], abs=1.5e-3), u
