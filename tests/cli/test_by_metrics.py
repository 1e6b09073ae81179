"""`asvbench metrics --by`: per-attack SPF-EER of the real ASVspoof2019 LA dev scores against an
independent EER, gender from the enrolment lists, a user map, records, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asvbench.cli.main import app
from asvbench.testing import write_score_lines
from tests.conftest import shared_path
from tests.fusion._asvspoof5 import load_asvspoof5_dev

runner = CliRunner()
LA = "trials/asvspoof2019_la"
DEV_TRIALS = f"{LA}/ASVspoof2019.LA.asv.dev.gi.trl.txt"
DEV_LISTS = [f"{LA}/ASVspoof2019.LA.asv.dev.female.trn.txt", f"{LA}/ASVspoof2019.LA.asv.dev.male.trn.txt"]


def nearest_eer(tar: np.ndarray, non: np.ndarray) -> float:
    """Straightforward EER, the ASVspoof 5 package's definition: (FNR + FPR) / 2 at the threshold
    where |FNR - FPR| is smallest (accept score >= threshold), over every score as a threshold."""
    best = (2.0, 0.0)
    for t in np.concatenate((np.unique(np.concatenate((tar, non))), [np.inf])):
        fnr, fpr = np.mean(tar < t), np.mean(non >= t)
        if abs(fnr - fpr) < best[0]:
            best = (abs(fnr - fpr), (fnr + fpr) / 2)
    return best[1]


@pytest.fixture(scope="module")
def la_dev(shared_dir, tmp_path_factory) -> tuple[Path, list[list[str]], np.ndarray]:
    """The 29,548 ASV scores of the reference CSV as a SASV 5-column file ``spk utt source key score``:
    the CSV has no ids, but its rows follow the dev protocol's order (the label sequences agree row by
    row, checked here), so the protocol gives each score its trial."""
    asv, _cm, labels = load_asvspoof5_dev(shared_dir)
    rows = [line.split() for line in shared_path(shared_dir, DEV_TRIALS).read_text().splitlines()]
    codes = np.array([{"target": 1, "nontarget": 0, "spoof": 2}[r[3]] for r in rows])
    assert len(rows) == len(asv) and (codes == labels).all()
    path = write_score_lines(tmp_path_factory.mktemp("la") / "la_dev_asv.txt",
                             [(*r, repr(float(s))) for r, s in zip(rows, asv)])
    return path, rows, asv


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, ["metrics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_per_attack_spf_eer_of_the_real_la_dev_scores(la_dev):
    path, rows, asv = la_dev
    out = _json([str(path), "--by", "source", "--eer-method", "nearest"])
    (by,) = out["breakdowns"]
    source = np.array([r[2] for r in rows])
    key = np.array([r[3] for r in rows])
    tar = asv[key == "target"]
    conditions = {c["condition"]: c for c in by["conditions"]}
    assert list(conditions) == ["A01", "A02", "A03", "A04", "A05", "A06"]
    for attack, row in conditions.items():
        spoof = asv[source == attack]
        assert (row["n_target"], row["n_nontarget"], row["n_spoof"]) == (1484, 5768, 3716)
        assert row["metrics"]["spf_eer"] == pytest.approx(nearest_eer(tar, spoof), abs=1e-12)
        negatives = np.concatenate((asv[key == "nontarget"], spoof))
        assert row["metrics"]["sasv_eer"] == pytest.approx(nearest_eer(tar, negatives), abs=1e-12)
    assert by["pooled"]["metrics"]["spf_eer"] == out["spf_eer"]  # pooled beside the per-attack rows
    assert by["pooled"]["metrics"]["spf_eer"] == pytest.approx(nearest_eer(tar, asv[key == "spoof"]), abs=1e-12)


def test_gender_from_the_real_enrolment_lists(la_dev, shared_dir):
    path, rows, asv = la_dev
    lists = [str(shared_path(shared_dir, p)) for p in DEV_LISTS]
    out = _json([str(path), "--by", "gender", "--enroll-map", lists[0], "--enroll-map", lists[1],
                 "--eer-method", "nearest"])
    female = {line.split()[0] for line in Path(lists[0]).read_text().splitlines()}
    assert len(female) == 6  # ../shared/trials/SOURCES.md: 6 female + 4 male dev models
    is_female = np.array([r[0] in female for r in rows])
    key = np.array([r[3] for r in rows])
    (by,) = out["breakdowns"]
    for row in by["conditions"]:
        side = is_female if row["condition"] == "female" else ~is_female
        assert row["n_target"] == int((side & (key == "target")).sum())
        assert row["n_spoof"] == int((side & (key == "spoof")).sum())
        tar, non = asv[side & (key == "target")], asv[side & (key == "nontarget")]
        assert row["metrics"]["sv_eer"] == pytest.approx(nearest_eer(tar, non), abs=1e-12)
    assert [r["condition"] for r in by["conditions"]] == ["female", "male"]


def _small(tmp_path: Path) -> Path:
    # targets 0.9 0.8 | non-targets 0.1 0.2 on e1 (codec mp3), targets 0.3 0.7 | non-targets 0.4 0.6 on e2 (opus)
    rows = [("e1", "a", 0.9, "target"), ("e1", "b", 0.8, "target"), ("e1", "c", 0.1, "nontarget"),
            ("e1", "d", 0.2, "nontarget"), ("e2", "f", 0.3, "target"), ("e2", "g", 0.7, "target"),
            ("e2", "h", 0.4, "nontarget"), ("e2", "i", 0.6, "nontarget")]
    return write_score_lines(tmp_path / "s.txt", rows)


def test_user_map_by_hand_table_and_record(tmp_path):
    scores = _small(tmp_path)
    (tmp_path / "codec.map").write_text("a mp3\nb mp3\nc mp3\nd mp3\nf opus\ng opus\nh opus\ni opus\n")
    record = tmp_path / "r.json"
    out = _json([str(scores), "--by", str(tmp_path / "codec.map"), "--save-result", str(record)])
    rows = {r["condition"]: r["metrics"] for r in out["breakdowns"][0]["conditions"]}
    # mp3: targets 0.8 0.9 above non-targets 0.1 0.2: EER 0
    assert rows["mp3"]["eer"] == 0.0
    # opus: sorted 0.7 T, 0.6 N, 0.4 N, 0.3 T: thresholds give (FPR, FNR) = (0, 1), (0, .5), (.5, .5),
    # (1, .5), (1, 0); interp between the straddling points (0, .5) and (.5, .5) -> 0.5
    assert rows["opus"]["eer"] == pytest.approx(0.5)
    saved = json.loads(record.read_text())
    assert saved["breakdowns"] == out["breakdowns"]
    table = runner.invoke(app, ["metrics", str(scores), "--by", str(tmp_path / "codec.map")])
    assert table.exit_code == 0 and "opus" in table.stdout and "pooled" in table.stdout
    report = runner.invoke(app, ["report", str(record), "--breakdown", "--format", "markdown"])
    assert report.exit_code == 0, report.output
    assert "| mp3 | 2 | 2 | 0.00 |" in report.stdout and "| opus | 2 | 2 | 50.00 |" in report.stdout


def test_one_class_condition_is_not_computable_and_said_so(tmp_path):
    scores = _small(tmp_path)
    (tmp_path / "m.map").write_text("e1 x\ne2 y\n")  # by enrolment model
    (tmp_path / "t.map").write_text("e1 a short\ne1 b short\ne1 c long\ne1 d long\n"
                                    "e2 f short\ne2 g short\ne2 h short\ne2 i short\n")
    result = runner.invoke(app, ["metrics", str(scores), "--by", str(tmp_path / "t.map"), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["condition"]: r for r in json.loads(result.stdout)["breakdowns"][0]["conditions"]}
    assert rows["long"]["metrics"] is None and rows["long"]["not_computable"] == "no target trials"
    assert "condition 'long'" in result.stderr and "no target trials" in result.stderr
    assert rows["short"]["metrics"]["eer"] is not None


@pytest.mark.parametrize("args, message", [
    (["--by", "nosuch"], "--by 'nosuch': not source or gender, and no such map file"),
    (["--by", "source"], "--by source needs the source"),
    (["--by", "gender"], "--by gender needs the gender"),
    (["--enroll-map", "x.txt"], "--enroll-map: only with --by gender"),
    (["--by", "MAP", "--by", "MAP"], "is given twice"),
    (["--by", "BAD"], r"BAD:2: .*listed twice"),
    (["--by", "UNKNOWN"], r"UNKNOWN:9: key 'zz' is no test id"),
])
def test_bad_input(tmp_path, args, message):
    scores = _small(tmp_path)
    (tmp_path / "MAP").write_text("e1 x\ne2 y\n")
    (tmp_path / "BAD").write_text("a x\na y\n")
    (tmp_path / "UNKNOWN").write_text("".join(f"{u} c\n" for u in "abcdfghi") + "zz c\n")
    result = runner.invoke(app, ["metrics", str(scores), *[str(tmp_path / a) if a in ("MAP", "BAD", "UNKNOWN")
                                                           else a for a in args]])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert __import__("re").search(message, result.stderr), result.stderr


def test_by_with_protocol_is_refused(tmp_path):
    scores = _small(tmp_path)
    result = runner.invoke(app, ["metrics", str(scores), "--protocol", str(scores), "--by", "source"])
    assert result.exit_code == 2 and "not with --protocol" in result.stderr
