"""The contract between model families, the registry and the extraction engine.

A family module (``models/<family>.py``) holds the ``nn.Module``, a frozen config dataclass,
one builder and named presets. A checkpoint adapter (``models/adapters/<source>.py``) maps a
source's state-dict keys to ours and loads **strictly**. A registry entry
(``models/registry.py``) ties a name to both and to the front-end, with provenance.

torch is imported lazily: importing this module must not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import torch

ModelKind = Literal["embedding", "cm"]
VerificationKind = Literal["parity", "real"]


@dataclass(frozen=True)
class CheckpointSignature:
    """What a checkpoint of one registry entry holds, so a file can be identified without ``--model``.

    Matched against the file's tensor dict after unwrapping (``adapters.unwrap_state_dict``) and
    stripping a ``module.`` prefix; the network's keys may sit under one of ``prefixes``.
    ``keys`` (all present, none of ``without`` present) tell the layout: family and source;
    ``shapes`` (present with exactly these shapes) tell the size. A few distinctive keys are
    enough; the strict load still checks every key.
    """

    keys: tuple[str, ...]
    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: key prefixes a checkpoint of this layout never holds (e.g. WeSpeaker's ``projection.`` head)
    without: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ("",)
    #: what the keys say, for the notice: "CAM++, 3D-Speaker layout (no projection.* head)"
    layout: str = ""
    #: what the shapes say: "embed 192"
    size: str = ""
    #: wrapper keys, beyond adapters.WRAPPER_KEYS, under which this source nests the weights
    wrapper_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    """Evidence that an entry works: ``kind`` "parity" (a fixture in ``../shared/parity`` is
    reproduced for this entry's layout and preset) or "real" (a real checkpoint is run on real
    speech and its outputs checked); ``data`` is the fixture folder or checkpoint file, relative
    to ``../shared``; ``test`` the test file (relative to the repository) that checks it."""

    kind: VerificationKind
    data: str
    test: str


@dataclass(frozen=True)
class ModelEntry:
    """One registered pretrained model (a family + a checkpoint layout + a front-end)."""

    name: str
    family: str
    kind: ModelKind
    source: str  # e.g. "3D-Speaker", "WeSpeaker", "clovaai/aasist"
    embed_dim: int  # CM models: 2 (logits)
    sample_rate: int
    frontend: str  # front-end name, e.g. "kaldi-fbank-80"
    licence: str
    #: builds the model, adapts the checkpoint at the given path, loads strictly, eval mode
    loader: Callable[[Path], "LoadedModel"]
    url: str | None = None
    sha256: str | None = None
    min_samples: int = 0  # shortest input the model accepts
    description: str = ""
    #: the checkpoint's file name inside the zip archive at ``url`` (WeSpeaker releases
    #: ``avg_model.pt`` in a zip); None: ``url`` is the checkpoint itself
    archive_member: str | None = None
    #: the entry a family name (``--model campplus``) resolves to; exactly one per family
    default: bool = False
    #: how a checkpoint of this entry is recognised (``asvbench.models.identify``)
    signature: CheckpointSignature | None = None
    #: what was checked for this entry; empty: nothing ("none" in ``models list``)
    verified_by: tuple[Verification, ...] = ()

    @property
    def verified(self) -> str:
        """"parity", "real", "both" or "none" (from :attr:`verified_by`)."""
        kinds = {v.kind for v in self.verified_by}
        return "both" if kinds == {"parity", "real"} else next(iter(kinds), "none")

    def as_row(self) -> dict[str, Any]:
        return {
            "name": self.name, "family": self.family, "kind": self.kind, "source": self.source,
            "embed_dim": self.embed_dim, "sample_rate": self.sample_rate, "frontend": self.frontend,
            "licence": self.licence, "url": self.url or "", "sha256": self.sha256 or "",
            "archive_member": self.archive_member or "", "default": self.default, "verified": self.verified,
            "verified_by": [{"kind": v.kind, "data": v.data, "test": v.test} for v in self.verified_by],
        }


class LoadedModel:
    """A ready-to-run model: front-end + network, in eval mode.

    ``forward(wavs, lengths)`` takes a float32 batch ``(B, T)`` of waveforms at
    ``entry.sample_rate`` scaled to [-1, 1] (front-ends that expect int16 scale do it inside),
    and the valid length of each row; it returns ``(B, embed_dim)`` embeddings, or for CM
    models ``(B, 2)`` logits ordered ``[spoof, bonafide]``.
    """

    def __init__(self, entry: ModelEntry, module: "torch.nn.Module", forward: Callable[..., "torch.Tensor"],
                 *, for_inference: "Callable[..., LoadedModel] | None" = None):
        self.entry = entry
        self.module = module
        self._forward = forward
        self._for_inference = for_inference
        #: what :meth:`for_inference` changed ("" when nothing)
        self.optimisations = ""

    def for_inference(self, *, in_place: bool = False) -> "LoadedModel":
        """The same model prepared for inference (e.g. BatchNorm folded into the convolution
        before it): equal up to float rounding, faster. Models without such a step return self.

        ``in_place``: rewrite this model's network rather than a copy of it (saves the copy, a
        fifth of a second for CAM++); this object must not be used afterwards."""
        return self._for_inference(in_place=in_place) if self._for_inference is not None else self

    def forward(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> "torch.Tensor":
        return self._forward(wavs, lengths)

    def to(self, device: Any, dtype: Any = None) -> "LoadedModel":
        self.module.to(device=device, dtype=dtype) if dtype is not None else self.module.to(device)
        return self


def load_state_dict_file(path: str | Path, *, trust_pickle: bool = False) -> dict[str, Any]:
    """Load a checkpoint file with ``torch.load(weights_only=True)``.

    Pickled objects beyond tensors and plain containers are refused unless ``trust_pickle``.
    Errors (missing, corrupt, not a checkpoint) raise :class:`~asvbench.errors.AsvbenchError`.
    """
    import pickle

    import torch

    from asvbench.errors import AsvbenchError

    p = Path(path)
    if not p.is_file():
        raise AsvbenchError("checkpoint not found", where=p, hint="pass --checkpoint PATH to a .pt/.pth file")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        if not trust_pickle and "weights_only" in str(exc):
            raise AsvbenchError(
                "checkpoint holds pickled Python objects that weights_only loading refuses",
                where=p, hint="pass --trust-pickle only if you trust where this file came from",
            ) from None
        raise AsvbenchError(f"corrupt or unreadable checkpoint: {str(exc).splitlines()[0]}", where=p) from None
    except (RuntimeError, EOFError, OSError, ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        # (garbage bytes make torch's unpicklers fail in assorted ways, e.g. IndexError: pop from empty list)
        raise AsvbenchError(f"corrupt or unreadable checkpoint: {str(exc).splitlines()[0]}", where=p) from None
    if not isinstance(obj, dict):
        raise AsvbenchError(f"checkpoint holds a {type(obj).__name__}, expected a state dict", where=p)
    return obj


def load_strict(module: "torch.nn.Module", state: dict[str, Any], *, where: str | Path, family: str) -> None:
    """``load_state_dict(strict=True)`` with an :class:`AsvbenchError` naming missing/unexpected keys."""
    from asvbench.errors import AsvbenchError

    expected = set(module.state_dict())
    given = set(state)
    missing = sorted(expected - given)
    unexpected = sorted(given - expected)
    if missing or unexpected:
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:8]) + (f" ... (+{len(keys) - 8} more)" if len(keys) > 8 else "")

        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys: {show(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys: {show(unexpected)}")
        raise AsvbenchError(
            f"checkpoint does not match the {family} architecture; " + "; ".join(parts),
            where=where, hint="check --model: is this checkpoint of another family or size?",
        )
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # shape mismatches
        first = str(exc).splitlines()
        raise AsvbenchError(
            f"checkpoint tensor shapes do not match the {family} architecture: {' '.join(first[1:3]).strip()}",
            where=where, hint="check --model: is this checkpoint of another size (e.g. embed 192 vs 512)?",
        ) from None
