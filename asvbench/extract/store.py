"""Output side of the engine: the resumable work directory, final stores, shards and merging.

Work directory (``<out>.work/``, beside the output)
---------------------------------------------------
``plan.json`` (the run's fingerprint and start time), ``chunk-NNNNNN.npz`` (the results of
planned batch N, written atomically: a chunk exists completely or not at all) and
``journal.jsonl`` (one line per finished chunk, for people). A re-run with the same
fingerprint skips the batches whose chunk exists; when every chunk exists the output is
assembled from them in key order, so an interrupted-and-resumed run writes the same bytes
as an uninterrupted one (``manifest.json`` differs only in ``created``). The work directory
is removed once the output is written.

Outputs
-------
* embeddings: a native store (:func:`asvbench.io.embeddings.write_native_store`), keys in
  sorted order; with ``--crops N`` each key owns ``1 + N`` rows (row 0: full utterance).
* CM scores: :func:`asvbench.io.scores.write_cm_scores` (bona fide logit ``logits[:, 1]`` and
  softmax bona fide probability), plus ``<out>.manifest.json``.
* failures: ``<out>.failures.tsv`` (``key path reason``), written when any utterance failed.

Shards (``--shard i/N``, torchrun ranks)
----------------------------------------
Shard ``i`` of ``N`` writes a native store of its rows (for CM models: the two logits) at
``<out>.shard-i-of-N`` with its failures in the manifest. :func:`merge_shards` checks that all
``N`` exist and agree (model, checkpoint sha256, settings), concatenates them in key order,
writes the final output as a single run would, and removes the shard stores. It runs by
itself when the last shard of a job array finishes, on rank 0 under torchrun, or by hand with
``asvbench extract --merge --out STORE``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asvbench._atomic import atomic_path, atomic_write_text
from asvbench.errors import AsvbenchError
from asvbench.extract.config import Failure

CHUNK_RE = re.compile(r"^chunk-(\d{6})\.npz$")
SHARD_RE = re.compile(r"\.shard-(\d+)-of-(\d+)$")
FAILURES_HEADER = "key\tpath\treason\n"
#: manifest fields that must agree between shards (and between a run and the store it replaces)
IDENTITY_FIELDS = ("model", "checkpoint_sha256", "kind", "crops", "max_seconds", "bucketing", "dtype", "key_style")


def work_dir_for(out: Path) -> Path:
    return out.parent / f"{out.name}.work"


def shard_path(out: Path, shard: tuple[int, int]) -> Path:
    i, n = shard
    return out.parent / f"{out.name}.shard-{i}-of-{n}"


def failures_path(out: Path) -> Path:
    return out.parent / f"{out.name}.failures.tsv"


def cm_manifest_path(out: Path) -> Path:
    return out.parent / f"{out.name}.manifest.json"


# ----------------------------------------------------------------------------- work directory


class WorkDir:
    """Chunk files + journal of one (shard of a) run; see the module docstring."""

    def __init__(self, path: Path):
        self.path = path
        self.discarded: list[int] = []  # damaged chunks removed when resuming (redone)

    def open(self, fingerprint: str, info: dict[str, Any], *, overwrite: bool) -> bool:
        """Create or reuse; True when resuming. A work dir of another run: error unless ``overwrite``."""
        plan = self.path / "plan.json"
        if plan.is_file():
            try:
                old = json.loads(plan.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                old = {}
            if old.get("fingerprint") == fingerprint:
                self._clean_temporaries()
                self.discarded = self._discard_damaged()
                return True
            if not overwrite:
                raise AsvbenchError(
                    "an unfinished extraction with other settings or inputs is in the work directory",
                    where=self.path,
                    hint="re-run it with its original options to finish it, or pass --overwrite to discard it",
                )
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        meta = dict(info, fingerprint=fingerprint, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        atomic_write_text(plan, json.dumps(meta, indent=2) + "\n")
        return False

    def _discard_damaged(self) -> list[int]:
        """Remove chunks that do not read back whole (truncated or overwritten after a crash): their
        batches are planned again and redone."""
        damaged = []
        for idx in sorted(self.done()):
            try:
                chunk = self.read_chunk(idx)
                counts = chunk["counts"]
                whole = counts.shape[0] == chunk["keys"].shape[0] and int(counts.sum()) == chunk["rows"].shape[0]
            except Exception:  # noqa: BLE001 - whatever numpy / zipfile raise on a damaged file
                whole = False
            if not whole:
                self.chunk_path(idx).unlink(missing_ok=True)
                damaged.append(idx)
        return damaged

    def _clean_temporaries(self) -> None:
        for p in self.path.glob(".chunk-*.tmp"):  # left by a kill -9 during a chunk write
            p.unlink(missing_ok=True)

    @property
    def created(self) -> str:
        return json.loads((self.path / "plan.json").read_text(encoding="utf-8")).get("created", "")

    def chunk_path(self, idx: int) -> Path:
        return self.path / f"chunk-{idx:06d}.npz"

    def done(self) -> set[int]:
        return {int(m.group(1)) for p in self.path.iterdir() if (m := CHUNK_RE.match(p.name))}

    def write_chunk(self, idx: int, keys: Sequence[str], rows: Sequence[np.ndarray], seconds: Sequence[float],
                    failures: Sequence[Failure], notices: Sequence[str]) -> None:
        counts = np.array([r.shape[0] for r in rows], dtype=np.int64)
        matrix = np.concatenate(rows, axis=0).astype(np.float32) if rows else np.zeros((0, 0), np.float32)
        with atomic_path(self.chunk_path(idx)) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, keys=np.array(keys, dtype=str), counts=counts, rows=matrix,
                     seconds=np.array(seconds, dtype=np.float64),
                     fail_key=np.array([f.key for f in failures], dtype=str),
                     fail_path=np.array([f.path for f in failures], dtype=str),
                     fail_reason=np.array([f.reason for f in failures], dtype=str),
                     notices=np.array(list(notices), dtype=str))
            handle.flush()
            os.fsync(handle.fileno())
        with open(self.path / "journal.jsonl", "a", encoding="utf-8") as journal:
            journal.write(json.dumps({"chunk": idx, "done": len(keys), "failed": len(failures),
                                      "time": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")

    def read_chunk(self, idx: int) -> dict[str, np.ndarray]:
        with np.load(self.chunk_path(idx), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    def collect(self, n_batches: int) -> "Collected":
        out = Collected()
        for idx in range(n_batches):
            c = self.read_chunk(idx)
            start = 0
            for key, count in zip(c["keys"].tolist(), c["counts"].tolist()):
                out.rows[key] = c["rows"][start : start + count]
                start += count
            out.failures.extend(Failure(k, p, r) for k, p, r in
                                zip(c["fail_key"].tolist(), c["fail_path"].tolist(), c["fail_reason"].tolist()))
            out.notices.extend(c["notices"].tolist())
        return out

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Collected:
    def __init__(self) -> None:
        self.rows: dict[str, np.ndarray] = {}
        self.failures: list[Failure] = []
        self.notices: list[str] = []

    def stacked(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        keys = sorted(self.rows)
        if not keys:
            return [], np.zeros((0, 0), np.float32), np.zeros(1, np.int64)
        blocks = [self.rows[k] for k in keys]
        counts = np.array([b.shape[0] for b in blocks], dtype=np.int64)
        return keys, np.concatenate(blocks, axis=0), np.concatenate(([0], np.cumsum(counts)))


# ----------------------------------------------------------------------------- outputs


def check_output(out: Path, identity: dict[str, Any], kind: str, *, overwrite: bool) -> None:
    """Refuse to replace an output that holds another model's results, unless ``overwrite``."""
    if overwrite or not out.exists():
        return
    from asvbench.io.embeddings import read_manifest

    if out.is_dir():
        old_kind, old = "embedding", read_manifest(out)
        what = "a directory that is not an asvbench store"
    else:
        manifest_file = cm_manifest_path(out)
        old_kind = "cm"
        old = json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else None
        what = "a file not written by asvbench extract (no manifest beside it)"
    if old is None:
        raise AsvbenchError(f"the output already exists and is {what}", where=out,
                            hint="choose another --out, or pass --overwrite to replace it")
    if old_kind != kind:
        held = {"embedding": "an embedding store", "cm": "countermeasure scores"}
        raise AsvbenchError(
            f"the output already holds {held[old_kind]} of model {old.get('model')!r}, and "
            f"{identity.get('model')!r} writes {held[kind]}",
            where=out, hint="choose another --out, or pass --overwrite to replace it",
        )
    differs = [f for f in ("model", "checkpoint_sha256") if old.get(f) != identity.get(f)]
    if differs:
        raise AsvbenchError(
            f"the output already holds results of model {old.get('model')!r} "
            f"(checkpoint sha256 {str(old.get('checkpoint_sha256'))[:12]}...), not {identity.get('model')!r} "
            f"(sha256 {str(identity.get('checkpoint_sha256'))[:12]}...)",
            where=out, hint="choose another --out, or pass --overwrite to replace it",
        )


def write_failures(out: Path, failures: Sequence[Failure]) -> Path | None:
    path = failures_path(out)
    if not failures:
        path.unlink(missing_ok=True)
        return None
    lines = "".join(f"{f.key}\t{f.path}\t{' '.join(f.reason.split())}\n" for f in sorted(failures, key=lambda f: f.key))
    atomic_write_text(path, FAILURES_HEADER + lines)
    return path


def write_final(out: Path, kind: str, keys: list[str], matrix: np.ndarray, offsets: np.ndarray,
                manifest: dict[str, Any]) -> None:
    """Write the final output of a run (embedding store or CM score store)."""
    if kind == "cm":
        from asvbench.io.scores import write_cm_scores

        logits = np.asarray(matrix, dtype=np.float64)
        bona = logits[:, 1]
        # softmax([spoof, bona])[1] = 1 / (1 + exp(spoof - bona)), computed stably
        prob = 0.5 * (1.0 + np.tanh(0.5 * (logits[:, 1] - logits[:, 0])))
        if out.is_dir():
            shutil.rmtree(out)
        write_cm_scores(out, keys, bona, prob)
        atomic_write_text(cm_manifest_path(out), json.dumps(manifest, indent=2) + "\n")
        return
    from asvbench.io.embeddings import write_native_store

    if out.exists() and not out.is_dir():
        out.unlink()
    write_native_store(out, keys, matrix, offsets, manifest)


def write_shard(path: Path, keys: list[str], matrix: np.ndarray, offsets: np.ndarray, manifest: dict[str, Any],
                failures: Sequence[Failure]) -> None:
    from asvbench.io.embeddings import write_native_store

    meta = dict(manifest, failures=[[f.key, f.path, f.reason] for f in failures])
    if not keys:  # every utterance of the shard failed: an empty but valid marker store
        matrix = np.zeros((0, int(manifest.get("dim", 1))), np.float32)
        offsets = np.zeros(1, np.int64)
    write_native_store(path, keys, matrix, offsets if len(keys) else None, meta)


def find_shards(out: Path) -> dict[int, dict[int, Path]]:
    """Existing complete shard stores of ``out``: ``{N: {i: path}}``."""
    found: dict[int, dict[int, Path]] = {}
    if not out.parent.is_dir():
        return found
    prefix = f"{out.name}.shard-"
    for p in out.parent.iterdir():
        if not p.name.startswith(prefix) or not (p / "manifest.json").is_file():
            continue
        m = SHARD_RE.search(p.name)
        if m and p.name == f"{out.name}.shard-{m.group(1)}-of-{m.group(2)}":
            found.setdefault(int(m.group(2)), {})[int(m.group(1))] = p
    return found


def all_shards_present(out: Path, n: int) -> bool:
    return len(find_shards(out).get(n, {})) == n


class MergeOutcome:
    def __init__(self, keys: list[str], n_rows: int, failures: list[Failure], kind: str):
        self.keys = keys
        self.n_rows = n_rows
        self.failures = failures
        self.kind = kind


def merge_shards(out: Path, n: int | None = None, *, keep: bool = False) -> MergeOutcome:
    """Merge the ``N`` shard stores of ``out`` into ``out`` (see the module docstring)."""
    from asvbench.io.embeddings import load_embeddings

    found = find_shards(out)
    if not found:
        raise AsvbenchError("no shard stores to merge", where=out,
                            hint=f"shards are written by --shard i/N as {out.name}.shard-i-of-N")
    if n is None:
        if len(found) > 1:
            raise AsvbenchError(f"shard stores of several shard counts exist ({sorted(found)})", where=out.parent,
                                hint="remove the stale ones")
        n = next(iter(found))
    have = found.get(n, {})
    missing = [i for i in range(n) if i not in have]
    if missing:
        raise AsvbenchError(f"{len(missing)} of {n} shards are missing or unfinished: {missing[:10]}",
                            where=out.parent, hint="run the missing --shard i/N jobs (they resume) and merge again")
    # a shard whose every utterance failed is an empty marker store; values are the extraction's own output
    stores = [load_embeddings(have[i], mmap=False, allow_empty=True, check_values=False) for i in range(n)]
    base = stores[0].manifest
    for i, store in enumerate(stores):
        for f in IDENTITY_FIELDS:
            if store.manifest.get(f) != base.get(f):
                raise AsvbenchError(f"shard {i} has {f}={store.manifest.get(f)!r}, shard 0 has {base.get(f)!r}",
                                    where=have[i], hint="all shards must come from the same command")
    rows: dict[str, np.ndarray] = {}
    failures: list[Failure] = []
    for i, store in enumerate(stores):
        for j, key in enumerate(store.keys):
            if key in rows:
                raise AsvbenchError(f"key {key!r} is in two shards", where=have[i])
            rows[key] = np.asarray(store.rows(j))
        failures.extend(Failure(*f) for f in store.manifest.get("failures", []))
    keys = sorted(rows)
    if not keys:
        raise AsvbenchError(f"no utterance could be extracted in any of the {n} shards "
                            f"({len(failures)} failures, e.g. {failures[0].key}: {failures[0].reason})"
                            if failures else "the shards are empty", where=out)
    blocks = [rows[k] for k in keys]
    matrix = np.concatenate(blocks, axis=0)
    offsets = np.concatenate(([0], np.cumsum([b.shape[0] for b in blocks]))).astype(np.int64)
    manifest = {k: v for k, v in base.items()
                if k not in ("failures", "shard", "format", "version", "dim", "n_keys", "n_rows", "multi_row")}
    manifest["merged_from_shards"] = n
    manifest["n_failed"] = len(failures)
    kind = str(base.get("kind", "embedding"))
    write_final(out, kind, keys, matrix, offsets, manifest)
    write_failures(out, failures)
    if not keep:
        for i in range(n):
            shutil.rmtree(have[i], ignore_errors=True)
    return MergeOutcome(keys, int(matrix.shape[0]), failures, kind)
