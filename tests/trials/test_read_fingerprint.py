"""A list read by ``read_trials`` carries its fingerprint, computed from the bytes it read: the same
fingerprint ``fingerprint_bytes`` gives for the file's bytes, in every trial-list format, without a
second read of the file."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asvbench.trials.read as trial_read
from asvbench.io.formats import TRIAL_FORMATS
from asvbench.testing import write_trials
from asvbench.trials.fingerprint import fingerprint_bytes
from asvbench.trials.read import read_trials
from asvbench.types import Label

T, N, S = Label.TARGET, Label.NONTARGET, Label.SPOOF
FORMATS = [f for f in TRIAL_FORMATS if f != "auto"]
# ids with a comma (the fingerprint then splits lines at commas) and non-ASCII letters (the text parser)
IDS = st.text(alphabet="ab1_/.-,é", min_size=1, max_size=8).filter(lambda s: s.strip(",") == s)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(FORMATS), data=st.data(), newline=st.sampled_from(["\n", "\r\n"]),
       final_newline=st.booleans(), blank_first=st.booleans())
def test_read_trials_fingerprint_is_fingerprint_bytes_of_the_file(tmp_path_factory, fmt, data, newline,
                                                                 final_newline, blank_first):
    labels = [T, N, S] if fmt in ("asvspoof", "asvspoof5") else [T, N]
    rows = data.draw(st.lists(st.tuples(IDS, IDS, st.sampled_from(labels)), min_size=1, max_size=25,
                              unique_by=lambda r: (r[0], r[1])))  # one label per trial
    path = tmp_path_factory.mktemp("fp") / "list.txt"
    write_trials(path, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], fmt, newline=newline,
                 final_newline=final_newline)
    if blank_first and fmt != "asvspoof5":  # a blank line before the first trial (not before a header)
        path.write_bytes(newline.encode() + path.read_bytes())
    trials = read_trials(path, fmt, allow_duplicates=True)
    assert trials.fingerprint == fingerprint_bytes(path.read_bytes(), source=str(path))


def test_the_file_is_read_once(tmp_path, monkeypatch):
    path = write_trials(tmp_path / "l.txt", ["a", "a", "b"], ["x", "y", "x"], [T, N, T], "voxceleb")
    reads = []
    real = trial_read.read_bytes
    monkeypatch.setattr(trial_read, "read_bytes", lambda p: reads.append(p) or real(p))
    trials = read_trials(path)
    path.write_text("1 changed on disk after the read\n")  # the fingerprint must not come from the disk
    fp = trials.fingerprint
    assert reads == [path]
    # hand check: the normalised content is the three lines, LF-terminated
    want = hashlib.sha256(b"1 a x\n0 a y\n1 b x\n").hexdigest()
    assert (fp.content_sha256, fp.sha256, fp.n_lines) == (want, want, 3)
    assert fp.label_counts == {"target": 2, "nontarget": 1} and fp.line_endings == "lf"


def test_a_crlf_copy_shares_the_content_sha256(tmp_path):
    lf = read_trials(write_trials(tmp_path / "lf.txt", ["a", "b"], ["x", "y"], [T, N], "kaldi")).fingerprint
    crlf = read_trials(write_trials(tmp_path / "crlf.txt", ["a", "b"], ["x", "y"], [T, N], "kaldi",
                                    newline="\r\n")).fingerprint
    assert lf.same_trials(crlf) and lf.sha256 != crlf.sha256
    assert (lf.line_endings, crlf.line_endings) == ("lf", "crlf")


def test_trials_not_read_from_a_file_have_no_fingerprint():
    import numpy as np

    trials = trial_read.Trials(np.array(["a"], object), np.array(["b"], object), np.array([T], np.int8), "kaldi")
    assert trials.fingerprint is None


def test_a_plain_ascii_list_is_fingerprinted_from_its_tokens(tmp_path, monkeypatch):
    path = write_trials(tmp_path / "l.txt", ["a", "b", "c"], ["x", "y", "z"], [T, N, N], "cnceleb", newline="\r\n")
    want = fingerprint_bytes(path.read_bytes(), source=str(path))

    def not_the_text_path(*_args, **_kw):
        raise AssertionError("the byte-level list took the text fingerprint")

    monkeypatch.setattr(trial_read, "fingerprint_bytes", not_the_text_path)
    assert read_trials(path).fingerprint == want
