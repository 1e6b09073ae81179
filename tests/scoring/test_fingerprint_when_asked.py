"""run_scoring computes the trial list's fingerprint only when asked (``settings.fingerprint``,
i.e. ``score --save-result``): at Vox1-E size it costs about 0.3 s of a ~1.5 s command."""

from __future__ import annotations

from asvbench.scoring.pipeline import ScoreSettings, run_scoring
from asvbench.testing import write_geometry_case
from asvbench.trials import read as trials_read


def _count_fingerprints(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = trials_read._ascii_fingerprint
    monkeypatch.setattr(trials_read, "_ascii_fingerprint", lambda *a: calls.append(1) or real(*a))
    return calls


def test_no_fingerprint_without_the_setting(tmp_path, monkeypatch):
    case = write_geometry_case(tmp_path)
    calls = _count_fingerprints(monkeypatch)
    run = run_scoring(case.trials, case.store, out=tmp_path / "s.tsv")
    assert calls == [] and run.fingerprint is None and run.summary.n_target == 5


def test_the_fingerprint_with_the_setting(tmp_path, monkeypatch):
    case = write_geometry_case(tmp_path)
    calls = _count_fingerprints(monkeypatch)
    run = run_scoring(case.trials, case.store, out=tmp_path / "s.tsv", settings=ScoreSettings(fingerprint=True))
    assert calls == [1] and run.fingerprint is not None
