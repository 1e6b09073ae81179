"""``asvbench fuse``: the classes of issue 14 as one table of bad command lines (see _harness)."""

from __future__ import annotations

import pytest

from tests.reliability._harness import case, invoke, output_cases, run_case, world

BASE = "--asv {asv} --cm {cm} --method sum --trials {sasv_trials}"
OK = "fuse " + BASE


def _with(**files):
    """Setup: write the named files (placeholder name -> content) into the case directory."""
    def setup(local):
        for name, content in files.items():
            path = local["dir"] / name.replace("_", ".")
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
            local[name] = path

    return setup


CASES = [
    *output_cases("fuse", BASE, "--out", inputs=["asv", "cm", "sasv_trials"]),
    *output_cases("fuse", BASE, "--report", file_name="m.json", inputs=["asv"]),
    *output_cases("fuse", BASE, "--save-result", file_name="r.json", inputs=["cm"]),
    case("fuse-out-equals-report", 1, OK + " --out {out} --report {out}", "--report and --out", "name the same path",
         where="out"),
    case("fuse-cm-cache-is-a-directory", 1, OK + " --cm-cache {dir}", "--cm-cache names a directory", where="dir"),
    case("fuse-benchmark-unknown", 2, OK + " --benchmark nope", "unknown benchmark 'nope'"),
    case("fuse-rho-above-1", 2, OK + " --rho 1.5", "--rho must lie in [0, 1]"),
    case("fuse-rho-negative", 2, OK + " --rho -0.5", "--rho must lie in [0, 1]"),
    case("fuse-rho-grid-bad", 2, "fuse --asv {asv} --cm {cm} --method nonlinear --trials {sasv_trials} --rho-grid 0:1",
         "cannot parse rho grid"),
    case("fuse-method-typo", 2, "fuse --asv {asv} --cm {cm} --method products", "--method"),
    case("fuse-adcf-costs-typo", 2, OK + " --adcf-costs asvspoof4", "--adcf-costs"),
    case("fuse-device-tpu", 2, OK + " --device tpu", "is not a device"),
    case("fuse-model-options-with-file", 2, OK + " --audio {dir}", "only for --cm MODEL"),
    case("fuse-llr-without-dev", 2, "fuse --asv {asv} --cm {cm} --method llr-sum --trials {sasv_trials}",
         "development set"),
    case("fuse-duplicate-trial", 3, "fuse --asv {asv} --cm {cm} --method sum --trials {t_txt}", "trial listed twice",
         where=":3", setup=_with(t_txt="LA_1 E_1 bonafide target\nLA_1 E_2 bonafide nontarget\n"
                                       "LA_1 E_1 bonafide target\nLA_1 E_3 A07 spoof\n")),
    case("fuse-conflicting-trial", 3, "fuse --asv {asv} --cm {cm} --method sum --trials {t_txt}",
         "the same trial has two labels", where=":3", setup=_with(
             t_txt="LA_1 E_1 bonafide target\nLA_1 E_2 bonafide nontarget\nLA_1 E_1 bonafide nontarget\n")),
    case("fuse-duplicate-asv-score", 3, "fuse --asv {a_txt} --cm {cm} --method sum", "trial scored twice",
         where=":3", setup=_with(a_txt="LA_1 E_1 2.0 target\nLA_1 E_2 -1.0 nontarget\nLA_1 E_1 2.0 target\n")),
    case("fuse-duplicate-cm-score", 3, OK.replace("{cm}", "{c_tsv}"), "appears more than once in the CM scores",
         "lines 2 and 4", where=":4", setup=_with(c_tsv="utt\tcm_logit\tcm_prob_bonafide\nE_1\t3.0\t0.95\n"
                                                         "E_2\t2.5\t0.9\nE_1\t3.0\t0.95\n")),
    case("fuse-spoof-source-labelled-target", 3, "fuse --asv {asv} --cm {cm} --method sum --trials {t_txt}",
         "source and key disagree", where=":2", hint=False,
         setup=_with(t_txt="LA_1 E_1 bonafide target\nLA_1 E_3 A07 target\n")),
    case("fuse-latin1-cm", 6, OK.replace("{cm}", "{c_tsv}"), "not a UTF-8 text file", where=":3",
         setup=_with(c_tsv=b"utt\tcm_logit\tcm_prob_bonafide\nE_1\t3.0\t0.95\nE_\xe92\t2.5\t0.9\n")),
    case("fuse-latin1-trials", 6, "fuse --asv {asv} --cm {cm} --method sum --trials {t_txt}", "not a UTF-8 text file",
         where=":2", setup=_with(t_txt=b"LA_1 E_1 bonafide target\nLA_1 E_\xe92 bonafide nontarget\n")),
    case("fuse-asv-device", 8, "fuse --asv /dev/zero --cm {cm} --method sum", "--asv names a device",
         where="/dev/zero"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"))


def test_the_base_command_works(files, tmp_path):
    res = invoke([a.format(**{k: str(v) for k, v in files.items()}) for a in OK.split()] +
                 ["--out", str(tmp_path / "f.tsv"), "--json"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("c", CASES, ids=str)
def test_fuse_bad_input(c, files, tmp_path):
    run_case(c, files, tmp_path / "case")
