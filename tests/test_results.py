"""Result records: JSON round trip, validation, trial fingerprints, DET thinning."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.results import (
    ResultRecord,
    flatten_metrics,
    load_result,
    make_record,
    save_result,
    thin_det,
)
from asvbench.trials.fingerprint import TrialsFingerprint, fingerprint_bytes, fingerprint_trials
from tests.conftest import shared_path


def _record(**kw) -> ResultRecord:
    base = dict(system="A", benchmark="custom:toy", metrics={"eer": 0.05, "min_dcf": {"0.01": 0.3}})
    base.update(kw)
    return ResultRecord(**base)


def test_round_trip(tmp_path):
    fp = TrialsFingerprint(sha256="ab", content_sha256="cd", n_lines=3, label_counts={"target": 1, "nontarget": 2})
    rec = _record(trials=fp, variant="AS-Norm", definitions={"eer_method": "interp"})
    path = save_result(tmp_path / "r.json", rec)
    back = load_result(path)
    assert back == rec
    assert back.label == "A (AS-Norm)"


def test_flatten_metrics():
    flat = flatten_metrics({"eer": 0.1, "min_dcf": {"0.01": 0.2, "0.001": 0.4}, "eer_method": "interp",
                            "x": None, "ok": True})
    assert flat == {"eer": 0.1, "min_dcf@0.01": 0.2, "min_dcf@0.001": 0.4, "x": None}


@pytest.mark.parametrize("text,match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"schema": "other"}', "not an asvbench result record"),
    ('{"schema": "asvbench.result/1", "system": "A", "benchmark": "b"}', "no metrics"),
    ('{"schema": "asvbench.result/1", "system": "A", "benchmark": "b", "metrics": {}}', "no metrics"),
    ('{"schema": "asvbench.result/1", "system": "A", "benchmark": "b", "metrics": {"eer_method": "x"}}',
     "no numeric metric"),
    ('{"schema": "asvbench.result/1", "benchmark": "b", "metrics": {"eer": 0.1}}', "no 'system'"),
])
def test_bad_records(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(AsvbenchError, match=match):
        load_result(path)


def test_missing_record_file(tmp_path):
    with pytest.raises(AsvbenchError, match="not found"):
        load_result(tmp_path / "nope.json")


def test_fingerprint_crlf_and_lf_share_content_sha():
    lf = b"1 a b\n0 a c\n0 b c\n"
    crlf = b"1 a b\r\n0 a c\r\n0  b c"  # CRLF, double space, no final newline
    f1, f2 = fingerprint_bytes(lf), fingerprint_bytes(crlf)
    assert f1.sha256 != f2.sha256
    assert f1.content_sha256 == f2.content_sha256 == hashlib.sha256(lf).hexdigest()
    assert (f1.line_endings, f1.final_newline) == ("lf", True)
    assert (f2.line_endings, f2.final_newline) == ("crlf", False)
    # hand count: one '1' (target), two '0' (nontarget)
    assert f1.label_counts == {"target": 1, "nontarget": 2}


@pytest.mark.parametrize("text,counts", [
    (b"m1 u1 bonafide target\nm1 u2 A01 spoof\nm1 u3 bonafide nontarget\nm2 u3 A02 spoof\n",
     {"target": 1, "nontarget": 1, "spoof": 2}),
    (b"spk u1 - - bonafide\nspk u2 - A01 spoof\n", {"spoof": 1, "bonafide": 1}),
    (b"enroll test 1\nenroll test2 0\n", {"target": 1, "nontarget": 1}),
    (b"asv_score,cm_score,sasv_label\n0.1,0.2,1.0\n0.1,0.2,0.0\n0.3,0.1,2.0\n",
     {"target": 1, "nontarget": 1, "spoof": 1}),
])
def test_fingerprint_label_counts(text, counts):
    assert fingerprint_bytes(text).label_counts == counts


def test_fingerprint_errors(tmp_path):
    with pytest.raises(AsvbenchError, match="not found"):
        fingerprint_trials(tmp_path / "x.txt")
    (tmp_path / "e.txt").write_text("\n\n")
    with pytest.raises(AsvbenchError, match="empty"):
        fingerprint_trials(tmp_path / "e.txt")


def test_vox1_o_cleaned_content_sha_is_the_published_lf_sha(shared_dir):
    # trials/SOURCES.md: the CRLF list normalised to LF with a final newline has sha256 0bc0a0fe...
    fp = fingerprint_trials(shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt"))
    assert fp.sha256 == "f87c25ef1dafa8365e56c7593ca3e2fa6a85aa64fe28a3696468e9f5f9d6b71d"
    assert fp.content_sha256 == "0bc0a0fe3e557f1a75fb71e566d862d460709e80a4fe28e80e49bc0ab3a536ea"
    assert fp.n_lines == 37611 and fp.label_counts == {"target": 18802, "nontarget": 18809}
    assert (fp.line_endings, fp.final_newline) == ("crlf", False)


def test_make_record_names_registered_benchmark(shared_dir):
    path = shared_path(shared_dir, "trials/voxceleb1/veri_test2.txt")
    rec = make_record({"eer": 0.01}, system="S", trials_path=path)
    assert rec.benchmark == "vox1-o-cleaned"
    with pytest.raises(AsvbenchError, match="original instead of cleaned"):
        make_record({"eer": 0.01}, system="S", benchmark="vox1-o-cleaned",
                    trials_path=shared_path(shared_dir, "trials/voxceleb1/veri_test.txt"))


def test_make_record_benchmark_names(tmp_path):
    (tmp_path / "my.txt").write_text("1 a b\n0 a c\n")
    assert make_record({"eer": 0.1}, system="S", trials_path=tmp_path / "my.txt").benchmark == "custom:my"
    assert make_record({"eer": 0.1}, system="S", benchmark="custom:x").benchmark == "custom:x"
    with pytest.raises(AsvbenchError, match="unknown benchmark 'vox1-x'"):
        make_record({"eer": 0.1}, system="S", benchmark="vox1-x")


def test_simulated_records_say_so():
    data = json.loads(_record(simulated=True).to_json())
    assert data["simulated"] is True and "simulated" in data["SIMULATED"]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=3, max_value=6000), max_points=st.integers(min_value=3, max_value=500))
def test_thin_det_bounds_and_ends(n, max_points):
    fpr = np.linspace(1.0, 0.0, n)
    fnr = np.linspace(0.0, 1.0, n)
    x, y = thin_det(fpr, fnr, max_points)
    assert len(x) <= max(max_points, 2) or n <= max_points
    assert (x[0], y[0], x[-1], y[-1]) == (1.0, 0.0, 0.0, 1.0)
    assert np.all(np.diff(x) <= 0) and np.all(np.diff(y) >= 0)  # order kept
