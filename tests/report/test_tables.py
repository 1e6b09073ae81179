"""Result tables on hand-made records: layout, best-value highlighting, bad input."""

from __future__ import annotations

import pytest

from asvbench.errors import AsvbenchError
from asvbench.report.tables import build_table, render, render_csv, render_latex, render_markdown
from asvbench.results import ResultRecord
from asvbench.trials.fingerprint import TrialsFingerprint

FP_A = TrialsFingerprint(sha256="a", content_sha256="A" * 64, n_lines=10, label_counts={"target": 5, "nontarget": 5})
FP_B = TrialsFingerprint(sha256="b", content_sha256="B" * 64, n_lines=12)


def rec(system, bench, eer, dcf=None, variant="", trials=None, **metrics):
    m = {"eer": eer, **metrics}
    if dcf is not None:
        m["min_dcf"] = {"0.01": dcf}
    return ResultRecord(system=system, benchmark=bench, metrics=m, variant=variant, trials=trials)


def two_bench_records():
    # EER fractions; shown in % with 2 decimals; minDCF with 3 decimals
    return [
        rec("ResNet34", "custom:vox1-o", 0.00723, 0.0712, trials=FP_A),
        rec("ResNet34", "custom:vox1-o", 0.00670, 0.0650, variant="AS-Norm", trials=FP_A),
        rec("ECAPA", "custom:vox1-o", 0.00850, 0.0650, trials=FP_A),
        rec("ResNet34", "custom:cnc", 0.0760, 0.4100, trials=FP_B),
        rec("ECAPA", "custom:cnc", 0.0710, 0.4300, trials=FP_B),
    ]


def test_layout_and_best_values():
    table = build_table(two_bench_records())
    assert [r.label for r in table.rows] == ["ResNet34", "ResNet34 (AS-Norm)", "ECAPA"]
    assert [(c.benchmark, c.metric.key) for c in table.columns] == [
        ("custom:vox1-o", "eer"), ("custom:vox1-o", "min_dcf@0.01"), ("custom:cnc", "eer"),
        ("custom:cnc", "min_dcf@0.01")]
    # vox1-o EER: 0.72 / 0.67 / 0.85 -> best row 1; minDCF 0.071 / 0.065 / 0.065 -> tie rows 1 and 2
    # cnc EER: 7.60 / (none) / 7.10 -> row 2; minDCF 0.410 / - / 0.430 -> row 0
    assert table.best == (frozenset({1}), frozenset({1, 2}), frozenset({2}), frozenset({0}))
    assert table.cell(0, 0) == "0.72" and table.cell(1, 0) == "0.67" and table.cell(0, 1) == "0.071"
    assert table.cell(1, 2) == "–"


def test_markdown():
    md = render_markdown(build_table(two_bench_records()))
    lines = md.splitlines()
    assert lines[0] == ("| System | vox1-o EER (%) | vox1-o minDCF (p=0.01) | cnc EER (%) | cnc minDCF (p=0.01) |")
    assert lines[2] == "| ResNet34 | 0.72 | 0.071 | 7.60 | **0.410** |"
    assert lines[3] == "| ResNet34 (AS-Norm) | **0.67** | **0.065** | – | – |"
    assert lines[4] == "| ECAPA | 0.85 | **0.065** | **7.10** | 0.430 |"


def test_latex_bold_escape_and_spans():
    recs = [rec("A_1 & co", "custom:x", 0.01), rec("B", "custom:x", 0.02)]
    tex = render_latex(build_table(recs, metrics=["eer"]))
    assert r"\multicolumn{1}{c}{x}" in tex
    assert r"A\_1 \& co & \textbf{1.00} \\" in tex
    assert r"B & 2.00 \\" in tex
    assert r"EER (\%)" in tex


def test_latex_row_label_starting_with_a_bracket_is_not_read_as_the_line_break_argument():
    # "\\ [v2] ..." on the next line would make LaTeX read "[v2]" as the \\'s optional skip length
    recs = [rec("A", "custom:x", 0.01), rec("[v2] B", "custom:x", 0.02)]
    tex = render_latex(build_table(recs, metrics=["eer"]))
    assert r"{[}v2{]} B & 2.00 \\" in tex
    assert "\n[" not in tex


def test_csv_has_no_markup():
    text = render_csv(build_table(two_bench_records()))
    assert text.splitlines()[2] == "ResNet34,AS-Norm,0.67,0.065,,"


@pytest.mark.parametrize("fmt", ["rich", "markdown", "latex", "csv", "html", "json"])
def test_every_format_renders(fmt):
    assert "ECAPA" in render(build_table(two_bench_records()), fmt)


def test_sasv_default_columns_and_simulated_banner():
    recs = [ResultRecord(system="S", benchmark="simulated:demo", simulated=True,
                         metrics={"eer": 0.1, "sasv_eer": 0.1, "sv_eer": 0.02, "spf_eer": 0.2})]
    table = build_table(recs)
    assert [c.metric.key for c in table.columns] == ["sasv_eer", "sv_eer", "spf_eer"]
    assert table.title.startswith("SIMULATED DATA")
    assert "SIMULATED DATA" in render_markdown(table)


def test_registered_benchmark_title():
    table = build_table([rec("S", "vox1-o-cleaned", 0.01, 0.1)])
    assert table.columns[0].title == "VoxCeleb1-O (cleaned)"


def test_different_trial_lists_in_one_column():
    recs = [rec("A", "custom:x", 0.1, trials=FP_A), rec("B", "custom:x", 0.1, trials=FP_B)]
    with pytest.raises(AsvbenchError, match="different trial lists"):
        build_table(recs, metrics=["eer"])


def test_missing_metric_is_an_error_unless_allowed():
    recs = [rec("A", "custom:x", 0.1, 0.2), rec("B", "custom:x", 0.1)]
    with pytest.raises(AsvbenchError, match="has no metric 'min_dcf@0.01'"):
        build_table(recs, sources=["a.json", "b.json"])
    table = build_table(recs, allow_missing=True)
    assert table.cell(1, 1) == "–" and table.notes


def test_unknown_benchmark_name():
    with pytest.raises(AsvbenchError, match="unknown benchmark 'vox1-q'"):
        build_table([rec("A", "vox1-q", 0.1)])
    with pytest.raises(AsvbenchError, match="no record is for benchmark 'custom:zzz'"):
        build_table([rec("A", "custom:x", 0.1)], benchmarks=["custom:zzz"])


def test_duplicate_cell_and_empty():
    with pytest.raises(AsvbenchError, match="two records for 'A'"):
        build_table([rec("A", "custom:x", 0.1), rec("A", "custom:x", 0.2)], metrics=["eer"])
    with pytest.raises(AsvbenchError, match="no result records"):
        build_table([])


def test_benchmark_order():
    table = build_table(two_bench_records(), benchmarks=["custom:cnc", "custom:vox1-o"], metrics=["eer"])
    assert [c.benchmark for c in table.columns] == ["custom:cnc", "custom:vox1-o"]
