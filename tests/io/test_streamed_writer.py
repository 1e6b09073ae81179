"""The streamed score writer's faster pieces against the plain algorithms they replace.

* :func:`fixed_width` (one void-item gather per row, the mask skipped for full-width keys)
  against a slice-and-pad loop;
* :class:`FormatterProcess` (a child formatting one array after another) against ``repr`` of
  each score, including negative zero, the largest and smallest magnitudes, infinities and
  values at the 17th significant digit, and when its child dies;
* the streamed ``score`` (each chunk's lines written one chunk late, formatted by a child)
  against the same list written in one piece by the whole-list writer.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asvbench.io._bytes import fixed_width
from asvbench.io._score_text import FormatterProcess


def plain_fixed_width(raw: bytes, starts, lengths, width: int) -> np.ndarray:
    rows = [raw[s : s + min(n, width)].ljust(width, b"\0") for s, n in zip(starts, lengths)]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=60).filter(lambda b: b"\0" not in b), st.data())
def test_fixed_width_equals_slicing_and_padding(raw, data):
    n = len(raw)
    starts = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20))
    lengths = [data.draw(st.integers(0, n - s)) for s in starts]
    width = data.draw(st.integers(1, 70))
    got = fixed_width(np.frombuffer(raw, np.uint8), np.array(starts), np.array(lengths), width)
    assert got.tobytes() == plain_fixed_width(raw, starts, lengths, width).tobytes()


def test_fixed_width_full_width_keys_skip_the_mask_and_stay_exact():
    raw = b"aaaa bbbb cccc dddd"  # every key exactly 4 bytes, the last one ends the buffer
    starts, lengths = np.array([0, 5, 10, 15]), np.array([4, 4, 4, 4])
    got = fixed_width(np.frombuffer(raw, np.uint8), starts, lengths, 4)
    assert got.tobytes() == b"aaaabbbbccccdddd"
    got = fixed_width(np.frombuffer(raw, np.uint8), starts, lengths, 6)  # padded: the mask applies
    assert got.tobytes() == b"aaaa\0\0bbbb\0\0cccc\0\0dddd\0\0"


def _edge_scores() -> np.ndarray:
    tiny = np.nextafter(0.0, 1.0)  # 5e-324, the smallest subnormal
    return np.array([-0.0, 0.0, 1.0, -1.0, 0.1, 1 / 3, -2 / 3, 1e-5, 9.999999999999999e-05, 1e-4, 1e16,
                     9999999999999998.0, 1e300, -1.7976931348623157e308, tiny, -tiny, 2.2250738585072014e-308,
                     0.30000000000000004, float(np.float32(0.1)), 123456.78901234567, np.inf, -np.inf])


def _repr_text(scores) -> bytes:
    return "".join(repr(float(v)) + "\n" for v in scores).encode("ascii")  # float.__repr__, one by one


@pytest.fixture
def formatter():
    started = FormatterProcess.start()
    if started is None:
        pytest.skip("no fork or a single CPU: the formatter child is not used here")
    yield started
    started.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.floats(allow_nan=False, width=64), max_size=40), min_size=1, max_size=4))
def test_formatter_child_texts_are_repr_of_each_score(formatter, batches):
    for values in [_edge_scores().tolist(), *batches]:  # one request after another, some empty
        scores = np.array(values, dtype=np.float64)
        formatter.submit(scores)
        assert formatter.result(scores) == _repr_text(scores)


def test_formatter_large_request_through_the_pipes(formatter):
    scores = np.random.default_rng(3).standard_normal(300_000) * 10.0 ** np.arange(-6, 6).repeat(25_000)
    formatter.submit(scores)
    assert formatter.result(scores) == _repr_text(scores)


def test_formatter_child_killed_the_texts_are_formatted_here(formatter):
    scores = _edge_scores()
    os.kill(formatter._pid, signal.SIGKILL)
    formatter.submit(scores)
    assert formatter.result(scores) == _repr_text(scores)
    assert formatter._pid is None  # reaped; later requests are formatted here too
    formatter.submit(scores[:3])
    assert formatter.result(scores[:3]) == b"-0.0\n0.0\n1.0\n"


def test_formatter_close_with_a_request_pending_reaps_the_child():
    started = FormatterProcess.start()
    if started is None:
        pytest.skip("no fork or a single CPU: the formatter child is not used here")
    pid = started._pid
    started.submit(np.linspace(-1, 1, 200_000))
    started.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
