"""``trials make``: all pairs and seeded sampling, checked by counting and against the reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from asvbench.bench.make_trials import format_trials, make_trials
from asvbench.cli.main import app
from asvbench.errors import AsvbenchError
from asvbench.trials.read import read_trials

runner = CliRunner()


def _map(sizes: list[int]) -> dict[str, str]:
    return {f"s{s}/u{k}": f"s{s}" for s, n in enumerate(sizes) for k in range(n)}


def test_all_pairs_counts_and_order():
    made = make_trials(_map([2, 3, 1]), mode="all-pairs")
    # 6 utterances: C(6, 2) = 15 pairs; target pairs C(2, 2) + C(3, 2) + C(1, 2) = 1 + 3 + 0 = 4
    assert (len(made.target), made.n_target, made.n_nontarget) == (15, 4, 11)
    assert all(e < t for e, t in zip(made.enroll, made.test))  # each unordered pair once, (a, b) with a < b
    assert (made.enroll[0], made.test[0], made.target[0]) == ("s0/u0", "s0/u1", True)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=6), per_spk=st.integers(0, 5),
       impostors=st.integers(1, 5), seed=st.integers(0, 1000))
def test_sampled_pairs_are_distinct_labelled_and_reproducible(sizes, per_spk, impostors, seed):
    mapping = _map(sizes)
    try:
        made = make_trials(mapping, mode="sampled", per_spk=per_spk, impostors=impostors, seed=seed)
    except AsvbenchError as exc:
        assert "no target trial" in exc.what
        assert per_spk == 0 or max(sizes) < 2
        return
    pairs = {frozenset(p) for p in zip(made.enroll, made.test)}
    assert len(pairs) == len(made.target)  # no pair twice, in either order
    for e, t, tar in zip(made.enroll, made.test, made.target):
        assert e != t and tar == (mapping[e] == mapping[t])
    for s, n in enumerate(sizes):  # at most N targets per speaker (fewer when it has fewer pairs)
        n_tar = sum(tar and mapping[e] == f"s{s}" for e, tar in zip(made.enroll, made.target))
        assert n_tar == min(per_spk, n * (n - 1) // 2)
    again = make_trials(mapping, mode="sampled", per_spk=per_spk, impostors=impostors, seed=seed)
    assert (again.enroll, again.test) == (made.enroll, made.test)


@pytest.mark.parametrize("fmt", ["voxceleb", "kaldi", "cnceleb"])
def test_cli_writes_a_list_the_reader_detects(tmp_path: Path, fmt: str):
    u2s = tmp_path / "utt2spk"
    u2s.write_text("".join(f"{u} {s}\n" for u, s in _map([3, 3]).items()))
    out = tmp_path / "trials.txt"
    res = runner.invoke(app, ["trials", "make", "--utt2spk", str(u2s), "--all-pairs", "--format", fmt,
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    trials = read_trials(out)
    assert trials.fmt == fmt
    # C(6, 2) = 15 pairs, 2 x C(3, 2) = 6 target
    assert trials.counts() == {"target": 6, "nontarget": 9, "spoof": 0}
    assert out.read_text() == format_trials(make_trials(_map([3, 3])), fmt)


def test_cli_needs_exactly_one_mode(tmp_path: Path):
    u2s = tmp_path / "utt2spk"
    u2s.write_text("a s1\nb s1\nc s2\n")
    res = runner.invoke(app, ["trials", "make", "--utt2spk", str(u2s), "--out", str(tmp_path / "t.txt")])
    assert res.exit_code == 2 and "either --all-pairs or --per-spk" in res.output
    assert not (tmp_path / "t.txt").exists()


def test_one_speaker_is_refused():
    with pytest.raises(AsvbenchError, match="at least two"):
        make_trials({"a": "s", "b": "s"})
