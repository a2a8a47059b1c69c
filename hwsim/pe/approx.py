"""Approximate multipliers: bit-accurate, vectorised numpy models (the FL face).

Every design is an *unsigned n-bit core* (n = the operand width, 4, 8 or 16 bits). Signed operands use
**sign-magnitude**: the core multiplies |a| and |b| (as n-bit unsigned magnitudes, so -2^(n-1) gives
2^(n-1)) and the product takes the sign a_sign XOR b_sign. Products are exact int64 values (the RTL
twins are 2n+1 bits wide, enough for every design here). Partial-product (PP) bit ``a_i & b_j`` has
weight 2^(i+j); row j is ``a * b_j``; column c holds the bits with i + j = c.
"""

from __future__ import annotations

import numpy as np

from hwsim.errors import ConfigError
from hwsim.pe.formats import NumberFormat
from hwsim.pe.multiplier import Multiplier, register_multiplier


def _int_param(params: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"multiplier.params.{name}: must be an integer in [{low}, {high}], got {value!r}")
    return value


def _check_known(params: dict, allowed: tuple[str, ...], design: str) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"multiplier.params: unknown for {design}: {', '.join(unknown)}; "
                          f"allowed: {', '.join(allowed) or '(none)'}")


class ApproxMultiplier(Multiplier):
    """Base: sign-magnitude wrapper around an unsigned ``core`` on n-bit magnitudes."""

    PARAMS: tuple[str, ...] = ()

    def __init__(self, fmt_a: NumberFormat, fmt_b: NumberFormat, **params):
        if not fmt_a.is_int or fmt_a != fmt_b:
            raise ConfigError(f"multiplier: {self.name} needs equal integer operand formats, got "
                              f"{fmt_a.name} x {fmt_b.name}")
        _check_known(params, self.PARAMS, self.name)
        super().__init__(fmt_a, fmt_b, **params)
        self.n = fmt_a.bits
        self.signed = fmt_a.signed
        self.setup(params)

    def setup(self, params: dict) -> None:
        """Validate and store the design's parameters."""

    def core(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def multiply(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        a, b = np.broadcast_arrays(a, b)
        if not self.signed:
            return self.core(a, b)
        p = self.core(np.abs(a), np.abs(b))
        return np.where((a < 0) != (b < 0), -p, p)

    def describe(self) -> str:
        body = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({body})" if body else self.name


def leading_one(x: np.ndarray) -> np.ndarray:
    """Index of the most significant set bit of positive integers (x > 0), as int64."""
    out = np.zeros(x.shape, np.int64)
    y = x.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        big = y >= (1 << shift)
        out += np.where(big, shift, 0)
        y = np.where(big, y >> shift, y)
    return out


def kept_pp_sum(a: np.ndarray, b: np.ndarray, n: int, keep_row, min_column: int) -> np.ndarray:
    """Sum of the PP bits a_i b_j with ``keep_row(j)`` and i + j >= ``min_column``."""
    p = np.zeros(a.shape, np.int64)
    for j in range(n):
        if not keep_row(j):
            continue
        s = max(0, min_column - j)
        row = (a >> s) << s
        p += np.where((b >> j) & 1 == 1, row << j, 0)
    return p


def pp_column_heights(n: int) -> list[int]:
    """Number of PP bits in each column c = 0 .. 2n-2 of an n x n array."""
    return [min(c, n - 1) - max(0, c - n + 1) + 1 for c in range(2 * n - 1)]


@register_multiplier("truncated")
class TruncatedMultiplier(ApproxMultiplier):
    """Truncated multiplier: the PP bits of the ``k`` least-significant columns are not generated;
    with ``compensation`` a constant equal to their expected value for uniform operands (each PP bit is
    1 with probability 1/4), rounded to an integer, is added back.

    Source: M. J. Schulte and E. E. Swartzlander, "Truncated multiplication with correction constant",
    VLSI Signal Processing VI, IEEE, 1993 (constant correction); see also Kidambi, El-Guibaly and
    Antoniou, IEEE TCAS-II 43(2), 1996. Without compensation the worst-case error is the all-ones
    value of the dropped columns, sum_{c<k} h(c) 2^c = (k-1) 2^k + 1 for k <= n.
    """

    PARAMS = ("k", "compensation")

    def setup(self, params: dict) -> None:
        self.k = _int_param(params, "k", 0, 2 * self.n - 1)
        comp = params.get("compensation", False)
        if not isinstance(comp, bool):
            raise ConfigError(f"multiplier.params.compensation: must be true or false, got {comp!r}")
        self.compensation = comp
        heights = pp_column_heights(self.n)
        expected = sum(heights[c] * (1 << c) for c in range(min(self.k, len(heights)))) / 4
        self.constant = int(np.floor(expected + 0.5)) if comp else 0

    def core(self, a, b):
        return kept_pp_sum(a, b, self.n, lambda j: True, self.k) + self.constant


@register_multiplier("bam")
class BrokenArrayMultiplier(ApproxMultiplier):
    """Broken-array multiplier (BAM): the carry-save array is broken horizontally (the ``hbl`` lowest
    PP rows, i.e. b_0..b_{hbl-1}, are omitted) and vertically (cells of the ``vbl`` lowest columns are
    omitted). The remaining adders are exact, so the product is the exact sum of the kept PP bits.

    Source: H. R. Mahdiani, A. Ahmadi, S. M. Fakhraie and C. Lucas, "Bio-inspired imprecise
    computational blocks for efficient VLSI implementation of soft-computing applications",
    IEEE TCAS-I 57(4), 2010.
    """

    PARAMS = ("hbl", "vbl")

    def setup(self, params: dict) -> None:
        self.hbl = _int_param(params, "hbl", 0, self.n, 0)
        self.vbl = _int_param(params, "vbl", 0, 2 * self.n - 1, 0)

    def core(self, a, b):
        return kept_pp_sum(a, b, self.n, lambda j: j >= self.hbl, self.vbl)


@register_multiplier("mitchell")
class MitchellMultiplier(ApproxMultiplier):
    """Mitchell's logarithmic multiplier: log2 x ~ k + f with k the leading-one position and
    f = x/2^k - 1 in [0, 1) (kept exactly, n-1 fraction bits); the logs are added and the antilog is
    taken by the same piecewise-linear rule: 2^(k1+k2) (1 + f1 + f2) if f1 + f2 < 1, else
    2^(k1+k2+1) (f1 + f2); fraction bits shifted below the binary point are truncated. A zero operand
    gives 0. The product is never above the exact one; the largest relative error is 1/9 (f1 = f2 = 1/2).

    Source: J. N. Mitchell, "Computer multiplication and division using binary logarithms",
    IRE Transactions on Electronic Computers EC-11(4), 1962.
    """

    def core(self, a, b):
        n = self.n
        nz = (a > 0) & (b > 0)
        a1 = np.where(nz, a, 1)
        b1 = np.where(nz, b, 1)
        k1, k2 = leading_one(a1), leading_one(b1)
        f1 = (a1 - (1 << k1)) << (n - 1 - k1)  # fraction with n-1 bits
        f2 = (b1 - (1 << k2)) << (n - 1 - k2)
        s = f1 + f2
        carry = s >= (1 << (n - 1))
        mant = np.where(carry, s, s + (1 << (n - 1)))  # (1 + f) or (f1 + f2) with n-1 fraction bits
        shift = k1 + k2 + carry.astype(np.int64)
        p = (mant << shift) >> (n - 1)
        return np.where(nz, p, 0)


@register_multiplier("drum")
class DrumMultiplier(ApproxMultiplier):
    """DRUM, the dynamic range unbiased multiplier: each operand keeps only ``k`` bits from its leading
    one down, the lowest kept bit is forced to 1 (which centres the truncation error), the two k-bit
    values are multiplied exactly and the product is shifted back. Operands below 2^k are exact.

    Source: S. Hashemi, R. I. Bahar and S. Reda, "DRUM: A Dynamic Range Unbiased Multiplier for
    approximate applications", IEEE/ACM ICCAD 2015.
    """

    PARAMS = ("k",)

    def setup(self, params: dict) -> None:
        self.k = _int_param(params, "k", 2, self.n, 6)

    def approx_operand(self, x: np.ndarray) -> np.ndarray:
        k = self.k
        t = leading_one(np.maximum(x, 1))
        shift = np.maximum(t - (k - 1), 0)
        seg = x >> shift
        seg = np.where(shift > 0, seg | 1, seg)
        return seg << shift

    def core(self, a, b):
        return self.approx_operand(a) * self.approx_operand(b)


def approx_compressor_4_2(x1, x2, x3, x4, xor, and_, or_):
    """Approximate 4:2 compressor without carry-in/out: sum' = (x1 ^ x2) | (x3 ^ x4),
    carry' = x1 x2 | x3 x4. It is exact except for inputs 1111 (gives 2, error -2) and the four
    patterns with one 1 in each pair (gives 1, error -1)."""
    return or_(xor(x1, x2), xor(x3, x4)), or_(and_(x1, x2), and_(x3, x4))


def compress_columns(columns: list[list], approx_columns: int, xor, and_, or_) -> list[list]:
    """Reduce the columns below ``approx_columns`` with approximate 4:2 compressors: column by column
    from the least significant, while a column holds 4 or more bits the first four are replaced by the
    compressor's sum (appended to the column) and its carry (appended to the next column). The bits
    left are then added exactly. ``columns`` are lists of bits (any type the gate functions accept)."""
    cols = [list(c) for c in columns] + [[]]
    for c in range(min(approx_columns, len(cols) - 1)):
        while len(cols[c]) >= 4:
            x1, x2, x3, x4 = cols[c][:4]
            del cols[c][:4]
            s, carry = approx_compressor_4_2(x1, x2, x3, x4, xor, and_, or_)
            cols[c].append(s)
            cols[c + 1].append(carry)
    return cols


@register_multiplier("compressor")
class CompressorMultiplier(ApproxMultiplier):
    """PP reduction tree with approximate 4:2 compressors in the ``approx_columns`` least-significant
    columns (exact addition elsewhere). Compressor: sum' = (x1 XOR x2) OR (x3 XOR x4),
    carry' = x1 x2 OR x3 x4, no carry-in/out (see :func:`approx_compressor_4_2`; order of reduction in
    :func:`compress_columns`).

    Source: the approximate 4:2 compressor family of A. Momeni, J. Han, P. Montuschi and F. Lombardi,
    "Design and analysis of approximate compressors for multiplication", IEEE Trans. Computers 64(4),
    2015; this carry-in/out-free form with OR-combined pair sums is the one used by D. Ha and S. Lee,
    "Multipliers with approximate 4-2 compressors and error recovery modules", IEEE Embedded Systems
    Letters 10(1), 2018.
    """

    PARAMS = ("approx_columns",)

    def setup(self, params: dict) -> None:
        self.approx_columns = _int_param(params, "approx_columns", 0, 2 * self.n - 1, self.n)

    def core(self, a, b):
        n = self.n
        abits = [((a >> i) & 1).astype(np.uint8) for i in range(n)]
        bbits = [((b >> j) & 1).astype(np.uint8) for j in range(n)]
        columns: list[list] = [[] for _ in range(2 * n - 1)]
        for j in range(n):
            for i in range(n):
                columns[i + j].append(abits[i] & bbits[j])
        cols = compress_columns(columns, self.approx_columns, np.bitwise_xor, np.bitwise_and, np.bitwise_or)
        p = np.zeros(a.shape, np.int64)
        for c, bits in enumerate(cols):
            for bit in bits:
                p += bit.astype(np.int64) << c
        return p


class ExactSignMagnitude(ApproxMultiplier):
    """The exact product computed through the sign-magnitude path (a reference for the wrapper)."""

    name = "exact_sm"

    def core(self, a, b):
        return a * b
