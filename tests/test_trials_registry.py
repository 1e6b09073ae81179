"""Trials registry: identification and verification against the real lists in ../shared."""

from __future__ import annotations

import json

import pytest

from asvbench.errors import AsvbenchError
from asvbench.trials.registry import get_benchmark, identify_benchmark, load_registry, verify_file
from tests.conftest import REPO, shared_path

REAL = {
    "trials/voxceleb1/veri_test2.txt": "vox1-o-cleaned",
    "trials/voxceleb1/veri_test.txt": "vox1-o-original",
    "trials/asvspoof2019_la/ASVspoof2019.LA.asv.dev.gi.trl.txt": "asvspoof2019-la-sasv-dev",
    "trials/asvspoof2019_la/ASVspoof2019.LA.asv.eval.gi.trl.txt": "asvspoof2019-la-sasv-eval",
    "trials/asvspoof2019_la/ASVspoof2019.LA.cm.train.trn.txt": "asvspoof2019-la-cm-train",
    "trials/asvspoof2019_la/ASVspoof2019.LA.cm.dev.trl.txt": "asvspoof2019-la-cm-dev",
    "trials/asvspoof2019_la/ASVspoof2019.LA.cm.eval.trl.txt": "asvspoof2019-la-cm-eval",
    "models/reference_scores/asvspoof5_dev_scores_label.csv": "asvspoof5-sasv-dev-scores",
}


def test_packaged_registry_equals_repo_registry():
    # trials/registry.json is a link to the packaged file (one copy to edit); the link must resolve
    assert (REPO / "trials/registry.json").read_bytes() == (REPO / "asvbench/data/trials_registry.json").read_bytes()
    assert len(load_registry(REPO / "trials/registry.json")) == len(load_registry())


def test_registry_covers_the_benchmarks():
    names = {b.name for b in load_registry()}
    for wanted in ("vox1-o-cleaned", "vox1-o-original", "vox1-e-cleaned", "vox1-h-cleaned", "cnc-eval-avg",
                   "cnc-eval-concat", "asvspoof2019-la-sasv-dev", "asvspoof2019-la-sasv-eval",
                   "asvspoof5-dev-track1"):
        assert wanted in names
    for b in load_registry():
        assert b.url.startswith("https://")
        if b.label_counts and b.n_lines and b.name != "asvspoof5-sasv-dev-scores":
            assert sum(b.label_counts.values()) == b.n_lines  # counts add up (no header lines)


@pytest.mark.parametrize("relative,name", sorted(REAL.items()))
def test_real_lists_identify_and_verify(shared_dir, relative, name):
    path = shared_path(shared_dir, relative)
    assert identify_benchmark(path).name == name
    report = verify_file(name, path)
    assert report.ok, report.problems


def test_original_instead_of_cleaned_is_explained(shared_dir):
    report = verify_file("vox1-o", shared_path(shared_dir, "trials/voxceleb1/veri_test.txt"))
    assert not report.ok
    text = " ".join(report.problems)
    # 37,720 - 37,611 = 109 extra lines in the original list
    assert "expected 37,611 lines, found 37,720 (+109)" in text
    assert "original instead of cleaned" in text


def test_lf_copy_of_crlf_list_verifies_with_a_note(shared_dir, tmp_path):
    data = shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt").read_bytes()
    lf = tmp_path / "veri_test2_lf.txt"
    lf.write_bytes(data.replace(b"\r\n", b"\n") + b"\n")
    report = verify_file("vox1-o-cleaned", lf)
    assert report.ok  # the LF variant is a registered copy
    crlf_with_newline = tmp_path / "veri_test2_crlf_nl.txt"
    crlf_with_newline.write_bytes(data + b"\r\n")
    report = verify_file("vox1-o-cleaned", crlf_with_newline)
    assert report.ok
    assert any("CRLF line endings, with final newline" in n for n in report.notes)


def test_truncated_list_fails(shared_dir, tmp_path):
    data = shared_path(shared_dir, "trials/asvspoof2019_la/ASVspoof2019.LA.asv.dev.gi.trl.txt").read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text("".join(data.splitlines(keepends=True)[:-10]))
    report = verify_file("asvspoof2019-la-sasv-dev", cut)
    assert not report.ok
    assert any("expected 29,548 lines, found 29,538 (-10)" in p for p in report.problems)


def test_unknown_name_suggests():
    with pytest.raises(AsvbenchError) as info:
        get_benchmark("vox1-o-cleand")
    assert "did you mean vox1-o-cleaned" in info.value.format()


def test_aliases():
    assert get_benchmark("Vox1-O").name == "vox1-o-cleaned"
    assert get_benchmark("sasv2022_eval").name == "asvspoof2019-la-sasv-eval"


def test_broken_registry_file(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"schema": "asvbench.trials-registry/1", "benchmarks": [{"name": "x"}]}))
    with pytest.raises(AsvbenchError, match="malformed registry entry #1"):
        load_registry(bad)
    bad.write_text("{}")
    with pytest.raises(AsvbenchError, match="not a trials registry"):
        load_registry(bad)
