"""benchmarks/_float_parse.py (the byte-level score parser prototype of bench_metrics_read.py, measured slower
than pandas and so not package code): decimal tokens parsed from bytes, bit for bit equal to ``float()`` and pandas."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.benchmarks import _float_parse

parse_decimal_tokens, parse_vectorised = _float_parse.parse_decimal_tokens, _float_parse.parse_vectorised

PAD = b"#" * 32  # the vectorised pass reads up to 24 bytes around a token: tokens at the edges too


def _tokens_buffer(tokens: list[bytes], pad: bytes = PAD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = pad + b"\t".join(tokens) + b"\n" + pad
    starts, pos = [], len(pad)
    for token in tokens:
        starts.append(pos)
        pos += len(token) + 1
    return (np.frombuffer(text, np.uint8), np.array(starts, np.int64),
            np.array([len(t) for t in tokens], np.int64))


def _bits(values) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", v))[0] for v in values]


def _check_equal_to_float(tokens: list[bytes], pad: bytes = PAD) -> np.ndarray:
    buf, starts, lengths = _tokens_buffer(tokens, pad)
    got = parse_decimal_tokens(buf, starts, lengths)
    assert got is not None
    assert _bits(got.tolist()) == _bits(float(t) for t in tokens), tokens
    return got


ADVERSARIAL = [
    b"0", b"-0", b"-0.0", b"+0.0", b"0.0e0", b"1e308", b"1.7976931348623157e308", b"-1.7976931348623157e+308",
    b"2.2250738585072014e-308", b"2.225073858507201e-308", b"5e-324", b"4.9406564584124654e-324",
    b"1e-320", b"1e23", b"8.98846567431158e307", b"0.1", b"0.3", b"+1.5", b".5", b"-.5", b"5.", b"1E5",
    b"1e+5", b"1e-05", b"0001.5", b"00000000000000000000001", b"1234567890123456789012345",
    b"0.1234567890123456789012345", b"1234567890.1234567890123", b"9007199254740992", b"9007199254740993",
    b"9007199254740995", b"90071992547409930e-1", b"1152921504606847104", b"1152921504606847105",
    b"18446744073709551615", b"18446744073709551616", b"9999999999999999999", b"0.000123456789012345678",
    b"123456789", b"12345678.5", b"1e22", b"1e-22", b"1e27", b"1e-27", b"1e28", b"123e-30", b"1e0000",
    b"1e00005", b"7.2057594037927933e16", b"0.26149508365663515", b"-0.07722813042024508",
    b"3.4028234663852886e38", b"1.401298464324817e-45",
]


def test_adversarial_tokens_equal_float():
    _check_equal_to_float(ADVERSARIAL)


def test_each_adversarial_token_alone_at_the_buffer_edges():
    """No bytes around the token (the words it needs start before the buffer): the slow path."""
    for token in ADVERSARIAL:
        _check_equal_to_float([token], pad=b"")


def test_integer_midpoints_round_to_even():
    """2**53 + 1 and 2**60 + 128 lie exactly halfway between two doubles: the extended-precision
    product is that midpoint, which is detected and left to float() (ties to even)."""
    tokens = [b"9007199254740993", b"90071992547409930e-1", b"1152921504606847104", b"1152921504606847360"]
    got = _check_equal_to_float(tokens)
    assert got.tolist() == [9007199254740992.0, 9007199254740992.0, 1152921504606846976.0, 1152921504606847488.0]
    if _float_parse._POW10_LONG is not None:
        _, slow = parse_vectorised(*_tokens_buffer(tokens))
        assert slow.tolist() == [0, 1, 2, 3]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=60))
def test_reprs_of_doubles_round_trip(values):
    got = _check_equal_to_float([repr(v).encode() for v in values])
    assert _bits(got.tolist()) == _bits(values)


@st.composite
def decimal_tokens(draw) -> bytes:
    sign = draw(st.sampled_from(["", "-", "+"]))
    whole = draw(st.text("0123456789", max_size=22))
    frac = draw(st.text("0123456789", max_size=25))
    if not whole and not frac:
        whole = "0"
    point = "." if frac or draw(st.booleans()) else ""
    exponent = ""
    if draw(st.booleans()):
        exponent = draw(st.sampled_from("eE")) + draw(st.sampled_from(["", "+", "-"])) + str(
            draw(st.integers(0, 340))).zfill(draw(st.integers(1, 5)))
    return (sign + whole + point + frac + exponent).encode()


@settings(max_examples=400, deadline=None)
@given(st.lists(decimal_tokens(), min_size=1, max_size=40))
def test_any_decimal_in_the_grammar_equals_float(tokens):
    _check_equal_to_float(tokens)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**19 - 1), st.integers(-30, 30)), min_size=1, max_size=50))
def test_mantissa_and_exponent_near_the_exact_tiers(pairs):
    """Mantissas up to 19 digits, exponents around Clinger's 22 and the extended 27."""
    _check_equal_to_float([f"{m}e{q}".encode() for m, q in pairs] + [f"0.{m:019d}".encode() for m, _ in pairs])


def test_equal_to_pandas_reader():
    """The same values as pandas' C reader (which read_scores uses) on repr and odd spellings."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.standard_normal(2000) * 0.3, rng.standard_normal(200) * 1e-6,
                             np.frombuffer(rng.integers(0, 2**63, 500, dtype=np.uint64).tobytes(), np.float64)])
    tokens = [repr(v).encode() for v in values[np.isfinite(values)].tolist()] + ADVERSARIAL
    frame = pd.read_csv(io.BytesIO(b"\n".join(tokens) + b"\n"), header=None, names=["v"], dtype={"v": np.float64},
                        engine="c", quoting=3, na_filter=False)
    got = parse_decimal_tokens(*_tokens_buffer(tokens))
    assert _bits(got.tolist()) == _bits(frame["v"].tolist())


@pytest.mark.parametrize("token", [b"inf", b"-inf", b"nan", b"NaN", b"Infinity", b"1_0", b"1.2.3", b"--1", b"+-1",
                                   b"1e", b"1e+", b"e5", b".", b"-", b"+", b".e1", b"1e5.5", b"1+2", b"1-", b"0x10",
                                   b"1d5", b"1e+-5", b"1,5", b"\xc3\xa9", b"1\x00", b"12345678901234567890123456a",
                                   b""])
def test_a_token_outside_the_grammar_gives_none(token):
    """The caller then reads the file its exact way (and reports the line)."""
    buf, starts, lengths = _tokens_buffer([b"0.5", token, b"1.5"])
    assert parse_decimal_tokens(buf, starts, lengths) is None


def test_scores_written_by_repr_are_almost_all_vectorised():
    """The claim behind the design: reprs of scores need float() only at double midpoints."""
    rng = np.random.default_rng(0)
    tokens = [repr(v).encode() for v in (rng.standard_normal(20000) * 0.3).tolist()]
    _, slow = parse_vectorised(*_tokens_buffer(tokens))
    if _float_parse._POW10_LONG is None:
        pytest.skip("np.longdouble is not x87 extended here: 16-17 digit mantissas go to float()")
    assert slow.shape[0] <= 20  # about 1 in 2,048 of those over 2**53


def test_empty_input():
    assert parse_decimal_tokens(np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0,)
