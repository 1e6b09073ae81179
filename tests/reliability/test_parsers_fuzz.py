"""Hypothesis fuzzing of every text parser (issue 14): any input gives a result or an
:class:`AsvbenchError`, never another exception. Bounded (``max_examples`` small, no deadline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError

#: ASVBENCH_FUZZ_EXAMPLES=5000 for a long local campaign; CI keeps the bounded default
FUZZ = settings(max_examples=int(os.environ.get("ASVBENCH_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: tokens that mean something to the parsers, mixed with noise, so inputs get past detection
TOKENS = st.sampled_from(["1", "0", "2", "target", "nontarget", "spoof", "bonafide", "A07", "nan", "inf", "-1.5",
                          "0.25", "1e308", "e1", "t1", "LA_1", "utt", "score", "label", "enroll", "test", "key",
                          "cm_logit", "cm_prob_bonafide", ",", "\t", "a.wav", "x/y.flac", "ark:1", "|", "é", "\x00",
                          "\ufeff", "#"])
SEPARATED = st.lists(st.tuples(st.lists(st.one_of(TOKENS, st.text(max_size=5)), max_size=6),
                               st.sampled_from([" ", "\t", ",", "  "])), max_size=8)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def texts(draw) -> bytes:
    """Lines of parser tokens and noise; sometimes a BOM, a bad byte, no final newline."""
    lines = draw(SEPARATED)
    nl = draw(NEWLINES)
    body = nl.join(sep.join(toks) for toks, sep in lines)
    if draw(st.booleans()):
        body += nl
    raw = body.encode("utf-8", "surrogatepass")
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    junk = draw(st.sampled_from([b"", b"", b"\xff", b"\xe9x"]))
    pos = draw(st.integers(0, len(raw)))
    return prefix + raw[:pos] + junk + raw[pos:]


def _call(parse, raw: bytes, tmp_path: Path, name: str = "input.txt"):
    path = tmp_path / name
    path.write_bytes(raw)
    try:
        return parse(path)
    except AsvbenchError as exc:
        assert str(exc)  # a message, never empty
        return None


@FUZZ
@given(raw=texts(), fmt=st.sampled_from(["auto", "voxceleb", "kaldi", "cnceleb", "asvspoof", "asvspoof5"]))
def test_trial_lists(tmp_path, raw, fmt):
    from asvbench.trials.read import read_trials

    trials = _call(lambda p: read_trials(p, fmt), raw, tmp_path)
    if trials is not None:
        assert len(trials.enroll) == len(trials.test) == len(trials)


@FUZZ
@given(raw=texts(), fmt=st.sampled_from(["auto", "wespeaker", "sasv", "table"]), with_ids=st.booleans())
def test_score_files(tmp_path, raw, fmt, with_ids):
    from asvbench.io.scores import read_scores

    table = _call(lambda p: read_scores(p, fmt, with_ids=with_ids), raw, tmp_path)
    if table is not None:
        assert table.scores.shape == table.labels.shape


@FUZZ
@given(raw=texts())
def test_cm_score_files(tmp_path, raw):
    from asvbench.io.scores import read_cm_scores

    _call(read_cm_scores, raw, tmp_path)


@FUZZ
@given(raw=texts())
def test_enrolment_maps(tmp_path, raw):
    from asvbench.io.enroll import read_enroll_map

    mapping = _call(read_enroll_map, raw, tmp_path)
    if mapping is not None:
        assert all(mapping.values()) and set(mapping.lines) == set(mapping)


@FUZZ
@given(raw=texts())
def test_utt2spk(tmp_path, raw):
    from asvbench.io.enroll import read_utt2spk

    _call(read_utt2spk, raw, tmp_path)


@FUZZ
@given(raw=texts(), kind=st.sampled_from(["w.scp", "list.txt"]))
def test_wav_scp_and_lists(tmp_path, raw, kind):
    from asvbench.io.audio import list_audio

    _call(list_audio, raw, tmp_path, kind)


@FUZZ
@given(raw=texts())
def test_kaldi_scp(tmp_path, raw):
    from asvbench.io.embeddings import load_embeddings

    _call(load_embeddings, raw, tmp_path, "feats.scp")  # the Kaldi scp reader, through the store loader


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["schema", "system", "benchmark", "metrics", "trials", "variant", "name", "benchmarks",
                         "sha256", "n_lines", "eer", "kind", "copies", "definitions", "model"]), inner, max_size=6)),
    max_leaves=20)


@st.composite
def json_texts(draw) -> bytes:
    value = draw(JSON_VALUES)
    raw = json.dumps(value).encode()
    cut = draw(st.sampled_from([None, None, 1, 5]))
    return raw[:-cut] if cut and len(raw) > cut else raw


@FUZZ
@given(raw=json_texts())
def test_result_records(tmp_path, raw):
    from asvbench.results import load_result

    _call(load_result, raw, tmp_path, "r.json")


@FUZZ
@given(raw=json_texts())
def test_trials_registry(tmp_path, raw):
    from asvbench.trials.registry import load_registry

    _call(load_registry, raw, tmp_path, "registry.json")


def test_a_valid_record_round_trips(tmp_path):
    """The record fuzz test is not vacuous: a record written by the tool loads."""
    from asvbench.results import load_result
    from tests.reliability._harness import invoke, world

    files = world(tmp_path / "w")
    assert load_result(files["record"]).system == "s1"
    assert invoke(["report", str(files["record"])]).exit_code == 0


@FUZZ
@given(raw=texts())
def test_quality_files(tmp_path, raw):
    from asvbench.io.quality import read_quality
    from asvbench.io.scores import ScoreTable

    table = ScoreTable(scores=np.zeros(1), labels=np.ones(1, dtype=np.int8),
                       enroll=np.array(["a"], dtype=object), test=np.array(["b"], dtype=object))
    _call(lambda p: read_quality(p, table, "dev"), raw, tmp_path)


#: inputs with no data at all: each parser must say so, never crash (CI once drew b"" for asvspoof5)
NOTHING = {"empty": b"", "blank lines": b"\n \n\t\n", "BOM only": b"\xef\xbb\xbf", "CR only": b"\r\r"}


def _parsers():
    from asvbench.io.enroll import read_enroll_map, read_utt2spk
    from asvbench.io.formats import TRIAL_FORMATS
    from asvbench.io.scores import read_cm_scores, read_scores
    from asvbench.trials.read import read_trials

    for fmt in TRIAL_FORMATS:
        yield f"trials:{fmt}", (lambda f: lambda p: read_trials(p, f))(fmt)
    for fmt in ("auto", "wespeaker", "sasv", "table"):
        yield f"scores:{fmt}", (lambda f: lambda p: read_scores(p, f))(fmt)
    yield "cm scores", read_cm_scores
    yield "enrolment map", read_enroll_map
    yield "utt2spk", read_utt2spk


@pytest.mark.parametrize("content", NOTHING.values(), ids=NOTHING.keys())
def test_every_parser_reports_an_input_with_no_data(tmp_path, content):
    for name, parse in _parsers():
        path = tmp_path / "input.txt"
        path.write_bytes(content)
        with pytest.raises(AsvbenchError) as err:
            parse(path)
        assert "input.txt" in str(err.value), name  # the message names the file
