"""``python -m asvbench.check_install``: a working torch + torchaudio pair says so in one line; a broken
one (the torchaudio 2.11.1 + torch 2.11.0 failure: the package's compiled library does not load) is one
clear line and exit 1, and the front-ends turn it into a user error instead of a traceback.

The broken pair is simulated by a stand-in ``torchaudio`` package put first on ``PYTHONPATH`` whose import
fails the way the real 2.11.1 wheel's does (``OSError: Could not load this library`` caused by an
``undefined symbol``); the real wheel was checked by hand the same way (closing note of issue 10).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BROKEN_INIT = textwrap.dedent("""
    try:
        raise OSError("/fake/torchaudio/lib/libtorchaudio.so: undefined symbol: "
                      "torch_exception_get_what_without_backtrace")
    except OSError as exc:
        raise OSError("Could not load this library: /fake/torchaudio/lib/libtorchaudio.so") from exc
""")


@pytest.fixture()
def broken_torchaudio(tmp_path: Path) -> dict[str, str]:
    """Environment whose ``import torchaudio`` fails like a mismatched torchaudio release does."""
    pkg = tmp_path / "site" / "torchaudio"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(BROKEN_INIT)
    meta = tmp_path / "site" / "torchaudio-2.11.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: torchaudio\nVersion: 2.11.1\n")
    return {**os.environ, "PYTHONPATH": str(tmp_path / "site")}


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_working_pair_prints_one_ok_line():
    import torch
    import torchaudio

    proc = _run(["-m", "asvbench.check_install"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert f"torch {torch.__version__} + torchaudio {torchaudio.__version__}" in lines[0]
    assert lines[0].endswith("(fbank ok)")


def test_installed_pair_is_the_pinned_pair():
    """The versions constraints.txt pins are the ones this test run has (the lock is what was tested)."""
    from importlib.metadata import version

    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    for dist in ("torch", "torchaudio"):
        assert version(dist).split("+")[0] == pins[dist], f"{dist}: installed {version(dist)}, pinned {pins[dist]}"


def test_broken_pair_is_one_clear_line_and_exit_1(broken_torchaudio):
    proc = _run(["-m", "asvbench.check_install"], env=broken_torchaudio)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "BROKEN INSTALL: torchaudio 2.11.1 does not load with torch" in lines[0]
    assert "undefined symbol: torch_exception_get_what_without_backtrace" in lines[0]
    assert "pip install -c constraints.txt" in lines[0]


def test_frontend_on_broken_pair_is_a_user_error(broken_torchaudio):
    """What `extract` reaches first (the Kaldi fbank front-end) raises AsvbenchError, not OSError."""
    code = textwrap.dedent("""
        import torch
        from asvbench.errors import AsvbenchError
        from asvbench.frontends.kaldi import KaldiFbankConfig, kaldi_fbank
        try:
            kaldi_fbank(torch.zeros(800), KaldiFbankConfig())
        except AsvbenchError as exc:
            print("USER ERROR:", exc.what)
    """)
    proc = _run(["-c", code], env=broken_torchaudio)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("USER ERROR: torchaudio 2.11.1 does not load with torch")
