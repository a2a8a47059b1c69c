"""RTL twins of the approximate multipliers (see :mod:`hwsim.pe.approx` for the designs and sources).

Each twin has the multiplier signature of :class:`rtl.multiplier.ExactMultiplierRTL` (``a``, ``b``
in, ``p`` out; ``p`` is 2n+1 bits wide) and is registered under the FL design's name, so a PE config
``multiplier: {kind: drum, params: {k: 4}}`` builds the same design in both faces. Parameters are
validated and interpreted by the FL class (one source of truth for e.g. the compensation constant);
the hardware structure is written here independently of the numpy model. Signed operands use the
sign-magnitude wrapper: |a|, |b| as n-bit magnitudes into the unsigned core, product negated when
the signs differ.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.pe.approx import compress_columns
from hwsim.pe.formats import NumberFormat
from hwsim.pe.multiplier import MultiplierConfig, get_multiplier
from rtl.multiplier import operand_shape, register_multiplier_rtl


def _sum(terms):
    """Balanced adder tree (a linear chain of hundreds of terms is too deep for Amaranth)."""
    terms = list(terms)
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def _leading_one(m: Module, x, n: int, name: str) -> Signal:
    """Index of x's most significant set bit (0 if x == 0): later assignments win."""
    k = Signal(range(n), name=name)
    for i in range(n):
        with m.If(x[i]):
            m.d.comb += k.eq(i)
    return k


class _Core:
    """Unsigned n x n -> 2n+1-bit core: subclasses add the product of ``a`` and ``b`` to module ``m``."""

    def __init__(self, fl):
        self.fl = fl
        self.n = fl.n

    def build(self, m: Module, a, b):  # pragma: no cover - abstract
        raise NotImplementedError


class _KeptPP(_Core):
    """Sum of the kept partial-product bits (+ a constant): truncated and broken-array designs."""

    def __init__(self, fl, first_row: int, min_column: int, constant: int):
        super().__init__(fl)
        self.first_row, self.min_column, self.constant = first_row, min_column, constant

    def build(self, m, a, b):
        n = self.n
        rows = []
        for j in range(self.first_row, n):
            s = max(0, self.min_column - j)
            if s >= n:
                continue
            kept = Cat(Const(0, s), a[s:]) if s else a
            rows.append(Cat(Const(0, j), Mux(b[j], kept, 0)) if j else Mux(b[j], kept, 0))
        terms = rows + ([Const(self.constant, unsigned(2 * n + 1))] if self.constant else [])
        return _sum(terms) if terms else Const(0, 1)


class _Mitchell(_Core):
    def build(self, m, a, b):
        n = self.n
        k1 = _leading_one(m, a, n, "k1")
        k2 = _leading_one(m, b, n, "k2")
        sh1, sh2 = Signal(range(n), name="norm1"), Signal(range(n), name="norm2")
        m.d.comb += [sh1.eq(n - 1 - k1), sh2.eq(n - 1 - k2)]
        f1 = Signal(n - 1, name="f1")
        f2 = Signal(n - 1, name="f2")
        m.d.comb += [f1.eq((a << sh1)[: n - 1]), f2.eq((b << sh2)[: n - 1])]
        s = Signal(n, name="fsum")
        m.d.comb += s.eq(f1 + f2)
        carry = s[n - 1]
        mant = Signal(n, name="mant")
        m.d.comb += mant.eq(Mux(carry, s, Cat(s[: n - 1], Const(1, 1))))
        shift = Signal(range(2 * n), name="shift")
        m.d.comb += shift.eq(k1 + k2 + carry)
        wide = Signal(3 * n, name="antilog")
        m.d.comb += wide.eq(mant << shift)
        return Mux((a != 0) & (b != 0), wide[n - 1 :], 0)


class _Drum(_Core):
    def _operand(self, m, x, name):
        n, k = self.n, self.fl.k
        t = _leading_one(m, x, n, f"{name}_t")
        shift = Signal(range(n), name=f"{name}_shift")
        m.d.comb += shift.eq(Mux(t >= k - 1, t - (k - 1), 0))
        seg = Signal(k, name=f"{name}_seg")
        m.d.comb += seg.eq((x >> shift)[:k] | (shift != 0))
        return seg, shift

    def build(self, m, a, b):
        sa, sha = self._operand(m, a, "a")
        sb, shb = self._operand(m, b, "b")
        prod = Signal(2 * self.fl.k, name="seg_product")
        m.d.comb += prod.eq(sa * sb)
        return prod << (sha + shb)


class _Compressor(_Core):
    def build(self, m, a, b):
        n = self.n
        columns: list[list] = [[] for _ in range(2 * n - 1)]
        for j in range(n):
            for i in range(n):
                columns[i + j].append(a[i] & b[j])
        count = [0]

        def wire(value):  # name every gate output: keeps expressions shallow
            sig = Signal(name=f"cmp{count[0]}")
            count[0] += 1
            m.d.comb += sig.eq(value)
            return sig

        cols = compress_columns(columns, self.fl.approx_columns, lambda x, y: wire(x ^ y), lambda x, y: wire(x & y),
                                lambda x, y: wire(x | y))
        terms = []
        for c, bits in enumerate(cols):
            for bit in bits:
                terms.append(Cat(Const(0, c), bit) if c else bit)
        return _sum(terms)


def _core(fl) -> _Core:
    kind = fl.name
    if kind == "truncated":
        return _KeptPP(fl, 0, fl.k, fl.constant)
    if kind == "bam":
        return _KeptPP(fl, fl.hbl, fl.vbl, 0)
    if kind == "mitchell":
        return _Mitchell(fl)
    if kind == "drum":
        return _Drum(fl)
    if kind == "compressor":
        return _Compressor(fl)
    raise ValueError(kind)


class ApproxMultiplierRTL(wiring.Component):
    """An approximate multiplier twin: sign-magnitude wrapper around the design's unsigned core."""

    kind = "abstract"

    def __init__(self, fmt: NumberFormat, **params):
        self.fmt = fmt
        self.fl = get_multiplier(MultiplierConfig(kind=self.kind, params=params), fmt, fmt)
        n = fmt.bits
        out = signed(2 * n + 1) if fmt.signed else unsigned(2 * n + 1)
        super().__init__({"a": In(operand_shape(fmt)), "b": In(operand_shape(fmt)), "p": Out(out)})

    def elaborate(self, platform):
        m = Module()
        n = self.fmt.bits
        if self.fmt.signed:
            amag, bmag = Signal(n, name="a_mag"), Signal(n, name="b_mag")
            m.d.comb += [amag.eq(Mux(self.a[n - 1], -self.a, self.a)), bmag.eq(Mux(self.b[n - 1], -self.b, self.b))]
        else:
            amag, bmag = self.a, self.b
        core = Signal(2 * n + 1, name="core_p")
        m.d.comb += core.eq(_core(self.fl).build(m, amag, bmag))
        if self.fmt.signed:
            m.d.comb += self.p.eq(Mux(self.a[n - 1] ^ self.b[n - 1], -core, core))
        else:
            m.d.comb += self.p.eq(core)
        return m


for _kind in ("truncated", "bam", "mitchell", "drum", "compressor"):
    register_multiplier_rtl(_kind)(type(f"{_kind.capitalize()}MultiplierRTL", (ApproxMultiplierRTL,), {"kind": _kind}))
