"""``asvbench score``: every class of issue 14 as one table of bad command lines (see _harness)."""

from __future__ import annotations

import pytest

from tests.reliability._harness import case, make_file, output_cases, run_case, world

BASE = "score --trials {trials} --embeddings {store}"
OK = BASE + " --out {out}"

CASES = [
    *output_cases("score", "--trials {trials} --embeddings {store}", "--out",
                  inputs=["trials", ("--enroll-map", "enroll_map"), ("--cohort-utt2spk", "scores")]),
    *output_cases("score", "--trials {trials} --embeddings {store} --out {out}", "--save-result",
                  file_name="r.json", inputs=["trials"]),
    case("score-out-equals-save-result", 1, BASE + " --out {out} --save-result {out}", "--save-result and --out",
         "name the same path", where="out"),
    case("score-out-equals-center", 1, BASE + " --out {trials} --center {store}", "--out", "same path as the input",
         where="trials"),
    # 2: options, before any input is read (a missing trial list must not be reported first)
    case("score-p-target-above-1", 2, OK + " --p-target 1.5", "--p-target must lie strictly between 0 and 1"),
    case("score-p-target-zero", 2, OK + " --p-target 0", "--p-target must lie strictly between 0 and 1"),
    case("score-p-target-nan", 2, OK + " --p-target nan", "--p-target must lie strictly between 0 and 1"),
    case("score-c-miss-zero", 2, OK + " --c-miss 0", "--c-miss must be a positive number"),
    case("score-c-fa-negative", 2, OK + " --c-fa -1", "--c-fa must be a positive number"),
    case("score-bad-option-before-missing-input", 2,
         "score --trials {dir}/absent.txt --embeddings {store} --out {out} --p-target 2", "--p-target"),
    case("score-benchmark-unknown", 2, OK + " --benchmark vox1-zz", "unknown benchmark 'vox1-zz'"),
    case("score-benchmark-empty-custom", 2, OK + " --benchmark custom:", "empty after the prefix", hint=False),
    case("score-norm-device-tpu", 2, OK + " --norm-device tpu", "is not a device"),
    case("score-eer-method-typo", 2, OK + " --eer-method rocc", "--eer-method"),
    case("score-trials-format-typo", 2, OK + " --trials-format vox", "--trials-format"),
    case("score-precision-typo", 2, OK + " --precision float16", "--precision"),
    case("score-norm-without-cohort", 2, OK + " --norm asnorm", "needs a cohort"),
    case("score-top-k-one", 2, OK + " --norm asnorm --cohort {store} --top-k 1", "--top-k", hint=False),
    case("score-top-k-text", 2, OK + " --top-k many", "--top-k"),
    # 3: silent wrong numbers
    case("score-duplicate-trial", 3, "score --trials {t_txt} --embeddings {store} --out {out}",
         "trial listed twice", "line 3", "repeats line 1", where=":3",
         setup=make_file("t.txt", "1 a000 b030\n0 a000 f180\n1 a000 b030\n")),
    case("score-duplicate-trial-blank-lines", 3, "score --trials {t_txt} --embeddings {store} --out {out}",
         "trial listed twice", "line 5", "repeats line 2", where=":5",
         setup=make_file("t.txt", "\n1 a000 b030\n0 a000 f180\n\n1 a000 b030\n")),
    case("score-conflicting-labels", 3, "score --trials {t_txt} --embeddings {store} --out {out}",
         "the same trial has two labels", "line 1", "line 3", where=":3",
         setup=make_file("t.txt", "1 a000 b030\n0 a000 f180\n0 a000 b030\n")),
    case("score-conflicting-labels-allowed-dups", 3,
         "score --trials {t_txt} --embeddings {store} --out {out} --allow-duplicates",
         "the same trial has two labels", where=":3", setup=make_file("t.txt", "1 a000 b030\n0 a000 f180\n0 a000 b030\n")),
    case("score-duplicate-kaldi", 3, "score --trials {t_txt} --embeddings {store} --out {out}", "trial listed twice",
         where=":3", setup=make_file("t.txt", "a000 b030 target\na000 f180 nontarget\na000 b030 target\n")),
    case("score-enrolment-model-twice", 3,
         "score --trials {model_trials} --embeddings {store} --enroll-map {m_map} --out {out}",
         "enrolment model 'm1' is defined twice", where=":3", setup=make_file("m.map", "m1 a000\nm2 c045\nm1 b030\n")),
    case("score-enrolment-model-in-two-maps", 3,
         "score --trials {model_trials} --embeddings {store} --enroll-map {enroll_map} --enroll-map {m_map} --out {out}",
         "enrolment model 'm1' is defined twice", where=":1", setup=make_file("m.map", "m1 d060\n")),
    case("score-enrolment-utterance-twice", 3,
         "score --trials {model_trials} --embeddings {store} --enroll-map {m_map} --out {out}",
         "utterance 'a000' is listed twice for model 'm1'", where=":1", setup=make_file("m.map", "m1 a000,a000\nm2 c045\n")),
    case("score-sasv-spoof-labelled-target", 3, "score --trials {t_txt} --embeddings {store} --out {out}",
         "source and key disagree", where=":2", hint=False,
         setup=make_file("t.txt", "a000 b030 bonafide target\na000 f180 A07 target\n")),
    # 6: where
    case("score-latin1-trials", 6, "score --trials {t_txt} --embeddings {store} --out {out}",
         "not a UTF-8 text file", "byte 0xe9", where=":2", setup=make_file("t.txt", b"1 a000 b030\n0 a000 f\xe9\n")),
    case("score-latin1-enroll-map", 6,
         "score --trials {model_trials} --embeddings {store} --enroll-map {m_map} --out {out}",
         "not a UTF-8 text file", where=":2", setup=make_file("m.map", b"m1 a000\nm2 c\xe9045\n")),
    case("score-unknown-enrolment-utterance", 6,
         "score --trials {model_trials} --embeddings {store} --enroll-map {m_map} --out {out}",
         "enrolment utterances", "zz9", "model m2", where=":2", setup=make_file("m.map", "m1 a000\nm2 zz9\n")),
    case("score-enroll-map-no-utterances", 6,
         "score --trials {model_trials} --embeddings {store} --enroll-map {m_map} --out {out}",
         "a model but no utterances", where=":2", setup=make_file("m.map", "m1 a000\nm2\n")),
    case("score-trials-is-a-device", 8, "score --trials /dev/zero --embeddings {store} --out {out}",
         "--trials names a device or socket", where="/dev/zero"),
    case("score-enroll-map-is-a-device", 8, "score --trials {model_trials} --embeddings {store} --enroll-map /dev/null "
         "--out {out}", "--enroll-map names a device", where="/dev/null"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize("c", CASES, ids=str)
def test_score_bad_input(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")
