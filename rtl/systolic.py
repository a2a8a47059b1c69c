"""The systolic-array twin: rows x cols MAC PEs with the CL face's skew/fill/drain protocol.

Ports (same names as the CL face), per dataflow:

=========  ======================================  ======================================
dataflow   ``a_in`` (+ ``a_in_valid``)              ``b_in`` (+ ``b_in_valid``)
=========  ======================================  ======================================
``os``     A column k, ``rows`` wide, streamed      B row k, ``cols`` wide, streamed
``ws``     A row m, ``rows`` wide, streamed         B tile row, ``cols`` wide, preload
``is``     A^T tile row, ``cols`` wide, preload     B column n, ``rows`` wide, streamed
=========  ======================================  ======================================

``c_out``/``c_out_valid`` (``cols`` wide) is the array's output register: the bottom PE row's
partial sums (WS/IS), or the drain register the accumulators shift into (OS). ``en`` low freezes
everything (a stall).

* A streamed input word for array row/column ``k`` passes a skew buffer of ``k`` registers, so the
  input presented in cycle t reaches edge PE ``k`` in cycle ``t + k``.
* WS/IS: a cycle with any valid preload word shifts the stationary tile down one row (the top row
  takes the new word) and clears the flowing pipelines (the array is empty between folds).
* OS: once MACs have happened, the first cycle with none starts the drain: for ``rows`` cycles the
  bottom row's accumulators enter ``c_out`` and every accumulator moves down one row.
"""

from __future__ import annotations

from amaranth import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwsim.systolic.config import SystolicConfig
from rtl.multiplier import operand_shape
from rtl.pe import MacPE, check_rtl_pe


def port_widths(dataflow: str, rows: int, cols: int) -> tuple[int, int]:
    """Words on (a_in, b_in) for a dataflow."""
    return {"os": (rows, cols), "ws": (rows, cols), "is": (cols, rows)}[dataflow]


class SkewBuffer(wiring.Component):
    """Word k of the input is delayed k cycles (with its valid bit); ``clear`` drops valid bits."""

    def __init__(self, shape, n: int):
        self.n = n
        super().__init__({
            "en": In(1), "clear": In(1),
            "i": In(data.ArrayLayout(shape, n)), "i_valid": In(n),
            "o": Out(data.ArrayLayout(shape, n)), "o_valid": Out(n),
        })
        self._shape = shape

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.o[0].eq(self.i[0]), self.o_valid[0].eq(self.i_valid[0])]
        for k in range(1, self.n):
            vals = [Signal(self._shape, name=f"d{k}_{s}") for s in range(k)]
            valid = [Signal(name=f"d{k}_{s}_v") for s in range(k)]
            with m.If(self.en):
                m.d.sync += [vals[0].eq(self.i[k]), valid[0].eq(self.i_valid[k] & ~self.clear)]
                for s in range(1, k):
                    m.d.sync += [vals[s].eq(vals[s - 1]), valid[s].eq(valid[s - 1] & ~self.clear)]
            m.d.comb += [self.o[k].eq(vals[-1]), self.o_valid[k].eq(valid[-1])]
        return m


class SystolicArray(wiring.Component):
    """The array for ``cfg.rows`` x ``cfg.cols``, ``cfg.dataflow`` and ``cfg.pe`` (integer formats)."""

    def __init__(self, cfg: SystolicConfig):
        check_rtl_pe(cfg.pe)
        self.cfg = cfg
        self.rows, self.cols = cfg.rows, cfg.cols
        op = operand_shape(cfg.pe.in_fmt)
        acc = signed(cfg.pe.acc_fmt.bits)
        na, nb = port_widths(cfg.dataflow, cfg.rows, cfg.cols)
        super().__init__({
            "en": In(1),
            "a_in": In(data.ArrayLayout(op, na)), "a_in_valid": In(na),
            "b_in": In(data.ArrayLayout(op, nb)), "b_in_valid": In(nb),
            "c_out": Out(data.ArrayLayout(acc, cfg.cols)), "c_out_valid": Out(cfg.cols),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, R, C = self.cfg, self.rows, self.cols
        df = cfg.dataflow
        op = operand_shape(cfg.pe.in_fmt)
        pes = [[MacPE(cfg.pe, df) for _ in range(C)] for _ in range(R)]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]
        for row in pes:
            for pe in row:
                m.d.comb += pe.en.eq(self.en)

        # which ports stream (through a skew buffer, entering at the left edge) and which preload
        streamed = {"os": ("a", "b"), "ws": ("a",), "is": ("b",)}[df]
        stationary = {"os": None, "ws": "b", "is": "a"}[df]
        load = Signal()
        if stationary:
            m.d.comb += load.eq(getattr(self, f"{stationary}_in_valid").any())
        edge = {}
        for name in streamed:
            port, valid = getattr(self, f"{name}_in"), getattr(self, f"{name}_in_valid")
            skew = SkewBuffer(op, len(valid))
            m.submodules[f"skew_{name}"] = skew
            m.d.comb += [skew.en.eq(self.en), skew.clear.eq(load), skew.i.eq(port), skew.i_valid.eq(valid)]
            edge[name] = skew

        for i in range(R):
            for j in range(C):
                pe = pes[i][j]
                m.d.comb += pe.load.eq(load)
                # the operand entering from the left edge and moving right
                horiz = "a" if df in ("os", "ws") else "b"
                if j == 0:
                    m.d.comb += [getattr(pe, f"{horiz}_in").eq(edge[horiz].o[i]),
                                 getattr(pe, f"{horiz}_in_valid").eq(edge[horiz].o_valid[i])]
                else:
                    left = pes[i][j - 1]
                    m.d.comb += [getattr(pe, f"{horiz}_in").eq(getattr(left, f"{horiz}_out")),
                                 getattr(pe, f"{horiz}_in_valid").eq(getattr(left, f"{horiz}_out_valid"))]
                # the operand entering from the top edge and moving down (streamed for OS, preload chain otherwise)
                vert = "b" if df in ("os", "ws") else "a"
                if i == 0:
                    if df == "os":
                        src, src_v = edge["b"].o[j], edge["b"].o_valid[j]
                    else:
                        src, src_v = getattr(self, f"{vert}_in")[j], getattr(self, f"{vert}_in_valid")[j]
                    m.d.comb += [getattr(pe, f"{vert}_in").eq(src), getattr(pe, f"{vert}_in_valid").eq(src_v)]
                else:
                    up = pes[i - 1][j]
                    m.d.comb += [getattr(pe, f"{vert}_in").eq(getattr(up, f"{vert}_out")),
                                 getattr(pe, f"{vert}_in_valid").eq(getattr(up, f"{vert}_out_valid"))]
                # partial sums come from the PE above (zero, invalid at the top)
                if i > 0:
                    m.d.comb += [pe.psum_in.eq(pes[i - 1][j].psum_out), pe.psum_in_valid.eq(pes[i - 1][j].psum_out_valid)]

        if df == "os":
            self._os_drain(m, pes)
        else:
            for j in range(C):
                m.d.comb += [self.c_out[j].eq(pes[R - 1][j].psum_out), self.c_out_valid[j].eq(pes[R - 1][j].psum_out_valid)]
        return m

    def _os_drain(self, m: Module, pes) -> None:
        R, C = self.rows, self.cols
        any_mac = Signal()
        m.d.comb += any_mac.eq(_any([pe.a_in_valid & pe.b_in_valid for row in pes for pe in row]))
        seen_mac = Signal()
        draining = Signal()
        count = Signal(range(R + 1))
        drain_now = Signal()
        m.d.comb += drain_now.eq(draining | (seen_mac & ~any_mac))
        for row in pes:
            for pe in row:
                m.d.comb += pe.drain.eq(drain_now)
        with m.If(self.en):
            with m.If(drain_now):
                with m.If(count == R - 1):
                    m.d.sync += [draining.eq(0), seen_mac.eq(0), count.eq(0)]
                with m.Else():
                    m.d.sync += [draining.eq(1), count.eq(count + 1)]
                for j in range(C):
                    m.d.sync += [self.c_out[j].eq(pes[R - 1][j].psum_out), self.c_out_valid[j].eq(pes[R - 1][j].psum_out_valid)]
            with m.Else():
                m.d.sync += self.c_out_valid.eq(0)
                with m.If(any_mac):
                    m.d.sync += seen_mac.eq(1)


def _any(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out | t
    return out
