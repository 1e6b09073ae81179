"""The help texts that list trial-list formats are generated from io/formats.TRIAL_FORMATS (one place)."""

from __future__ import annotations

from typer.testing import CliRunner

from asvbench.cli._options import trial_format_names, trial_formats_help
from asvbench.cli.main import app
from asvbench.io.formats import SASV_TRIAL_FORMATS, TRIAL_FORMATS, TRIAL_LAYOUTS
from asvbench.labels import FORMAT_LABELS
from asvbench.types import Label


def test_every_trial_format_has_a_layout_and_the_sasv_ones_are_those_with_spoof_trials():
    assert set(TRIAL_LAYOUTS) == set(TRIAL_FORMATS) - {"auto"}
    assert set(SASV_TRIAL_FORMATS) == {f for f, labels in FORMAT_LABELS.items() if Label.SPOOF in labels.values()}


def test_help_text_names_each_format_with_its_line():
    assert trial_formats_help(("voxceleb", "cnceleb")) == "voxceleb '1|0 enroll test', cnceleb 'enroll test 1|0'"
    assert trial_formats_help() == ("voxceleb '1|0 enroll test', kaldi 'enroll test target|nontarget', "
                                    "cnceleb 'enroll test 1|0', asvspoof 'spk utt source key' (key: target, "
                                    "nontarget, spoof), asvspoof5 TSV with a header, or the Track 2 "
                                    "'spk file gender attack key'")


def test_names_only_for_the_help_of_a_path():
    assert trial_format_names(("asvspoof", "asvspoof5")) == "asvspoof or asvspoof5"
    assert trial_format_names(("auto", "kaldi")) == "kaldi"
    assert trial_format_names() == "voxceleb, kaldi, cnceleb, asvspoof or asvspoof5"


def test_score_fuse_and_trials_make_help_list_the_formats():
    runner = CliRunner()
    for command, names in ((["score"], TRIAL_FORMATS[1:]), (["fuse"], SASV_TRIAL_FORMATS),
                           (["trials", "make"], ("voxceleb", "kaldi", "cnceleb"))):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.replace("│", " ").split())
        for name in names:
            assert f"{name} {TRIAL_LAYOUTS[name]}" in text, (command, name)
