"""``asvbench cohort build``: speaker means of an embedding store (WeSpeaker ``tools/vector_mean.py``).

Each utterance is pooled like the trials (multi-row keys: mean of the rows, ``pool_norm``),
then utterances are averaged per speaker of ``utt2spk``
(:func:`asvbench.scoring.norm.build_cohort`). The result is a native store keyed by speaker,
usable as ``score --cohort``; every key of the store must have a speaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asvbench.errors import AsvbenchError


@dataclass
class CohortBuilt:
    out: Path
    n_utterances: int
    n_speakers: int
    dim: int


def build_speaker_means(store_path: str | Path, utt2spk_path: str | Path, out: str | Path, *,
                        pool_norm: str = "none", trust_pickle: bool = False) -> CohortBuilt:
    from asvbench.io.embeddings import load_embeddings, write_native_store
    from asvbench.io.enroll import read_utt2spk
    from asvbench.scoring.norm import build_cohort

    store = load_embeddings(store_path, trust_pickle=trust_pickle)
    mapping = read_utt2spk(utt2spk_path)
    unmapped = [k for k in store.keys if k not in mapping]
    if unmapped:
        raise AsvbenchError(f"{len(unmapped)} of {len(store.keys)} utterances of the store have no speaker in "
                            f"the utt2spk map, e.g. {unmapped[:3]}", where=utt2spk_path,
                            hint="give every utterance of the store a line 'utt speaker'")
    vectors = store.matrix if store.offsets is None else store.pooled(pool_norm=pool_norm)  # type: ignore[arg-type]
    cohort = build_cohort(store.keys, vectors, mapping, source=str(store_path))
    manifest = {"model": store.manifest.get("model"), "checkpoint_sha256": store.manifest.get("checkpoint_sha256"),
                "created_by": "asvbench cohort build", "cohort_of": str(store_path), "pool_norm": pool_norm,
                "per_speaker": True}
    write_native_store(out, cohort.names, cohort.matrix, manifest=manifest)
    return CohortBuilt(Path(out), len(store.keys), len(cohort.names), store.dim)
