"""The engine's messages reach the caller through ``reporting`` callbacks (the CLI's console, or
any other), and the extract layer does not import the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import asvbench.extract as extract_pkg
from asvbench.extract import ExtractConfig, run_extract
from asvbench.extract.progress import Reporting
from tests.conftest import torch_threads
from tests.extract._tiny import save_checkpoint, tiny_entry, write_corpus


def test_interrupt_and_resume_messages_go_to_the_callback(tmp_path: Path) -> None:
    write_corpus(tmp_path / "audio", [16000, 8000, 12000, 9600])
    ckpt = save_checkpoint(tmp_path / "tiny.pt")
    cfg = ExtractConfig(model="tiny", audio=tmp_path / "audio", out=tmp_path / "store", checkpoint=ckpt,
                        batch_size=1, num_workers=0, progress=False)
    said: list[tuple[str, str | None]] = []
    reporting = Reporting(lambda text, style: said.append((text, style)), console=None)

    def stop(idx: int) -> None:
        if idx == 0:
            raise KeyboardInterrupt

    with torch_threads(1):
        with pytest.raises(KeyboardInterrupt):
            run_extract(cfg, entry=tiny_entry(), on_batch=stop, reporting=reporting)
        assert len(said) == 1 and said[0][0].startswith("interrupted: finished batches are kept in")
        assert said[0][1] == "yellow"
        run_extract(cfg, entry=tiny_entry(), reporting=reporting)
    assert said[1] == (f"resuming: 1 of 4 batches already done in {tmp_path / 'store.work'}", None)


def test_the_extract_layer_does_not_import_the_cli() -> None:
    for path in Path(extract_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith("asvbench.cli") for n in names), (path.name, names)
