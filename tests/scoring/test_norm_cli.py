"""``asvbench score --norm ...``: end to end on a small store, against the per-trial loop of test_norm."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.io.embeddings import write_native_store
from tests.scoring.test_norm import _loop_norm


def _setup(tmp_path, n_utt=12, n_cohort_utt=30, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    utts = [f"u{i}" for i in range(n_utt)]
    emb = rng.standard_normal((n_utt, dim)) + 0.5
    write_native_store(tmp_path / "eval", utts, emb)
    coh_keys = [f"c{i}" for i in range(n_cohort_utt)]
    coh = rng.standard_normal((n_cohort_utt, dim)) + 0.5
    write_native_store(tmp_path / "cohort", coh_keys, coh)
    (tmp_path / "utt2spk").write_text("".join(f"c{i} s{i % 10}\n" for i in range(n_cohort_utt)))
    pairs = [(i, j) for i in range(n_utt) for j in range(n_utt) if i < j][:40]
    lines = [f"u{i} u{j} {'target' if (i + j) % 3 == 0 else 'nontarget'}\n" for i, j in pairs]
    (tmp_path / "trials.txt").write_text("".join(lines))
    return emb.astype(np.float32).astype(np.float64), coh.astype(np.float32).astype(np.float64), pairs


def test_score_asnorm_per_speaker_cohort_with_centring(tmp_path):
    emb, coh, pairs = _setup(tmp_path)
    center = emb.mean(axis=0)
    np.save(tmp_path / "center.npy", center)
    result = CliRunner().invoke(app, [
        "score", "--trials", str(tmp_path / "trials.txt"), "--embeddings", str(tmp_path / "eval"),
        "--out", str(tmp_path / "scores.tsv"), "--center", str(tmp_path / "center.npy"),
        "--norm", "asnorm", "--cohort", str(tmp_path / "cohort"), "--cohort-utt2spk", str(tmp_path / "utt2spk"),
        "--top-k", "4",
    ])
    assert result.exit_code == 0, result.output
    got = pd.read_csv(tmp_path / "scores.tsv", sep="\t")["score"].to_numpy()
    # reference: centre everything, average cohort utterances c_i per speaker s_(i mod 10)
    spk_means = np.stack([coh[[i for i in range(coh.shape[0]) if i % 10 == s]].mean(axis=0) for s in range(10)])
    want = _loop_norm(emb - center, emb - center, spk_means - center, pairs, "asnorm", 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_score_snorm_and_bad_top_k(tmp_path):
    emb, coh, pairs = _setup(tmp_path, seed=1)
    base = ["score", "--trials", str(tmp_path / "trials.txt"), "--embeddings", str(tmp_path / "eval"),
            "--out", str(tmp_path / "scores.tsv"), "--cohort", str(tmp_path / "cohort")]
    result = CliRunner().invoke(app, [*base, "--norm", "snorm"])
    assert result.exit_code == 0, result.output
    got = pd.read_csv(tmp_path / "scores.tsv", sep="\t")["score"].to_numpy()
    np.testing.assert_allclose(got, _loop_norm(emb, emb, coh, pairs, "snorm", None), rtol=1e-5, atol=1e-5)
    bad = CliRunner().invoke(app, [*base, "--norm", "asnorm", "--top-k", "300"])
    assert bad.exit_code == 2
    assert "30 entries, fewer than top-k = 300" in " ".join(bad.output.split())
    no_cohort = CliRunner().invoke(app, [*base[:-2], "--norm", "znorm"])
    assert no_cohort.exit_code == 2 and "needs a cohort" in " ".join(no_cohort.output.split())
