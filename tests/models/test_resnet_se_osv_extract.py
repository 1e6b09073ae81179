"""``asvbench extract`` (the engine: padded batches, the inference form, worker processes) with the
clovaai ResNetSE34V2 and OSV ResNet34 entries equals a one-at-a-time loop through the network as
loaded, on real LibriSpeech speech; a file shorter than the model's minimum is listed as too short
with its length in seconds. Checkpoints: the parity fixtures' rule-B fills, written in each
source's own layout (no trained weights are needed to check the batching)."""

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
from tests.models._resnet_se_osv import mmcv_file, resnetse_filled, speakernet_file

pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.usefixtures("two_torch_threads")]

#: 2.0 s, 2.5 s and 3.8 s utterances of two speakers
LIBRI = ["3005/3005-163389-0007.flac", "3005/3005-163389-0004.flac", "367/367-130732-0009.flac"]


def _checkpoint(shared_dir: Path, entry: str, tmp: Path) -> Path:
    if entry.startswith("osv"):
        return mmcv_file(parity_case(shared_dir, "osv_resnet34_am").filled("B"), tmp / "latest.pth")
    return speakernet_file(resnetse_filled(parity_case(shared_dir, "voxceleb_trainer_resnetse34v2"), "B"),
                           tmp / "baseline_v2_ap.model")


@pytest.mark.parametrize(("entry", "minimum"), [("resnetse34v2-clovaai-ap", 257), ("osv-resnet34-am", 400)])
def test_extract_equals_one_at_a_time(shared_dir, tmp_path, entry, minimum):
    root = shared_path(shared_dir, "audio/librispeech_test-other_10x10")
    short = tmp_path / "short.wav"
    sf.write(short, np.full(200, 0.1, np.float32), 16000)
    lst = tmp_path / "list.txt"
    lst.write_text("".join(f"{root / rel}\n" for rel in LIBRI) + f"{short}\n")
    ckpt = _checkpoint(shared_dir, entry, tmp_path)
    res = run_extract(ExtractConfig(model=entry, audio=lst, out=tmp_path / "store", checkpoint=ckpt, batch_size=4,
                                    num_workers=1, progress=False, key_style="stem", bucketing="padded"))
    assert res.n_done == 3 and res.n_failed == 1
    reason = (tmp_path / "store.failures.tsv").read_text().splitlines()[1].split("\t")[2]
    assert reason == (f"too short: 200 samples (0.013 s) < the model's minimum of {minimum} samples "
                      f"({minimum / 16000:.3f} s)")
    store = load_embeddings(res.out)
    model = get_model(entry).loader(ckpt)  # as loaded: no inference form
    assert_store_equals_one_at_a_time(store, model, {Path(r).stem: root / r for r in LIBRI})
