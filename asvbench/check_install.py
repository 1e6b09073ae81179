"""Does this install's torch + torchaudio pair work? ``python -m asvbench.check_install``

torchaudio ships compiled ops built against one torch release; a mismatched pair (torchaudio
2.11.1 with torch 2.11.0, say) imports ``torchaudio`` fine and then fails on the first compiled op
with ``OSError: Could not load this library ... undefined symbol``. This module runs one Kaldi
fbank, the op every speaker model here starts with, and prints one line: the pair and ``ok``, or
what is wrong and how to install the tested pair (``constraints.txt``). Exit code 0 or 1.

:func:`require_torchaudio` is what the front-ends call, so ``extract`` on a broken install ends in
one clear error instead of a traceback.
"""

from __future__ import annotations

import sys
from types import ModuleType

from asvbench.errors import AsvbenchError

FIX = ("install the tested pair: pip install -c constraints.txt -e . (from the asvbench checkout; "
       "README 'Two commands')")


def _base_version(version: str) -> str:
    """'2.11.0+cpu' -> '2.11.0'."""
    return version.split("+", 1)[0]


def require_torchaudio(submodule: str = "compliance.kaldi") -> ModuleType:
    """``torchaudio.<submodule>``, imported; a broken torch/torchaudio pair is an :class:`AsvbenchError`."""
    import importlib

    import torch

    try:
        module = importlib.import_module(f"torchaudio.{submodule}")
    except ImportError as exc:
        raise AsvbenchError(f"torchaudio is not usable ({str(exc).splitlines()[0]})", hint=FIX) from None
    except OSError as exc:  # its compiled library did not load (the message of the cause names the symbol)
        reason = str(exc.__cause__ or exc).splitlines()[0][:240]
        raise AsvbenchError(f"torchaudio {_installed_version('torchaudio')} does not load with torch "
                            f"{torch.__version__}: {reason}", hint=FIX) from None
    return module


def _installed_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "(version unknown)"


def check() -> str:
    """One line describing a working pair; :class:`AsvbenchError` when the pair is broken."""
    import torch

    kaldi = require_torchaudio("compliance.kaldi")
    import torchaudio

    if _base_version(torch.__version__) != _base_version(torchaudio.__version__):
        raise AsvbenchError(f"torch {torch.__version__} and torchaudio {torchaudio.__version__} are not a "
                            "matching release pair", hint=FIX)
    # 800 samples at 16 kHz -> 1 + (800 - 400) // 160 = 3 frames of 80 bins (snip_edges)
    wave = torch.sin(torch.arange(800, dtype=torch.float32) * 0.05).unsqueeze(0)
    try:
        feats = kaldi.fbank(wave * 32768, num_mel_bins=80, sample_frequency=16000, dither=0.0)
    except (OSError, RuntimeError) as exc:
        raise AsvbenchError(f"torchaudio's fbank fails with torch {torch.__version__}: "
                            f"{str(exc).splitlines()[0][:200]}", hint=FIX) from None
    if tuple(feats.shape) != (3, 80) or not bool(torch.isfinite(feats).all()):
        raise AsvbenchError(f"torchaudio's fbank returned {tuple(feats.shape)} (expected (3, 80), finite)", hint=FIX)
    return f"torch {torch.__version__} + torchaudio {torchaudio.__version__}: compiled ops load (fbank ok)"


def main() -> int:
    try:
        print(f"asvbench check_install: {check()}")
    except AsvbenchError as exc:
        print(f"asvbench check_install: BROKEN INSTALL: {exc.what}; {exc.hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
