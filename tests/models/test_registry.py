"""The model registry: entries, lookups, lazy imports."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

import pytest

from asvbench.errors import AsvbenchError
from asvbench.frontends import FRONTENDS, get_frontend
from asvbench.models.base import ModelEntry
from asvbench.models.registry import MODELS, LazyLoader, get_model, list_models
from tests.conftest import REPO

CAMPPLUS = ["campplus-3dspeaker-cn-en-common", "campplus-3dspeaker-e192", "campplus-3dspeaker-e512",
            "campplus-wespeaker-e192", "campplus-wespeaker-e512"]


def test_campplus_entries_present():
    names = [e.name for e in list_models()]
    assert set(CAMPPLUS) <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("name", CAMPPLUS)
def test_entry_fields(name):
    e = get_model(name)
    assert isinstance(e, ModelEntry) and e.name == name
    assert e.family == "campplus" and e.kind == "embedding" and e.sample_rate == 16000
    assert e.embed_dim == (512 if name.endswith("e512") else 192)
    assert e.source == ("WeSpeaker" if "wespeaker" in name else "3D-Speaker")
    assert e.frontend == ("kaldi-fbank-80-wespeaker" if "wespeaker" in name else "kaldi-fbank-80")
    assert e.licence
    assert e.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", e.sha256)
    assert isinstance(e.loader, LazyLoader) and e.loader.name == name
    pickle.loads(pickle.dumps(e.loader))  # DataLoader workers / torchrun ranks can receive it
    row = e.as_row()
    assert row["name"] == name and row["embed_dim"] == e.embed_dim


def test_every_entry_names_a_registered_frontend():
    for entry in list_models():
        assert entry.frontend in FRONTENDS, entry.name
        assert get_frontend(entry.frontend).name == entry.frontend


def test_raw_frontend_tiles_short_rows_and_cuts_long_ones():
    import torch

    fe = get_frontend("raw-64600-repeat")
    assert fe.num_frames(1) == 64600 and fe.num_frames(0) == 0
    wavs = torch.zeros(2, 70000)
    wavs[0, :3] = torch.tensor([1.0, 2.0, 3.0])  # a 3-sample row, padded
    wavs[1] = torch.arange(70000.0)
    feats, frames = fe(wavs, torch.tensor([3, 70000]))
    assert feats.shape == (2, 64600, 1) and frames.tolist() == [64600, 64600]
    # 3 samples tiled int(64600 / 3) + 1 = 21534 times (64,602 samples), cut to 64,600: ... 1, 2, 3, 1
    assert feats[0, :7, 0].tolist() == [1, 2, 3, 1, 2, 3, 1] and feats[0, -1, 0] == 1.0
    assert feats[1, -1, 0] == 64599.0  # the first 64,600 samples of the long row


def test_min_samples_is_the_shortest_valid_input():
    """CAM++ needs 3 fbank frames: 1 + (N - 400) // 160 >= 3  <=>  N >= 400 + 2 * 160 = 720."""
    fe = get_frontend("kaldi-fbank-80")
    for name in CAMPPLUS:
        n = get_model(name).min_samples
        assert n == 720
        assert fe.num_frames(n) == 3 and fe.num_frames(n - 1) == 2


def test_real_checkpoint_provenance():
    e = get_model("campplus-3dspeaker-cn-en-common")
    # shared/models/SOURCES.md
    assert e.sha256 == "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
    assert e.licence == "Apache-2.0"
    assert e.url and e.url.startswith("https://")


def test_unknown_model_lists_valid_names():
    with pytest.raises(AsvbenchError, match="unknown model 'campplus'") as exc:
        get_model("campplus")
    for name in CAMPPLUS:
        assert name in exc.value.hint


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="registered twice"):
        MODELS.register("campplus-3dspeaker-e192", get_model("campplus-3dspeaker-e192"))


def test_registry_import_does_not_import_torch():
    code = ("import sys; from asvbench.models.registry import list_models; "
            "rows = [e.as_row() for e in list_models()]; print('torch' in sys.modules, len(rows))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    flag, count = out.stdout.split()
    assert flag == "False" and int(count) >= 5
