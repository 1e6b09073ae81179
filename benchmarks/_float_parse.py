"""Decimal numbers parsed from their bytes with numpy, each equal to ``float(token)``.

numpy has no vectorised ``strtod``, and a score file of 10 M lines holds 10 M of them. Every
token of the plain decimal grammar ``[+-](digits[.digits] | .digits)[(e|E)[+-]digits]`` is
read as an integer mantissa ``m`` (its digits, the point dropped) and a decimal exponent ``q``
(the written exponent less the digits after the point), so that its value is ``m * 10**q``
exactly. A token's bytes are read as little-endian 64-bit words at any byte offset; each class
of byte (digit, point, exponent mark, sign) becomes a bit mask per token (SWAR: bytes compared
eight at a time with no carry between them), so the grammar is checked with a few integer
operations per token, and the digits are summed eight at a time by multiply-and-shift (Lemire,
"Number parsing at a gigabyte per second", 2021). The one rounding to float64 is then exact:

* ``m <= 2**53`` and ``|q| <= 22`` (Clinger's fast path): ``m`` and ``10**|q|`` are exact
  doubles, so one IEEE multiply or divide is the correctly rounded result;
* ``m < 2**64`` and ``|q| <= 27``, where ``np.longdouble`` is x87 extended (64-bit significand,
  checked at import): ``m`` and ``10**|q|`` (``5**27 < 2**64``) are exact there, and one
  extended multiply or divide rounds the exact value ``v`` once, to ``r``. Rounding ``r`` to
  float64 gives the correctly rounded ``v`` unless ``r`` is the midpoint of two doubles. Why:
  a midpoint has 54 significant bits, so it is an extended number; rounding is monotone, so no
  midpoint ``M`` lies strictly between ``v`` and ``r`` (``v < M`` gives ``r <= M``), and
  ``v = M`` gives ``r = M``. ``r`` is a midpoint exactly when the 11 significand bits a double
  drops are ``0b10000000000`` (the results lie between 1e-27 and 2e46: normal doubles); those
  fall back;
* anything else (more than 19 significant digits, larger exponents, a midpoint, a token over
  :data:`WIDTH` bytes, more than 8 integer digits) is parsed by ``float()``, one at a time.

A token outside the grammar (``inf``, ``nan``, ``1_0``, a space, an empty field, a non-ASCII
byte) makes :func:`parse_decimal_tokens` return None: the caller reads the file its exact way.
"""

from __future__ import annotations

import re

import numpy as np

#: tokens up to this many bytes are parsed vectorised (a double's repr has at most 24)
WIDTH = 24
_INT_WIDTH, _EXP_WIDTH = 8, 4
_DOT, _PLUS, _MINUS, _ZERO = 46, 43, 45, 48
_GRAMMAR = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_POW10_F64 = np.array([float(10**k) for k in range(23)])  # exact: 5**22 < 2**53
_POW10_U64 = np.array([10**k if k < 20 else 0 for k in range(WIDTH + 1)], np.uint64)  # 0: never fits
_POW10_APPROX = 10.0 ** np.arange(WIDTH + 1)
_MAX_EXACT_F64 = 2**53
_LONG_MAX_POW = 27  # 5**27 < 2**64: 10**k is an exact extended double up to here

_ONES, _HIGH, _LOW7 = (np.uint64(0x0101010101010101 * b) for b in (1, 0x80, 0x7F))
_GATHER_BITS = np.uint64(0x0102040810204080)  # bit 7 of byte j (shifted to bit 0) to bit 56 + j
#: _KEEP_HIGH[k]: a word mask keeping its 8 - k most significant bytes (the last ones in memory)
_KEEP_HIGH = np.array([(0xFFFFFFFFFFFFFFFF << (8 * k)) & 0xFFFFFFFFFFFFFFFF for k in range(9)], np.uint64)


def _extended_powers() -> np.ndarray | None:
    """Exact powers of ten as ``np.longdouble`` when that type is x87 extended, else None."""
    if np.finfo(np.longdouble).nmant != 63 or np.dtype(np.longdouble).itemsize < 10:
        return None
    powers = np.ones(_LONG_MAX_POW + 1, np.longdouble)
    for k in range(1, _LONG_MAX_POW + 1):
        powers[k] = powers[k - 1] * np.longdouble(10)  # exact while 5**k < 2**64
    exact = all(p.as_integer_ratio() == (10**k, 1) for k, p in enumerate(powers))
    top = np.array([2**64 - 1], np.uint64).astype(np.longdouble)
    x87 = np.array([1.5], np.longdouble).view(np.uint64)[0] == np.uint64(0xC000000000000000)  # significand first
    return powers if exact and x87 and top[0].as_integer_ratio() == (2**64 - 1, 1) else None


_POW10_LONG = _extended_powers()


def parse_decimal_tokens(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """float64 of each token ``buf[starts[i]:starts[i] + lengths[i]]`` (``buf``: contiguous uint8),
    equal to ``float()`` of it; None when some token is not a plain decimal number (module doc)."""
    values, slow = parse_vectorised(buf, starts, lengths)
    if values is None:
        return None
    for row in slow.tolist():
        token = buf[starts[row]: starts[row] + lengths[row]].tobytes()
        if _GRAMMAR.fullmatch(token) is None:
            return None
        values[row] = float(token)
    return values


def parse_vectorised(buf: np.ndarray, starts: np.ndarray,
                     lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """(values, rows left to ``float()``) of the tokens; (None, None) when a token the vectorised
    pass reads is outside the grammar (the rows it leaves are not checked)."""
    starts, lengths = np.asarray(starts, np.int64), np.asarray(lengths, np.int64)
    n = lengths.shape[0]
    if not n:
        return np.zeros(0), np.zeros(0, np.int64)
    # the words read reach WIDTH bytes before a token and WIDTH bytes from its start
    inside = (lengths >= 1) & (lengths <= WIDTH) & (starts >= WIDTH) & (starts + WIDTH <= buf.shape[0])
    rows = slice(None) if inside.all() else np.flatnonzero(inside)
    parsed = _parse(_words(buf), buf, starts[rows], lengths[rows])
    if parsed is None:
        return None, None
    values = np.zeros(n, np.float64)
    values[rows], slow = parsed
    slow_rows = np.arange(n)[rows][slow]
    if not isinstance(rows, slice):
        slow_rows = np.sort(np.concatenate([slow_rows, np.flatnonzero(~inside)]))
    return values, slow_rows


def _words(buf: np.ndarray) -> np.ndarray:
    """Every 8-byte window of ``buf`` as one little-endian uint64 (read-only view, no copy)."""
    buf = np.ascontiguousarray(buf)
    words = np.ndarray(shape=(max(buf.shape[0] - 7, 0),), dtype="<u8", buffer=buf, strides=(1,))
    words.flags.writeable = False
    return words


def _parse(words: np.ndarray, buf: np.ndarray, starts: np.ndarray,
           lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, slow) of tokens of 1 to WIDTH bytes with WIDTH bytes of ``buf`` before and from
    each start: exact where ``slow`` is False; None when a token is outside the grammar."""
    shape = _token_shape(words, buf, starts, lengths)
    if shape is None:
        return None
    negative, int_start, point, mant_end, exp_start, exp_negative = shape
    frac_len = np.maximum(mant_end - point - 1, 0)
    int_len = point - int_start
    frac_lanes = [_eight_digits(w) for w in _right_aligned(words, starts + mant_end, frac_len, WIDTH // 8)]
    whole = _eight_digits(_right_aligned(words, starts + point, np.minimum(int_len, _INT_WIDTH), 1)[0])
    frac = frac_lanes[0] * np.uint64(10**16) + frac_lanes[1] * np.uint64(10**8) + frac_lanes[2]
    approx = whole.astype(np.float64) * _POW10_APPROX[frac_len] + frac.astype(np.float64)
    # 10**19 or more in the fraction's digits wraps its uint64 sum: seen in the first lane
    fits = (frac_lanes[0] < 1000) & (int_len <= _INT_WIDTH) & (approx < 1.8e19)  # 2**64 = 1.8447e19
    mantissa = whole * _POW10_U64[frac_len] + frac  # wraps only where not fits
    exponent = -frac_len
    slow = ~fits
    rows = np.flatnonzero(exp_start < lengths)
    if rows.shape[0]:
        digits = lengths[rows] - exp_start[rows]
        shown = np.minimum(digits, _EXP_WIDTH)
        written = _eight_digits(_right_aligned(words, starts[rows] + exp_start[rows] + shown, shown, 1)[0])
        written = written.astype(np.int64)
        exponent[rows] += np.where(exp_negative[rows], -written, written)
        slow[rows] |= digits > _EXP_WIDTH
    values, inexact = _scale(mantissa, exponent)
    slow |= inexact
    return np.where(negative, -values, values), slow


def _token_shape(words: np.ndarray, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray):
    """Per token, as offsets from its start: (negative, first mantissa digit, point, mantissa end,
    exponent digits start, exponent negative); a missing point is at the mantissa end, a missing
    exponent starts at the length. None when a token is outside the grammar.

    Most tokens are ``[sign]digits[.digits]``: found from the mask of their non-digit bytes (at
    most two, a leading sign and a point); the others (an exponent, ...) take the general path."""
    digits = np.zeros(starts.shape[0], np.uint32)
    for k in range(WIDTH // 8):
        word = words[starts + 8 * k]
        low7 = word & _LOW7  # byte tests on 7-bit values: no carry crosses a byte
        is_digit = (low7 + _ONES * np.uint64(0x80 - 0x30)) & ~(low7 + _ONES * np.uint64(0x80 - 0x3A)) & ~word
        digits |= _byte_bits(is_digit & _HIGH) << np.uint32(8 * k)
    in_token = (np.uint32(1) << lengths.astype(np.uint32)) - np.uint32(1)  # lengths <= WIDTH < 32
    other = in_token & ~digits
    first = _lowest_column(other)
    rest = other & (other - np.uint32(1))
    second = _lowest_column(rest)
    first_byte = buf[starts + np.minimum(first, lengths - 1)]
    second_byte = buf[starts + np.minimum(second, lengths - 1)]
    lead_sign = (first == 0) & ((first_byte == _PLUS) | (first_byte == _MINUS))
    point = np.where(lead_sign, second, first)  # 32 where none
    point_byte = np.where(lead_sign, second_byte, first_byte)
    extra = np.where(lead_sign, rest & (rest - np.uint32(1)), rest)  # non-digits after the point
    simple = (extra == 0) & ((point == 32) | (point_byte == _DOT)) & ((digits & in_token) != 0)
    point = np.minimum(point, lengths)
    shape = [first_byte == _MINUS, lead_sign.astype(np.int64), point, lengths.copy(), lengths.copy(),
             np.zeros(starts.shape[0], bool)]
    if not simple.all():
        rows = np.flatnonzero(~simple)
        general = _general_shape(words, buf, starts[rows], lengths[rows])
        if general is None:
            return None
        for column, part in zip(shape, general):
            column[rows] = part
    return tuple(shape)


def _general_shape(words: np.ndarray, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray):
    """:func:`_token_shape` of any token: each class of byte becomes a bit mask per token."""
    digits, points, marks, signs = (np.zeros(starts.shape[0], np.uint32) for _ in range(4))
    for k in range(WIDTH // 8):
        word = words[starts + 8 * k]
        low7 = word & _LOW7  # byte tests on 7-bit values: no carry crosses a byte
        ascii_bytes = ~word & _HIGH
        is_digit = (low7 + _ONES * np.uint64(0x80 - 0x30)) & ~(low7 + _ONES * np.uint64(0x80 - 0x3A)) & ascii_bytes
        shift = np.uint32(8 * k)
        digits |= _byte_bits(is_digit) << shift
        points |= _byte_bits(_equal_bytes(low7, ascii_bytes, _DOT)) << shift
        marks |= _byte_bits(_equal_bytes(low7 | _ONES * np.uint64(0x20), ascii_bytes, ord("e"))) << shift
        signs |= _byte_bits(_equal_bytes(low7, ascii_bytes, _PLUS) | _equal_bytes(low7, ascii_bytes, _MINUS)) << shift
    in_token = (np.uint32(1) << lengths.astype(np.uint32)) - np.uint32(1)  # lengths <= WIDTH < 32
    digits, points, marks, signs = digits & in_token, points & in_token, marks & in_token, signs & in_token
    mark_at = np.where(marks == 0, lengths, _lowest_column(marks))
    below_mark = (np.uint32(1) << mark_at.astype(np.uint32)) - np.uint32(1)
    ok = (digits | points | marks | signs) == in_token  # no other byte
    ok &= (np.bitwise_count(points) <= 1) & (np.bitwise_count(marks) <= 1)
    ok &= (signs & ~(np.uint32(1) | (marks << np.uint32(1)))) == 0  # a sign leads the number or its exponent
    ok &= (points & ~below_mark) == 0  # no point in the exponent
    ok &= (digits & below_mark) != 0  # a mantissa digit
    ok &= (marks == 0) | ((digits & ~below_mark) != 0)  # an exponent digit
    if not ok.all():
        return None
    lead_sign = (signs & np.uint32(1)).astype(np.int64)
    exp_sign = ((signs >> np.uint32(1)) & marks) != 0
    point = np.where(points == 0, mark_at, _lowest_column(points))
    exp_start = np.where(marks == 0, lengths, mark_at + 1 + exp_sign)
    negative = buf[starts] == _MINUS
    exp_negative = exp_sign & (buf[starts + np.minimum(mark_at + 1, lengths - 1)] == _MINUS)
    return negative, lead_sign, point, mark_at, exp_start, exp_negative


def _equal_bytes(low7: np.ndarray, ascii_bytes: np.ndarray, byte: int) -> np.ndarray:
    """0x80 in each ASCII byte of the words equal to ``byte`` (< 0x80), 0 elsewhere."""
    return ~((low7 ^ (_ONES * np.uint64(byte))) + _LOW7) & ascii_bytes


def _byte_bits(flags: np.ndarray) -> np.ndarray:
    """uint32 with bit j set where byte j of the word has its top bit set (the rest zero)."""
    return (((flags >> np.uint64(7)) * _GATHER_BITS) >> np.uint64(56)).astype(np.uint32)


def _lowest_column(bits: np.ndarray) -> np.ndarray:
    """Index of each value's lowest set bit (32 where none)."""
    return np.bitwise_count((bits & (~bits + np.uint32(1))) - np.uint32(1)).astype(np.int64)


def _right_aligned(words: np.ndarray, ends: np.ndarray, lengths: np.ndarray, n_words: int) -> list[np.ndarray]:
    """The ``8 * n_words`` bytes before each of ``ends`` as words (first = most significant digits),
    all but the last ``lengths`` bytes zeroed."""
    zeroed = 8 * n_words - lengths  # leading bytes to clear
    out = []
    for k in range(n_words):
        word = words[ends - 8 * (n_words - k)]
        out.append(word & _KEEP_HIGH[np.clip(zeroed - 8 * k, 0, 8)])
    return out


def _eight_digits(words: np.ndarray) -> np.ndarray:
    """The 8-digit number each word of ASCII digits (or zero bytes) spells, first byte most
    significant (Lemire 2021)."""
    words = words & np.uint64(0x0F0F0F0F0F0F0F0F)
    words = ((words * np.uint64(2561)) >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)
    words = ((words * np.uint64(6553601)) >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)
    return (words * np.uint64(42949672960001)) >> np.uint64(32)


def _scale(mantissa: np.ndarray, exponent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mantissa * 10**exponent rounded to float64, rows where that is not proven exact)."""
    size = np.abs(exponent)
    scale = _POW10_F64[np.minimum(size, 22)]
    m = mantissa.astype(np.float64)  # exact up to 2**53
    values = m / scale if (exponent < 0).all() else np.where(exponent >= 0, m * scale, m / scale)
    inexact = (mantissa > np.uint64(_MAX_EXACT_F64)) | (size > 22)
    if _POW10_LONG is not None and inexact.any():
        rows = np.flatnonzero(inexact & (size <= _LONG_MAX_POW))
        long_m, long_scale = mantissa[rows].astype(np.longdouble), _POW10_LONG[size[rows]]
        up = exponent[rows] >= 0
        extended = long_m / long_scale if not up.any() else np.where(up, long_m * long_scale, long_m / long_scale)
        values[rows] = extended.astype(np.float64)
        # the 11 significand bits a double drops are 0b10000000000 exactly at a midpoint
        inexact[rows] = (extended.view(np.uint64)[::2] & np.uint64(0x7FF)) == np.uint64(0x400)
    return values, inexact
