"""The byte-level parser, key index and score writer against the text path they stand in for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.errors import AsvbenchError
from asvbench.io._bytes import (
    ByteKeys,
    DuplicateKeys,
    KeyIndex,
    ascii_fast_path_ok,
    fixed_width,
    split_ascii,
    split_lines,
)
from asvbench.io.embeddings import EmbeddingStore
from asvbench.io.scores import write_scores, write_trial_scores
from asvbench.trials import read as trials_module
from asvbench.trials.read import read_trials
from asvbench.types import Label

KEY_CHARS = st.sampled_from("abcXYZ019/._-")
KEYS = st.text(KEY_CHARS, min_size=1, max_size=40)
GAPS = st.sampled_from([" ", "  ", "\t", " \t "])


def keys_of(raw: bytes) -> ByteKeys:
    return split_lines(raw)


# ----------------------------------------------------------------------------- which files take the byte path


@pytest.mark.parametrize(("raw", "ok"), [
    (b"1 a b\n", True),
    (b"1 a b\r\n0 c d\r\n", True),  # CRLF
    (b"1 a b", True),  # no final newline
    (b"", False),
    ("1 \u00e9 b\n".encode(), False),  # non-ASCII: str.split knows more separators
    (b"1 a b\r0 c d\n", False),  # bare CR: a line break for str.splitlines
    (b"1 a b\r", False),
    (b"1 a\x0bb\n", False),  # vertical tab: whitespace for str.split
    (b"1 a\x1fb\n", False),  # unit separator: whitespace for str.split
    (b"1 a\x00b\n", False),
])
def test_fast_path_only_for_plain_ascii(raw, ok):
    assert ascii_fast_path_ok(raw) is ok


# ----------------------------------------------------------------------------- tokens


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.just(None), st.tuples(KEYS, KEYS, KEYS)), min_size=1, max_size=30),
       GAPS, st.booleans(), st.booleans())
def test_split_ascii_equals_str_split(rows, gap, crlf, final_newline):
    """Tokens, blank lines, CRLF and a missing final newline: as ``line.split()`` sees them."""
    lines = ["" if r is None else gap + gap.join(r) + (gap if crlf else "") for r in rows]
    text = ("\r\n" if crlf else "\n").join(lines) + (("\r\n" if crlf else "\n") if final_newline else "")
    expected = [line.split() for line in text.splitlines() if line.split()]
    if not expected:
        with pytest.raises(AsvbenchError, match="no data lines"):
            split_ascii(text.encode(), ["a", "b", "c"], "x.txt")
        return
    cols = split_ascii(text.encode(), ["a", "b", "c"], "x.txt")
    got = [[cols.column(c).decode()[r] for c in range(3)] for r in range(len(cols))]
    assert got == expected
    numbers = [no for no, line in enumerate(text.splitlines(), start=1) if line.split()]
    assert [cols.line_number(r) for r in range(len(cols))] == numbers


def test_wrong_token_count_is_reported_at_its_line():
    raw = b"1 a b\n\n0 c d e\n1 f g\n"
    with pytest.raises(AsvbenchError) as err:
        split_ascii(raw, ["label", "enroll", "test"], "t.txt")
    assert err.value.where == "t.txt:3"
    assert "expected 3 columns, found 4: '0 c d e'" in err.value.what


def test_skiprows_drops_a_header():
    cols = split_ascii(b"h1 h2\na b\nc d\n", ["x", "y"], "t.tsv", skiprows=1)
    assert cols.column(0).decode().tolist() == ["a", "c"]
    assert cols.line_number(0) == 2


def test_fixed_width_pads_cuts_and_reads_the_tail():
    buf = np.frombuffer(b"abc de fghij", np.uint8)
    rows = fixed_width(buf, np.array([0, 4, 7, 11]), np.array([3, 2, 5, 1]), 4)
    # "abc" padded; "de" padded; "fghij" cut to 4; "j" (1 byte from the end) padded
    assert [bytes(r) for r in rows] == [b"abc\0", b"de\0\0", b"fghi", b"j\0\0\0"]


# ----------------------------------------------------------------------------- key index


@settings(max_examples=150, deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=60, unique=True), st.lists(KEYS, max_size=60))
def test_key_index_equals_a_dict(store_keys, extra_queries):
    index = KeyIndex(keys_of("\n".join(store_keys).encode()))
    table = {k: i for i, k in enumerate(store_keys)}
    queries = store_keys[::-1] + extra_queries + [k + "x" for k in store_keys] + [k[:-1] for k in store_keys if len(k) > 1]
    got = index.lookup(keys_of("\n".join(queries).encode()))
    assert got.tolist() == [table.get(q, -1) for q in queries]


def test_key_index_prefixes_and_longer_queries_do_not_match():
    index = KeyIndex(keys_of(b"abcdefgh\nabc\nabcdefghi"))
    got = index.lookup(keys_of(b"abcdefgh\nabcdefghij\nab\nabc\nabcdefghi\nABC"))
    assert got.tolist() == [0, -1, -1, 1, 2, -1]


def test_key_index_refuses_duplicates():
    with pytest.raises(DuplicateKeys):
        KeyIndex(keys_of(b"a\nb\na\n"))


def test_store_byte_index_reports_duplicates_like_the_dict_index():
    store = EmbeddingStore(keys=["u1", "u2", "u1"], matrix=np.ones((3, 2), np.float32), source="s")
    with pytest.raises(AsvbenchError, match="1 duplicate keys"):
        store.byte_index()


def test_store_byte_index_gives_up_on_keys_with_newlines():
    store = EmbeddingStore(keys=["a\nb", "c"], matrix=np.ones((2, 2), np.float32), source="s")
    assert store.byte_index() is None


# ----------------------------------------------------------------------------- trial lists


def _both_paths(path: Path, monkeypatch) -> tuple:
    fast = read_trials(path)
    monkeypatch.setattr(trials_module, "split_checked_ascii", lambda raw, names, path: None)  # the text path
    slow = read_trials(path)
    monkeypatch.undo()
    return fast, slow


@pytest.mark.parametrize(("text", "fmt"), [
    ("1 a/x.wav b/y.wav\r\n0 a/x.wav c/z.wav\r\n", "voxceleb"),
    ("m1 u1 target\n\nm1 u2 NonTarget\nm2 u1 non-target\n", "kaldi"),
    ("spk1-enroll t/1.wav 1\nspk2-enroll t/1.wav 0\n", "cnceleb"),
])
def test_byte_and_text_readers_agree(tmp_path, monkeypatch, text, fmt):
    path = tmp_path / "trials.txt"
    path.write_bytes(text.encode())
    fast, slow = _both_paths(path, monkeypatch)
    assert fast.key_bytes and not slow.key_bytes  # the two paths were taken
    assert fast.fmt == slow.fmt == fmt
    assert fast.enroll.tolist() == slow.enroll.tolist()
    assert fast.test.tolist() == slow.test.tolist()
    assert fast.labels.tolist() == slow.labels.tolist()


def test_unknown_label_falls_back_to_the_text_message(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"1 a b\n7 c d\n")
    with pytest.raises(AsvbenchError) as err:
        read_trials(path, "voxceleb")
    assert err.value.where == f"{path}:2"
    assert "'7'" in err.value.what


def test_non_ascii_list_takes_the_text_path(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1 caf\u00e9/1.wav b/2.wav\n0 caf\u00e9/1.wav c/3.wav\n", encoding="utf-8")
    trials = read_trials(path)
    assert not trials.key_bytes
    assert trials.enroll.tolist() == ["caf\u00e9/1.wav"] * 2


# ----------------------------------------------------------------------------- score writer


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(KEYS, KEYS, st.sampled_from([0, 1]),
                          st.floats(allow_nan=False, allow_infinity=False, width=64)), min_size=1, max_size=40),
       st.data())
def test_byte_writer_writes_what_write_scores_writes(tmp_path, rows, data):
    path = tmp_path / "trials.txt"
    path.write_bytes("".join(f"{lab} {e} {t}\n" for e, t, lab, _ in rows).encode())
    trials = read_trials(path, "voxceleb", check_duplicates=False)  # repeats are the writer's input here
    assert trials.key_bytes
    kept = np.array(data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))), dtype=bool)
    if not kept.any():
        kept[0] = True
    scores = np.array([s for *_, s in rows])[kept]
    labels = np.array([lab for _, _, lab, _ in rows], dtype=np.int8)[kept]
    write_trial_scores(tmp_path / "fast.tsv", trials, kept, scores, labels)
    write_scores(tmp_path / "slow.tsv", trials.enroll[kept], trials.test[kept], scores, labels)
    assert (tmp_path / "fast.tsv").read_bytes() == (tmp_path / "slow.tsv").read_bytes()


def test_byte_writer_spells_every_label(tmp_path):
    path = tmp_path / "trials.txt"
    path.write_bytes(b"1 e1 t1\n0 e2 t2\n")
    trials = read_trials(path)
    kept = np.array([True, True])
    write_trial_scores(tmp_path / "s.tsv", trials, kept, np.array([0.5, -0.25]),
                       np.array([Label.TARGET, Label.SPOOF]))
    # written out by hand: header, then enroll TAB test TAB repr(score) TAB label word
    assert (tmp_path / "s.tsv").read_text() == ("enroll\ttest\tscore\tlabel\n"
                                                "e1\tt1\t0.5\ttarget\n"
                                                "e2\tt2\t-0.25\tspoof\n")
    write_trial_scores(tmp_path / "n.tsv", trials, kept, np.array([1.0, 2.0]), None)
    assert (tmp_path / "n.tsv").read_text().splitlines()[1:] == ["e1\tt1\t1.0\t-", "e2\tt2\t2.0\t-"]


# ----------------------------------------------------------------------------- score texts (forked helper)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
@pytest.mark.parametrize("parallel", [False, True])
def test_score_text_is_repr_per_line_with_or_without_a_helper(n, parallel):
    from asvbench.io._score_text import ScoreText, repr_lines

    values = np.random.default_rng(n).standard_normal(n) * 10.0 ** (np.arange(n) % 40 - 20)  # 1e-20 .. 1e19
    expected = "".join(f"{v!r}\n" for v in values.tolist()).encode()
    assert repr_lines(values) == expected
    assert ScoreText.start(values, parallel=parallel).result() == expected


def test_score_text_helper_can_be_abandoned():
    from asvbench.io._score_text import ScoreText

    text = ScoreText.start(np.arange(300_000, dtype=np.float64), parallel=True)
    text.close()  # closes the pipe and reaps the child, which then fails to write: no hang
    assert text._pid is None


@pytest.mark.parametrize(("text", "skip", "expected"), [
    (b"a b c\n", 0, 3),
    (b"  a\tb  \r\n\n c", 0, 3),  # leading/trailing space, CRLF, blank line, no final newline
    (b"h1 h2 h3\na b\n", 1, 2),  # a header line skipped
    (b"", 0, 0),
])
def test_count_tokens(tmp_path, text, skip, expected):
    from asvbench.io._bytes import count_tokens

    path = tmp_path / "t.txt"
    path.write_bytes(text)
    assert count_tokens(path, skip_lines=skip) == expected
    # tokens that straddle chunk boundaries are counted once
    assert count_tokens(path, skip_lines=skip, chunk=2) == expected
