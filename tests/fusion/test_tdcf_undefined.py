"""fuse on an ASV whose EER operating point accepts no spoof: the t-DCF weights C2 are 0 there, so the
min t-DCF is undefined (NaN, JSON null, with the reason), and the SASV EERs are still reported.

(A rule-B filled ASV on a handful of trials, as in tests/e2e/test_doubleroc_protocol.py, is such a
system; before, fuse stopped with exit 2 and reported nothing.)
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.testing import write_score_lines

# (speaker, utt, source, key, ASV cosine, CM P(bona fide))
TRIALS = [
    ("LA_0001", "LA_E_1", "bonafide", "target", 0.9, 0.9),
    ("LA_0001", "LA_E_2", "bonafide", "target", 0.8, 0.9),
    ("LA_0001", "LA_E_3", "bonafide", "nontarget", 0.3, 0.9),
    ("LA_0001", "LA_E_4", "bonafide", "nontarget", 0.2, 0.9),
    ("LA_0001", "LA_E_5", "A10", "spoof", 0.1, 0.1),
]


def test_tdcf_is_undefined_and_the_sasv_eers_are_reported(tmp_path):
    (tmp_path / "trials.txt").write_text("".join(f"{s} {u} {src} {k}\n" for s, u, src, k, _, _ in TRIALS))
    write_score_lines(tmp_path / "asv.tsv", [(s, u, a, k) for s, u, _, k, a, _ in TRIALS],
                      header="enroll\ttest\tscore\tlabel", sep="\t")
    write_score_lines(tmp_path / "cm.txt", [(u, p) for _, u, _, _, _, p in TRIALS])
    result = CliRunner().invoke(app, ["fuse", "--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.txt"),
                                      "--cm-score", "prob", "--trials", str(tmp_path / "trials.txt"),
                                      "--method", "product", "--json"])
    assert result.exit_code == 0, result.output
    ev = json.loads(result.stdout)["eval"]
    # the targets (0.9, 0.8) are above the non-targets (0.3, 0.2): the EER threshold lies between
    # them, above the spoof's 0.1, so Pfa_spoof = 0 and C2 = Cfa_cm Pspoof (1 - Pmiss_spoof) = 0
    assert ev["tdcf"]["asv_operating_point"]["p_fa_spoof"] == 0.0
    for form in ("legacy", "2021"):
        assert ev["tdcf"][form]["min_tdcf"] is None
        assert "not positive" in ev["tdcf"][form]["undefined"]
    # fused = P x (cos + 1) / 2: targets 0.855, 0.81 > non-targets 0.585, 0.54 > spoof 0.055
    assert (ev["fused"]["sasv_eer"], ev["fused"]["sv_eer"], ev["fused"]["spf_eer"]) == (0.0, 0.0, 0.0)


def test_the_table_says_why_the_tdcf_is_nan(tmp_path):
    test_tdcf_is_undefined_and_the_sasv_eers_are_reported(tmp_path)  # writes the three files
    result = CliRunner().invoke(app, ["fuse", "--asv", str(tmp_path / "asv.tsv"), "--cm", str(tmp_path / "cm.txt"),
                                      "--cm-score", "prob", "--trials", str(tmp_path / "trials.txt"),
                                      "--method", "product"])
    assert result.exit_code == 0, result.output
    notes = " ".join(result.stderr.split())
    for form in ("legacy", "2021"):
        assert f"note: min t-DCF ({form}) is undefined, shown as nan:" in notes
    assert "not positive" in notes
