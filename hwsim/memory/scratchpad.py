"""Banked SRAM scratchpad: config, bank mappings, cost face, CL face, energy and area.

Timing model, shared by both faces (one clock, times in cycles):

* A **batch** is the word requests a requester issues in one cycle (e.g. one per vector lane). Each
  request names a byte address and reads or writes the ``word_bytes`` word that contains it.
* The scratchpad takes one batch at a time. Every cycle, each bank serves up to
  ``read_ports_per_bank`` of its pending reads and ``write_ports_per_bank`` of its pending writes, in
  the order they appear in the batch. A batch therefore occupies the scratchpad for

      T = max(1, max over banks b of max(ceil(reads_b / read_ports), ceil(writes_b / write_ports)))

  cycles, and the next batch is taken T cycles after this one. ``T - 1`` cycles are stall cycles.
  Of them, ``T - T_ideal`` are bank-conflict stall cycles, where ``T_ideal`` is the time the batch
  would need if its reads and writes were spread evenly over all banks.
* A request served in cycle ``s`` completes, with data ready or written, in cycle
  ``s + access_latency_cycles``. Reads and writes use separate ports, so they never conflict.
  Two requests to the same word are two accesses: reads are not broadcast.
* **Double buffering** splits the capacity into two buffers (halves) of ``banks`` banks each. Bytes
  ``[0, capacity/2)`` are buffer 0 and the rest are buffer 1. Each buffer has its own banks and
  ports, so one buffer can be filled while the other is read with no conflict between them.

The cost face (:func:`batch_cycles`, :func:`pattern_cycles`, :func:`scratchpad_cost`,
:func:`strided_batch_cycles`) is closed form. The CL face (:class:`ScratchpadCL`) serves per-bank
queues cycle by cycle. The two are equal for every batch sequence, including the completion cycle of
every request.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import simpy
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hwsim.core import Channel, Clock, Component, PortDir, PortSpec, Simulation, Tracer
from hwsim.errors import ConfigError, ParsedConfig
from hwsim.power.tech import TechTable

__all__ = [
    "BANK_MAPPINGS", "ScratchpadCL", "ScratchpadConfig", "ScratchpadCost", "ScratchpadRun", "WordRequest",
    "batch_cycles", "pattern_cycles", "physical_banks_of", "run_scratchpad_cl", "scratchpad_area_mm2",
    "scratchpad_cost", "scratchpad_energy_pj", "strided_batch_cycles",
]


def _is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


# --- bank mappings (one strategy object per variant) ------------------------------------------------
class BankMapping:
    """Maps word indices within one buffer to bank numbers in ``[0, banks)``."""

    name: ClassVar[str] = ""

    def bank(self, words: np.ndarray, cfg: "ScratchpadConfig") -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class InterleavedMapping(BankMapping):
    """Word-interleaved: ``bank = (word // interleave_words) % banks``. With ``interleave_words = 1``,
    consecutive words are in consecutive banks."""

    name = "interleaved"

    def bank(self, words, cfg):
        return (words // cfg.interleave_words) % cfg.banks


class BlockedMapping(BankMapping):
    """Contiguous: bank ``b`` holds words ``[b * words_per_bank, (b + 1) * words_per_bank)``."""

    name = "blocked"

    def bank(self, words, cfg):
        return words // cfg.words_per_bank


class XorMapping(BankMapping):
    """XOR-swizzled: ``bank = (word mod banks) xor ((word // banks) mod banks)``. Power-of-two banks only.
    Power-of-two strides are spread over several banks instead of hitting one."""

    name = "xor"

    def bank(self, words, cfg):
        b = cfg.banks
        return (words % b) ^ ((words // b) % b)


BANK_MAPPINGS: dict[str, BankMapping] = {m.name: m for m in (InterleavedMapping(), BlockedMapping(), XorMapping())}


# --- config ---------------------------------------------------------------------------------------
class ScratchpadConfig(ParsedConfig, BaseModel):
    """A banked SRAM scratchpad.

    Capacities are in bytes, latencies in cycles. Ports are per bank. With ``double_buffered``, each
    of the two buffers has ``banks`` banks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    CONFIG_ROOT: ClassVar[str] = "scratchpad"
    # field order matters: each validator sees the fields above it
    word_bytes: int = Field(8, ge=1, le=4096, description="bytes per word (one access)")
    banks: int = Field(8, ge=1, le=4096, description="banks per buffer")
    read_ports_per_bank: int = Field(1, ge=1, le=64, description="reads a bank serves per cycle")
    write_ports_per_bank: int = Field(1, ge=1, le=64, description="writes a bank serves per cycle")
    double_buffered: bool = Field(False, description="two buffers of capacity/2, each with its own banks")
    capacity_bytes: int = Field(..., ge=1, le=1 << 34, description="total capacity, bytes (both buffers)")
    bank_mapping: Literal["interleaved", "blocked", "xor"] = Field(
        "interleaved", description="how word addresses map to banks")
    interleave_words: int = Field(1, ge=1, le=1 << 20,
                                  description="consecutive words per bank before the next (interleaved only)")
    access_latency_cycles: int = Field(1, ge=1, le=1024, description="cycles from service to data ready")

    @field_validator("capacity_bytes")
    @classmethod
    def _whole_words_per_bank(cls, v: int, info: ValidationInfo) -> int:
        d = info.data
        if not {"word_bytes", "banks", "double_buffered"} <= d.keys():
            return v  # reported already
        buffers = 2 if d["double_buffered"] else 1
        unit = buffers * d["banks"] * d["word_bytes"]
        if v % unit:
            what = "2 buffers x banks x word_bytes" if buffers == 2 else "banks x word_bytes"
            raise ValueError(f"must be a multiple of {what} = {unit} so every bank holds whole words, got {v}")
        return v

    @field_validator("bank_mapping")
    @classmethod
    def _xor_needs_pow2(cls, v: str, info: ValidationInfo) -> str:
        banks = info.data.get("banks")
        if v == "xor" and banks is not None and not _is_pow2(banks):
            raise ValueError(f"'xor' needs a power-of-two number of banks, got banks={banks}")
        return v

    @field_validator("interleave_words")
    @classmethod
    def _interleave_tiles_buffer(cls, v: int, info: ValidationInfo) -> int:
        d = info.data
        if d.get("bank_mapping") != "interleaved" or not {"capacity_bytes", "banks", "word_bytes"} <= d.keys():
            return v
        words = d["capacity_bytes"] // (2 if d["double_buffered"] else 1) // d["word_bytes"]
        if words % (v * d["banks"]):
            raise ValueError(f"words per buffer ({words}) must be a multiple of interleave_words x banks = "
                             f"{v * d['banks']}, got {v}")
        return v

    @property
    def buffers(self) -> int:
        """1, or 2 when double-buffered."""
        return 2 if self.double_buffered else 1

    @property
    def buffer_bytes(self) -> int:
        """Capacity of one buffer, bytes."""
        return self.capacity_bytes // self.buffers

    @property
    def physical_banks(self) -> int:
        """Banks in total (``buffers x banks``)."""
        return self.buffers * self.banks

    @property
    def bank_capacity_bytes(self) -> int:
        """Capacity of one bank, bytes: what an access's energy depends on."""
        return self.capacity_bytes // self.physical_banks

    @property
    def words_per_buffer(self) -> int:
        return self.buffer_bytes // self.word_bytes

    @property
    def words_per_bank(self) -> int:
        return self.bank_capacity_bytes // self.word_bytes

    def buffer_base(self, buffer: int) -> int:
        """First byte address of buffer 0 or 1 (double-buffered), bytes."""
        if buffer not in range(self.buffers):
            raise ConfigError(f"buffer: must be in [0, {self.buffers}), got {buffer!r}")
        return buffer * self.buffer_bytes


def physical_banks_of(cfg: ScratchpadConfig, addrs: np.ndarray) -> np.ndarray:
    """Physical bank (``buffer * banks + bank``) of each byte address (int array)."""
    addrs = np.asarray(addrs, dtype=np.int64)
    buffer, offset = np.divmod(addrs, cfg.buffer_bytes)
    return buffer * cfg.banks + BANK_MAPPINGS[cfg.bank_mapping].bank(offset // cfg.word_bytes, cfg)


# --- requests ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class WordRequest:
    """One word access. The CL face fills in ``served_cycle`` and ``done_cycle`` and succeeds ``done``
    (if given) in cycle ``done_cycle``, with that cycle as its value."""

    addr: int
    is_write: bool = False
    done: simpy.Event | None = None
    served_cycle: int = -1
    done_cycle: int = -1


BatchLike = Sequence["WordRequest | tuple[int, bool] | int"]


def _batch_arrays(batch: Iterable, cfg: ScratchpadConfig, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(byte addresses, is_write) of a batch of WordRequests, (addr, is_write) pairs or addresses (reads)."""
    addrs, writes = [], []
    for i, item in enumerate(batch):
        if isinstance(item, WordRequest):
            a, w = item.addr, item.is_write
        elif isinstance(item, tuple) and len(item) == 2:
            a, w = item
        else:
            a, w = item, False
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise ConfigError(f"{where}[{i}].addr: must be an integer byte address, got {a!r}")
        addrs.append(int(a))
        writes.append(bool(w))
    a = np.asarray(addrs, dtype=np.int64)
    _check_addrs(a, cfg, where)
    return a, np.asarray(writes, dtype=bool)


def _check_addrs(addrs: np.ndarray, cfg: ScratchpadConfig, where: str) -> None:
    bad = np.flatnonzero((addrs < 0) | (addrs >= cfg.capacity_bytes))
    if bad.size:
        raise ConfigError([f"{where}[{i}].addr: must be in [0, {cfg.capacity_bytes}) bytes, got {int(addrs[i])}"
                           for i in bad[:5]])


# --- cost face --------------------------------------------------------------------------------------
def _ideal_cycles(cfg: ScratchpadConfig, reads: int, writes: int) -> int:
    nb = cfg.physical_banks
    return max(1, -(-reads // (nb * cfg.read_ports_per_bank)), -(-writes // (nb * cfg.write_ports_per_bank)))


def batch_cycles(cfg: ScratchpadConfig, addrs: np.ndarray | Sequence[int],
                 is_write: np.ndarray | Sequence[bool] | None = None) -> int:
    """Cycles one batch occupies the scratchpad:
    ``max(1, max_b max(ceil(reads_b / read_ports), ceil(writes_b / write_ports)))``."""
    a = np.asarray(addrs, dtype=np.int64).reshape(-1)
    _check_addrs(a, cfg, "addrs")
    w = np.zeros(a.shape, bool) if is_write is None else np.asarray(is_write, dtype=bool).reshape(-1)
    if w.shape != a.shape:
        raise ConfigError(f"is_write: must have one flag per address ({a.size}), got {w.size}")
    banks = physical_banks_of(cfg, a)
    reads_b = np.bincount(banks[~w], minlength=cfg.physical_banks)
    writes_b = np.bincount(banks[w], minlength=cfg.physical_banks)
    r_ports, w_ports = cfg.read_ports_per_bank, cfg.write_ports_per_bank
    per_bank = np.maximum(-(-reads_b // r_ports), -(-writes_b // w_ports))
    return max(1, int(per_bank.max(initial=0)))


def pattern_cycles(cfg: ScratchpadConfig, addrs: np.ndarray, is_write: np.ndarray | None = None) -> np.ndarray:
    """:func:`batch_cycles` of many equal-size batches at once: ``addrs`` is a (batches, lanes) array of
    byte addresses, one row per batch. Returns one T per row (int array)."""
    a = np.asarray(addrs, dtype=np.int64)
    if a.ndim != 2:
        raise ConfigError(f"addrs: must be a 2-D (batches, lanes) array, got {a.ndim} dimension(s)")
    _check_addrs(a.reshape(-1), cfg, "addrs(flattened)")
    w = np.zeros(a.shape, bool) if is_write is None else np.broadcast_to(np.asarray(is_write, dtype=bool), a.shape)
    nb = cfg.physical_banks
    key = (np.arange(a.shape[0])[:, None] * nb + physical_banks_of(cfg, a)) * 2 + w
    counts = np.bincount(key.reshape(-1), minlength=a.shape[0] * nb * 2).reshape(a.shape[0], nb, 2)
    ports = np.array([cfg.read_ports_per_bank, cfg.write_ports_per_bank])
    return np.maximum(1, (-(-counts // ports)).max(axis=(1, 2), initial=0))


def strided_batch_cycles(cfg: ScratchpadConfig, lanes: int, stride_words: int, is_write: bool = False) -> int:
    """Closed form for a batch of ``lanes`` accesses at word addresses ``0, s, 2s, ...`` (``s = stride_words``)
    in buffer 0, with the word-interleaved mapping (``interleave_words = 1``):
    ``max(1, ceil(lanes x gcd(s, banks) / (banks x ports)))``.

    The lanes touch ``banks / gcd(s, banks)`` banks round-robin. A stride of 0 hits one bank.
    """
    problems = []
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 0:
        problems.append(f"lanes: must be an integer >= 0, got {lanes!r}")
    if isinstance(stride_words, bool) or not isinstance(stride_words, int) or stride_words < 0:
        problems.append(f"stride_words: must be an integer >= 0, got {stride_words!r}")
    if cfg.bank_mapping != "interleaved" or cfg.interleave_words != 1:
        problems.append(f"bank_mapping: the strided closed form needs 'interleaved' with interleave_words=1, "
                        f"got {cfg.bank_mapping!r} with interleave_words={cfg.interleave_words}")
    if not problems and lanes and (lanes - 1) * stride_words >= cfg.words_per_buffer:
        problems.append(f"lanes: the last lane's word {(lanes - 1) * stride_words} lies beyond buffer 0 "
                        f"({cfg.words_per_buffer} words), got {lanes}")
    if problems:
        raise ConfigError(problems)
    ports = cfg.write_ports_per_bank if is_write else cfg.read_ports_per_bank
    g = math.gcd(stride_words, cfg.banks)  # gcd(0, B) = B: every lane in bank 0
    return max(1, -(-(lanes * g) // (cfg.banks * ports)))


@dataclass
class ScratchpadCost:
    """Cycles and access counts of a batch sequence issued back to back from cycle 0.

    ``cycles``: cycles the scratchpad is occupied (the sum of the batches' T). ``done_cycle``: the
    cycle the last request completes (0 if there is none). ``stats`` has the CL
    face's counter names. ``request_done_cycles[k][i]`` is the completion cycle of request ``i`` of
    batch ``k`` (only with ``per_request=True``).
    """

    cycles: int
    done_cycle: int
    batch_cycles: list[int]
    stats: dict[str, int]
    request_done_cycles: list[list[int]] | None = None

    def __getitem__(self, name: str) -> int:
        return self.stats[name]


def _service_offsets(cfg: ScratchpadConfig, addrs: np.ndarray, writes: np.ndarray) -> np.ndarray:
    """Cycle offset at which each request of a batch is served: its rank among the earlier requests of the
    same bank and kind, divided by that kind's ports."""
    if addrs.size == 0:
        return np.zeros(0, np.int64)
    key = physical_banks_of(cfg, addrs) * 2 + writes
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, sorted_key.size]))
    rank = np.empty(key.size, np.int64)
    rank[order] = np.arange(key.size) - group_start
    ports = np.where(writes, cfg.write_ports_per_bank, cfg.read_ports_per_bank)
    return rank // ports


def scratchpad_cost(cfg: ScratchpadConfig, batches: Iterable[BatchLike], per_request: bool = False) -> ScratchpadCost:
    """Cost face: cycles and counts of ``batches`` issued back to back (a batch of WordRequests,
    ``(addr, is_write)`` pairs or plain addresses, which are reads)."""
    per_batch, done_cycles = [], []
    reads = writes = stall = conflict = 0
    start = done = 0
    for k, batch in enumerate(batches):
        a, w = _batch_arrays(batch, cfg, f"batches[{k}]")
        t = batch_cycles(cfg, a, w)
        nw = int(w.sum())
        reads += a.size - nw
        writes += nw
        stall += t - 1
        conflict += t - _ideal_cycles(cfg, a.size - nw, nw)
        if per_request:
            done_cycles.append((start + _service_offsets(cfg, a, w) + cfg.access_latency_cycles).tolist())
        per_batch.append(t)
        if a.size:
            done = start + t - 1 + cfg.access_latency_cycles
        start += t
    stats = {"batches": len(per_batch), "reads": reads, "writes": writes, "read_bytes": reads * cfg.word_bytes,
             "write_bytes": writes * cfg.word_bytes, "busy_cycles": start, "stall_cycles": stall,
             "conflict_stall_cycles": conflict}
    return ScratchpadCost(start, done, per_batch, stats, done_cycles if per_request else None)


# --- CL face ----------------------------------------------------------------------------------------
class ScratchpadCL(Component):
    """The scratchpad, cycle by cycle: per-bank read and write queues, served up to the port counts each cycle.

    Takes one batch (a list of :class:`WordRequest`) from ``req_in`` at a time, on a clock edge. The
    next batch is taken when every request of this one has been served. Connect ``req_in`` to a
    capacity-1 :class:`~hwsim.core.Channel` so the requester is back-pressured while a batch stalls.
    """

    PORTS = (PortSpec("req_in", PortDir.IN, "batches of WordRequest, one batch per cycle at most"),)
    STATS = {"batches": "batches", "reads": "words", "writes": "words", "read_bytes": "bytes",
             "write_bytes": "bytes", "busy_cycles": "cycles", "stall_cycles": "cycles",
             "conflict_stall_cycles": "cycles"}

    def __init__(self, sim: Simulation, name: str, clock: Clock, cfg: ScratchpadConfig):
        super().__init__(sim, name, clock)
        self.cfg = cfg
        self.pending: dict[int, deque] = {}  # (physical bank * 2 + is_write) -> requests not yet served
        self.batch_start_cycle = -1
        self.idle_since_ps = 0  # time the last batch finished

    def run(self):
        env, clock, cfg = self.env, self.clock, self.cfg
        period = clock.period_ps
        latency = cfg.access_latency_cycles
        ports = (cfg.read_ports_per_bank, cfg.write_ports_per_bank)
        while True:
            batch = yield self.req_in.get()
            rest = env.now % period
            if rest:
                yield env.timeout(period - rest)
            reqs = [r if isinstance(r, WordRequest) else WordRequest(*(r if isinstance(r, tuple) else (r,)))
                    for r in batch]
            addrs, writes = _batch_arrays(reqs, cfg, f"{self.name}.batch")
            keys = (physical_banks_of(cfg, addrs) * 2 + writes).tolist()
            for key, req in zip(keys, reqs):
                q = self.pending.get(key)
                if q is None:
                    q = self.pending[key] = deque()
                q.append(req)
            start_ps = env.now
            self.batch_start_cycle = clock.now_cycles
            cycles = 0
            while self.pending or cycles == 0:
                now = clock.now_cycles
                served = []
                for key in list(self.pending):
                    q = self.pending[key]
                    for _ in range(min(ports[key & 1], len(q))):
                        served.append(q.popleft())
                    if not q:
                        del self.pending[key]
                events = []
                for req in served:
                    req.served_cycle = now
                    req.done_cycle = now + latency
                    if req.done is not None:
                        events.append(req.done)
                if events:
                    env.timeout(latency * period, value=now + latency).callbacks.append(
                        lambda ev, events=events: [e.succeed(ev.value) for e in events])
                cycles += 1
                yield clock.cycles(1)
            nw = int(writes.sum())
            s = self.stats
            s.add("batches")
            s.add("reads", addrs.size - nw)
            s.add("writes", nw)
            s.add("read_bytes", (addrs.size - nw) * cfg.word_bytes)
            s.add("write_bytes", nw * cfg.word_bytes)
            s.add("busy_cycles", cycles)
            s.add("stall_cycles", cycles - 1)
            s.add("conflict_stall_cycles", cycles - _ideal_cycles(cfg, addrs.size - nw, nw))
            self.span("busy", start_ps, start_ps + period, requests=len(reqs))
            self.span("stall:bank_conflict", start_ps + period, env.now)
            self.idle_since_ps = env.now

    def line_trace(self) -> str:
        waiting = sum(len(q) for q in self.pending.values())
        worst = max((len(q) for q in self.pending.values()), default=0)
        return (f"{self.name}@{self.clock.now_cycles}: batch from {self.batch_start_cycle}, "
                f"{waiting} waiting (deepest bank queue {worst})")


class _BatchDriver(Component):
    """Issues a list of batches, one per cycle, as fast as the scratchpad takes them."""

    PORTS = (PortSpec("req_out", PortDir.OUT, "batches of WordRequest"),)
    STATS = {"batches": "batches"}

    def __init__(self, sim, name, clock, batches: list[list[WordRequest]]):
        super().__init__(sim, name, clock)
        self.batches = batches

    def run(self):
        for batch in self.batches:
            yield from self.req_out.put(batch)
            self.stats.add("batches")
            yield self.clock.cycles(1)


@dataclass
class ScratchpadRun:
    """What one CL run produced: the same fields as :class:`ScratchpadCost`, measured."""

    cycles: int
    done_cycle: int
    stats: dict[str, int]
    request_done_cycles: list[list[int]] = field(default_factory=list)

    def __getitem__(self, name: str) -> int:
        return self.stats[name]


def run_scratchpad_cl(cfg: ScratchpadConfig, batches: Iterable[BatchLike], period_ps: int = 1000,
                      trace: str | Path | Tracer | None = None) -> ScratchpadRun:
    """Simulate ``batches`` issued back to back from cycle 0 on a :class:`ScratchpadCL`.

    ``trace``: a path for a Chrome/Perfetto trace-event JSON file, or a Tracer to add the spans to.
    """
    reqs = []
    for k, batch in enumerate(batches):
        a, w = _batch_arrays(batch, cfg, f"batches[{k}]")
        reqs.append([WordRequest(int(x), bool(y)) for x, y in zip(a.tolist(), w.tolist())])
    sim = Simulation(trace=trace if isinstance(trace, Tracer) else trace is not None, name="scratchpad")
    clock = sim.clock("clk", period_ps)
    spad = ScratchpadCL(sim, "scratchpad", clock, cfg)
    driver = _BatchDriver(sim, "requester", clock, reqs)
    ch = Channel(sim.env, clock, "spad_req", capacity=1)
    driver.connect("req_out", ch)
    spad.connect("req_in", ch)
    sim.run()
    if trace is not None and not isinstance(trace, Tracer):
        sim.tracer.write(trace)
    cycles = clock.to_cycles(spad.idle_since_ps)
    done = max((r.done_cycle for b in reqs for r in b), default=0)
    return ScratchpadRun(cycles, done, spad.stats.as_dict(), [[r.done_cycle for r in b] for b in reqs])


# --- energy and area --------------------------------------------------------------------------------
def scratchpad_energy_pj(cfg: ScratchpadConfig, stats: Mapping[str, int] | ScratchpadCost | ScratchpadRun,
                         tech: TechTable) -> float:
    """Access energy, pJ: ``(reads + writes) x word_bytes x tech.sram_energy_pj_per_byte(bank capacity)``.

    An access activates one bank, so it is priced at the size of one bank, not of the whole
    scratchpad. The table's fit is a straight line in log-log through Horowitz's 8 KB, 32 KB and 1 MB
    points (ISSCC 2014, 45 nm; 10, 20 and 100 pJ per 64-bit access), extended beyond them. Reads and
    writes cost the same, and a word pays its share of a 64-bit access: energy scales with
    ``word_bytes``. Leakage and the crossbar between the requesters and the banks are not included.
    ``stats`` is anything with ``"reads"`` and ``"writes"`` word counts (CL ``Stats``, cost result, dict).
    """
    words = stats["reads"] + stats["writes"]
    return words * cfg.word_bytes * tech.sram_energy_pj_per_byte(cfg.bank_capacity_bytes)


def scratchpad_area_mm2(cfg: ScratchpadConfig, tech: TechTable) -> float:
    """Area, mm²: ``physical_banks x tech.sram_area_mm2(bank capacity)``. The table's area is linear in
    bits, so banking does not change it. Extra ports (multi-ported cells), the crossbar and bank
    decoders are not priced."""
    return cfg.physical_banks * tech.sram_area_mm2(cfg.bank_capacity_bytes)
