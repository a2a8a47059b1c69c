"""CL face, top level: :class:`DramSystem`, the whole memory (every stack, channel and pseudo channel).

Used by the DMA engine through a function-call interface::

    dram = DramSystem(sim, load_preset("hbm3"))
    ev = dram.request(addr, is_write=False)   # one aligned transaction of dram.transaction_bytes
    t_done_ps = yield ev                      # inside a SimPy process

**Completion.** A read's event succeeds when its last data beat has been returned
(``RD cycle + tCL + burst``), a write's when its last data beat has been written into the device
(``WR cycle + tCWL + burst``; write recovery tWR runs after that inside the bank). The value is that
time in ps.

**Back-pressure.** ``request`` never blocks and never refuses: when the target pseudo channel's
queue (``queue_depth`` entries) is full, the request waits in an unbounded FIFO in front of it (in
arrival order) and enters the queue when a slot frees, i.e. when a queued request's RD/WR issues.
The scheduler only sees queued requests, so back-pressure shows as a later completion. A caller
that wants to bound its memory footprint limits its own outstanding requests (as the DMA engine's
window does); :meth:`DramSystem.backlog` reports the waiting requests.
"""

from __future__ import annotations

import heapq

from hwsim.core import Component, Simulation, Stats
from hwsim.memory.dram.config import DramConfig
from hwsim.memory.dram.controller import INF, ChannelController, Completion, PseudoChannelState, Request
from hwsim.memory.dram.mapping import AddressMapping, DramAddressError

STATS = {
    "reads": "requests", "writes": "requests", "activates": "commands",
    "precharges": "bank precharges (PRE, auto-precharge, one per bank closed by PREA)",
    "refreshes": "REF commands (one per pseudo channel)", "row_hits": "requests",
    "row_misses": "requests (bank was closed)", "row_conflicts": "requests (another row was open)",
    "bytes_read": "bytes", "bytes_written": "bytes", "latency_sum_ps": "ps", "latency_count": "requests",
    "read_latency_sum_ps": "ps", "write_latency_sum_ps": "ps",
}


class DramSystem(Component):
    """The cycle-level DRAM/HBM model (see :mod:`hwsim.memory.dram.controller` for the scheduler).

    ``record_commands=True`` keeps every issued command in :attr:`commands` as
    ``(cycle, command, pseudo_channel, bank, row)`` tuples (command ``ACT``, ``PRE``, ``PREA``,
    ``RD``, ``RDA``, ``WR``, ``WRA`` or ``REF``; ``bank``/``row`` are -1 where they do not apply) for
    checking and debugging.
    """

    PORTS = ()
    STATS = STATS

    def __init__(self, sim: Simulation, cfg: DramConfig, name: str = "dram", record_commands: bool = False):
        if not isinstance(cfg, DramConfig):
            raise TypeError(f"cfg: must be a DramConfig (see hwsim.memory.dram.load_preset), got {type(cfg).__name__}")
        self.cfg = cfg
        self.timing = cfg.cycles()
        clock = sim.clock(f"{name}.ck", cfg.period_ps)
        super().__init__(sim, name, clock)
        self.mapping = AddressMapping(cfg)
        self.commands: list[tuple[int, str, int, int, int]] | None = [] if record_commands else None
        first_ref = self.timing.REFI if cfg.refresh else INF
        self.pseudo_channels = [PseudoChannelState(i, cfg.banks, cfg.bank_groups, first_ref)
                                for i in range(cfg.total_pseudo_channels)]
        npc = cfg.pseudo_channels
        self.controllers = [ChannelController(self, ch, self.pseudo_channels[ch * npc:(ch + 1) * npc])
                            for ch in range(cfg.total_channels)]
        self._ctrl_of = [self.controllers[i // npc] for i in range(cfg.total_pseudo_channels)]
        self._seq = 0
        self._heap: list[tuple[int, int, ChannelController]] = []  # (cycle, channel, controller) wake-ups
        self._timer_at: int | None = None  # cycle of the armed SimPy timeout
        self._timer_gen = 0
        self._period = cfg.period_ps
        self._tb = cfg.transaction_bytes
        self._capacity = cfg.capacity_bytes
        self._locate = self.mapping.locate

    # --- the public interface --------------------------------------------------------------------
    @property
    def transaction_bytes(self) -> int:
        """Bytes per request: bus width x burst length of one pseudo channel (HBM3: 32, DDR4: 64)."""
        return self._tb

    @property
    def peak_bandwidth_bytes_per_s(self) -> float:
        """Peak data bandwidth of the simulated clock, bytes/s (all pseudo channels bursting back to back)."""
        return self.cfg.simulated_peak_bandwidth_bytes_per_s

    def request(self, addr: int, is_write: bool):
        """Enqueue one aligned transaction; returns an event that succeeds with the completion time (ps).

        Raises :class:`~hwsim.memory.dram.mapping.DramAddressError` (a ConfigError and a ValueError)
        for a misaligned, negative or out-of-range address.
        """
        if type(addr) is not int or not 0 <= addr < self._capacity or addr % self._tb:
            self.mapping.check(addr)  # raises with the reason
            raise DramAddressError(f"address: invalid, got {addr!r}")  # pragma: no cover
        pcg, bank, row, _col = self._locate(addr)
        ev = Completion(self.env)
        self._seq += 1
        req = Request(self._seq, addr, bool(is_write), bank, row, self.env.now, ev)
        self._ctrl_of[pcg].enqueue(self.pseudo_channels[pcg], req)
        return ev

    def backlog(self) -> int:
        """Requests waiting in front of full queues (back-pressured), all pseudo channels."""
        return sum(len(pc.waiting) for pc in self.pseudo_channels)

    def in_queue(self) -> int:
        """Requests accepted but whose RD/WR has not issued yet (queued + back-pressured)."""
        return sum(ctrl.pending for ctrl in self.controllers)

    # --- the shared timer: one SimPy event per cycle in which any controller decides --------------
    def _wake(self, cycle: int, ctrl: ChannelController) -> None:
        heapq.heappush(self._heap, (cycle, ctrl.index, ctrl))
        if self._timer_at is None or cycle < self._timer_at:
            self._arm(cycle)

    def _arm(self, cycle: int) -> None:
        self._timer_at = cycle
        self._timer_gen += 1
        self.env.timeout(cycle * self._period - self.env.now, self._timer_gen).callbacks.append(self._on_timer)

    def _on_timer(self, ev) -> None:
        if ev._value != self._timer_gen:
            return  # superseded by an earlier timer
        t = self._timer_at
        self._timer_at = None
        heap = self._heap
        while heap and heap[0][0] <= t:
            cycle, _, ctrl = heapq.heappop(heap)
            if ctrl._wake_at == cycle:  # else stale: the controller re-scheduled
                ctrl.wake(t)
        while heap and heap[0][2]._wake_at != heap[0][0]:
            heapq.heappop(heap)  # drop stale wake-ups before arming the timer
        if heap:
            self._arm(heap[0][0])

    # --- stats -----------------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring idle channels up to the current time: replay the refreshes (PREA/REF) they would have
        issued while idle (an idle controller schedules no events, so ``sim.run()`` can end)."""
        cyc = -(-self.env.now // self._period)
        for ctrl in self.controllers:
            ctrl.catch_up(cyc)

    @property
    def stats(self) -> Stats:
        """A snapshot of the counters at the current time (RD/WR-related ones count at RD/WR issue, when
        the latency is known; refreshes include those of idle channels, see :meth:`sync`)."""
        self.sync()
        totals = {k: 0 for k in STATS}
        for ctrl in self.controllers:
            for k, v in ctrl.n.items():
                totals[k] += v
        totals["latency_count"] = totals["reads"] + totals["writes"]
        totals["bytes_read"] = totals["reads"] * self._tb
        totals["bytes_written"] = totals["writes"] * self._tb
        s = Stats(self.name, STATS)
        for k, v in totals.items():
            s.add(k, v)
        return s

    @stats.setter
    def stats(self, _value) -> None:  # Component.__init__ assigns an empty Stats; counters live per channel
        pass

    # --- Component plumbing ----------------------------------------------------------------------
    def start(self) -> None:  # driven by request() calls, no free-running process
        pass

    def run(self):  # pragma: no cover - never started
        return
        yield

    def line_trace(self) -> str:
        open_rows = sum(1 for pc in self.pseudo_channels for r in pc.open_row if r >= 0)
        return (f"{self.name}@{self.clock.now_cycles}: queued {self.in_queue()} (backlog {self.backlog()}), "
                f"open rows {open_rows}")
