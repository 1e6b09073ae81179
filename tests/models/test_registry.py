"""The model registry: entries, lookups, lazy imports."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

import pytest

from asvbench.errors import AsvbenchError
from asvbench.frontends import FRONTENDS, get_frontend
from asvbench.models.base import CheckpointSignature, ModelEntry
from asvbench.models.registry import (
    FAMILY_ALIASES,
    MODELS,
    LazyLoader,
    family_of,
    get_model,
    list_families,
    list_models,
    resolve_model,
)
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


def test_unknown_model_lists_valid_names_and_families():
    with pytest.raises(AsvbenchError, match="unknown model 'campplus-e999'") as exc:
        get_model("campplus-e999")
    for name in CAMPPLUS:
        assert name in exc.value.hint
    assert "campplus, ecapa-tdnn (or ecapa)" in exc.value.hint and "aasist" in exc.value.hint


def test_every_family_has_exactly_one_default():
    for family in list_families():
        defaults = [e.name for e in list_models() if e.family == family and e.default]
        assert len(defaults) == 1, (f"family {family!r} has defaults {defaults}: mark exactly one entry "
                                    "default=True in asvbench/models/registry.py")


@pytest.mark.parametrize("typed, entry", [
    ("campplus", "campplus-3dspeaker-cn-en-common"), ("ecapa", "ecapa-speechbrain"),
    ("ecapa-tdnn", "ecapa-speechbrain"), ("aasist", "aasist"), ("aasist-l", "aasist-l"),
])
def test_family_names_resolve_to_their_default(typed, entry):
    assert get_model(typed).name == entry
    resolved, how = resolve_model(typed)
    assert resolved.name == entry
    if typed == entry:  # an entry name is itself: nothing to say
        assert how == ""
    else:  # a family name says which entry it means
        assert f"is the {resolved.family} family: using its default entry {entry}" in how


def test_aliases_name_families_and_no_alias_is_an_entry():
    for alias, family in FAMILY_ALIASES.items():
        assert family in list_families() and alias not in MODELS and alias not in list_families()
        assert family_of(alias) == family
    assert family_of("resnet9000") is None


def test_no_model_and_no_checkpoint_is_an_error():
    with pytest.raises(AsvbenchError, match="no model given"):
        resolve_model(None)


def test_every_entry_has_a_checkpoint_signature():
    """A new entry adds a signature (a few distinctive keys and shapes) so its checkpoints are identified."""
    for e in list_models():
        assert isinstance(e.signature, CheckpointSignature), f"{e.name}: add signature=CheckpointSignature(...)"
        assert e.signature.keys and all(isinstance(k, str) for k in e.signature.keys), e.name


def test_verified_claims_point_at_existing_fixtures_and_tests(shared_dir):
    """Each "parity" / "real" claim names a fixture folder / checkpoint in ../shared and a test file
    here that uses it (and, for a real checkpoint, runs this entry by name)."""
    for e in list_models():
        assert e.verified in ("parity", "real", "both", "none"), e.name
        for v in e.verified_by:
            data, test = shared_dir / v.data, REPO / v.test
            assert v.kind in ("parity", "real"), (e.name, v)
            assert (data.is_dir() if v.kind == "parity" else data.is_file()), (e.name, v.data)
            assert v.data.startswith("parity/" if v.kind == "parity" else "models/"), (e.name, v.data)
            assert test.is_file(), (e.name, v.test)
            text = test.read_text(encoding="utf-8")
            assert data.name in text, f"{v.test} does not use {v.data} ({e.name})"
            if v.kind == "real":
                assert f'"{e.name}"' in text, f"{v.test} does not run {e.name}"


def test_verified_column_values():
    assert get_model("campplus-3dspeaker-cn-en-common").verified == "both"
    assert get_model("campplus-wespeaker-e512").verified == "parity"
    row = get_model("aasist").as_row()
    assert row["default"] is True and row["verified"] == "both"
    assert {"kind": "real", "data": "models/aasist_clovaai/AASIST.pth",
            "test": "tests/models/test_aasist_real.py"} in row["verified_by"]


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="registered twice"):
        MODELS.register("campplus-3dspeaker-e192", get_model("campplus-3dspeaker-e192"))


def test_registry_import_does_not_import_torch():
    code = ("import sys; from asvbench.models.registry import list_models; "
            "rows = [e.as_row() for e in list_models()]; print('torch' in sys.modules, len(rows))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    flag, count = out.stdout.split()
    assert flag == "False" and int(count) >= 5
