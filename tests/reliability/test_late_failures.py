"""A command that fails *after* its work (a breakdown, a record, the second of two outputs) must
leave every output as it was: the old file unchanged, no new file (issue 14, "a failed command
leaves no new output and loses nothing"; see asvbench._atomic.staged_command).

Each case starts with the outputs already present ("old\\n"); the harness asserts that nothing in
the case directory changed and that nothing new appeared.
"""

from __future__ import annotations

import pytest

from tests.reliability._harness import case, combine, make_file, run_case, world

OLD = "old\n"
old_out = make_file("out.tsv", OLD)
old_record = make_file("r.json", OLD)
old_report = make_file("m.json", OLD)
no_ids = make_file("noid.txt", "0.9 target\n0.1 nontarget\n")  # no enroll/test ids: not a score file
SCORE = "score --trials {trials} --embeddings {store} --out {out}"
FUSE = "fuse --asv {asv} --cm {cm} --method sum --trials {sasv_trials} --out {out}"

CASES = [
    # score: the score file is complete before these fail
    case("score-by-source-keeps-old-out", 7, SCORE + " --by source", "--by source needs the source",
         setup=old_out),
    case("score-by-gender-keeps-old-out", 7, SCORE + " --by gender", "--by gender needs the gender",
         setup=old_out),
    case("score-benchmark-mismatch-keeps-old-out-and-record", 7,
         SCORE + " --save-result {r_json} --benchmark vox1-o", "does not match benchmark",
         setup=combine(old_out, old_record)),
    case("score-by-source-no-new-out", 7, SCORE + " --by source", "--by source needs the source"),
    case("score-benchmark-mismatch-no-new-files", 7, SCORE + " --save-result {dir}/r.json --benchmark vox1-o",
         "does not match benchmark"),
    # metrics: the record
    case("metrics-by-source-keeps-old-record", 7, "metrics {scores} --save-result {r_json} --by source",
         "--by source needs the source", setup=old_record),
    case("metrics-benchmark-mismatch-keeps-old-record", 7,
         "metrics {scores} --save-result {r_json} --benchmark vox1-o", "does not match benchmark",
         setup=old_record),
    # fuse: --out and --report are written before the record is built
    case("fuse-benchmark-mismatch-keeps-old-out-report-record", 7,
         FUSE + " --report {m_json} --save-result {r_json} --benchmark vox1-o", "does not match benchmark",
         setup=combine(old_out, old_report, old_record)),
    case("fuse-benchmark-mismatch-no-new-files", 7,
         FUSE + " --report {dir}/m.json --save-result {dir}/r.json --benchmark vox1-o", "does not match benchmark"),
    case("fuse-by-gender-keeps-old-out", 7, FUSE + " --by gender", "--by gender", setup=old_out),
    # calibrate: the first --apply's output is written before the second --apply is read
    case("calibrate-second-apply-bad-keeps-first-out", 7,
         "calibrate --dev {scores} --apply {scores2} --apply {noid_txt} --out {out} --out {dir}/o2.tsv",
         "cannot tell the score-file format", where="noid_txt", setup=combine(old_out, no_ids)),
    case("calibrate-second-apply-bad-no-new-out", 7,
         "calibrate --dev {scores} --apply {scores2} --apply {noid_txt} --out {dir}/o1.tsv --out {dir}/o2.tsv",
         "cannot tell the score-file format", where="noid_txt", setup=no_ids),
    # report: the table is written before the DET plots are drawn
    case("report-det-bad-keeps-old-table", 7, "report {record} --out {t_md} --det {dir}/dets",
         "unknown plot format", setup=make_file("t.md", OLD)),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize("c", CASES, ids=str)
def test_late_failure_loses_nothing(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")
