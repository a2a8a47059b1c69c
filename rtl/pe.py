"""The MAC PE twin: a pluggable multiplier, an accumulator adder and the PE's pipeline registers.

One component serves the three dataflows (``dataflow``): operands that *flow* through the array are
used as they arrive (``x_in``) and registered on to the neighbour (``x_out``); an operand that is
*stationary* (B for WS, A for IS) sits in ``x_out`` and is replaced only while ``load`` shifts the
next tile in. The partial sum either flows (WS/IS: ``psum_out <= psum_in + a*b``) or stays (OS:
``psum_out <= psum_out + a*b``, and ``psum_out <= psum_in`` while ``drain`` shifts the results out).
Every value carries a valid bit; a MAC happens only when both operands are valid. ``en`` low freezes
the PE (a stall). Integer formats only (fp16/bf16 PEs have no RTL twin yet).
"""

from __future__ import annotations

from amaranth import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.errors import ConfigError
from hwsim.pe.config import PEConfig
from rtl.multiplier import multiplier_rtl, operand_shape

DATAFLOWS = ("os", "ws", "is")


def check_rtl_pe(pe: PEConfig) -> None:
    if not pe.in_fmt.is_int:
        raise ConfigError(f"pe.input: the RTL twins are integer-only (int4/8/16, uint4/8/16), got {pe.input!r}")


class MacPE(wiring.Component):
    """One multiply-accumulate PE (see module docstring for the protocol)."""

    def __init__(self, pe: PEConfig, dataflow: str = "ws"):
        check_rtl_pe(pe)
        if dataflow not in DATAFLOWS:
            raise ConfigError(f"dataflow: must be one of {', '.join(DATAFLOWS)}, got {dataflow!r}")
        self.pe = pe
        self.dataflow = dataflow
        self.stationary = {"os": None, "ws": "b", "is": "a"}[dataflow]
        op = operand_shape(pe.in_fmt)
        acc = signed(pe.acc_fmt.bits)
        super().__init__({
            "en": In(1), "load": In(1), "drain": In(1),
            "a_in": In(op), "a_in_valid": In(1), "a_out": Out(op), "a_out_valid": Out(1),
            "b_in": In(op), "b_in_valid": In(1), "b_out": Out(op), "b_out_valid": Out(1),
            "psum_in": In(acc), "psum_in_valid": In(1), "psum_out": Out(acc), "psum_out_valid": Out(1),
            "mac": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.mult = mult = multiplier_rtl(self.pe.multiplier.kind, self.pe.in_fmt, self.pe.multiplier.params)
        ops = {}
        for name in ("a", "b"):
            x_in, x_in_v = getattr(self, f"{name}_in"), getattr(self, f"{name}_in_valid")
            x_out, x_out_v = getattr(self, f"{name}_out"), getattr(self, f"{name}_out_valid")
            if self.stationary == name:
                ops[name] = (x_out, x_out_v)  # held value
                with m.If(self.en & self.load):
                    m.d.sync += [x_out.eq(x_in), x_out_v.eq(x_in_v)]
            else:
                ops[name] = (x_in, x_in_v)  # value arriving this cycle
                with m.If(self.en):
                    m.d.sync += [x_out.eq(x_in), x_out_v.eq(x_in_v & ~self.load)]
        m.d.comb += [mult.a.eq(ops["a"][0]), mult.b.eq(ops["b"][0])]
        m.d.comb += self.mac.eq(ops["a"][1] & ops["b"][1] & ~self.load & ~self.drain)

        with m.If(self.en):
            if self.dataflow == "os":
                with m.If(self.drain):
                    m.d.sync += [self.psum_out.eq(self.psum_in), self.psum_out_valid.eq(self.psum_in_valid)]
                with m.Elif(self.mac):
                    m.d.sync += [self.psum_out.eq(self.psum_out + mult.p), self.psum_out_valid.eq(1)]
            else:
                with m.If(self.mac):
                    m.d.sync += self.psum_out.eq(self.psum_in + mult.p)
                with m.Else():
                    m.d.sync += self.psum_out.eq(self.psum_in)
                m.d.sync += self.psum_out_valid.eq((self.mac | self.psum_in_valid) & ~self.load)
        return m
