"""Shared helper for parity tests against ``../shared/parity/<family>/``.

Implements, independently of any model code, the deterministic weight fill of
``shared/parity/FILL_RULE.md`` (rule A, §1, and rule B, §3, with the §2 skip list) and loads
one family folder (key list, the two formula-defined inputs of §4, features and outputs).

Stable API (other families' tests import it)::

    case = parity_case(shared_dir, "wespeaker_campplus_e192")
    state = fill_state_dict(case.template(), "B")      # keys as in keys.tsv
    case.inputs["a"], case.features["a"], case.embeddings["B"]["a"], case.arrays["B"]["last_hidden_a"]
    case.n_params, case.keys, case.readme

``fill_state_dict`` leaves tensors whose key ends in a §2 skip suffix (``num_batches_tracked``,
``flipped_filter``, ``spectrogram.window``, ``mel_scale.fb``) exactly as given: for front-end
buffers, put the constructed values into the template first (``case.template()`` gives zeros).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SKIP_SUFFIXES = ("num_batches_tracked", "flipped_filter", "spectrogram.window", "mel_scale.fb")

#: FILL_RULE.md §4: (N, f1, f2, f3) of the two fixed inputs.
INPUT_SPECS: dict[str, tuple[int, float, float, float]] = {
    "a": (48000, 220.0, 517.0, 1333.0),
    "b": (27200, 180.0, 430.0, 2100.0),
}


def _rule(rule: str) -> str:
    r = rule.upper().removeprefix("FILL_")
    if r not in ("A", "B"):
        raise ValueError(f"fill rule must be 'A' or 'B' (or 'fill_B'), got {rule!r}")
    return r


def fill_values(key: str, shape: tuple[int, ...], rule: str = "B") -> np.ndarray | None:
    """float64 values for state-dict ``key`` of ``shape`` (FILL_RULE.md §1/§3); None = skip (§2)."""
    r = _rule(rule)
    if key.endswith(SKIP_SUFFIXES):
        return None
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    i = np.arange(n, dtype=np.float64)  # C-order flat index
    h = float(sum(key.encode("utf-8")) % 997)
    if key.endswith("running_var"):
        v = 1.0 + 0.5 * (1.0 + np.sin(0.37 * i + h)) / 2.0
    elif key.endswith("running_mean"):
        v = 0.1 * np.sin(0.23 * i + h)
    elif len(shape) >= 2:
        if r == "A":
            phase = i
        else:  # rule B: j = i*i mod 1000003 in exact int64 arithmetic
            k = np.arange(n, dtype=np.int64)
            phase = ((k * k) % 1000003).astype(np.float64)
        fan_in = n / shape[0]
        v = (1.0 / math.sqrt(fan_in)) * np.sin(0.61 * phase + 0.5 * h)
    elif key.endswith(".weight"):
        v = 1.0 + 0.1 * np.sin(0.61 * i + 0.5 * h)
    else:
        v = 0.1 * np.sin(0.61 * i + 0.5 * h)
    return v.reshape(shape)


def fill_state_dict(state_dict_like: dict[str, Any], rule: str = "B") -> dict[str, Any]:
    """A new state dict: every tensor filled by ``rule`` ('A' or 'B'), skipped keys cloned unchanged.

    Keys must be the reference's names (as in ``keys.tsv``): the fill value depends on the key.
    Values are float64 cast once to each tensor's dtype (round to nearest even).
    """
    import torch

    out: dict[str, Any] = {}
    for key, tensor in state_dict_like.items():
        t = torch.as_tensor(tensor)
        v = fill_values(key, tuple(t.shape), rule)
        out[key] = t.detach().clone() if v is None else torch.from_numpy(v).to(t.dtype)
    return out


def make_input(name: str) -> np.ndarray:
    """FILL_RULE.md §4 input ``'a'`` or ``'b'``: float64 formula, rounded once to float32."""
    n, f1, f2, f3 = INPUT_SPECS[name]
    t = np.arange(n, dtype=np.float64)
    x = (
        0.3 * np.sin(2 * np.pi * f1 * t / 16000)
        + 0.2 * np.sin(2 * np.pi * f2 * t / 16000 + 1.0)
        + 0.05 * np.sin(2 * np.pi * f3 * t / 16000 + 2.0)
    )
    return x.astype(np.float32)


def _load_npys(folder: Path) -> dict[str, np.ndarray]:
    return {p.stem: np.load(p) for p in sorted(folder.glob("*.npy"))}


@dataclass(frozen=True)
class ParityCase:
    """One ``shared/parity/<family>/`` folder, loaded."""

    folder: Path
    #: key -> (shape, dtype name), in the reference ``state_dict()`` order
    keys: dict[str, tuple[tuple[int, ...], str]]
    #: the two fixed inputs, float32 (N,), 16 kHz, in [-1, 1] (before any x32768 scaling)
    inputs: dict[str, np.ndarray]
    #: reference front-end outputs ``features_a``/``features_b`` as ``{"a": ..., "b": ...}`` (may be empty)
    features: dict[str, np.ndarray]
    #: ``{"A": {"a": e_a, "b": e_b}, "B": {...}}`` from ``embedding_<x>.npy`` and ``fill_B/embedding_<x>.npy``
    embeddings: dict[str, dict[str, np.ndarray]]
    #: every ``.npy`` by file stem, per rule: ``{"A": {"last_hidden_a": ...}, "B": {...}}``
    arrays: dict[str, dict[str, np.ndarray]]
    meta: dict[str, Any] = field(default_factory=dict)
    readme: str = ""

    @property
    def n_params(self) -> int:
        """Parameter count stated by the folder's README (``N,NNN,NNN parameters``)."""
        m = re.search(r"([\d,]+) parameters", self.readme)
        if m is None:
            return int(self.meta["n_params"])
        return int(m.group(1).replace(",", ""))

    def template(self) -> dict[str, Any]:
        """Zero tensors with the shapes and dtypes of ``keys.tsv`` (in its order)."""
        import torch

        return {k: torch.zeros(shape, dtype=getattr(torch, dtype)) for k, (shape, dtype) in self.keys.items()}

    def filled(self, rule: str = "B") -> dict[str, Any]:
        """``fill_state_dict(self.template(), rule)``: the reference-layout state dict under ``rule``."""
        return fill_state_dict(self.template(), rule)


def _read_keys(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    keys: dict[str, tuple[tuple[int, ...], str]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:  # header: key, shape, dtype
        if not line.strip():
            continue
        key, shape, dtype = line.split("\t")
        keys[key] = (tuple(json.loads(shape)), dtype)
    return keys


def parity_case(shared_dir: Path, family_folder: str) -> ParityCase:
    """Load ``shared_dir/parity/family_folder`` (skips the test if it is missing)."""
    import pytest

    from tests.conftest import SHARED_SKIP_REASON

    folder = Path(shared_dir) / "parity" / family_folder
    if not (folder / "keys.tsv").is_file():
        pytest.skip(f"{SHARED_SKIP_REASON}: parity/{family_folder} is missing from {shared_dir}")
    top = _load_npys(folder)
    fill_b = _load_npys(folder / "fill_B") if (folder / "fill_B").is_dir() else {}
    features = {x: top[f"features_{x}"] for x in INPUT_SPECS if f"features_{x}" in top}
    embeddings = {
        rule: {x: arrs[f"embedding_{x}"] for x in INPUT_SPECS if f"embedding_{x}" in arrs}
        for rule, arrs in (("A", top), ("B", fill_b))
    }
    meta_path = folder / "meta.json"
    return ParityCase(
        folder=folder,
        keys=_read_keys(folder / "keys.tsv"),
        inputs={x: make_input(x) for x in INPUT_SPECS},
        features=features,
        embeddings=embeddings,
        arrays={"A": top, "B": fill_b},
        meta=json.loads(meta_path.read_text()) if meta_path.is_file() else {},
        readme=(folder / "README.md").read_text(encoding="utf-8") if (folder / "README.md").is_file() else "",
    )


def cosine(a: Any, b: Any) -> float:
    """Cosine similarity of two flattened arrays (float64)."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
