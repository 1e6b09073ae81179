"""Embedding stores: a native memory-mapped directory, Kaldi ark/scp, ``.npz``, and pickles.

Native store layout (a directory)::

    embeddings.npy   float32, (n_rows, dim); memory-mapped when read
    keys.txt         one utterance key per line, n_keys lines
    offsets.npy      int64, (n_keys + 1,): rows of key i are offsets[i]:offsets[i+1]
                     (absent when every key has exactly one row)
    manifest.json    {"format": "asvbench-embeddings", "version": 1, "dim", "n_keys", "n_rows",
                      "model", "created_by", ...}

An utterance may own several rows (multi-vector embeddings: full utterance + crops); they are
pooled at scoring time (:meth:`EmbeddingStore.pooled`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from asvbench._atomic import default_mode, named_fault_point
from asvbench.errors import AsvbenchError

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.io._bytes import KeyIndex

PoolNorm = Literal["none", "l2"]

STORE_FORMAT = "asvbench-embeddings"
STORE_VERSION = 1
MANIFEST = "manifest.json"


@dataclass
class EmbeddingStore:
    """Keys, a (n_rows, dim) matrix and per-key row offsets."""

    keys: list[str]
    matrix: np.ndarray
    offsets: np.ndarray | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if self.matrix.ndim != 2:
            raise AsvbenchError(f"embedding matrix must be 2-D, got shape {self.matrix.shape}", where=self.source)
        n_rows = self.offsets[-1] if self.offsets is not None else len(self.keys)
        if self.matrix.shape[0] != n_rows:
            raise AsvbenchError(
                f"store has {len(self.keys)} keys but {self.matrix.shape[0]} rows (expected {n_rows})",
                where=self.source, hint="the store is damaged; re-create it",
            )
        self._index: dict[str, int] | None = None

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def multi_row(self) -> bool:
        return self.offsets is not None

    @property
    def index(self) -> dict[str, int]:
        if self._index is None:
            index = {k: i for i, k in enumerate(self.keys)}
            if len(index) != len(self.keys):
                seen: set[str] = set()
                dups = [k for k in self.keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
                raise AsvbenchError(
                    f"{len(self.keys) - len(index)} duplicate keys in the embedding store, e.g. {dups[:3]}",
                    where=self.source, hint="each utterance key must appear once",
                )
            self._index = index
        return self._index

    def __len__(self) -> int:
        return len(self.keys)

    def byte_index(self) -> "KeyIndex | None":
        """A :class:`~asvbench.io._bytes.KeyIndex` of the keys (built once), for byte-level
        lookups of ASCII trial lists; None in the rare case it cannot be exact (a hash collision).
        Duplicate keys raise the same error as :attr:`index`."""
        if not hasattr(self, "_byte_index"):
            from asvbench.io._bytes import DuplicateKeys, KeyIndex, split_lines

            try:
                index = KeyIndex(split_lines("\n".join(self.keys).encode("utf-8")))
            except DuplicateKeys:
                self.index  # noqa: B018 - the property raises, naming the duplicates
                raise AssertionError("unreachable: byte-identical keys are duplicates") from None
            self._byte_index = index if index.usable and index.n == len(self.keys) else None
        return self._byte_index

    def rows(self, i: int) -> np.ndarray:
        if self.offsets is None:
            return self.matrix[i : i + 1]
        return self.matrix[self.offsets[i] : self.offsets[i + 1]]

    def pooled(self, indices: np.ndarray | None = None, pool_norm: PoolNorm = "none") -> np.ndarray:
        """One float64 vector per key (``indices`` selects keys; default all).

        ``pool_norm="l2"`` L2-normalises each row before averaging (DoubleRoc "L2Norm");
        ``"none"`` averages the raw rows ("NoNorm"). Single-row keys are returned as they are.
        """
        idx = np.arange(len(self.keys)) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.offsets is None:
            return np.asarray(self.matrix[idx], dtype=np.float64)
        return pool_rows(self.matrix, self.offsets, idx, pool_norm)

    def mean_vector(self) -> np.ndarray:
        """Mean over all rows (the centring vector WeSpeaker calls ``mean_vec``)."""
        total = np.zeros(self.dim, dtype=np.float64)
        for start in range(0, self.matrix.shape[0], 65536):
            total += np.asarray(self.matrix[start : start + 65536], dtype=np.float64).sum(axis=0)
        mean = total / self.matrix.shape[0]
        if not np.isfinite(mean).all():  # finite rows whose sum overflows float64
            raise AsvbenchError("the mean of the store's embeddings is not finite (values too large)",
                                where=self.source, hint="check the store: embeddings are normally of order 1-100")
        return mean

    def key_of_row(self, row: int) -> str:
        if self.offsets is None:
            return self.keys[row]
        return self.keys[int(np.searchsorted(self.offsets, row, side="right")) - 1]


#: rows per block of the finiteness check (bounded memory on a memory-mapped store)
_CHECK_BLOCK = 65536


def check_finite(store: EmbeddingStore) -> None:
    """Every value of the store is finite, or an :class:`AsvbenchError` names the first key and row that is not.

    One float32 pass: a row sum is non-finite when the row holds NaN or inf (or, rarely, when
    finite values overflow, which the exact re-check of that block clears).
    """
    matrix = store.matrix
    for lo in range(0, matrix.shape[0], _CHECK_BLOCK):
        block = np.asarray(matrix[lo : lo + _CHECK_BLOCK])
        with np.errstate(over="ignore", invalid="ignore"):
            sums = block.sum(axis=1)
        if np.isfinite(sums).all():
            continue
        bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
        if bad.shape[0]:
            row = lo + int(bad[0])
            values = np.asarray(matrix[row])
            what = "NaN" if np.isnan(values).any() else "an infinite value"
            raise AsvbenchError(
                f"the embedding of key {store.key_of_row(row)!r} (row {row}, column "
                f"{int(np.flatnonzero(~np.isfinite(values))[0])}) holds {what}",
                where=store.source,
                hint="the extraction failed for that utterance: re-extract it, or drop it from the store",
            )


def l2_normalise_rows(x: np.ndarray, *, what: str = "embedding", keys: Sequence[str] | None = None) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    zero = norms[:, 0] == 0
    if zero.any():
        first = int(np.flatnonzero(zero)[0])
        name = f" (first: {keys[first]!r})" if keys is not None else ""
        raise AsvbenchError(
            f"{int(zero.sum())} {what}s have zero norm{name}; cosine scoring is undefined for them",
            hint="check the extraction of those utterances (silence? failed decode?)",
        )
    return x / norms


def row_sums(matrix: np.ndarray, offsets: np.ndarray, pool_norm: PoolNorm) -> tuple[np.ndarray, np.ndarray]:
    """Per-key sum of rows (each L2-normalised first when ``pool_norm == "l2"``) and row counts."""
    counts = np.diff(offsets)
    if (counts == 0).any():
        raise AsvbenchError(f"{int((counts == 0).sum())} keys own no rows", hint="the store is damaged; re-create it")
    sums = np.empty((counts.shape[0], matrix.shape[1]), dtype=np.float64)
    starts = offsets[:-1]
    block = 65536
    for lo in range(0, counts.shape[0], block):
        hi = min(lo + block, counts.shape[0])
        rows = np.asarray(matrix[offsets[lo] : offsets[hi]], dtype=np.float64)
        if pool_norm == "l2":
            rows = l2_normalise_rows(rows)
        sums[lo:hi] = np.add.reduceat(rows, starts[lo:hi] - offsets[lo], axis=0)
    return sums, counts


def pool_rows(matrix: np.ndarray, offsets: np.ndarray, idx: np.ndarray, pool_norm: PoolNorm) -> np.ndarray:
    """Average each selected key's rows, optionally L2-normalising rows first."""
    sums, counts = row_sums(matrix, offsets, pool_norm)
    return sums[idx] / counts[idx, None]


# ----------------------------------------------------------------------------- writing


def write_native_store(
    path: str | Path,
    keys: Sequence[str],
    matrix: np.ndarray,
    offsets: np.ndarray | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Write a native store atomically: build it in a temporary directory, then rename.

    An existing store at ``path`` is replaced only when the new one is complete.
    """
    path = Path(path)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if offsets is not None:
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.shape != (len(keys) + 1,) or offsets[0] != 0 or offsets[-1] != matrix.shape[0]:
            raise ValueError("offsets must have n_keys + 1 entries from 0 to n_rows")
        if (np.diff(offsets) == 1).all():
            offsets = None
    elif matrix.shape[0] != len(keys):
        raise ValueError(f"{len(keys)} keys but {matrix.shape[0]} rows")
    for key in keys:
        if not key or any(c.isspace() for c in key):
            raise AsvbenchError(f"embedding key {key!r} is empty or contains whitespace")
    meta = {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "dim": int(matrix.shape[1]),
        "n_keys": len(keys),
        "n_rows": int(matrix.shape[0]),
        "multi_row": offsets is not None,
    }
    meta.update(manifest or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    # .NAME.<pid>.XXXX.tmp / .old: the next run of a command writing NAME removes a killed writer's
    # (and puts the previous store back if the kill fell between the two renames; asvbench._outputs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, default_mode(0o777))
    try:
        np.save(tmp / "embeddings.npy", matrix)
        if offsets is not None:
            np.save(tmp / "offsets.npy", offsets)
        (tmp / "keys.txt").write_text("".join(f"{k}\n" for k in keys), encoding="utf-8")
        (tmp / MANIFEST).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "store")
            named_fault_point("store-swap")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def stack_rows(per_key: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-key (n_i, dim) or (dim,) arrays into a matrix and offsets."""
    blocks = [np.atleast_2d(np.asarray(a, dtype=np.float32)) for a in per_key]
    counts = np.array([b.shape[0] for b in blocks], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    matrix = np.concatenate(blocks, axis=0) if blocks else np.zeros((0, 0), np.float32)
    return matrix, offsets


# ----------------------------------------------------------------------------- reading


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest of a native store, or None when ``path`` is not one."""
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AsvbenchError(f"corrupt manifest: {exc}", where=manifest, hint="the store is damaged; re-create it") \
            from None
    if not isinstance(data, dict):
        raise AsvbenchError(f"the manifest holds a JSON {type(data).__name__}, not an object", where=manifest,
                            hint="the store is damaged; re-create it")
    return data


def load_embeddings(path: str | Path, *, trust_pickle: bool = False, mmap: bool = True,
                    allow_empty: bool = False, check_values: bool = True) -> EmbeddingStore:
    """Read an embedding store, choosing the reader from what ``path`` is.

    * a directory with ``manifest.json``: native store (memory-mapped);
    * ``*.scp`` / ``*.ark``: Kaldi (vectors, or matrices for multi-row keys), read by
      :mod:`asvbench.io.kaldi` (kaldiio for compressed matrices, text arks and pipes);
    * ``*.npz``: one array per key (:mod:`asvbench.io.npz`);
    * ``*.pk`` / ``*.pkl`` / ``*.pickle``: a pickled ``{key: array}`` dict, only with ``trust_pickle``
      (unpickling runs arbitrary code).

    Every store is checked when read: a store without keys is an error (unless ``allow_empty``,
    for the extraction's shard markers), and so is a NaN or inf anywhere in it (``check_values``),
    named by key and row.
    """
    p = Path(path)
    if not p.exists():
        raise AsvbenchError("embedding store not found", where=p)
    store = _load_by_type(p, trust_pickle, mmap)
    if not store.keys and not allow_empty:
        raise AsvbenchError("embedding store is empty (it holds no keys)", where=p,
                            hint="re-create it; an extraction whose every utterance failed writes no embeddings")
    if check_values:
        check_finite(store)
    return store


def _load_by_type(p: Path, trust_pickle: bool, mmap: bool) -> EmbeddingStore:
    if p.is_dir():
        return _load_native(p, mmap)
    suffix = p.suffix.lower()
    if suffix in (".scp", ".ark"):
        return _load_kaldi(p)
    if suffix == ".npz":
        from asvbench.io.npz import read_npz_store

        records = read_npz_store(p)
        return _from_records(records.keys, records.matrix, records.counts, str(p))
    if suffix in (".pk", ".pkl", ".pickle"):
        if not trust_pickle:
            raise AsvbenchError(
                "refusing to unpickle an embedding file: unpickling can run arbitrary code",
                where=p, hint="pass --trust-pickle if you trust where this file came from",
            )
        import pickle

        with open(p, "rb") as handle:
            data = pickle.load(handle)  # noqa: S301 - opt-in via --trust-pickle
        if not isinstance(data, dict):
            raise AsvbenchError(f"pickle holds a {type(data).__name__}, expected a dict of key -> vector", where=p)
        return _from_mapping({str(k): _to_numpy(v) for k, v in data.items()}, str(p))
    raise AsvbenchError(
        f"unknown embedding store type {suffix or '(no suffix)'}",
        where=p, hint="use a native store directory, .scp/.ark, .npz, or .pk with --trust-pickle",
    )


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def _load_native(p: Path, mmap: bool) -> EmbeddingStore:
    manifest = read_manifest(p)
    if manifest is None:
        raise AsvbenchError(
            "directory is not an asvbench embedding store (no manifest.json)",
            where=p, hint="create one with `asvbench extract`, or pass a .scp/.ark/.npz file",
        )
    if manifest.get("format") != STORE_FORMAT:
        raise AsvbenchError(f"manifest format is {manifest.get('format')!r}, expected {STORE_FORMAT!r}", where=p)
    matrix = _open_npy(p / "embeddings.npy", mmap, kinds="f")
    offsets = _open_npy(p / "offsets.npy", False, kinds="iu") if (p / "offsets.npy").exists() else None
    try:
        keys = (p / "keys.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise AsvbenchError(f"cannot read embedding store keys: {exc}", where=p / "keys.txt",
                            hint="the store is damaged; re-create it") from None
    if matrix.ndim == 2 and matrix.shape[1] == 0 and keys:
        raise AsvbenchError("the embeddings have zero columns", where=p / "embeddings.npy",
                            hint="the store is damaged; re-create it")
    if offsets is not None:
        _check_offsets(offsets, len(keys), matrix.shape[0] if matrix.ndim else 0, p / "offsets.npy")
    return EmbeddingStore(keys=keys, matrix=matrix, offsets=offsets, manifest=manifest, source=str(p))


def _open_npy(path: Path, mmap: bool, *, kinds: str) -> np.ndarray:
    """A ``.npy`` of the store, its header checked first: numeric only, never unpickled."""
    from numpy.lib import format as npy_format

    hint = "the store is damaged; re-create it"
    try:
        with open(path, "rb") as handle:
            if handle.read(6) != b"\x93NUMPY":
                raise AsvbenchError(f"cannot read embedding store file {path.name}: not a .npy file (it does not "
                                    "start with the .npy signature)", where=path, hint=hint)
            handle.seek(0)
            major, _ = npy_format.read_magic(handle)
            read_header = npy_format.read_array_header_1_0 if major == 1 else npy_format.read_array_header_2_0
            _, _, dtype = read_header(handle)
    except (OSError, ValueError) as exc:
        raise AsvbenchError(f"cannot read embedding store file {path.name}: {exc}", where=path, hint=hint) from None
    if dtype.hasobject or dtype.kind not in kinds:
        raise AsvbenchError(f"{path.name} holds {'Python objects' if dtype.hasobject else dtype} values, "
                            f"not {'integers' if kinds == 'iu' else 'floats'}", where=path, hint=hint)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise AsvbenchError(f"cannot read embedding store file {path.name}: {exc}", where=path, hint=hint) from None


def _check_offsets(offsets: np.ndarray, n_keys: int, n_rows: int, where: Path) -> None:
    hint = "the store is damaged; re-create it"
    if offsets.shape != (n_keys + 1,):
        raise AsvbenchError(f"offsets.npy has shape {offsets.shape}, expected ({n_keys + 1},) for {n_keys} keys",
                            where=where, hint=hint)
    if offsets[0] != 0 or offsets[-1] != n_rows:
        raise AsvbenchError(f"offsets.npy runs from {int(offsets[0])} to {int(offsets[-1])}, expected 0 to "
                            f"{n_rows} (the number of rows)", where=where, hint=hint)
    steps = np.diff(offsets)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise AsvbenchError(f"offsets.npy is not increasing: entry {i + 1} is {int(offsets[i + 1])} after "
                            f"{int(offsets[i])} (every key owns at least one row, in order)", where=where, hint=hint)


def _load_kaldi(p: Path) -> EmbeddingStore:
    from asvbench.io.kaldi import Unsupported, read_ark_store, read_scp_store

    try:
        records = read_scp_store(p) if p.suffix.lower() == ".scp" else read_ark_store(p)
    except Unsupported:
        return _load_kaldi_with_kaldiio(p)
    return _from_records(records.keys, records.matrix, records.counts, str(p))


def _load_kaldi_with_kaldiio(p: Path) -> EmbeddingStore:
    """Stores the numpy reader leaves to kaldiio: compressed matrices, text-mode arks, pipes, ranges."""
    import kaldiio

    try:
        data = kaldiio.load_scp(str(p)) if p.suffix.lower() == ".scp" else kaldiio.load_ark(str(p))
        pairs = [(k, np.asarray(v, dtype=np.float32)) for k, v in (data.items() if hasattr(data, "items") else data)]
    except Exception as exc:  # noqa: BLE001 - kaldiio raises assorted errors on bad input
        raise AsvbenchError(f"cannot read Kaldi {p.suffix} file: {exc}", where=p) from None
    # kaldiio keeps the last of repeated keys silently: count the keys as listed instead
    listed = ([line.split(maxsplit=1)[0] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
              if p.suffix.lower() == ".scp" else [k for k, _ in pairs])
    if len(set(listed)) != len(listed):
        seen: set[str] = set()
        dups = list(dict.fromkeys(k for k in listed if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
        raise AsvbenchError(f"{len(dups)} duplicate keys in the embedding store, e.g. {dups[:3]}", where=p,
                            hint="each utterance key must appear once")
    return _from_mapping(dict(pairs), str(p))


def _from_records(keys: list[str], matrix: np.ndarray, counts: np.ndarray, source: str) -> EmbeddingStore:
    multi = bool((counts != 1).any())
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64) if multi else None
    return EmbeddingStore(keys=keys, matrix=matrix, offsets=offsets, manifest={"dim": matrix.shape[1]}, source=source)


def _from_mapping(mapping: dict[str, np.ndarray], source: str) -> EmbeddingStore:
    if not mapping:
        raise AsvbenchError("embedding store is empty", where=source)
    keys = list(mapping)
    dims = {np.atleast_2d(v).shape[1] for v in mapping.values()}
    if len(dims) != 1:
        raise AsvbenchError(f"embeddings of different dimensions in one store: {sorted(dims)}", where=source)
    if dims == {0}:
        raise AsvbenchError("the embeddings have zero columns", where=source, hint="re-create the store")
    matrix, offsets = stack_rows(mapping[k] for k in keys)
    multi = bool((np.diff(offsets) != 1).any())
    return EmbeddingStore(keys=keys, matrix=matrix, offsets=offsets if multi else None,
                          manifest={"dim": matrix.shape[1]}, source=source)


def load_vector_npy(path: str | Path) -> np.ndarray:
    """One float64 vector from a ``.npy`` (shape (dim,) or (1, dim)), checked: numeric, finite, never unpickled."""
    p = Path(path)
    vec = _open_npy(p, False, kinds="fiu")
    if vec.ndim == 2 and vec.shape[0] == 1:
        vec = vec[0]
    if vec.ndim != 1 or vec.shape[0] == 0:
        raise AsvbenchError(f"the .npy must hold one vector, got shape {vec.shape}", where=p)
    bad = np.flatnonzero(~np.isfinite(vec))
    if bad.shape[0]:
        raise AsvbenchError(f"the vector holds {'NaN' if np.isnan(vec[bad[0]]) else 'an infinite value'} at index "
                            f"{int(bad[0])}", where=p, hint="re-compute it (e.g. the mean of finite embeddings)")
    return vec.astype(np.float64)
