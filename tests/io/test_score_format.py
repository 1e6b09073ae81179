"""The vectorised score formatter (:mod:`asvbench.io._float_text`) against ``repr``, byte for byte.

The reference is Python's own ``repr`` of each float, one by one. Where the formatter proves a
value itself (magnitudes of about 1.5e-11 to 3.6e16, zeros) the tests also check that ``repr``
was not used for it, so the equality is the vectorised path's, not the fallback's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asvbench.io import _float_text
from asvbench.io._float_text import _TABLES, float_repr_lines, float_repr_lines_counted
from asvbench.io._score_text import repr_lines

FAST_BIASED = np.flatnonzero(_TABLES["fast"])  # biased exponents proven here
SMALLEST_PROVEN = 2.0 ** (int(FAST_BIASED[0]) - 1023)
LARGEST_PROVEN = 2.0 ** (int(FAST_BIASED[-1]) - 1022)


def repr_text(values) -> bytes:
    return "".join(repr(float(v)) + "\n" for v in np.asarray(values, dtype=np.float64).tolist()).encode("ascii")


def proven_here(values) -> int:
    """How many of ``values`` the vectorised path must format itself."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64))
    return int(np.count_nonzero((magnitude == 0) | ((magnitude >= SMALLEST_PROVEN) & (magnitude < LARGEST_PROVEN))))


def assert_repr_equal(values) -> None:
    values = np.asarray(values, dtype=np.float64)
    text, by_repr = float_repr_lines_counted(values)
    assert text == repr_text(values)
    assert by_repr == values.shape[0] - proven_here(values)


def test_proven_range_is_the_documented_one():
    assert SMALLEST_PROVEN == 2.0**-36  # 1.46e-11: 5**27 is the largest power of five in one word
    assert LARGEST_PROVEN == 2.0**55  # 3.6e16: above it the scaled value needs a shift left
    assert FAST_BIASED.tolist() == list(range(987, 1078))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(width=64), max_size=50))
def test_any_floats_are_formatted_as_repr(values):
    assert_repr_equal(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50))
def test_any_bit_patterns_are_formatted_as_repr(patterns):
    assert_repr_equal(np.array(patterns, dtype=np.uint64).view(np.float64))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(987, 1077), st.integers(0, 2**52 - 1), st.booleans()), min_size=1, max_size=50))
def test_bit_patterns_in_the_proven_range_are_formatted_here_as_repr(parts):
    bits = [(sign << 63) | (biased << 52) | fraction for biased, fraction, sign in parts]
    values = np.array(bits, dtype=np.uint64).view(np.float64)
    text, by_repr = float_repr_lines_counted(values)
    assert by_repr == 0
    assert text == repr_text(values)


def test_a_million_random_cosines():
    cosines = np.random.default_rng(13).uniform(-1.0, 1.0, 1_000_000)
    assert_repr_equal(cosines)


def test_scores_of_typical_magnitudes():
    rng = np.random.default_rng(7)
    magnitudes = 10.0 ** rng.uniform(-6.0, 3.0, 200_000)
    assert_repr_equal(np.where(rng.random(200_000) < 0.5, -magnitudes, magnitudes))
    # and short decimals as scores often are: a few significant digits
    normal, places = rng.normal(0.0, 30.0, 50_000).tolist(), rng.integers(0, 6, 50_000).tolist()
    assert_repr_equal([round(value, digits) for value, digits in zip(normal, places)])


def test_every_biased_exponent_with_random_and_extreme_mantissas():
    rng = np.random.default_rng(3)
    biased = np.repeat(np.arange(2048, dtype=np.uint64), 40)
    fraction = rng.integers(0, 2**52, biased.shape[0], dtype=np.uint64)
    fraction[::40], fraction[1::40], fraction[2::40], fraction[3::40] = 0, 1, 2**52 - 1, 2**51
    assert_repr_equal(((biased << np.uint64(52)) | fraction).view(np.float64))


EDGES = [
    0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 1 / 3, -2 / 3, 0.30000000000000004,
    math.inf, -math.inf, math.nan, -math.nan,
    5e-324, -5e-324, 2.225073858507201e-308, 2.2250738585072014e-308, 1.7976931348623157e308,
    # where repr switches notation, and its neighbours
    1e-4, 9.999999999999999e-05, 1.0000000000000002e-04, 1e-5, 1e16, 9999999999999998.0,
    1.0000000000000002e16, 1e15, 999999999999999.9, 1e17, 1e-10, 1e-11, 1e22, 1e23,
    # 17 significant digits, and ties broken to the even digit (27355176903816.6875 -> ...688)
    0.12345678901234568, 123456.78901234567, 27355176903816.688, 1593709345947699.2, 2225605699438566.2,
    # an even mantissa keeps a decimal on its interval's end (both at 2e16 + 10), an odd one does not
    20000000000000008.0, 20000000000000012.0, 2.0**54, 2.0**54 + 4,
    # around the proven range's ends
    SMALLEST_PROVEN, np.nextafter(SMALLEST_PROVEN, 0.0), LARGEST_PROVEN, np.nextafter(LARGEST_PROVEN, 0.0),
    float(np.float32(0.1)), float(np.float32(1 / 3)),
]


def test_edge_values():
    assert_repr_equal(EDGES)
    assert_repr_equal([-v for v in EDGES])


def test_powers_of_two_whose_interval_is_narrower_below():
    powers = [2.0**k for k in range(-1074, 1024)]
    assert_repr_equal(powers)
    neighbours = [np.nextafter(p, direction) for p in powers[1:-1] for direction in (0.0, math.inf)]
    assert_repr_equal(neighbours)


def test_values_next_to_powers_of_ten():
    tens = [10.0**k for k in range(-20, 23)]
    nearby = [np.nextafter(t, d) for t in tens for d in (0.0, math.inf)]
    assert_repr_equal(tens + nearby + [t * 9.999999999999999 for t in tens])


def test_integers_and_short_decimals():
    assert_repr_equal(np.arange(-2000, 2000, dtype=np.float64))
    assert_repr_equal(np.arange(0, 100_000, 7, dtype=np.float64) / 1000.0)
    assert_repr_equal([float(2**53 - k) for k in range(20)] + [float(10**15 + k) for k in range(20)])


def test_empty_input_gives_no_text():
    assert float_repr_lines(np.array([], dtype=np.float64)) == b""
    assert repr_lines(np.array([], dtype=np.float64)) == b""


def test_blocks_smaller_than_the_input_join_in_order(monkeypatch):
    monkeypatch.setattr(_float_text, "_BLOCK", 7)
    monkeypatch.setattr(_float_text, "_LINES_BLOCK", 64)
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.uniform(-1, 1, 300), rng.integers(0, 2**64 - 1, 100, dtype=np.uint64).view(np.float64)])
    rng.shuffle(values)
    assert_repr_equal(values)


def test_source_rows_hold_the_17_digits_as_formatted():
    values = [0, 1, 9, 10, 9999, 10_000, 99_999_999, 100_000_000, 10**16, 10**17 - 1, 12345678901234567]
    rng = np.random.default_rng(1)
    padded = np.concatenate([np.array(values, dtype=np.uint64), rng.integers(0, 10**17, 1000, dtype=np.uint64)])
    rows = _float_text._source_rows(padded, np.zeros(padded.shape[0], dtype=np.int64))
    assert rows[:, 3:20].tobytes() == b"".join(b"%017d" % v for v in padded.tolist())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repr_lines_formats_as_float_repr_of_the_float64_values(dtype):
    values = np.random.default_rng(2).normal(0.0, 1.0, 1000).astype(dtype)
    assert repr_lines(values) == repr_text(values.astype(np.float64))
