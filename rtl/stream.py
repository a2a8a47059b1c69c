"""Valid/ready stream blocks for the NoC and die-to-die models: a FIFO and a credit-based link.

Both use ``amaranth.lib.stream`` interfaces (``payload``, ``valid``, ``ready``; a transfer happens in
a cycle where ``valid & ready``).

* :class:`StreamFIFO` (``depth`` entries, Amaranth's ``SyncFIFO``): an item accepted in cycle n can
  leave from cycle n+1; ``i.ready`` is low while ``depth`` items are held (a read in the same cycle
  does not make room until the next).
* :class:`CreditLink`: the sender may send while it holds a credit (``credits`` of them, one per
  receiver buffer entry); an item sent in cycle n crosses ``latency`` register stages and is written
  into the receiver FIFO, from which it can leave from cycle n + latency + 1; each item leaving the
  receiver returns its credit over ``credit_latency`` register stages, usable from cycle
  n' + credit_latency + 1. The receiver can never overflow. With an always-ready consumer the link
  carries min(1, credits / (latency + credit_latency + 2)) items per cycle.
"""

from __future__ import annotations

from amaranth import Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from hwsim.errors import ConfigError


def _check(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name}: must be an integer >= {low}, got {value!r}")


class StreamFIFO(wiring.Component):
    """Valid/ready FIFO of ``depth`` items of ``width`` bits; ``level`` = items held."""

    def __init__(self, width: int, depth: int):
        _check("width", width, 1)
        _check("depth", depth, 1)
        self.width, self.depth = width, depth
        super().__init__({"i": In(stream.Signature(unsigned(width))), "o": Out(stream.Signature(unsigned(width))),
                          "level": Out(range(depth + 1))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = fifo = SyncFIFO(width=self.width, depth=self.depth)
        m.d.comb += [
            fifo.w_data.eq(self.i.payload), fifo.w_en.eq(self.i.valid), self.i.ready.eq(fifo.w_rdy),
            self.o.payload.eq(fifo.r_data), self.o.valid.eq(fifo.r_rdy), fifo.r_en.eq(self.o.ready),
            self.level.eq(fifo.level),
        ]
        return m


class CreditLink(wiring.Component):
    """Credit-based link: sender credits, a ``latency``-stage wire, a receiver FIFO of ``credits``
    entries and a ``credit_latency``-stage credit return path."""

    def __init__(self, width: int, latency: int = 1, credits: int = 4, credit_latency: int | None = None):
        credit_latency = latency if credit_latency is None else credit_latency
        _check("width", width, 1)
        _check("latency", latency, 1)
        _check("credits", credits, 1)
        _check("credit_latency", credit_latency, 1)
        self.width, self.latency, self.credits, self.credit_latency = width, latency, credits, credit_latency
        super().__init__({"i": In(stream.Signature(unsigned(width))), "o": Out(stream.Signature(unsigned(width))),
                          "credit_count": Out(range(credits + 1))})

    def elaborate(self, platform):
        m = Module()
        credits = Signal(range(self.credits + 1), init=self.credits)
        send = Signal()
        m.d.comb += [self.i.ready.eq(credits != 0), send.eq(self.i.valid & self.i.ready), self.credit_count.eq(credits)]

        # forward wire: latency register stages
        data = [Signal(self.width, name=f"wire{s}") for s in range(self.latency)]
        valid = [Signal(name=f"wire{s}_valid") for s in range(self.latency)]
        m.d.sync += [data[0].eq(self.i.payload), valid[0].eq(send)]
        for s in range(1, self.latency):
            m.d.sync += [data[s].eq(data[s - 1]), valid[s].eq(valid[s - 1])]

        m.submodules.rx = rx = SyncFIFO(width=self.width, depth=self.credits)
        m.d.comb += [rx.w_data.eq(data[-1]), rx.w_en.eq(valid[-1]),
                     self.o.payload.eq(rx.r_data), self.o.valid.eq(rx.r_rdy), rx.r_en.eq(self.o.ready)]

        # credit return: credit_latency register stages
        pop = Signal()
        m.d.comb += pop.eq(self.o.valid & self.o.ready)
        ret = [Signal(name=f"credit{s}") for s in range(self.credit_latency)]
        m.d.sync += ret[0].eq(pop)
        for s in range(1, self.credit_latency):
            m.d.sync += ret[s].eq(ret[s - 1])
        m.d.sync += credits.eq(credits - send + ret[-1])
        return m
