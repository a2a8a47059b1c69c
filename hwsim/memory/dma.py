"""DMA engine: moves 2-D strided tiles between DRAM/HBM and on-chip SRAM.

A :class:`Descriptor` describes ``rows`` rows of ``row_bytes`` bytes, ``stride_bytes`` apart, starting at
``base``. The engine cuts each row into the DRAM's aligned transactions (a row that starts or ends
inside a transaction still moves the whole transaction: over-fetch is counted), issues them in address
order with at most ``max_outstanding`` in flight, and completes the descriptor when its last
transaction has completed. Descriptors are served in order but overlap: the next descriptor's
transactions start as soon as there is room in the outstanding window.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy
from pydantic import BaseModel, ConfigDict, Field

from hwsim.core import Component
from hwsim.errors import ConfigError


class DmaConfig(BaseModel):
    """DMA engine parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_outstanding: int = Field(64, ge=1, le=4096, description="transactions in flight")
    setup_cycles: int = Field(0, ge=0, le=1 << 16, description="unit cycles to start a descriptor")


@dataclass(frozen=True)
class Descriptor:
    base: int
    rows: int
    row_bytes: int
    stride_bytes: int
    is_write: bool = False

    def __post_init__(self):
        problems = [f"descriptor.{name}: must be >= {low}, got {v}" for name, v, low in
                    (("base", self.base, 0), ("rows", self.rows, 1), ("row_bytes", self.row_bytes, 1),
                     ("stride_bytes", self.stride_bytes, 0)) if v < low]
        if problems:
            raise ConfigError(problems)

    def transactions(self, size: int) -> list[int]:
        """Aligned transaction addresses covering every row, in address order, without duplicates."""
        seen: set[int] = set()
        out: list[int] = []
        for r in range(self.rows):
            start = self.base + r * self.stride_bytes
            first = start - start % size
            last = start + self.row_bytes - 1
            for addr in range(first, last - last % size + 1, size):
                if addr not in seen:
                    seen.add(addr)
                    out.append(addr)
        out.sort()
        return out

    def payload_bytes(self) -> int:
        return self.rows * self.row_bytes


class DmaEngine(Component):
    """Issues descriptors' transactions to a DRAM system (``dram.request(addr, is_write) -> event``)."""

    STATS = {"descriptors": "descriptors", "transactions": "transactions", "bytes_moved": "bytes",
             "payload_bytes": "bytes"}

    def __init__(self, sim, name: str, clock, dram, cfg: DmaConfig | None = None):
        super().__init__(sim, name, clock)
        self.dram = dram
        self.cfg = cfg or DmaConfig()
        self._window = simpy.Resource(self.env, capacity=self.cfg.max_outstanding)
        self._order = simpy.Resource(self.env, capacity=1)  # descriptors start their issue in order

    def run(self):  # the engine is driven by transfer() calls
        return
        yield

    def start(self) -> None:  # no free-running process
        pass

    def transfer(self, desc: Descriptor):
        """Generator: move one descriptor; returns when all its transactions have completed."""
        size = self.dram.transaction_bytes
        addrs = desc.transactions(size)
        t0 = self.env.now
        done: list[simpy.Event] = []
        with self._order.request() as turn:
            yield turn
            if self.cfg.setup_cycles:
                yield self.clock.cycles(self.cfg.setup_cycles)
            for addr in addrs:
                slot = self._window.request()
                yield slot
                done.append(self.env.process(self._one(addr, desc.is_write, slot)))
        if done:
            yield self.env.all_of(done)
        self.stats.add("descriptors")
        self.stats.add("transactions", len(addrs))
        self.stats.add("bytes_moved", len(addrs) * size)
        self.stats.add("payload_bytes", desc.payload_bytes())
        self.span("dma", t0, self.env.now, rows=desc.rows, row_bytes=desc.row_bytes, transactions=len(addrs))

    def _one(self, addr: int, is_write: bool, slot):
        try:
            yield self.dram.request(addr, is_write)
        finally:
            self._window.release(slot)
