"""Concatenated enrolment audio (``--enroll-mode concat``, ``asvbench enroll-concat``).

Each enrolment model's utterances are decoded, down-mixed and resampled to the model's rate
(:func:`asvbench.io.audio.load_for_model`, as ``extract`` does), joined end to end in the
enrolment map's order, and written as one float32 WAV per model at that rate. ``extract`` then
reads it unchanged (no second resampling, float32 samples kept exactly), so the model's
embedding is the embedding of the concatenated waveform. The folder holds ``wav.scp``
(``model path``) and ``concat.json`` (the sources of each file): a rerun with the same sources
keeps the files already written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asvbench.errors import AsvbenchError

SCP = "wav.scp"
MANIFEST = "concat.json"


@dataclass
class ConcatResult:
    out: Path
    scp: Path
    n_models: int
    n_written: int
    skipped: dict[str, list[str]] = field(default_factory=dict)  # model -> utterances without audio


def concat_enrolment(enroll_map: Mapping[str, Sequence[str]], audio: Mapping[str, str], sample_rate: int,
                     out: str | Path, *, allow_missing: bool = False) -> ConcatResult:
    """Write one concatenated WAV per model of ``enroll_map`` (utterance keys -> ``audio`` paths)."""
    import numpy as np
    import soundfile as sf

    from asvbench._atomic import atomic_path, atomic_write_text
    from asvbench.io.audio import load_for_model

    out = Path(out)
    sources, skipped = _sources(enroll_map, audio, allow_missing)
    manifest = {"sample_rate": sample_rate, "sources": sources}
    manifest_path = out / MANIFEST
    same = manifest_path.is_file() and json.loads(manifest_path.read_text(encoding="utf-8")) == manifest
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for model, paths in sources.items():
        target = out / f"{_file_name(model)}.wav"
        if same and target.is_file():
            continue
        wav = np.concatenate([load_for_model(p, sample_rate)[0] for p in paths]).astype(np.float32)
        with atomic_path(target) as tmp:
            sf.write(str(tmp), wav, sample_rate, subtype="FLOAT", format="WAV")
        written += 1
    scp = out / SCP
    atomic_write_text(scp, "".join(f"{m} {out.resolve() / _file_name(m)}.wav\n" for m in sources))
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    return ConcatResult(out, scp, len(sources), written, skipped)


def _sources(enroll_map: Mapping[str, Sequence[str]], audio: Mapping[str, str],
             allow_missing: bool) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    sources: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    for model in sorted(enroll_map):
        utts = list(enroll_map[model])
        missing = [u for u in utts if u not in audio]
        if missing:
            skipped[model] = missing
        present = [audio[u] for u in utts if u in audio]
        if present and (allow_missing or not missing):
            sources[model] = present
    if skipped and not allow_missing:
        model, utts = next(iter(skipped.items()))
        raise AsvbenchError(f"{len(skipped)} enrolment models lack audio for some utterances, e.g. model "
                            f"{model!r}: {utts[:3]}", hint="add the audio, or pass --allow-missing to "
                            "concatenate what is there (models with no audio at all are left out)")
    return sources, skipped


def _file_name(model: str) -> str:
    return model.replace(os.sep, "__").replace("/", "__")
