"""``asvbench extract`` (the engine: padded batches, the BatchNorm-folded inference form, a worker
process) with the WeSpeaker ResNet34 and Gemini DF-ResNet114 entries equals a one-at-a-time loop
through the network as loaded, on real LibriSpeech speech; a file shorter than the model's minimum
is listed as too short with its length in seconds. Checkpoints: rule-B fills of the parity
fixtures' key sets written as WeSpeaker's avg_model.pt (no trained weights are needed to check the
batching)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asvbench.extract import ExtractConfig, run_extract
from asvbench.io.embeddings import load_embeddings
from asvbench.models.registry import get_model
from tests.conftest import shared_path
from tests.models._batch import assert_store_equals_one_at_a_time
from tests.models._parity import parity_case
from tests.models._resnet2d_parity import wespeaker_checkpoint

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.usefixtures("two_torch_threads")]

#: 2.0 s, 2.5 s and 3.8 s utterances of two speakers
LIBRI = ["3005/3005-163389-0007.flac", "3005/3005-163389-0004.flac", "367/367-130732-0009.flac"]


@pytest.mark.parametrize(("entry", "folder", "too_short"), [
    # 700 samples = 0.04375 s; ResNet needs 400 + 8 * 160 = 1680 (0.105 s), Gemini 400 + 2 * 160 = 720 (0.045 s)
    ("resnet34-wespeaker-lm", "wespeaker_resnet34",
     "too short: 700 samples (0.044 s) < the model's minimum of 1680 samples (0.105 s)"),
    ("gemini-dfresnet114-wespeaker-lm", "wespeaker_gemini_dfresnet114",
     "too short: 700 samples (0.044 s) < the model's minimum of 720 samples (0.045 s)"),
])
def test_extract_equals_one_at_a_time(shared_dir, tmp_path, entry, folder, too_short):
    root = shared_path(shared_dir, "audio/librispeech_test-other_10x10")
    short = tmp_path / "short.wav"
    sf.write(short, np.full(700, 0.1, np.float32), 16000)
    lst = tmp_path / "list.txt"
    lst.write_text("".join(f"{root / rel}\n" for rel in LIBRI) + f"{short}\n")
    ckpt = wespeaker_checkpoint(parity_case(shared_dir, folder).filled("B"), tmp_path / "avg_model.pt")
    res = run_extract(ExtractConfig(model=entry, audio=lst, out=tmp_path / "store", checkpoint=ckpt, batch_size=4,
                                    num_workers=1, progress=False, key_style="stem", bucketing="padded"))
    assert res.n_done == 3 and res.n_failed == 1
    assert (tmp_path / "store.failures.tsv").read_text().splitlines()[1].split("\t")[2] == too_short
    store = load_embeddings(res.out)
    assert "BatchNorm folded" in store.manifest["optimisations"]
    model = get_model(entry).loader(ckpt)  # as loaded: no inference form
    assert_store_equals_one_at_a_time(store, model, {Path(r).stem: root / r for r in LIBRI})
