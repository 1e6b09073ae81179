"""Golden tests: the five seed tables' layouts from simulated records (tests/report/_seed_records.py).

The expected text is written by hand from each seed README's layout and the simulated values
(rates x 100 at the asked decimals, e.g. EER 0.0820 -> 8.200 at 3 decimals), not produced by the code.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.report.paper import (
    PaperOptions,
    build_paper_tables,
    parse_columns,
    parse_decimals,
    render_paper_latex,
    render_paper_markdown,
)
from asvbench.report.save import parse_meta
from asvbench.results import ResultRecord
from tests.report import _seed_records as seeds

SIM = "**SIMULATED DATA (not a real system)**"
CNC = "- CNC-Eval-Avg: CNC-Eval-Avg.txt (sha256 434e432d4576, 3,484,000 lines); coverage 3,484,000/3,484,000 trials (100.0%)"
DCF01 = "- minDCF: P_target=0.01; C_miss=1, C_fa=1"


def _options(columns: str = "", **kw) -> PaperOptions:
    cols, at = parse_columns(columns)
    return PaperOptions(columns=cols, metrics_at=at, **kw)


def _render(records, options, fmt="markdown", **kw) -> str:
    tables = build_paper_tables(records, options, **kw)
    return (render_paper_markdown if fmt == "markdown" else render_paper_latex)(tables, options)


WESPEAKER = _options("system:Model,params,flops,pretraining:Pretraining Data,lm:LM,asnorm:AS-Norm",
                     merge=("system", "params", "flops", "pretraining"), decimals={"eer": 3}, highlight=False)


def test_wespeaker_cnceleb_markdown_merges_the_repeated_model():
    expected = "\n".join([
        SIM, "",
        "| Model | Params | FLOPs | Pretraining Data | LM | AS-Norm | EER (%) | minDCF (p=0.01) |",
        "|---|---|---|---|---|---|---:|---:|",
        "| ECAPA_TDNN_GLOB_c1024-ASTP-emb192 | 14.65M | 2.65G | CNCeleb | × | × | 8.200 | 0.440 |",
        "|  |  |  |  | × | √ | 7.500 | 0.378 |",
        "|  |  |  |  | √ | × | 8.100 | 0.423 |",
        "|  |  |  |  | √ | √ | 7.330 | 0.366 |",
        "|  |  |  | WenetSpeech (filtered) | × | × | 7.220 | 0.391 |",
        "|  |  |  |  | × | √ | 6.710 | 0.344 |",
        "|  |  |  |  | √ | × | 6.990 | 0.375 |",
        "|  |  |  |  | √ | √ | 6.480 | 0.331 |",
        "", CNC, "- EER: interp", DCF01, ""])
    assert _render(seeds.wespeaker_cnceleb(), WESPEAKER) == expected


def test_wespeaker_cnceleb_latex_uses_multirow_and_a_caption():
    body = _render(seeds.wespeaker_cnceleb(), WESPEAKER, "latex").splitlines()
    assert body[3].startswith(r"\caption{SIMULATED DATA (not a real system). CNC-Eval-Avg: CNC-Eval-Avg.txt "
                              r"(sha256 434e432d4576, 3,484,000 lines); coverage 3,484,000/3,484,000 trials (100.0\%). "
                              r"EER: interp. minDCF: P\_target=0.01; C\_miss=1, C\_fa=1.}")
    assert body[4:7] == [r"\begin{tabular}{llllllrr}", r"\toprule",
                         r"Model & Params & FLOPs & Pretraining Data & LM & AS-Norm & EER (\%) & minDCF (p=0.01) \\"]
    assert body[8] == (r"\multirow{8}{*}{ECAPA\_TDNN\_GLOB\_c1024-ASTP-emb192} & \multirow{8}{*}{14.65M} & "
                       r"\multirow{8}{*}{2.65G} & \multirow{4}{*}{CNCeleb} & $\times$ & $\times$ & 8.200 & 0.440 \\")
    assert body[9] == r" &  &  &  & $\times$ & $\surd$ & 7.500 & 0.378 \\"
    assert body[12] == r" &  &  & \multirow{4}{*}{WenetSpeech (filtered)} & $\times$ & $\times$ & 7.220 & 0.391 \\"


DOUBLEROC = _options("system:Model", group_by="fusion", highlight=False)
SASV_HEAD = ("| Model | DEV SASV-EER (%) | DEV SV-EER (%) | DEV SPF-EER (%) | EVAL SASV-EER (%) | EVAL SV-EER (%) "
             "| EVAL SPF-EER (%) |")
SASV_PROV = ["- DEV: sasv-dev.txt (sha256 736173762d64, 30,000 lines); coverage 30,000/30,000 trials (100.0%)",
             "- EVAL: sasv-eval.txt (sha256 736173762d65, 125,000 lines); coverage 125,000/125,000 trials (100.0%)",
             "- EER: interp"]


def test_doubleroc_one_table_per_fusion_markdown():
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    expected = "\n".join([
        "**SIMULATED DATA (not a real system): NoNorm**", "", SASV_HEAD, rule,
        "| ECAPA | 1.10 | 1.80 | 1.30 | 1.40 | 1.50 | 1.20 |", "", *SASV_PROV, "",
        "**SIMULATED DATA (not a real system): L2Norm**", "", SASV_HEAD, rule,
        "| ECAPA | 0.90 | 1.50 | 0.10 | 1.10 | 1.10 | 1.10 |",
        "| SE-Res2Net-50 | 0.10 | 0.20 | 0.10 | 0.60 | 0.30 | 0.70 |", "", *SASV_PROV, ""])
    assert _render(seeds.doubleroc_sasv(), DOUBLEROC) == expected


def test_doubleroc_latex_spans_dev_and_eval():
    text = _render(seeds.doubleroc_sasv(), DOUBLEROC, "latex")
    assert text.count(r"\begin{tabular}{lrrrrrr}") == 2
    assert text.count(r" & \multicolumn{3}{c}{DEV} & \multicolumn{3}{c}{EVAL} \\") == 2
    assert r"\cmidrule(lr){2-4} \cmidrule(lr){5-7}" in text
    assert r"Model & SASV-EER (\%) & SV-EER (\%) & SPF-EER (\%) & SASV-EER (\%) & SV-EER (\%) & SPF-EER (\%) \\" in text
    assert r"SE-Res2Net-50 & 0.10 & 0.20 & 0.10 & 0.60 & 0.30 & 0.70 \\" in text


TAORUIJIE = _options(layout="transposed", decimals={"min_dcf": 4})


def test_taoruijie_transposed_markdown():
    expected = "\n".join([
        SIM, "",
        "| Metric | Vox1_O | Vox1_E | Vox1_H |",
        "|---|---:|---:|---:|",
        "| EER (%) | 0.87 | 1.19 | 2.16 |",
        "| minDCF (p=0.05) | 0.0686 | 0.0765 | 0.1295 |",
        "",
        "- Vox1_O: Vox1_O.txt (sha256 566f78315f4f, 37,660 lines); coverage 37,660/37,660 trials (100.0%)",
        "- Vox1_E: Vox1_E.txt (sha256 566f78315f45, 580,000 lines); coverage 580,000/580,000 trials (100.0%)",
        "- Vox1_H: Vox1_H.txt (sha256 566f78315f48, 550,000 lines); coverage 550,000/550,000 trials (100.0%)",
        "- EER: interp", "- minDCF: P_target=0.05; C_miss=1, C_fa=1", ""])
    assert _render(seeds.taoruijie_ecapa(), TAORUIJIE, metrics=["eer", "min_dcf@0.05"]) == expected


def test_taoruijie_transposed_latex():
    lines = _render(seeds.taoruijie_ecapa(), TAORUIJIE, "latex", metrics=["eer", "min_dcf@0.05"]).splitlines()
    assert lines[4:10] == [r"\begin{tabular}{lrrr}", r"\toprule", r"Metric & Vox1\_O & Vox1\_E & Vox1\_H \\",
                           r"\midrule", r"EER (\%) & 0.87 & 1.19 & 2.16 \\",
                           r"minDCF (p=0.05) & 0.0686 & 0.0765 & 0.1295 \\"]


GEMINI = _options("system:Model,params:Param,lm:Large Margin Fine-Tuning,metrics,folder:Pretrained Model Folder",
                  decimals={"eer": 3}, highlight=False)


def test_golden_gemini_markdown_param_lm_and_folder_columns():
    head = ("| Model | Param | Large Margin Fine-Tuning | Vox1-O EER (%) | Vox1-O minDCF (p=0.01) | Vox1-E EER (%) "
            "| Vox1-E minDCF (p=0.01) | Vox1-H EER (%) | Vox1-H minDCF (p=0.01) | Pretrained Model Folder |")
    expected = "\n".join([
        SIM, "", head, "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
        "| Gemini DF-ResNet60 | 4.05M | × | 0.940 | 0.088 | 1.052 | 0.116 | 1.800 | 0.166 | 0611-df_resnet56 |",
        "| Gemini DF-ResNet114 | 6.53M | × | 0.687 | 0.067 | 0.862 | 0.097 | 1.491 | 0.144 | 0615-df_resnet110 |",
        "| Gemini DF-ResNet183 | 9.20M | × | 0.597 | 0.065 | 0.805 | 0.090 | 1.441 | 0.137 | 0621-df_resnet179 |",
        "| [New] Gemini DF-ResNet183 | 9.20M | √ | 0.570 | 0.045 | 0.767 | 0.078 | 1.343 | 0.126 | 0621-df_resnet179-LM |",
        "",
        "- Vox1-O: Vox1-O.txt (sha256 566f78312d4f, 37,660 lines); coverage 37,660/37,660 trials (100.0%)",
        "- Vox1-E: Vox1-E.txt (sha256 566f78312d45, 580,000 lines); coverage 580,000/580,000 trials (100.0%)",
        "- Vox1-H: Vox1-H.txt (sha256 566f78312d48, 550,000 lines); coverage 550,000/550,000 trials (100.0%)",
        "- EER: interp", DCF01, ""])
    assert _render(seeds.golden_gemini(), GEMINI) == expected


def test_golden_gemini_latex_groups_and_trailing_text_column():
    text = _render(seeds.golden_gemini(), GEMINI, "latex")
    assert r"\begin{tabular}{lllrrrrrrl}" in text
    assert r" &  &  & \multicolumn{2}{c}{Vox1-O} & \multicolumn{2}{c}{Vox1-E} & \multicolumn{2}{c}{Vox1-H} &  \\" in text
    assert r"\cmidrule(lr){4-5} \cmidrule(lr){6-7} \cmidrule(lr){8-9}" in text
    # "[" is braced: after the previous row's \\, a bare "[New]" would be read as \\[<length>]
    assert r"{[}New{]} Gemini DF-ResNet183 & 9.20M & $\surd$ & 0.570 & 0.045 & 0.767 & 0.078 & 1.343 & 0.126 & 0621-df\_resnet179-LM \\" in text


OSV = _options("system:Model,backbone:Backbone,loss:Metric,feature,batch_size:batch size,config",
               decimals={"eer": 3, "min_dcf": 4}, highlight=False)


def test_open_speaker_verification_markdown():
    am, feat = "AMSoftmax, scale=30, margin=0.2", "81 FBANK(including energy)"
    # the seed's columns: EER and DCF on Vox1-O, EER only on Vox1-H (no record has minDCF there: left out)
    head = ("| Model | Backbone | Metric | feature | batch size | config | Vox1-O(cleaned) EER (%) "
            "| Vox1-O(cleaned) minDCF (p=0.01) | Vox1-H EER (%) |")
    expected = "\n".join([
        SIM, "", head, "|---|---|---|---|---|---|---:|---:|---:|",
        f"| ResNet34-AM-VoxCeleb2 | ResNet34 | {am} | {feat} | 128 | vox2_resnet34_b128x4 | 1.208 | 0.0739 | 2.450 |",
        f"| ResNet34-AM-VoxCeleb2-syncBN | ResNet34 | {am} | {feat} | 128 | vox2_resnet34_b128x4_syncBN | 1.195 | 0.0790 | – |",
        f"| SEResNet34-AM-VoxCeleb2 | SEResNet34 | {am} | {feat} | 100 | vox2_seresnet34_b100x4 | 1.122 | 0.0772 | 2.420 |",
        f"| SEResNet34-AM-VoxCeleb2-syncBN | SEResNet34 | {am} | {feat} | 100 | vox2_seresnet34_b100x4_syncBN | 1.176 | 0.0746 | – |",
        "",
        "- Vox1-O(cleaned): Vox1-O-cleaned.txt (sha256 566f78312d4f, 37,660 lines); coverage 37,660/37,660 trials (100.0%)",
        "- Vox1-H: Vox1-H.txt (sha256 566f78312d48, 550,000 lines); coverage 550,000/550,000 trials (100.0%)",
        "- EER: interp", DCF01, ""])
    assert _render(seeds.open_speaker_verification(), OSV, allow_missing=True) == expected


SETS = [(seeds.wespeaker_cnceleb, WESPEAKER, {}), (seeds.doubleroc_sasv, DOUBLEROC, {}),
        (seeds.taoruijie_ecapa, TAORUIJIE, {"metrics": ["eer", "min_dcf@0.05"]}),
        (seeds.golden_gemini, GEMINI, {}), (seeds.open_speaker_verification, OSV, {"allow_missing": True})]


def _tabular_columns(spec_line: str) -> int:
    return len(re.fullmatch(r"\\begin\{tabular\}\{([lrc]+)\}", spec_line).group(1))


def _row_width(row: str) -> int:
    cells = re.split(r"(?<!\\)&", row.removesuffix(r"\\").strip())
    width = 0
    for cell in cells:
        span = re.match(r"\s*\\multicolumn\{(\d+)\}", cell)
        width += int(span.group(1)) if span else 1
    return width


@pytest.mark.parametrize(("build", "options", "kw"), SETS)
def test_latex_is_well_formed(build, options, kw):
    """No pdflatex here (not on the package index): braces balance, environments close, and every
    row of each tabular has as many cells as its column spec."""
    text = _render(build(), options, "latex", **kw)
    plain = text.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for ch in plain:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    for env in ("table", "tabular"):
        assert text.count(rf"\begin{{{env}}}") == text.count(rf"\end{{{env}}}") >= 1
    n = 0
    for line in text.splitlines():
        if line.startswith(r"\begin{tabular}"):
            n = _tabular_columns(line)
        elif line.endswith(r"\\"):
            assert _row_width(line) == n, line
    assert text.count("$") % 2 == 0
    assert not any(line.startswith("[") for line in text.splitlines())  # not read as \\[<length>]


# --------------------------------------------------------------------------- mixing, decimals, scale, ci, meta

def _two_methods() -> list[ResultRecord]:
    a, b = seeds.golden_gemini()[0], seeds.golden_gemini()[9]  # DF-ResNet60 and [New] DF-ResNet183 on Vox1-O
    from dataclasses import replace

    return [a, replace(b, definitions={**b.definitions, "eer_method": "roc"})]


def test_a_column_mixing_eer_definitions_is_refused_naming_the_records():
    with pytest.raises(AsvbenchError) as err:
        build_paper_tables(_two_methods(), _options(), sources=["a.json", "b.json"])
    assert "a.json" in err.value.what and "b.json" in err.value.what and "eer_method=roc" in err.value.what


def test_allow_mixed_marks_the_cells():
    text = _render(_two_methods(), _options(allow_mixed=True), sources=["a.json", "b.json"])
    # b's EER 0.00570 -> 0.57 (2 decimals, best), marked; its minDCF (same costs) is not
    assert "| [New] Gemini DF-ResNet183 | **0.57†** | **0.045** |" in text
    assert "- † Vox1-O EER (%): b.json (trials 566f78312d4f, eer_method=roc) differ from a.json" in text


def test_fraction_scale_and_decimals():
    text = _render(seeds.taoruijie_ecapa(), _options(layout="transposed", scale="fraction", decimals={"eer": 4}),
                   metrics=["eer"])
    assert "| EER | 0.0087 | 0.0119 | 0.0216 |" in text  # 0.0087 stored, shown as a fraction


def test_intervals_in_cells():
    from dataclasses import replace

    recs = [replace(r, ci={"intervals": {"eer": [0.0080, 0.0095]}}) for r in seeds.taoruijie_ecapa()]
    text = _render(recs, _options(layout="transposed"), metrics=["eer"])
    assert "| EER (%) | 0.87 [0.80, 0.95] | 1.19 [0.80, 0.95] | 2.16 [0.80, 0.95] |" in text


def test_meta_survives_the_record_json():
    rec = seeds.wespeaker_cnceleb()[0]
    back = ResultRecord.from_json(rec.to_json())
    assert back.meta == {"params": 14_650_000, "flops": 2_650_000_000, "pretraining": "CNCeleb", "lm": False,
                         "asnorm": False}


def test_parse_meta_and_decimals():
    assert parse_meta(["lm=true", "params=14650000", "pretraining=WenetSpeech (filtered)"]) == {
        "lm": True, "params": 14650000, "pretraining": "WenetSpeech (filtered)"}
    with pytest.raises(AsvbenchError):
        parse_meta(["lm"])
    assert parse_decimals("eer=3,min_dcf=4") == {"eer": 3, "min_dcf": 4}
    with pytest.raises(AsvbenchError):
        parse_decimals("eer=x")


def test_transposed_with_two_systems_merges_the_system_column():
    recs = [r for r in seeds.golden_gemini() if r.system in ("Gemini DF-ResNet60", "Gemini DF-ResNet114")]
    text = _render(recs, _options(layout="transposed", decimals={"eer": 3}, provenance=False))
    expected = "\n".join([
        SIM, "", "| System | Metric | Vox1-O | Vox1-E | Vox1-H |", "|---|---|---:|---:|---:|",
        "| Gemini DF-ResNet60 | EER (%) | 0.940 | 1.052 | 1.800 |",
        "|  | minDCF (p=0.01) | 0.088 | 0.116 | 0.166 |",
        "| Gemini DF-ResNet114 | EER (%) | **0.687** | **0.862** | **1.491** |",
        "|  | minDCF (p=0.01) | **0.067** | **0.097** | **0.144** |", ""])
    assert text == expected
    latex = _render(recs, _options(layout="transposed", decimals={"eer": 3}, provenance=False), "latex")
    assert r"\multirow{2}{*}{Gemini DF-ResNet60} & EER (\%) & 0.940 & 1.052 & 1.800 \\" in latex


def test_partial_coverage_in_the_footnote():
    from dataclasses import replace

    from asvbench import results

    coverage = getattr(results, "Coverage", None)
    if coverage is None:
        pytest.skip("records state no coverage in this tree")
    recs = seeds.taoruijie_ecapa()
    recs[0] = replace(recs[0], coverage=coverage(scored=37_000, listed=37_660))
    text = _render(recs, _options(layout="transposed"), metrics=["eer"])
    # 37,000 / 37,660 = 0.98247 -> 98.2 %
    assert "- Vox1_O: Vox1_O.txt (sha256 566f78315f4f, 37,660 lines); coverage 37,000/37,660 trials (98.2%)" in text


def test_derived_fields_score_norm_pool_norm_and_frontend():
    from dataclasses import replace

    from asvbench.report.paper import record_field
    from asvbench.results import ModelInfo

    rec = replace(seeds.taoruijie_ecapa()[0], model=(ModelInfo("campplus-3dspeaker-cn-en-common"),),
                  normalization={"pool_norm": "l2", "norm": "asnorm"})
    assert record_field(rec, "frontend") == "kaldi-fbank-80"  # the registry entry's front-end
    assert (record_field(rec, "score_norm"), record_field(rec, "pool_norm")) == ("asnorm", "l2")
    assert record_field(rec, "model") == "campplus-3dspeaker-cn-en-common"
    assert record_field(replace(rec, meta={"frontend": "mfcc-24"}), "frontend") == "mfcc-24"  # --meta wins


@given(st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xy"), st.integers(0, 2)), min_size=1, max_size=12))
def test_merging_hides_only_repeats_under_a_merged_left_neighbour(rows):
    """Filling each covered cell with the value above gives the table back; the spans of a column add
    up to its rows; a cell is covered only when its value repeats and the merged column left of it is covered."""
    from asvbench.report.paper import Cell, _merge

    body = [[Cell(v) for v in row] for row in rows]
    merged = _merge(body, [0, 1])
    for k in (0, 1):
        filled, last = [], None
        for row in merged:
            last = row[k].value if row[k].span else last
            filled.append(last)
        assert filled == [r[k] for r in rows]
        assert sum(row[k].span for row in merged) == len(rows)
    for i in range(1, len(rows)):
        covered0, covered1 = merged[i][0].span == 0, merged[i][1].span == 0
        assert covered0 == (rows[i][0] == rows[i - 1][0])
        assert covered1 == (covered0 and rows[i][1] == rows[i - 1][1])
        assert merged[i][2].span == 1  # a column not asked for is never merged
