"""``asvbench fuse --cm MODEL``: the CM scores of a trial list's test utterances, from a model.

``--cm`` names either a CM score file or a registered countermeasure (:func:`resolve_cm`). With
a model, the test utterances that the fusion uses are looked up in ``--audio`` (by key, as
``asvbench extract`` makes them), the ones not yet in the CM cache are scored through the
extraction engine (:func:`asvbench.extract.engine.run_extract`, on a wav.scp of just those
files), and the cache is rewritten with old and new scores together (:func:`score_with_cm`).

The cache is an ordinary CM score store (``utt cm_logit cm_prob_bonafide``) with the engine's
manifest beside it; it is reused only for the same model and checkpoint (sha256). An interrupted
extraction resumes on the next run from ``<cache>.new.work/``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from asvbench.errors import AsvbenchError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from asvbench.models.base import ModelEntry

_SHOW = 3


def cm_model_names() -> list[str]:
    """Names that ``--cm`` accepts as a model: CM entries and their families."""
    from asvbench.models.registry import list_models

    cms = [e for e in list_models() if e.kind == "cm"]
    return sorted({e.name for e in cms} | {e.family for e in cms})


def _lookup(name: str) -> "ModelEntry | None":
    from asvbench.models.registry import get_model

    try:
        return get_model(name)
    except AsvbenchError:
        return None


def resolve_cm(text: str) -> "Path | ModelEntry":
    """``--cm``: an existing file (a CM score file), else a registered CM model (entry or family name)."""
    path = Path(text)
    if path.is_file():
        return path
    names = ", ".join(cm_model_names())
    if path.is_dir():
        raise AsvbenchError("--cm is a directory", where=path,
                            hint=f"give a CM score file, or a CM model name ({names})")
    entry = _lookup(text)
    if entry is not None and entry.kind == "cm":
        return entry
    if entry is not None:
        raise AsvbenchError(f"--cm {text!r} is a speaker embedding model ({entry.name}), not a countermeasure",
                            hint=f"CM models: {names}")
    if any(sep in text for sep in "/\\") or path.suffix:
        raise AsvbenchError("--cm: CM score file not found", where=path,
                            hint=f"give an existing CM score file, or a CM model name ({names})")
    raise AsvbenchError(f"--cm {text!r} is neither a CM score file nor a registered CM model",
                        hint=f"CM models: {names} (see asvbench models list); or give the path of a CM score file")


def checked_entry(name: str, entry: "ModelEntry", checkpoint: Path | None) -> tuple["ModelEntry", str]:
    """The CM entry to run for ``--cm name`` with ``--checkpoint``, and how it was chosen: the file is
    identified from its keys and shapes as ``asvbench extract`` does (a family name such as
    ``aasist`` takes the entry the file is; an entry the file is not is an error naming what it is).
    Without a checkpoint: ``entry`` (the name's entry or its family's default), notice ""."""
    if checkpoint is None:
        return entry, ""
    from asvbench.models.registry import resolve_model

    def lookup(text: str) -> "ModelEntry":
        found = _lookup(text)
        if found is None:
            raise AsvbenchError(f"unknown CM model {text!r}", hint=f"CM models: {', '.join(cm_model_names())}")
        return found

    try:
        picked, how = resolve_model(name, checkpoint, lookup=lookup)
    except AsvbenchError as exc:  # the registry speaks of extract's --model
        hint = (exc.hint or "").replace(", or leave --model out (the checkpoint is identified)", "")
        raise AsvbenchError(exc.what, where=exc.where, hint=hint.replace("--model", "--cm") or None) from None
    if picked.kind != "cm":
        raise AsvbenchError(f"--checkpoint is {picked.name}, a speaker embedding model, not a countermeasure",
                            where=checkpoint, hint=f"give the checkpoint of a CM ({', '.join(cm_model_names())})")
    return picked, how


def default_cache(entry: "ModelEntry", *, out: Path | None, report: Path | None, asv: Path) -> Path:
    """``<stem>.cm-<model>.tsv`` beside ``--out``, else ``--report``, else the ASV score file."""
    base = out or report or asv
    return base.with_name(f"{base.stem}.cm-{entry.name}.tsv")


@dataclass
class CmRun:
    """The CM scores (the whole cache, indexed by utterance) and how they were obtained."""

    scores: "pd.DataFrame"
    cache: Path
    model: str
    checkpoint: str
    checkpoint_sha256: str
    n_needed: int
    n_without_audio: int
    n_reused: int
    n_computed: int
    n_failed: int
    n_resumed_batches: int = 0
    utterances_per_second: float = 0.0
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"model": self.model, "checkpoint": self.checkpoint, "checkpoint_sha256": self.checkpoint_sha256,
                "cache": str(self.cache), "n_needed": self.n_needed, "n_without_audio": self.n_without_audio,
                "n_reused": self.n_reused, "n_computed": self.n_computed, "n_failed": self.n_failed,
                "n_resumed_batches": self.n_resumed_batches}

    def summary(self) -> str:
        text = (f"CM {self.model}: {self.n_reused + self.n_computed} of {self.n_needed} test utterances scored "
                f"({self.n_reused} reused from {self.cache}, {self.n_computed} computed")
        if self.n_computed:
            text += f" at {self.utterances_per_second:.1f} utt/s"
        if self.n_resumed_batches:
            text += f", {self.n_resumed_batches} batches resumed"
        text += ")"
        if self.n_failed:
            text += f"; {self.n_failed} failed, see {_failures(self.cache)}"
        if self.n_without_audio:
            text += f"; {self.n_without_audio} have no audio in --audio"
        return text


def _failures(cache: Path) -> Path:
    from asvbench.extract.store import failures_path

    return failures_path(cache)


def _examples(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values[:_SHOW])


def audio_for(needed: list[str], audio: Path, key_style: str, *, allow_missing: bool) -> dict[str, str]:
    """``{utterance: audio path}`` of the ``needed`` utterances found in ``audio`` (keys by
    ``key_style``). Utterances without audio: an error, or with ``allow_missing`` left out."""
    from asvbench.io.audio import list_audio

    paths = {item.key: item.path for item in list_audio(audio, key_style)}
    missing = [u for u in needed if u not in paths]
    found = {u: paths[u] for u in needed if u in paths}
    if missing and (not allow_missing or not found):
        some = next(iter(paths))
        raise AsvbenchError(
            f"{len(missing)} of {len(needed)} test utterances of the trial list have no audio in --audio "
            f"(e.g. {_examples(missing)}; an audio key there is {some!r})", where=audio,
            hint=f"check --audio and --key-style (now {key_style!r})"
                 + ("" if found else "; no test utterance matched, so --allow-missing cannot help")
                 + ("" if allow_missing or not found else ", or pass --allow-missing to drop those trials (counted)"))
    return found


def _check_cache(cache: Path, entry: "ModelEntry", sha: str) -> "pd.DataFrame | None":
    """The cached scores, or None when there is no cache yet; a cache of another model or
    checkpoint, or a file that is no cache, is an error (never silently replaced)."""
    from asvbench.extract.store import cm_manifest_path
    from asvbench.io.scores import read_cm_scores

    if not cache.exists():
        return None
    manifest_file = cm_manifest_path(cache)
    hint = "remove it, or choose another --cm-cache"
    if cache.is_dir() or not manifest_file.is_file():
        raise AsvbenchError("the CM cache path holds something that is not a CM score cache (no manifest beside it)",
                            where=cache, hint=hint)
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if manifest.get("model") != entry.name or manifest.get("checkpoint_sha256") != sha:
        raise AsvbenchError(
            f"the CM cache holds scores of model {manifest.get('model')!r} (checkpoint sha256 "
            f"{str(manifest.get('checkpoint_sha256'))[:12]}...), not of {entry.name!r} (sha256 {sha[:12]}...)",
            where=cache, hint=hint)
    return read_cm_scores(cache)


def score_with_cm(entry: "ModelEntry", needed: list[str], *, audio: Path, checkpoint: Path | None, key_style: str,
                  cache: Path, allow_missing: bool = False, device: str = "cpu") -> CmRun:
    """CM scores of the ``needed`` utterances: reused from ``cache``, the rest computed and added to it."""
    from asvbench._hashing import sha256_file
    from asvbench.extract.config import ExtractConfig
    from asvbench.extract.engine import resolve_checkpoint

    if not cache.parent.is_dir():
        raise AsvbenchError("the CM cache's directory does not exist", where=cache.parent,
                            hint="create it, or choose another --cm-cache")
    found = audio_for(needed, audio, key_style, allow_missing=allow_missing)
    cfg = ExtractConfig(model=entry.name, audio=audio, out=cache, checkpoint=checkpoint, key_style=key_style,
                        device=device, progress=sys.stderr.isatty())
    ckpt = resolve_checkpoint(cfg, entry)
    sha = sha256_file(ckpt)
    cached = _check_cache(cache, entry, sha)
    todo = [u for u in found if cached is None or u not in cached.index]
    run = CmRun(scores=cached, cache=cache, model=entry.name, checkpoint=str(ckpt), checkpoint_sha256=sha,
                n_needed=len(needed), n_without_audio=len(needed) - len(found), n_reused=len(found) - len(todo),
                n_computed=0, n_failed=0)
    if todo:
        _extract_into_cache(run, cfg, entry, {u: found[u] for u in todo})
    if run.scores is None:  # nothing cached and nothing could be scored
        import pandas as pd

        run.scores = pd.DataFrame({"cm_logit": [], "cm_prob_bonafide": []}, index=pd.Index([], name="utt"))
    return run


def _extract_into_cache(run: CmRun, cfg, entry: "ModelEntry", todo: dict[str, str]) -> None:
    """Score ``todo`` into ``<cache>.new`` with the engine, then rewrite the cache with the old and
    new scores (atomically) and remove the scratch files. Utterances the engine could not score
    are listed in ``<cache>.failures.tsv`` (they are tried again on the next run)."""
    from dataclasses import replace

    from asvbench.extract.engine import run_extract
    from asvbench.extract.store import cm_manifest_path, failures_path, work_dir_for

    cache = run.cache
    scratch = cache.with_name(cache.name + ".new")
    failures_path(scratch).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="asvbench-cm-") as tmp:
        scp = Path(tmp) / "wav.scp"
        scp.write_text("".join(f"{u} {Path(p).absolute()}\n" for u, p in todo.items()), encoding="utf-8")
        try:
            # overwrite: the scratch store and its work directory are this cache's own
            result = run_extract(replace(cfg, audio=scp, out=scratch, overwrite=True), entry=entry)
        except AsvbenchError:
            if not failures_path(scratch).is_file():
                raise
            result = None  # not one utterance could be scored; the engine listed why
            shutil.rmtree(work_dir_for(scratch), ignore_errors=True)
    if result is not None:
        _merge_into_cache(run, scratch, cfg)
        run.n_computed, run.n_failed = result.n_done, result.n_failed
        run.n_resumed_batches, run.utterances_per_second = result.n_resumed_batches, result.utterances_per_second
        run.notices = list(result.notices)
    else:
        run.n_failed = len(todo)
    if failures_path(scratch).is_file():
        shutil.move(failures_path(scratch), failures_path(cache))
    else:
        failures_path(cache).unlink(missing_ok=True)
    for path in (scratch, cm_manifest_path(scratch)):
        path.unlink(missing_ok=True)


def _merge_into_cache(run: CmRun, scratch: Path, cfg) -> None:
    import numpy as np
    import pandas as pd

    from asvbench._atomic import atomic_write_text
    from asvbench.extract.store import cm_manifest_path
    from asvbench.io.scores import read_cm_scores, write_cm_scores

    new = read_cm_scores(scratch)
    merged = new if run.scores is None else pd.concat([run.scores[~run.scores.index.isin(new.index)], new])
    merged = merged.sort_index()
    write_cm_scores(run.cache, merged.index.tolist(), merged["cm_logit"].to_numpy(np.float64),
                    merged["cm_prob_bonafide"].to_numpy(np.float64))
    manifest = json.loads(cm_manifest_path(scratch).read_text(encoding="utf-8"))
    manifest.update(audio=str(cfg.audio), n_utterances=len(merged), cached_by="asvbench fuse")
    atomic_write_text(cm_manifest_path(run.cache), json.dumps(manifest, indent=2) + "\n")
    run.scores = read_cm_scores(run.cache)
