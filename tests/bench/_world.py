"""A tiny benchmark world: 3 speakers x 4 synthetic utterances, the tiny model, lists and maps.

``spkS/uttNNN`` (speaker = N // 4, as :func:`tests.extract._tiny.write_corpus` names them); the
enrolment map makes each speaker's first two utterances its model; ``etrials.txt`` scores each
model against the last two utterances of every speaker (kaldi format).
"""

from __future__ import annotations

from pathlib import Path

from tests.extract._tiny import save_checkpoint, write_corpus

N_SPK, PER_SPK = 3, 4


def utt(i: int) -> str:
    return f"spk{i // PER_SPK}/utt{i:03d}"


def make_world(root: Path) -> dict[str, Path]:
    write_corpus(root / "audio", [8000 + 400 * i for i in range(N_SPK * PER_SPK)])
    ckpt = save_checkpoint(root / "tiny.pt")
    (root / "utt2spk").write_text("".join(f"{utt(i)} spk{i // PER_SPK}\n" for i in range(N_SPK * PER_SPK)))
    (root / "enroll.map").write_text("".join(
        f"spk{s} {utt(PER_SPK * s)},{utt(PER_SPK * s + 1)}\n" for s in range(N_SPK)))
    (root / "etrials.txt").write_text("".join(
        f"spk{s} {utt(i)} {'target' if i // PER_SPK == s else 'nontarget'}\n"
        for s in range(N_SPK) for i in range(N_SPK * PER_SPK) if i % PER_SPK >= 2))
    return {"root": root, "audio": root / "audio", "ckpt": ckpt, "utt2spk": root / "utt2spk",
            "enroll_map": root / "enroll.map", "etrials": root / "etrials.txt"}


def tiny_registry(monkeypatch) -> None:
    """``--model tiny`` resolves to the test model; other names go to the real registry."""
    from asvbench.extract import engine
    from tests.extract._tiny import tiny_entry

    real = engine.resolve_entry
    monkeypatch.setattr(engine, "resolve_entry", lambda name: tiny_entry() if name == "tiny" else real(name))
