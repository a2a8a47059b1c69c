"""RTL twins of a NoC router's critical logic: round-robin arbiter, separable switch allocator, crossbar.

These are the blocks whose combinational depth sets a virtual-channel router's clock (Dally & Towles,
*Principles and Practices of Interconnection Networks*, ch. 16-19): the switch allocator (SA) and the
switch traversal through the crossbar (ST). Input buffers and VC state are plain registers; their area is
priced from the technology table by :mod:`hwsim.noc.area`, not synthesised here.

Bit layouts (all ports are flat unsigned vectors, so the Verilog ports are plain wires):

* :class:`RoundRobinArbiter` ``n``: ``req[i]`` requests, ``grant`` one-hot (or zero when nobody requests),
  ``advance`` lets the priority move. Priority is a thermometer mask register (``mask[i] = 1`` for the
  requesters at or after the pointer): the grant is the lowest-numbered requester inside the mask, or the
  lowest-numbered requester overall when nobody inside the mask requests. When ``advance`` is high and a
  grant is given to ``i``, the mask becomes ``i+1 .. n-1`` (so ``i`` has the lowest priority next cycle).
  Reset: the pointer at 0.
* :class:`SwitchAllocator` ``ports`` P x ``vcs`` V (separable, input-first): ``req`` has P*V*P bits; bit
  ``(p*V + v)*P + o`` says that VC ``v`` of input ``p`` holds a flit for output ``o`` (one output per VC,
  as set by route computation). Stage 1: per input a V:1 round-robin arbiter picks one requesting VC;
  its output request goes on. Stage 2: per output a P:1 round-robin arbiter picks one input.
  ``out_grant`` has P*P bits, bit ``o*P + p`` = output ``o`` is given to input ``p`` (the crossbar select,
  one-hot per output); ``vc_grant`` has P*V bits, bit ``p*V + v`` = VC ``v`` of input ``p`` sends this
  cycle (at most one per input). An input arbiter's priority moves only when its VC also won the output
  (so a losing VC keeps its turn); an output arbiter's moves whenever it grants.
* :class:`Crossbar` ``ports`` P x ``width`` W: ``inp`` has P*W bits (input ``p`` in bits ``p*W ..``),
  ``sel`` P*P bits as ``out_grant`` above; ``out`` P*W bits, ``out_valid`` P bits. Per output a P:1
  AND-OR multiplexer driven by the one-hot select (an output with no select bit set gives 0).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.errors import ConfigError

__all__ = ["Crossbar", "RoundRobinArbiter", "RouterCore", "SwitchAllocator"]

MAX_PORTS = 64
MAX_VCS = 64
MAX_WIDTH = 1 << 15


def _check(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name}: must be an integer in [{low}, {high}], got {value!r}")


def _checked(design: object, *checks: tuple[str, int, int, int]) -> None:
    """Run :func:`_check` on each ``(name, value, low, high)``; a rejected design is marked used so that
    Amaranth does not also warn that it was never elaborated."""
    try:
        for check in checks:
            _check(*check)
    except ConfigError:
        design._MustUse__used = True
        raise


def _lowest_set(m: Module, bits: Signal | object, n: int, name: str) -> Signal:
    """One-hot of the lowest set bit of ``bits`` (n wide), zero if none: ``g[i] = b[i] & ~|b[:i]``."""
    out = Signal(n, name=name)
    m.d.comb += out.eq(Cat(*[bits[i] & ~bits[:i].any() if i else bits[0] for i in range(n)]))
    return out


class RoundRobinArbiter(wiring.Component):
    """``n``-way round-robin arbiter (see module docstring)."""

    def __init__(self, n: int):
        _checked(self, ("n", n, 1, MAX_PORTS * MAX_VCS))
        self.n = n
        super().__init__({"req": In(n), "advance": In(1), "grant": Out(n)})

    def elaborate(self, platform):
        m = Module()
        n = self.n
        if n == 1:
            m.d.comb += self.grant.eq(self.req)
            return m
        mask = Signal(n, name="mask", init=(1 << n) - 1)  # thermometer: requesters at or after the pointer
        masked = Signal(n, name="masked")
        m.d.comb += masked.eq(self.req & mask)
        g_masked = _lowest_set(m, masked, n, "g_masked")
        g_any = _lowest_set(m, self.req, n, "g_any")
        m.d.comb += self.grant.eq(Mux(masked.any(), g_masked, g_any))
        # next mask: every position strictly above the granted one (prefix OR of the grant)
        above = Cat(Const(0, 1), *[self.grant[:i].any() for i in range(1, n)])
        with m.If(self.advance & self.req.any()):
            m.d.sync += mask.eq(above)
        return m


class SwitchAllocator(wiring.Component):
    """Separable input-first switch allocator for ``ports`` inputs/outputs and ``vcs`` VCs per input."""

    def __init__(self, ports: int, vcs: int):
        _checked(self, ("ports", ports, 2, MAX_PORTS), ("vcs", vcs, 1, MAX_VCS))
        self.ports, self.vcs = ports, vcs
        super().__init__({"req": In(ports * vcs * ports), "vc_grant": Out(ports * vcs),
                          "out_grant": Out(ports * ports)})

    def elaborate(self, platform):
        m = Module()
        P, V = self.ports, self.vcs
        req = [[self.req[(p * V + v) * P:(p * V + v + 1) * P] for v in range(V)] for p in range(P)]
        in_arb = [RoundRobinArbiter(V) for _ in range(P)]
        out_arb = [RoundRobinArbiter(P) for _ in range(P)]
        for p, arb in enumerate(in_arb):
            m.submodules[f"in_arb{p}"] = arb
        for o, arb in enumerate(out_arb):
            m.submodules[f"out_arb{o}"] = arb
        # stage 1: one VC per input; its output request goes on
        fwd = []
        for p in range(P):
            m.d.comb += in_arb[p].req.eq(Cat(*[req[p][v].any() for v in range(V)]))
            f = Signal(P, name=f"fwd{p}")
            terms = [req[p][v] & in_arb[p].grant[v].replicate(P) for v in range(V)]
            acc = terms[0]
            for t in terms[1:]:
                acc = acc | t
            m.d.comb += f.eq(acc)
            fwd.append(f)
        # stage 2: one input per output
        for o in range(P):
            m.d.comb += [out_arb[o].req.eq(Cat(*[fwd[p][o] for p in range(P)])), out_arb[o].advance.eq(1),
                         self.out_grant[o * P:(o + 1) * P].eq(out_arb[o].grant)]
        for p in range(P):
            won = Signal(name=f"won{p}")
            m.d.comb += [won.eq(Cat(*[out_arb[o].grant[p] for o in range(P)]).any()),
                         in_arb[p].advance.eq(won),
                         self.vc_grant[p * V:(p + 1) * V].eq(in_arb[p].grant & won.replicate(V))]
        return m


class Crossbar(wiring.Component):
    """``ports`` x ``ports`` crossbar of ``width``-bit flits with one-hot selects per output."""

    def __init__(self, ports: int, width: int):
        _checked(self, ("ports", ports, 2, MAX_PORTS), ("width", width, 1, MAX_WIDTH))
        self.ports, self.width = ports, width
        super().__init__({"inp": In(ports * width), "sel": In(ports * ports), "out": Out(ports * width),
                          "out_valid": Out(ports)})

    def elaborate(self, platform):
        m = Module()
        P, W = self.ports, self.width
        for o in range(P):
            sel = self.sel[o * P:(o + 1) * P]
            terms = [self.inp[p * W:(p + 1) * W] & sel[p].replicate(W) for p in range(P)]
            acc = terms[0]
            for t in terms[1:]:
                acc = acc | t
            m.d.comb += [self.out[o * W:(o + 1) * W].eq(acc), self.out_valid[o].eq(sel.any())]
        return m


class RouterCore(wiring.Component):
    """Switch allocator feeding the crossbar in the same cycle (a single-cycle router's SA + ST path):
    ``req`` as :class:`SwitchAllocator`, ``inp`` per input the flit at the head of the VC that wins
    (the VC read multiplexer is not included); ``out``/``out_valid`` as :class:`Crossbar`."""

    def __init__(self, ports: int, vcs: int, width: int):
        _checked(self, ("ports", ports, 2, MAX_PORTS), ("vcs", vcs, 1, MAX_VCS), ("width", width, 1, MAX_WIDTH))
        self.ports, self.vcs, self.width = ports, vcs, width
        super().__init__({"req": In(ports * vcs * ports), "inp": In(ports * width), "vc_grant": Out(ports * vcs),
                          "out": Out(ports * width), "out_valid": Out(ports)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.alloc = alloc = SwitchAllocator(self.ports, self.vcs)
        m.submodules.xbar = xbar = Crossbar(self.ports, self.width)
        m.d.comb += [alloc.req.eq(self.req), self.vc_grant.eq(alloc.vc_grant), xbar.sel.eq(alloc.out_grant),
                     xbar.inp.eq(self.inp), self.out.eq(xbar.out), self.out_valid.eq(xbar.out_valid)]
        return m
