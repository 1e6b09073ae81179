"""``asvbench metrics``: the classes of issue 14 as one table of bad command lines (see _harness)."""

from __future__ import annotations

import pytest

from tests.reliability._harness import case, make_file, output_cases, run_case, world

OK = "metrics {scores}"

CASES = [
    *output_cases("metrics", "{scores}", "--save-result", file_name="r.json", inputs=["scores"]),
    case("metrics-save-result-is-protocol", 1, "metrics {cm} --protocol {trials} --save-result {trials}",
         "--save-result", "same path as the input --protocol", where="trials"),
    case("metrics-p-target-above-1", 2, OK + " --p-target 1.5", "--p-target must lie strictly between 0 and 1"),
    case("metrics-p-target-negative", 2, OK + " --p-target -0.1", "--p-target must lie strictly between 0 and 1"),
    case("metrics-p-target-second-bad", 2, OK + " --p-target 0.01 --p-target 1", "--p-target must lie"),
    case("metrics-c-miss-negative", 2, OK + " --c-miss -2", "--c-miss must be a positive number"),
    case("metrics-c-fa-zero", 2, OK + " --c-fa 0", "--c-fa must be a positive number"),
    case("metrics-c-fa-inf", 2, OK + " --c-fa inf", "--c-fa must be a positive number"),
    case("metrics-benchmark-unknown", 2, OK + " --benchmark voxceleb9", "unknown benchmark 'voxceleb9'"),
    case("metrics-bad-option-before-missing-file", 2, "metrics {dir}/absent.txt --p-target 7", "--p-target must lie"),
    case("metrics-eer-method-typo", 2, OK + " --eer-method nearestt", "--eer-method"),
    case("metrics-format-typo", 2, OK + " --format csv", "--format"),
    case("metrics-protocol-format-without-protocol", 2, OK + " --protocol-format asvspoof5", "only with --protocol"),
    case("metrics-duplicate-line", 3, "metrics {s_txt}", "trial scored twice", "line 3", "repeats the trial of",
         where=":3", setup=make_file("s.txt", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t1 0.9 target\n")),
    # plain metrics (no --by / --ci: the ids are not read, only hashed from the bytes) must still see a
    # repeated pair whose scores differ, in every whitespace layout; both lines named as file:line
    *[case(f"metrics-plain-same-pair-other-score-{name}", 3, "metrics {s_txt}", "trial scored twice",
           "line 4", "s.txt:2", where=":4", setup=make_file("s.txt", text))
      for name, text in [
          ("spaces", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget\n"),
          ("tab-one-line", "e1 t1 0.9 target\ne1\tt2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget\n"),
          ("no-final-newline", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget"),
          ("run-of-spaces", "e1 t1 0.9 target\ne1  t2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget\n"),
          ("crlf", "e1 t1 0.9 target\r\ne1 t2 0.1 nontarget\r\ne2 t1 0.3 nontarget\r\ne1 t2 0.15 nontarget\r\n"),
          ("blank-lines-at-end", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget\n\n\n"),
          ("bom", "\ufeffe1 t1 0.9 target\ne1 t2 0.1 nontarget\ne2 t1 0.3 nontarget\ne1 t2 0.15 nontarget\n"),
          ("label-first", "e1 t1 target 0.9\ne1 t2 nontarget 0.1\ne2 t1 nontarget 0.3\ne1 t2 nontarget 0.15\n"),
          ("sasv", "LA_1 E_1 bonafide target 2.0\nLA_1 E_2 bonafide nontarget -1\nLA_1 E_3 A07 spoof 1.5\n"
                   "LA_1 E_2 bonafide nontarget -0.5\n"),
      ]],
    case("metrics-plain-same-pair-other-score-csv", 3, "metrics {s_csv}", "trial scored twice", where=":4",
         setup=make_file("s.csv", "enroll,test,score,label\ne1,t1,0.9,target\ne1,t2,0.1,nontarget\n"
                                  "e1,t2,0.4,nontarget\n")),
    case("metrics-same-pair-other-score", 3, "metrics {s_txt} --json --by source",
         "trial scored twice", where=":3", setup=make_file("s.txt", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\n"
                                                                   "e1 t1 0.7 target\n")),
    case("metrics-same-pair-two-labels", 3, "metrics {s_txt}", "the same trial has two labels", where=":3",
         setup=make_file("s.txt", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t1 0.9 nontarget\n")),
    case("metrics-duplicate-table", 3, "metrics {s_csv}", "trial scored twice", where=":4",
         setup=make_file("s.csv", "enroll,test,score,label\ne1,t1,0.9,target\ne1,t2,0.1,nontarget\ne1,t1,0.9,target\n")),
    case("metrics-sasv-spoof-labelled-target", 3, "metrics {s_txt}", "source and key disagree", where=":3", hint=False,
         setup=make_file("s.txt", "LA_1 E_1 bonafide target 2.0\nLA_1 E_2 bonafide nontarget -1\n"
                                  "LA_1 E_3 A07 target 1.5\n")),
    case("metrics-sasv-bonafide-labelled-spoof", 3, "metrics {s_txt}", "source and key disagree", where=":2", hint=False,
         setup=make_file("s.txt", "LA_1 E_1 bonafide target 2.0\nLA_1 E_2 bonafide spoof -1\n"
                                  "LA_1 E_3 bonafide nontarget 1.5\n")),
    case("metrics-latin1", 6, "metrics {s_txt}", "not a UTF-8 text file", "byte 0xe9", where=":2",
         setup=make_file("s.txt", b"e1 t1 0.9 target\ne1 t\xe9 0.1 nontarget\n")),
    case("metrics-latin1-later-line", 6, "metrics {s_txt}", "not a UTF-8 text file", where=":3",
         setup=make_file("s.txt", b"e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t\xe9 0.2 nontarget\n")),
    case("metrics-device", 8, "metrics /dev/zero", "SCORES names a device", where="/dev/zero"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize("c", CASES, ids=str)
def test_metrics_bad_input(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")


def test_bom_is_accepted(files, tmp_path):
    """A UTF-8 BOM (Windows editors) is stripped: same metrics as without it."""
    from tests.reliability._harness import invoke

    plain = invoke(["metrics", str(files["scores"]), "--json"])
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + files["scores"].read_bytes())
    with_bom = invoke(["metrics", str(bom), "--json"])
    assert plain.exit_code == with_bom.exit_code == 0, with_bom.output
    assert plain.stdout == with_bom.stdout


def test_allowed_duplicates_are_counted(files, tmp_path):
    from asvbench.io.scores import read_scores

    path = tmp_path / "s.txt"
    path.write_text("e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t1 0.9 target\n")
    table = read_scores(path, allow_duplicates=True)
    assert table.n_duplicates == 1 and len(table) == 3
