"""`asvbench report`: a column mixing EER definitions is refused (plain and paper tables) unless --allow-mixed."""

from __future__ import annotations

from dataclasses import replace

from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.results import save_result
from tests.report import _seed_records as seeds

runner = CliRunner()


def _mixed_pair(tmp_path):
    a, b = seeds.golden_gemini()[0], seeds.golden_gemini()[9]  # two systems on Vox1-O
    pa = save_result(tmp_path / "score.json", a)
    pb = save_result(tmp_path / "fuse.json", replace(b, definitions={**b.definitions, "eer_method": "roc"}))
    return [str(pa), str(pb)]


def test_plain_report_refuses_mixed_eer_definitions_naming_both(tmp_path):
    result = runner.invoke(app, ["report", *_mixed_pair(tmp_path), "--format", "markdown"])
    assert result.exit_code == 2
    assert "score.json" in result.output and "fuse.json" in result.output and "eer_method=roc" in result.output


def test_allow_mixed_marks_the_cell(tmp_path):
    result = runner.invoke(app, ["report", *_mixed_pair(tmp_path), "--format", "markdown", "--allow-mixed"])
    assert result.exit_code == 0, result.output
    assert "| [New] Gemini DF-ResNet183 | **0.57†** | **0.045** |" in result.stdout
    assert "- † Vox1-O EER (%):" in result.stdout


def test_paper_options_need_markdown_or_latex(tmp_path):
    paths = [str(save_result(tmp_path / "t.json", seeds.taoruijie_ecapa()[0]))]
    result = runner.invoke(app, ["report", *paths, "--format", "csv", "--layout", "transposed"])
    assert result.exit_code == 2
    assert "markdown or latex" in result.output
