"""``repr`` of many float64 values at once, byte for byte, with numpy integer arithmetic.

``repr(x)`` is the shortest decimal that reads back as ``x`` (of those, the closest to ``x``),
written in fixed notation for 1e-4 <= |x| < 1e16 and as ``d.ddde+XX`` otherwise. Here each
value is ``m * 2**e`` exactly; scaled by ``10**p`` so that it has 17 or 18 decimal digits, its
rounding interval (the reals that read back as ``x``) is computed *exactly* from the 128-bit
product ``4 * m * 5**p`` (two uint64 words, from 32-bit limbs) and a shift by a power of two.
The shortest decimal is then the multiple of the largest power of ten inside that interval
(the interval holds at most a few hundred integers at this scale, so the power follows from
three remainders and a count of trailing zeros) and, if several, the one nearest ``x``
(exactly halfway: the one with the even last digit, as CPython's dtoa does).

Only what is proven is formatted here: magnitudes 2**-36 <= |x| < 2**55 (about 1.5e-11 to
3.6e16: ``5**p`` fits one word and the scaled value needs no shift left), and zeros.
Everything else (smaller or larger magnitudes, subnormals, infinities, NaN) is formatted by
``repr`` itself, so the output is ``repr``'s in every case.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_U64 = np.uint64
_LOW32 = _U64(0xFFFFFFFF)
_FRACTION = _U64((1 << 52) - 1)
_HIDDEN = _U64(1 << 52)
_POW10 = np.array([10**i for i in range(20)], dtype=np.uint64)
#: values whose digits are found per pass (so that the pass's arrays stay in the CPU caches)
_BLOCK = 1 << 15
#: values whose lines are laid out together (a few numpy calls per layout, so not too few)
_LINES_BLOCK = 1 << 16


def _exact_floor_log10_pow2(t: int) -> int:
    """floor(log10(2**t)), exactly."""
    return len(str(2**t)) - 1 if t >= 0 else -len(str(2**-t))


def _exponent_tables() -> dict[str, np.ndarray]:
    """Per biased binary exponent: the decimal scale ``p``, the shift ``r`` from the 2**-2 units
    of the interval to the integers at that scale, and ``5**p`` with its parts (see module doc)."""
    names = ("fast", "p", "r", "f_low", "f_high", "r_mask", "two_f_int", "two_f_frac", "f_int", "f_frac",
             "half_shift", "half_mask")
    cols: dict[str, list[int]] = {name: [0] * 2048 for name in names}
    for biased in range(1, 2047):
        e = biased - 1075
        p = 16 - _exact_floor_log10_pow2(biased - 1023)  # x * 10**p has 17 or 18 digits
        r = 2 - (e + p)
        if not (0 <= p <= 27 and 0 <= r <= 63):
            continue
        f, mask = 5**p, (1 << r) - 1
        for name, value in (("fast", 1), ("p", p), ("r", r), ("f_low", f & 0xFFFFFFFF), ("f_high", f >> 32),
                            ("r_mask", mask), ("two_f_int", 2 * f >> r), ("two_f_frac", 2 * f & mask),
                            ("f_int", f >> r), ("f_frac", f & mask), ("half_shift", max(r - 1, 0)),
                            ("half_mask", mask >> 1)):
            cols[name][biased] = value
    tables = {name: np.array(values, dtype=np.uint64) for name, values in cols.items()}
    tables["fast"] = tables["fast"].astype(bool)
    tables["p"] = tables["p"].astype(np.int64)
    return tables


_TABLES = _exponent_tables()


def float_repr_lines(values: np.ndarray) -> bytes:
    """``repr`` of each value followed by a newline, as ASCII bytes (equal to
    ``"".join(repr(v) + "\\n" for v in values.tolist())``)."""
    return float_repr_lines_counted(values)[0]


def float_repr_lines_counted(values: np.ndarray) -> tuple[bytes, int]:
    """The lines of :func:`float_repr_lines` and how many of them ``repr`` itself formatted."""
    # (the blocks' byte arrays are joined directly: one copy)
    values = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    parts, by_repr = [], 0
    for start in range(0, values.shape[0], _LINES_BLOCK):
        text, count = _block_lines(values[start : start + _LINES_BLOCK])
        parts.append(text)
        by_repr += count
    return b"".join(parts), by_repr


def _block_lines(values: np.ndarray) -> tuple[np.ndarray, int]:
    bits = values.view(np.uint64)
    negative = (bits >> _U64(63)).astype(bool)
    magnitude = bits & _U64((1 << 63) - 1)
    found = [_shortest_digits(magnitude[start : start + _BLOCK]) for start in range(0, bits.shape[0], _BLOCK)]
    padded, exp10, ndigits, proven = (np.concatenate(parts) for parts in zip(*found))
    klass, body = _layout_class(exp10, ndigits)
    fallback = np.flatnonzero(~proven)
    texts = [repr(v).encode("ascii") for v in values[fallback].tolist()]
    return _assemble(padded, exp10, negative, klass, body, fallback, texts), len(texts)


# --- the shortest digits -------------------------------------------------------------------------


def _shortest_digits(magnitude: np.ndarray):
    """For each |x| (as bits): its shortest digits padded with zeros to 17 (uint64), the decimal
    exponent of the first digit, the number of digits, and whether this was proven here."""
    t = _TABLES
    biased = (magnitude >> _U64(52)).astype(np.intp)
    fraction = magnitude & _FRACTION
    r_mask = t["r_mask"][biased]
    whole, part = _scaled(fraction, biased, r_mask)  # x * 10**p = whole + part / 2**r
    high, count = _interval(fraction, biased, whole, part, r_mask)
    digits, power = _nearest_shortest(whole, part, biased, high, count)

    eighteen = digits >= _POW10[17]
    scaled_digits = 17 + eighteen.astype(np.int64)
    padded = np.where(eighteen, digits // _U64(10), digits)  # exact: the low digits are zeros
    top = np.flatnonzero(digits >= _POW10[18])  # 10**18: rounded up to the next power of ten
    scaled_digits[top], padded[top] = 19, _POW10[16]
    ndigits = (scaled_digits - power).astype(np.int16)  # small: the layout arithmetic is cheaper
    exp10 = (scaled_digits - 1 - t["p"][biased]).astype(np.int16)

    zero = np.flatnonzero(magnitude == 0)
    padded[zero], exp10[zero], ndigits[zero] = 0, 0, 1
    proven = t["fast"][biased]
    proven[zero] = True
    return padded, exp10, ndigits, proven


def _scaled(fraction: np.ndarray, biased: np.ndarray, r_mask: np.ndarray):
    """(4 * m * 5**p) >> r and its low r bits: the 128-bit product from 32-bit limbs."""
    m4 = (fraction | _HIDDEN) << _U64(2)
    a0, a1 = m4 & _LOW32, m4 >> _U64(32)
    b0, b1 = _TABLES["f_low"][biased], _TABLES["f_high"][biased]
    low_low = a0 * b0
    middle = a0 * b1 + a1 * b0  # < 2**64: a1 < 2**23, b1 < 2**31
    low = low_low + (middle << _U64(32))
    high = a1 * b1 + (middle >> _U64(32)) + (low < low_low)
    r = _TABLES["r"][biased]
    whole = (high << (_U64(64) - r)) | (low >> r)  # numpy shifts by 64 give 0
    return whole, low & r_mask


def _interval(fraction, biased, whole, part, r_mask):
    """The largest integer that reads back as x (x scaled by 10**p) and how many do."""
    t = _TABLES
    even = (fraction & _U64(1)) == 0  # an even mantissa: a read exactly halfway comes back to x
    upper_sum = part + t["two_f_frac"][biased]
    high = whole + t["two_f_int"][biased] + (upper_sum > r_mask)
    high -= ((upper_sum & r_mask) == 0) & ~even
    below_int, below_frac = t["two_f_int"][biased], t["two_f_frac"][biased]
    narrow = np.flatnonzero((fraction == 0) & (biased > 1))  # a power of two: half the gap below
    below_int[narrow], below_frac[narrow] = t["f_int"][biased[narrow]], t["f_frac"][biased[narrow]]
    # low = ceil(x - below) (+ 1 if it is exactly that and the mantissa odd)
    low = whole - below_int - (part < below_frac) + _U64(1)
    low -= (part == below_frac) & even
    return high, high - low + _U64(1)


def _nearest_shortest(whole, part, biased, high, count):
    """The multiple of the largest power of ten among the ``count`` integers up to ``high``
    (a multiple of 10**j is there when high mod 10**j < count; count <= 223, so j > 3 only
    through zeros), and of those the one nearest x = whole + part / 2**r (halfway: the one
    with the even last digit, as ``repr``), with that power."""
    q1 = high // _U64(10)
    q2 = q1 // _U64(10)
    q3 = q2 // _U64(10)
    power = (high - q1 * _U64(10) < count).astype(np.intp)
    power += high - q2 * _U64(100) < count
    power += high - q3 * _U64(1000) < count
    _add_trailing_zeros(power, q3)
    step = _POW10[power]
    w1 = whole // _U64(10)
    w2 = w1 // _U64(10)
    below = whole.copy()  # x // step
    for j, quotient in ((1, w1), (2, w2), (3, w2 // _U64(10))):
        np.copyto(below, quotient, where=power == j)
    more = np.flatnonzero(power > 3)
    below[more] = whole[more] // step[more]
    twice_rest = (whole - below * step) * _U64(2) + (part >> _TABLES["half_shift"][biased])
    beyond_half = (part & _TABLES["half_mask"][biased]) != 0
    up = (twice_rest > step) | ((twice_rest == step) & (beyond_half | (below & _U64(1)).astype(bool)))
    # one of below * step and (below + 1) * step is inside (maybe both): the other one if the
    # nearer one is outside
    nearest = (below + up) * step
    too_high = up & (nearest > high)
    too_low = ~up & (nearest + count <= high)  # nearest < high - count + 1, the lowest inside
    return nearest - step * too_high + step * too_low, power


def _add_trailing_zeros(power: np.ndarray, quotient: np.ndarray) -> None:
    """Where power is 3, add the trailing zeros of quotient (high // 1000) to it (rare: values
    with few digits)."""
    rows = np.flatnonzero(power == 3)
    rest = quotient[rows]
    while rows.size:
        zero = (rest % _U64(10) == 0) & (rest != 0)  # (0: a zero or a value left to repr)
        rows, rest = rows[zero], rest[zero] // _U64(10)
        power[rows] += 1
    np.minimum(power, 19, out=power)


# --- the text --------------------------------------------------------------------------------------

# Source row of each value (32 bytes): the pieces the layouts take, with the padded 17 digits at
# 3..19 (the last 16 as four 4-byte groups, each one aligned uint32).
_MINUS, _POINT, _ZERO, _DIGITS, _E, _EXP_SIGN, _EXP, _NEWLINE = 0, 1, 2, 3, 20, 21, 22, 24
_SOURCE_ROW = np.frombuffer(b"-.00" + b"0" * 16 + b"e+00\n".ljust(12, b"\0"), dtype=np.uint8)
_EXP_CLASS = 20  # classes 0..19: fixed notation, exponent -4..15; 20 + n - 1: exponent notation, n digits
#: the 4 ASCII digits of 0..9999, first digit in the lowest byte
_FOUR_ASCII_DIGITS = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), dtype="<u4").astype(np.uint32)


def _source_rows(padded: np.ndarray, exp10: np.ndarray) -> np.ndarray:
    rows = np.empty((padded.shape[0], 32), dtype=np.uint8)  # (bytes 25.. are never taken)
    words = rows.view(np.uint32)
    for column in (0, 5, 6):  # the constant pieces; the digits are written over bytes 3..19
        words[:, column] = _SOURCE_ROW.view(np.uint32)[column]
    for start in range(0, padded.shape[0], _BLOCK):
        part = slice(start, start + _BLOCK)
        _fill_digits(rows[part], padded[part])
    scientific = np.flatnonzero((exp10 < -4) | (exp10 >= 16))
    exponent = exp10[scientific]
    magnitude = np.abs(exponent) % 100  # two digits in the proven range (-10..18)
    rows[scientific, _EXP_SIGN] = np.where(exponent < 0, ord("-"), ord("+"))
    rows[scientific, _EXP] = magnitude // 10 + 48
    rows[scientific, _EXP + 1] = magnitude % 10 + 48
    return rows


def _fill_digits(rows: np.ndarray, padded: np.ndarray) -> None:
    first = padded // _U64(10**16)
    rest = padded - first * _U64(10**16)
    rows[:, _DIGITS] = first.astype(np.uint8) + 48
    upper = rest // _U64(10**8)
    groups = rows.view(np.uint32)  # the four groups of digits are its columns 1..4
    for column, eight in ((1, upper), (3, rest - upper * _U64(10**8))):
        high4 = eight // _U64(10_000)
        np.take(_FOUR_ASCII_DIGITS, high4.view(np.int64), out=groups[:, column], mode="wrap")
        low4 = eight - high4 * _U64(10_000)
        np.take(_FOUR_ASCII_DIGITS, low4.view(np.int64), out=groups[:, column + 1], mode="wrap")


def _layout_class(exp10: np.ndarray, ndigits: np.ndarray):
    """Each value's layout class and its text length without sign and newline."""
    fixed = (exp10 >= -4) & (exp10 < 16)
    klass = np.where(fixed, exp10 + 4, _EXP_CLASS + ndigits - 1)
    point_fixed = exp10 + 2 + np.maximum(ndigits - exp10 - 1, 1)  # d..d.d..d (padded zeros)
    small_fixed = 1 - exp10 + ndigits  # 0.00d..d
    exponent = ndigits + (ndigits > 1) + 4  # d.d..de+XX
    body = np.where(fixed, np.where(exp10 >= 0, point_fixed, small_fixed), exponent)
    return klass, body


@cache
def _template(klass: int, negative: bool, body: int) -> np.ndarray:
    """The source columns of one layout (a class, a sign and a length)."""
    if klass < _EXP_CLASS:
        exp10 = klass - 4
        if exp10 >= 0:
            columns = [*range(_DIGITS, _DIGITS + exp10 + 1), _POINT, *range(_DIGITS + exp10 + 1, _DIGITS + 17)]
        else:
            columns = [_ZERO, _POINT, *[_ZERO] * (-exp10 - 1), *range(_DIGITS, _DIGITS + 17)]
    else:
        ndigits = klass - _EXP_CLASS + 1
        fraction = [_POINT, *range(_DIGITS + 1, _DIGITS + ndigits)] if ndigits > 1 else []
        columns = [_DIGITS, *fraction, _E, _EXP_SIGN, _EXP, _EXP + 1]
    return np.array([_MINUS] * negative + columns[:body] + [_NEWLINE], dtype=np.intp)


def _assemble(padded, exp10, negative, klass, body, fallback, texts) -> np.ndarray:
    """All lines: the values sorted by layout (a class, a sign and a length), each layout's
    lines taken from its source rows with its template and written at their offsets; the
    values left to ``repr`` written one by one."""
    lengths = negative + body + 1
    lengths[fallback] = [len(text) + 1 for text in texts]
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    offsets = ends - lengths
    out = np.empty(total + 32, dtype=np.uint8)  # the spare bytes let every strided view fit
    key = ((klass * 2 + negative) * 32 + body).astype(np.int16)  # 16 bits: numpy's radix sort
    key[fallback] = -1
    order = np.argsort(key, kind="stable")
    ordered, line_offsets = key[order], offsets[order]
    source = _source_rows(padded[order], exp10[order])  # in layout order: each layout's rows a slice
    bounds = np.flatnonzero(np.diff(ordered)) + 1
    for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), order.shape[0]]):
        group_key = int(ordered[start])
        if group_key < 0:
            continue
        template = _template(group_key // 64, bool(group_key // 32 % 2), group_key % 32)
        line = np.dtype((np.void, template.shape[0]))
        lines = np.take(source[start:stop], template, axis=1).view(line).reshape(-1)
        np.ndarray((total + 1,), dtype=line, buffer=out, strides=(1,))[line_offsets[start:stop]] = lines
    for index, text in zip(fallback.tolist(), texts):
        offset = int(offsets[index])
        out[offset : offset + len(text) + 1] = np.frombuffer(text + b"\n", np.uint8)
    return out[:total]
