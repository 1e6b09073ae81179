"""``asvbench calibrate``, ``report``, ``det``, ``trials fetch``, ``demo``, ``models pull``: the classes of
issue 14 as tables of bad command lines (see _harness)."""

from __future__ import annotations

import pytest

from tests.reliability._harness import case, make_dir, make_file, output_cases, run_case, world

CAL = "--dev {scores} --apply {scores2}"
DUP = "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t1 0.9 target\n"

CALIBRATE = [
    *output_cases("calibrate", CAL, "--out", inputs=["scores", "scores2"]),
    *output_cases("calibrate", CAL, "--out-dir", kind="directory"),
    case("calibrate-out-dir-target-is-a-directory", 1, "calibrate " + CAL + " --out-dir {dir}", "--out-dir",
         "names a directory", where="scores2.llr.tsv", setup=make_dir("scores2.llr.tsv")),
    case("calibrate-out-dir-two-applies-same-name", 1,
         "calibrate --dev {scores} --apply {scores2} --apply {sub}/scores2.txt --out-dir {dir}",
         "name the same path", where="scores2.llr.tsv",
         setup=lambda local: (local["dir"].joinpath("sub").mkdir(), local.update(sub=local["dir"] / "sub"),
                              local["sub"].joinpath("scores2.txt").write_text(local["scores2"].read_text()))),
    case("calibrate-out-equals-dev", 1, "calibrate " + CAL + " --out {scores}", "--out",
         "same path as the input --dev", where="scores"),
    case("calibrate-train-prior-1", 2, "calibrate " + CAL + " --out {out} --train-prior 1",
         "--train-prior must lie strictly between 0 and 1"),
    case("calibrate-train-prior-0", 2, "calibrate " + CAL + " --out {out} --train-prior 0", "--train-prior must lie"),
    case("calibrate-train-prior-before-missing-dev", 2,
         "calibrate --dev {dir}/absent.txt --train-prior 2", "--train-prior must lie"),
    case("calibrate-p-target-bad", 2, "calibrate " + CAL + " --out {out} --p-target 5", "--p-target must lie"),
    case("calibrate-method-typo", 2, "calibrate " + CAL + " --out {out} --method pava", "--method"),
    case("calibrate-no-destination", 2, "calibrate " + CAL, "where should the calibrated scores go"),
    case("calibrate-out-count", 2, "calibrate " + CAL + " --out {out} --out {dir}/b.tsv", "2 --out for 1 --apply",
         ),
    case("calibrate-duplicate-dev", 3, "calibrate --dev {d_txt} --apply {scores2} --out {out}", "trial scored twice",
         where=":3", setup=make_file("d.txt", DUP)),
    case("calibrate-duplicate-apply", 3, "calibrate --dev {scores} --apply {d_txt} --out {out}", "trial scored twice",
         where=":3", setup=make_file("d.txt", DUP)),
    case("calibrate-conflict-dev", 3, "calibrate --dev {d_txt} --apply {scores2} --out {out}",
         "the same trial has two labels", where=":3",
         setup=make_file("d.txt", "e1 t1 0.9 target\ne1 t2 0.1 nontarget\ne1 t1 0.9 nontarget\n")),
    case("calibrate-latin1-dev", 6, "calibrate --dev {d_txt} --apply {scores2} --out {out}", "not a UTF-8 text file",
         where=":2", setup=make_file("d.txt", b"e1 t1 0.9 target\ne1 t\xe92 0.1 nontarget\n")),
    case("calibrate-dev-device", 8, "calibrate --dev /dev/zero --apply {scores2} --out {out}", "--dev names a device",
         where="/dev/zero"),
]

REPORT = [
    *output_cases("report", "{record}", "--out", file_name="t.md", inputs=["record"]),
    *output_cases("report", "{record}", "--det", file_name="d.png"),
    case("report-out-equals-det", 1, "report {record} --out {dir}/x.md --det {dir}/x.md", "name the same path",
         where="x.md"),
    case("report-format-typo", 2, "report {record} --format mdown", "--format"),
    case("report-latin1-record", 6, "report {r_json}", "not a UTF-8 text file", where=":1",
         setup=make_file("r.json", b'{"system": "\xe9"}')),
    case("report-record-device", 8, "report /dev/zero", "RESULTS names a device", where="/dev/zero"),
]

DET = [
    *output_cases("det", "{scores}", "--out", file_name="d.png", inputs=["scores"]),
    *output_cases("det", "{scores} --out {dir}/d.png", "--hist", file_name="h.png", inputs=["scores"]),
    case("det-hist-equals-out", 1, "det {scores} --out {dir}/d.png --hist {dir}/d.png", "name the same path",
         where="d.png"),
    case("det-p-target-bad", 2, "det {scores} --out {dir}/d.png --p-target 0", "--p-target must lie"),
    case("det-negatives-typo", 2, "det {scores} --out {dir}/d.png --negatives spoofs", "--negatives"),
    case("det-duplicate-line", 3, "det {d_txt} --out {dir}/d.png", "trial scored twice", where=":3",
         setup=make_file("d.txt", DUP)),
    case("det-latin1", 6, "det {d_txt} --out {dir}/d.png", "not a UTF-8 text file", where=":2",
         setup=make_file("d.txt", b"e1 t1 0.9 target\ne1 t\xe92 0.1 nontarget\n")),
    case("det-device", 8, "det /dev/zero --out {dir}/d.png", "SCORES names a device", where="/dev/zero"),
]

OTHERS = [
    case("trials-fetch-to-is-a-file", 1, "trials fetch vox1-o --to {afile}", "--to names an existing file",
         where="afile", setup=make_file("afile", "x")),
    case("trials-fetch-to-under-a-file", 1, "trials fetch vox1-o --to {afile}/d", "nothing can be created under it",
         where="afile", setup=make_file("afile", "x")),
    case("trials-fetch-timeout-zero", 2, "trials fetch vox1-o --to {dir} --timeout 0", "--timeout must be a positive"),
    case("demo-out-is-a-file", 1, "demo --out {afile}", "--out names an existing file", where="afile",
         setup=make_file("afile", "x")),
    case("demo-out-under-a-file", 1, "demo --out {afile}/d", "nothing can be created under it", where="afile",
         setup=make_file("afile", "x")),
    case("models-pull-cache-dir-is-a-file", 1, "models pull campplus --cache-dir {afile}",
         "--cache-dir names an existing file", where="afile", setup=make_file("afile", "x")),
    case("models-pull-cache-dir-under-a-file", 1, "models pull campplus --cache-dir {afile}/c",
         "nothing can be created under it", where="afile", setup=make_file("afile", "x")),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize("c", CALIBRATE + REPORT + DET + OTHERS, ids=str)
def test_bad_input(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")


def test_record_with_a_bom_is_read(files, tmp_path):
    from tests.reliability._harness import invoke

    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + files["record"].read_bytes())
    plain, with_bom = invoke(["report", str(files["record"])]), invoke(["report", str(bom)])
    assert plain.exit_code == with_bom.exit_code == 0, with_bom.output
    assert plain.stdout == with_bom.stdout
