"""The real NII LFCC-LCNN-LSTM toy checkpoint (``../shared/models/lcnn_nii_toy/trained_network.pt``)
on the 5 ASVspoof 2019 LA eval files, and the CM pipeline as a user runs it: ``asvbench extract``
writes a CM score store, ``metrics --protocol`` evaluates it, ``fuse`` combines it with ASV scores
(GE2E embeddings, ``score``) on the 26 official eval trials of these files.

The checkpoint was trained on NII's toy ASVspoof 2021 subset only: this is a loader and pipeline
test, not an anti-spoofing benchmark. Labels come from the official ``ASVspoof2019.LA.cm.eval.trl.txt``
(LA_E_8411845 is spoof A10, the other four bona fide).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.frontends.lfcc import dct_matrix, linear_filterbank
from asvbench.models.base import load_state_dict_file
from asvbench.models.layers import count_parameters
from asvbench.models.registry import get_model, resolve_model
from tests.conftest import shared_path
from tests.models._batch import padded_batch
from tests.models._la_eval import SPOOF, UTTS, read_la_eval

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("two_torch_threads")]

NAME = "lcnn-nii-toy"
CKPT = "models/lcnn_nii_toy/trained_network.pt"


@pytest.fixture(scope="module")
def ckpt(shared_dir) -> Path:
    return shared_path(shared_dir, CKPT)


@pytest.fixture(scope="module")
def la_eval(shared_dir) -> dict[str, torch.Tensor]:
    return read_la_eval(shared_dir)


def _invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_real_checkpoint_loads_strictly_with_its_own_lfcc_constants(ckpt, la_eval):
    entry = get_model(NAME)
    assert hashlib.sha256(ckpt.read_bytes()).hexdigest() == entry.sha256  # SOURCES.md sha256
    raw = load_state_dict_file(ckpt)  # a plain state dict (weights_only=True)
    model = entry.loader(ckpt)
    assert list(raw) == list(model.module.state_dict())  # 60 keys, same order, no prefix
    assert count_parameters(model.module) == 275_273
    assert resolve_model(None, ckpt)[0].name == NAME
    fb, dct = raw["m_frontend.0.lfcc_fb"], raw["m_frontend.0.l_dct.weight"]
    # README: the stored constants are not bit-equal to torch 2.11's (max |diff| 1.3e-6 and 3.0e-8)
    assert 0 < float((fb - linear_filterbank()).abs().max()) <= 1.4e-6
    assert float((dct - dct_matrix(20)).abs().max()) <= 1e-7
    # the loaded model computes its features with the stored constants: the score equals the network
    # applied to LFCCs made with the checkpoint's filterbank and DCT (the module's own parameters)
    wav = la_eval[UTTS[0]]
    with torch.no_grad():
        expected = model.module(model.module.m_frontend[0](wav)[None])
    assert torch.equal(model.forward(wav[None], torch.tensor([len(wav)]))[0, 1], expected[0])


def test_scores_are_finite_batched_equals_single_and_inference_form_agrees(ckpt, la_eval):
    model = get_model(NAME).loader(ckpt)
    batch, lengths = padded_batch([la_eval[u] for u in UTTS])  # 1.7 .. 4.7 s: five lengths, one batch
    logits = model.forward(batch, lengths)
    assert logits.shape == (5, 2) and bool(torch.isfinite(logits).all())
    fused = model.for_inference()
    assert "BatchNorm folded" in fused.optimisations
    for i, u in enumerate(UTTS):
        single = model.forward(la_eval[u][None], torch.tensor([len(la_eval[u])]))
        assert torch.equal(single[0], logits[i]), u  # rows of one length run alone: exactly the same
        assert float(fused.forward(la_eval[u][None], torch.tensor([len(la_eval[u])]))[0, 1]) == pytest.approx(
            float(logits[i, 1]), abs=1e-4), u  # scores of magnitude 5-25; measured <= 7.6e-6


@pytest.mark.slow
def test_cm_pipeline_extract_metrics_and_fuse(shared_dir, ckpt, tmp_path):
    eval_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    cm_proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.cm.eval.trl.txt")
    asv_proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.asv.eval.gi.trl.txt")
    enrol_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s/eval")
    ge2e = shared_path(shared_dir, "models/ge2e_resemblyzer/pretrained.pt")
    common = ["--key-style", "stem", "--no-progress", "--num-workers", "0", "--threads", "2"]

    # 1. extract: a CM score store 'utt cm_logit cm_prob_bonafide'
    _invoke("extract", "--model", NAME, "--checkpoint", ckpt, "--audio", eval_dir, "--out", tmp_path / "cm.tsv", *common)
    from asvbench.io.scores import read_cm_scores

    cm = read_cm_scores(tmp_path / "cm.tsv")
    assert sorted(cm.index) == sorted(UTTS)
    assert np.isfinite(cm["cm_logit"].to_numpy()).all()
    for u in UTTS:  # logits [0, s]: the stored probability is the reference's sigmoid(s)
        assert cm.loc[u, "cm_prob_bonafide"] == pytest.approx(1 / (1 + math.exp(-cm.loc[u, "cm_logit"])), abs=1e-6)
    # the toy model ranks the spoof (protocol label) below the four bona fide files
    assert cm["cm_logit"].idxmin() == SPOOF

    # 2. metrics --protocol: the official CM protocol lines of these five files
    lines = [ln for ln in cm_proto.read_text().splitlines() if ln.split()[1] in UTTS]
    assert len(lines) == 5
    (tmp_path / "cm_proto.txt").write_text("\n".join(lines) + "\n")
    report = json.loads(_invoke("metrics", tmp_path / "cm.tsv", "--protocol", tmp_path / "cm_proto.txt", "--json").stdout)
    assert (report["n_bonafide"], report["n_spoof"]) == (4, 1)
    assert report["eer"] == 0.0  # the spoof below every bona fide file: a threshold separates them
    assert [row["attack"] for row in report["per_attack"]] == ["A10", "pooled"]

    # 3. fuse with GE2E ASV scores on the 26 official eval trials of these files (enrolment cut to 10 s)
    trials = [ln for ln in asv_proto.read_text().splitlines() if ln.split()[1] in UTTS]
    assert len(trials) == 26
    (tmp_path / "trials.txt").write_text("\n".join(trials) + "\n")
    audio = tmp_path / "audio"
    audio.mkdir()
    enroll_lines = []
    for spk in sorted({ln.split()[0] for ln in trials}):
        (src,) = sorted(enrol_dir.glob(f"{spk}_*.flac"))
        (audio / src.name).symlink_to(src)
        enroll_lines.append(f"{spk} {src.stem}")
    for u in UTTS:
        (audio / f"{u}.flac").symlink_to(eval_dir / f"{u}.flac")
    (tmp_path / "enroll.map").write_text("\n".join(enroll_lines) + "\n")
    _invoke("extract", "--model", "ge2e-resemblyzer", "--checkpoint", ge2e, "--audio", audio, "--out", tmp_path / "emb",
            "--max-seconds", "10", *common)
    _invoke("score", "--trials", tmp_path / "trials.txt", "--embeddings", tmp_path / "emb", "--enroll-map",
            tmp_path / "enroll.map", "--out", tmp_path / "asv.tsv")
    fused = json.loads(_invoke("fuse", "--asv", tmp_path / "asv.tsv", "--cm", tmp_path / "cm.tsv", "--cm-model", NAME,
                               "--trials", tmp_path / "trials.txt", "--method", "product", "--out",
                               tmp_path / "sasv.txt", "--json").stdout)
    assert fused["counts"]["trials_kept"] == 26
    rows = [ln.split() for ln in (tmp_path / "sasv.txt").read_text().splitlines()]
    assert len(rows) == 26 and all(len(r) == 5 for r in rows)
    scores = {(r[0], r[1]): float(r[4]) for r in rows}
    targets = [scores[(r[0], r[1])] for r in rows if r[3] == "target"]
    # product fusion: the spoof's bona fide probability sigmoid(s) is near 0, so its fused score falls
    # below every target's (GE2E cosines are positive: non-negative embeddings)
    assert scores[("LA_0016", SPOOF)] < min(targets)
