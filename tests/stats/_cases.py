"""Generated score files for the --ci / significance tests."""

from __future__ import annotations

import numpy as np

LABELS = {1: "target", 0: "nontarget", 2: "spoof"}


def write_pair(tmp_path, n_spk=16, gain=1.5, seed=0):
    """Two score files on one VoxCeleb-style list (16 speakers x 12 trials: 4 target, 8 non-target);
    B adds ``gain`` to the target scores. Returns A's scores and the target mask."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_spk):
        for k in range(12):
            tgt = k < 4
            other = s if tgt else (s + 1 + k) % n_spk
            rows.append((f"id1{s:04d}/v/1.wav", f"id1{other:04d}/w/{k}.wav", float(rng.normal(2.0 if tgt else 0.0)),
                         tgt))
    for name, extra in (("a.tsv", 0.0), ("b.tsv", gain)):
        (tmp_path / name).write_text("".join(f"{e} {t} {s + extra * g!r} {'target' if g else 'nontarget'}\n"
                                             for e, t, s, g in rows))
    return np.array([r[2] for r in rows]), np.array([r[3] for r in rows])


def write_sasv_case(tmp_path, n_spk=6, per=30, seed=0):
    """An ASVspoof-style SASV set: protocol (spk utt source key, speakers LA_0001..), ASV scores, CM store."""
    rng = np.random.default_rng(seed)
    lab = np.tile(np.array([1] * 8 + [0] * 12 + [2] * 10), n_spk)[: n_spk * per]
    spks = [f"LA_{1 + i // per:04d}" for i in range(lab.shape[0])]
    utts = [f"LA_E_{i:07d}" for i in range(lab.shape[0])]
    source = ["bonafide" if v != 2 else "A07" for v in lab]
    (tmp_path / "proto.txt").write_text("".join(f"{s} {u} {src} {LABELS[v]}\n"
                                                for s, u, src, v in zip(spks, utts, source, lab)))
    asv = rng.normal(np.where(lab == 0, -0.1, 0.6), 0.25)
    (tmp_path / "asv.tsv").write_text("enroll\ttest\tscore\tlabel\n" + "".join(
        f"{s}\t{u}\t{a!r}\t{LABELS[v]}\n" for s, u, a, v in zip(spks, utts, asv.tolist(), lab)))
    logit = rng.normal(np.where(lab == 2, -2.0, 2.0), 1.5)
    prob = 1 / (1 + np.exp(-logit))
    (tmp_path / "cm.tsv").write_text("utt\tcm_logit\tcm_prob_bonafide\n" + "".join(
        f"{u}\t{lg!r}\t{p!r}\n" for u, lg, p in zip(utts, logit.tolist(), prob.tolist())))
    return lab
