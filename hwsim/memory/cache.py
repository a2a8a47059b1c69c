"""Set-associative cache: config, replacement policies, a functional (counts) face and a CL face.

**Functional face** (:class:`Cache`, :func:`cache_counts`): no time. It runs a trace of
``(address, is_write)`` accesses in order and counts hits, misses, evictions, writebacks and bytes.

**CL face** (:class:`CacheCL`): the same tag store, driven by a SimPy process, with these timing rules:

* The front end takes at most one request per cycle, in order, and none before its ``issue_cycle``.
  A request is *looked up* in the cycle it is taken, and the cache state (replacement order, dirty
  bits, victim choice) changes at that moment. State therefore changes in trace order on both faces.
* A **hit** completes ``hit_latency_cycles`` after lookup.
* A **miss** takes an MSHR (miss status holding register), picks its victim and evicts it at lookup
  (a dirty victim is written back), and reserves the way. It asks the next level for the line
  ``hit_latency_cycles`` after lookup. The request completes when the line arrives (the *fill*).
  With the built-in next level this is ``hit + miss_latency_cycles`` after lookup. A fill in cycle
  ``f`` frees its MSHR and makes the line a hit for lookups in cycle ``f`` or later.
* A request to a line whose fill is still pending **merges** into its MSHR and completes at
  ``max(fill, lookup + hit_latency_cycles)``. With ``mshr_merge=False`` the front end instead waits
  for the fill and then looks the request up again (a hit).
* A miss that finds every MSHR busy **blocks** the front end, and every later request with it,
  until a fill frees an MSHR. It is then looked up in that cycle.
* Write-through stores and writebacks are posted to the next level: the cache does not wait for
  them. A write-through write miss does not allocate, needs no MSHR and completes like a hit.
* The victim is chosen among all ways, including a way whose fill is still pending. Such a line is
  evicted like any other. Its MSHR stays busy until the fill, which completes the requests waiting
  on it but installs nothing.
  This choice keeps the replacement decisions identical to the functional face.

Because state changes in trace order, the CL face's misses, evictions, writebacks and bytes equal
the functional face's on any trace. Its hits plus merges equal the functional hits, since the
functional face sees every line as soon as its miss is counted. With ``mshr_merge=False``, hits are
equal too. Dirty lines left in the cache at the end of a trace are not written back.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import simpy
from pydantic import (
    BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator,
)

from hwsim.core.clock import late_timeout
from hwsim.core import Channel, Clock, Component, PortDir, PortSpec, Simulation, Tracer
from hwsim.errors import ConfigError, ParsedConfig

__all__ = [
    "REPLACEMENT_POLICIES", "Cache", "CacheCL", "CacheConfig", "CacheCounts", "CacheRequest", "CacheRun",
    "CacheTraceDriver", "FixedLatencyMemory", "NextLevel", "TagStore", "TransactionSplitter", "cache_counts",
    "run_cache_cl",
]


def _is_pow2(n: int) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1 and n & (n - 1) == 0


def _posint(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


# --- config ---------------------------------------------------------------------------------------
class CacheConfig(ParsedConfig, BaseModel):
    """A set-associative cache. Give ``sets`` (capacity is derived) or ``capacity_bytes`` (sets are
    derived), or both if they agree. ``line_bytes`` and ``sets`` must be powers of two.

    ``write_policy``: ``write_back`` is write-back with write-allocate. ``write_through`` is
    write-through with no-write-allocate: every store is forwarded (``access_bytes`` bytes) and a
    write miss does not allocate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    CONFIG_ROOT: ClassVar[str] = "cache"
    line_bytes: int = Field(64, ge=1, le=1 << 16, description="bytes per line (power of two)")
    ways: int = Field(4, ge=1, le=1024, description="lines per set (associativity)")
    sets: int | None = Field(None, ge=1, le=1 << 24, description="number of sets (power of two)")
    capacity_bytes: int | None = Field(None, ge=1, le=1 << 40, validate_default=True,
                                       description="sets x ways x line_bytes, bytes")
    replacement: Literal["lru", "fifo", "random", "plru"] = Field(
        "lru", description="victim choice: least recently used, first in first out, seeded random, tree pseudo-LRU")
    seed: int = Field(0, ge=0, le=(1 << 63) - 1, description="seed of the random replacement policy")
    write_policy: Literal["write_back", "write_through"] = Field(
        "write_back", description="write-back + write-allocate, or write-through + no-write-allocate")
    access_bytes: int = Field(8, ge=1, le=1 << 16, description="bytes of one load/store (power of two, <= line)")
    mshrs: int = Field(4, ge=1, le=1024, description="outstanding misses (CL face)")
    mshr_merge: bool = Field(True, description="requests to a line being filled merge into its MSHR (CL face)")
    hit_latency_cycles: int = Field(1, ge=1, le=1 << 16, description="lookup to data, cycles (CL face)")
    miss_latency_cycles: int = Field(100, ge=0, le=1 << 20,
                                     description="built-in next level: request to line returned, cycles (CL face)")

    @model_validator(mode="before")
    @classmethod
    def _derive_geometry(cls, data: Any) -> Any:
        """Fill in ``sets`` from ``capacity_bytes`` or ``capacity_bytes`` from ``sets`` when that is
        possible; the field validators report what is not."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        line = data.get("line_bytes", cls.model_fields["line_bytes"].default)
        ways = data.get("ways", cls.model_fields["ways"].default)
        sets, cap = data.get("sets"), data.get("capacity_bytes")
        if _posint(line) and _posint(ways):
            if sets is None and _posint(cap) and cap % (line * ways) == 0 and _is_pow2(cap // (line * ways)):
                data["sets"] = cap // (line * ways)
            elif cap is None and _posint(sets):
                data["capacity_bytes"] = sets * ways * line
        return data

    @field_validator("line_bytes")
    @classmethod
    def _line_pow2(cls, v: int) -> int:
        if not _is_pow2(v):
            raise ValueError(f"must be a power of two, got {v}")
        return v

    @field_validator("sets")
    @classmethod
    def _sets_pow2(cls, v: int | None) -> int | None:
        if v is not None and not _is_pow2(v):
            raise ValueError(f"must be a power of two, got {v}")
        return v

    @field_validator("capacity_bytes")
    @classmethod
    def _capacity_consistent(cls, v: int | None, info: ValidationInfo) -> int | None:
        d = info.data
        if not {"line_bytes", "ways", "sets"} <= d.keys():
            return v  # an earlier field is invalid and already reported
        line, ways, sets = d["line_bytes"], d["ways"], d["sets"]
        if sets is None and v is None:
            raise ValueError("required unless sets is given, got None")
        if sets is None:  # capacity given but no power-of-two number of sets fits it
            raise ValueError(f"must be ways x line_bytes x a power-of-two number of sets "
                             f"({ways} x {line} x 2^k bytes), got {v} ({v / (ways * line):g} sets)")
        if v != sets * ways * line:
            raise ValueError(f"must equal sets x ways x line_bytes = {sets} x {ways} x {line} = "
                             f"{sets * ways * line}, got {v}")
        return v

    @field_validator("replacement")
    @classmethod
    def _plru_ways(cls, v: str, info: ValidationInfo) -> str:
        ways = info.data.get("ways")
        if v == "plru" and ways is not None and not _is_pow2(ways):
            raise ValueError(f"tree pseudo-LRU ('plru') needs a power-of-two number of ways, got ways={ways}")
        return v

    @field_validator("access_bytes")
    @classmethod
    def _access_fits(cls, v: int, info: ValidationInfo) -> int:
        line = info.data.get("line_bytes")
        if not _is_pow2(v):
            raise ValueError(f"must be a power of two, got {v}")
        if line is not None and v > line:
            raise ValueError(f"must be <= line_bytes ({line}), got {v}")
        return v

    @property
    def line_shift(self) -> int:
        """log2(line_bytes)."""
        return self.line_bytes.bit_length() - 1

    @property
    def set_shift(self) -> int:
        """log2(sets)."""
        return self.sets.bit_length() - 1


# --- replacement policies (one strategy object per variant) ----------------------------------------
class ReplacementPolicy:
    """Per-set replacement state. ``touch``: a hit (or merge) on ``way``; ``fill``: a new line placed in
    ``way``; ``victim``: the way to evict from a full set."""

    name: ClassVar[str] = ""

    def __init__(self, sets: int, ways: int, seed: int):
        self.sets, self.ways = sets, ways

    def touch(self, s: int, way: int) -> None:
        pass

    def fill(self, s: int, way: int) -> None:
        pass

    def victim(self, s: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


class LruPolicy(ReplacementPolicy):
    """Least recently used: each way keeps the time of its last use; the oldest is evicted."""

    name = "lru"

    def __init__(self, sets, ways, seed):
        super().__init__(sets, ways, seed)
        self.stamp = [[0] * ways for _ in range(sets)]
        self.tick = 0

    def touch(self, s, way):
        self.tick += 1
        self.stamp[s][way] = self.tick

    fill = touch

    def victim(self, s):
        row = self.stamp[s]
        return row.index(min(row))


class FifoPolicy(LruPolicy):
    """First in, first out: the line filled longest ago is evicted; hits do not matter."""

    name = "fifo"

    def touch(self, s, way):
        pass

    def fill(self, s, way):
        LruPolicy.touch(self, s, way)


class RandomPolicy(ReplacementPolicy):
    """Seeded random: ``random.Random(seed).randrange(ways)``, one draw per eviction from a full set,
    in trace order (one stream for the whole cache)."""

    name = "random"

    def __init__(self, sets, ways, seed):
        super().__init__(sets, ways, seed)
        self.rng = random.Random(seed)

    def victim(self, s):
        return self.rng.randrange(self.ways)


class TreePlruPolicy(ReplacementPolicy):
    """Tree pseudo-LRU (power-of-two ways): a binary tree of ``ways - 1`` bits per set. Each bit points
    at the half to evict from next (0: lower ways, 1: upper ways). A use of a way points every bit on
    its path at the other half. All bits start at 0."""

    name = "plru"

    def __init__(self, sets, ways, seed):
        super().__init__(sets, ways, seed)
        self.bits = [0] * sets  # node n (heap order, root 1) is bit n of the int

    def touch(self, s, way):
        bits = self.bits[s]
        node = way + self.ways  # leaf
        while node > 1:
            parent = node >> 1
            if node & 1:  # came from the upper half: point at the lower one
                bits &= ~(1 << parent)
            else:
                bits |= 1 << parent
            node = parent
        self.bits[s] = bits

    fill = touch

    def victim(self, s):
        bits = self.bits[s]
        node = 1
        while node < self.ways:
            node = 2 * node + ((bits >> node) & 1)
        return node - self.ways


REPLACEMENT_POLICIES: dict[str, type[ReplacementPolicy]] = {
    p.name: p for p in (LruPolicy, FifoPolicy, RandomPolicy, TreePlruPolicy)}


class TagStore:
    """Tags, dirty bits and replacement state of every set. Invalid ways are filled lowest first.
    Lines are never invalidated, so the first ``len(where[s])`` ways of set ``s`` are the valid ones."""

    def __init__(self, cfg: CacheConfig):
        self.ways = cfg.ways
        self.where: list[dict[int, int]] = [{} for _ in range(cfg.sets)]  # tag -> way
        self.tags = [[-1] * cfg.ways for _ in range(cfg.sets)]
        self.dirty = [[False] * cfg.ways for _ in range(cfg.sets)]
        self.policy = REPLACEMENT_POLICIES[cfg.replacement](cfg.sets, cfg.ways, cfg.seed)

    def allocate(self, s: int, tag: int, dirty: bool) -> tuple[int, int, bool]:
        """Place ``tag`` in set ``s``: (way, victim tag or -1, victim was dirty)."""
        where = self.where[s]
        if len(where) < self.ways:
            way, vtag, vdirty = len(where), -1, False
        else:
            way = self.policy.victim(s)
            vtag, vdirty = self.tags[s][way], self.dirty[s][way]
            del where[vtag]
        self.tags[s][way] = tag
        self.dirty[s][way] = dirty
        where[tag] = way
        self.policy.fill(s, way)
        return way, vtag, vdirty

    def dirty_lines(self) -> int:
        return sum(sum(row[: len(w)]) for row, w in zip(self.dirty, self.where))


# --- counts -----------------------------------------------------------------------------------------
@dataclass
class CacheCounts:
    """Access counts: requests, outcomes, evictions (valid lines replaced), writebacks (dirty
    evictions), write_throughs (stores forwarded), bytes from/to the next level."""

    reads: int = 0
    writes: int = 0
    hits: int = 0
    misses: int = 0
    read_misses: int = 0
    write_misses: int = 0
    merges: int = 0
    evictions: int = 0
    writebacks: int = 0
    write_throughs: int = 0
    bytes_from_next: int = 0
    bytes_to_next: int = 0

    UNITS: ClassVar[dict[str, str]] = {
        "reads": "requests", "writes": "requests", "hits": "requests", "misses": "requests",
        "read_misses": "requests", "write_misses": "requests", "merges": "requests", "evictions": "lines",
        "writebacks": "lines", "write_throughs": "stores", "bytes_from_next": "bytes", "bytes_to_next": "bytes"}

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, stats: Mapping[str, int]) -> "CacheCounts":
        return cls(**{f.name: int(stats[f.name]) for f in fields(cls)})

    @property
    def hit_rate(self) -> float:
        """(hits + merges) / requests."""
        n = self.reads + self.writes
        return (self.hits + self.merges) / n if n else 0.0


def _trace_lines(cfg: CacheConfig, addrs, is_write) -> tuple[list[int], list[int], list[bool], list[int]]:
    """(sets, tags, is_write, byte addresses) of a trace, validated."""
    a = np.asarray(addrs)
    if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
        raise ConfigError(f"addrs: must be a 1-D sequence of integer byte addresses, got {_short(addrs)}")
    a = a.astype(np.int64)
    bad = np.flatnonzero(a < 0)
    if bad.size:
        raise ConfigError([f"addrs[{i}]: must be a byte address >= 0, got {int(a[i])}" for i in bad[:5]])
    if is_write is None:
        w = np.zeros(a.size, bool)
    else:
        w = np.asarray(is_write, dtype=bool)
        if w.shape != a.shape:
            raise ConfigError(f"is_write: must have one flag per address ({a.size}), got shape {w.shape}")
    lines = a >> cfg.line_shift
    return ((lines & (cfg.sets - 1)).tolist(), (lines >> cfg.set_shift).tolist(), w.tolist(), a.tolist())


def _short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


# --- functional face -----------------------------------------------------------------------------
class Cache:
    """Functional face: hit/miss behaviour without time. ``access`` one request at a time, or ``run`` a
    trace (faster). Counts accumulate in ``counts``."""

    def __init__(self, cfg: CacheConfig):
        self.cfg = cfg
        self.store = TagStore(cfg)
        self.counts = CacheCounts()
        self._wb = cfg.write_policy == "write_back"

    def access(self, addr: int, is_write: bool = False) -> bool:
        """One load (``is_write=False``) or store at byte ``addr``: True on a hit, False on a miss."""
        if isinstance(addr, bool) or not isinstance(addr, (int, np.integer)) or addr < 0:
            raise ConfigError(f"addr: must be an integer byte address >= 0, got {addr!r}")
        line = int(addr) >> self.cfg.line_shift
        return self._access(line & (self.cfg.sets - 1), line >> self.cfg.set_shift, bool(is_write))

    def _access(self, s: int, tag: int, wr: bool) -> bool:
        c, cfg, store = self.counts, self.cfg, self.store
        if wr:
            c.writes += 1
        else:
            c.reads += 1
        way = store.where[s].get(tag)
        if way is not None:
            c.hits += 1
            store.policy.touch(s, way)
            if wr:
                if self._wb:
                    store.dirty[s][way] = True
                else:
                    c.write_throughs += 1
                    c.bytes_to_next += cfg.access_bytes
            return True
        c.misses += 1
        if wr:
            c.write_misses += 1
            if not self._wb:  # no-write-allocate: forward the store only
                c.write_throughs += 1
                c.bytes_to_next += cfg.access_bytes
                return False
        else:
            c.read_misses += 1
        c.bytes_from_next += cfg.line_bytes
        _, vtag, vdirty = store.allocate(s, tag, wr and self._wb)
        if vtag >= 0:
            c.evictions += 1
            if vdirty:
                c.writebacks += 1
                c.bytes_to_next += cfg.line_bytes
        return False

    def run(self, addrs: Sequence[int] | np.ndarray,
            is_write: Sequence[bool] | np.ndarray | None = None) -> CacheCounts:
        """Run a trace of byte addresses (``is_write`` flags; None: all loads); returns the counts so far."""
        sets, tags, writes, _ = _trace_lines(self.cfg, addrs, is_write)
        access = self._access
        for s, t, w in zip(sets, tags, writes):
            access(s, t, w)
        return CacheCounts(**self.counts.as_dict())


def cache_counts(cfg: CacheConfig, addrs: Sequence[int] | np.ndarray,
                 is_write: Sequence[bool] | np.ndarray | None = None) -> CacheCounts:
    """Functional face over a whole trace: counts of a fresh (empty) cache."""
    return Cache(cfg).run(addrs, is_write)


# --- CL face ------------------------------------------------------------------------------------
class NextLevel(Protocol):
    """What a cache misses into: ``request`` returns an event that fires when the access is done."""

    def request(self, addr: int, nbytes: int, is_write: bool) -> simpy.Event: ...


class TransactionSplitter:
    """Adapts a memory that takes fixed-size aligned transactions, ``request(addr, is_write) -> Event`` with a
    ``transaction_bytes`` attribute (e.g. :class:`hwsim.memory.dram.DramSystem`), to the
    :class:`NextLevel` interface. An access becomes one request per transaction it touches, all issued at
    once. Its event fires when the last of them is done."""

    def __init__(self, memory: Any):
        tb = getattr(memory, "transaction_bytes", None)
        if not callable(getattr(memory, "request", None)) or not _posint(tb):
            raise ConfigError(f"memory: must have request(addr, is_write) and an integer transaction_bytes >= 1, "
                              f"got {type(memory).__name__}")
        self.memory = memory
        self.transaction_bytes: int = tb
        self.transactions = 0

    def request(self, addr: int, nbytes: int, is_write: bool) -> simpy.Event:
        tb = self.transaction_bytes
        first = addr // tb
        last = (addr + max(nbytes, 1) - 1) // tb
        events = [self.memory.request(t * tb, is_write) for t in range(first, last + 1)]
        self.transactions += len(events)
        return events[0] if len(events) == 1 else simpy.AllOf(events[0].env, events)


class FixedLatencyMemory:
    """A next level that completes every request ``latency_cycles`` after it is issued, with no
    bandwidth limit. It counts the requests and bytes it receives."""

    def __init__(self, env: simpy.Environment, clock: Clock, latency_cycles: int, name: str = "memory"):
        if isinstance(latency_cycles, bool) or not isinstance(latency_cycles, int) or latency_cycles < 0:
            raise ConfigError(f"{name}.latency_cycles: must be an integer >= 0, got {latency_cycles!r}")
        self.env, self.clock, self.name = env, clock, name
        self.latency_cycles = latency_cycles
        self.reads = self.writes = self.read_bytes = self.write_bytes = 0

    def record(self, addr: int, nbytes: int, is_write: bool) -> None:
        if is_write:
            self.writes += 1
            self.write_bytes += nbytes
        else:
            self.reads += 1
            self.read_bytes += nbytes

    def request(self, addr: int, nbytes: int, is_write: bool) -> simpy.Event:
        self.record(addr, nbytes, is_write)
        return self.env.timeout(self.latency_cycles * self.clock.period_ps)


@dataclass(slots=True, eq=False)
class CacheRequest:
    """One load or store. ``nbytes`` (0: ``access_bytes``) is what a write-through store forwards. The
    cache looks the request up no earlier than ``issue_cycle`` (of the cache's clock). The CL face sets
    ``outcome`` (hit, miss, merge), ``accept_cycle`` (lookup) and ``done_cycle``, and succeeds ``done``
    (if given) in cycle ``done_cycle`` with that cycle as its value."""

    addr: int
    is_write: bool = False
    nbytes: int = 0
    issue_cycle: int = 0
    done: simpy.Event | None = None
    outcome: str = ""
    accept_cycle: int = -1
    done_cycle: int = -1


class _Mshr:
    __slots__ = ("line", "waiters", "filled", "event")

    def __init__(self, line: int):
        self.line = line
        self.waiters: list[tuple[CacheRequest, int]] = []  # (request, earliest completion, ps)
        self.filled = False
        self.event: simpy.Event | None = None  # made on demand for requests waiting on the fill


_OUTCOME_CODE = {"hit": 0, "miss": 1, "merge": 2}


class CacheCL(Component):
    """The cache on SimPy, with the timing rules of the module docstring.

    Requests (:class:`CacheRequest`) come in on ``req_in``. By default that port is connected to an
    unbounded channel; connect a bounded one to back-pressure the requester. ``next_level`` is an
    object with ``request(addr, nbytes, is_write) -> Event`` (another :class:`CacheCL`, a
    :class:`FixedLatencyMemory`, a DRAM model wrapped in a :class:`TransactionSplitter`) or a bare
    callable with that signature. None means a
    :class:`FixedLatencyMemory` of ``cfg.miss_latency_cycles``. A :class:`CacheCL` is itself a next
    level, so caches chain.
    """

    PORTS = (PortSpec("req_in", PortDir.IN,
                      "CacheRequest items, or lists of them; one request is looked up per cycle, in order"),)
    STATS = {**CacheCounts.UNITS, "mshr_stall_cycles": "cycles", "merge_stall_cycles": "cycles"}

    def __init__(self, sim: Simulation, name: str, clock: Clock, cfg: CacheConfig,
                 next_level: NextLevel | Callable[[int, int, bool], simpy.Event] | None = None):
        super().__init__(sim, name, clock)
        self.cfg = cfg
        self.store = TagStore(cfg)
        self._wb = cfg.write_policy == "write_back"
        self._fixed = next_level is None
        if next_level is None:
            self.next_level: Any = FixedLatencyMemory(sim.env, clock, cfg.miss_latency_cycles, f"{name}.next")
            self._next = self.next_level.request
        elif hasattr(next_level, "request"):
            self.next_level, self._next = next_level, next_level.request
        elif callable(next_level):
            self.next_level, self._next = next_level, next_level
        else:
            raise ConfigError(f"{name}.next_level: must have request(addr, nbytes, is_write) -> Event or be "
                              f"such a callable, got {type(next_level).__name__}")
        self._pending: dict[int, _Mshr] = {}  # line -> MSHR, while the line is resident and being filled
        self.outstanding = 0  # MSHRs in use
        self._mshr_freed: simpy.Event | None = None
        self.connect("req_in", Channel(sim.env, clock, f"{name}.req_in", capacity=None))

    # -- the front end ---------------------------------------------------------------------------
    def run(self):
        env, period = self.env, self.clock.period_ps
        get = self.ports["req_in"].get
        next_ps = 0  # earliest lookup time of the next request
        while True:
            item = yield get()
            for req in (item,) if isinstance(item, CacheRequest) else item:
                now = env.now
                start = max(-(-now // period) * period, next_ps, req.issue_cycle * period)
                yield late_timeout(env, start - now)
                while (wait := self._lookup(req)) is not None:
                    stat, event = wait
                    t0 = env.now
                    yield event
                    now = env.now
                    yield late_timeout(env, -(-now // period) * period - now)
                    self.stats.add(stat, (env.now - t0) // period)
                    self.span(f"stall:{stat.removesuffix('_stall_cycles')}", t0, env.now)
                next_ps = env.now + period

    def _lookup(self, req: CacheRequest):
        """Look ``req`` up now. Returns None when it was taken, or (stall counter, event to wait for)."""
        cfg, env, st, store = self.cfg, self.env, self.stats, self.store
        now, period = env.now, self.clock.period_ps
        addr, wr = req.addr, req.is_write
        if type(addr) is not int:
            if isinstance(addr, bool) or not isinstance(addr, (int, np.integer)):
                raise ConfigError(f"{self.name}: request addr must be an integer byte address >= 0, got {addr!r}")
            addr = req.addr = int(addr)
        if addr < 0:
            raise ConfigError(f"{self.name}: request addr must be an integer byte address >= 0, got {addr!r}")
        line = addr >> cfg.line_shift
        s, tag = line & (cfg.sets - 1), line >> cfg.set_shift
        way = store.where[s].get(tag)
        hit_ps = now + cfg.hit_latency_cycles * period
        if way is not None:
            m = self._pending.get(line)
            if m is not None and not cfg.mshr_merge:
                if m.event is None:
                    m.event = env.event()
                return "merge_stall_cycles", m.event
            self._count_request(wr)
            store.policy.touch(s, way)
            if wr:
                if self._wb:
                    store.dirty[s][way] = True
                else:
                    self._post_write(addr, req.nbytes or cfg.access_bytes, hit_ps)
            self._accept(req, "merge" if m is not None else "hit")
            if m is not None:
                st.add("merges")
                m.waiters.append((req, hit_ps))
            else:
                st.add("hits")
                self._finish_at(req, hit_ps)
            return None
        if wr and not self._wb:  # write-through, no-write-allocate: forward the store, done like a hit
            self._count_request(wr)
            st.add("misses")
            st.add("write_misses")
            self._post_write(addr, req.nbytes or cfg.access_bytes, hit_ps)
            self._accept(req, "miss")
            self._finish_at(req, hit_ps)
            return None
        if self.outstanding >= cfg.mshrs:
            if self._mshr_freed is None:
                self._mshr_freed = env.event()
            return "mshr_stall_cycles", self._mshr_freed
        self._count_request(wr)
        st.add("misses")
        st.add("write_misses" if wr else "read_misses")
        st.add("bytes_from_next", cfg.line_bytes)
        _, vtag, vdirty = store.allocate(s, tag, wr and self._wb)
        if vtag >= 0:
            st.add("evictions")
            victim = (vtag << cfg.set_shift) | s
            self._pending.pop(victim, None)  # a line evicted before its fill: the fill installs nothing
            if vdirty:
                st.add("writebacks")
                st.add("bytes_to_next", cfg.line_bytes)
                self._post_write(victim << cfg.line_shift, cfg.line_bytes, hit_ps, writeback=True)
        m = _Mshr(line)
        m.waiters.append((req, hit_ps))
        self._pending[line] = m
        self.outstanding += 1
        self._accept(req, "miss")
        line_addr = line << cfg.line_shift
        if self._fixed:
            self.next_level.record(line_addr, cfg.line_bytes, False)
            delay = (cfg.hit_latency_cycles + self.next_level.latency_cycles) * period
            env.timeout(delay).callbacks.append(lambda _ev: self._fill(m))
        else:
            env.timeout(hit_ps - now).callbacks.append(
                lambda _ev: self._when_done(self._next(line_addr, cfg.line_bytes, False), lambda: self._fill(m)))
        return None

    def _count_request(self, wr: bool) -> None:
        self.stats.add("writes" if wr else "reads")

    def _accept(self, req: CacheRequest, outcome: str) -> None:
        req.outcome = outcome
        req.accept_cycle = self.env.now // self.clock.period_ps

    def _post_write(self, addr: int, nbytes: int, at_ps: int, writeback: bool = False) -> None:
        """Send a store or a writeback to the next level at ``at_ps``, without waiting for it."""
        if not writeback:
            self.stats.add("write_throughs")
            self.stats.add("bytes_to_next", nbytes)
        if self._fixed:
            self.next_level.record(addr, nbytes, True)
        else:
            self.env.timeout(at_ps - self.env.now).callbacks.append(lambda _ev: self._next(addr, nbytes, True))

    @staticmethod
    def _when_done(event: simpy.Event, action: Callable[[], None]) -> None:
        if event.callbacks is None:  # already processed
            action()
        else:
            event.callbacks.append(lambda _ev: action())

    def _fill(self, m: _Mshr) -> None:
        """The line of ``m`` arrived: free the MSHR and complete the requests waiting on it."""
        env, period = self.env, self.clock.period_ps
        if self._pending.get(m.line) is m:
            del self._pending[m.line]
        self.outstanding -= 1
        m.filled = True
        edge = -(-env.now // period) * period
        for req, earliest in m.waiters:
            self._finish_at(req, max(edge, earliest))
        if m.event is not None:
            m.event.succeed()
        if self._mshr_freed is not None:
            ev, self._mshr_freed = self._mshr_freed, None
            ev.succeed()

    def _finish_at(self, req: CacheRequest, t_ps: int) -> None:
        period = self.clock.period_ps
        req.done_cycle = t_ps // period
        if req.done is not None:
            delay = t_ps - self.env.now
            done, cycle = req.done, req.done_cycle
            if delay:
                self.env.timeout(delay).callbacks.append(lambda _ev: done.succeed(cycle))
            else:
                done.succeed(cycle)

    # -- as a next level -------------------------------------------------------------------------
    def request(self, addr: int, nbytes: int, is_write: bool) -> simpy.Event:
        """Next-level interface: an access of ``nbytes`` at ``addr``, split into one request per line of
        this cache; the event fires when all are done."""
        env, shift = self.env, self.cfg.line_shift
        end = addr + max(nbytes, 1)
        events = []
        for line in range(addr >> shift, ((end - 1) >> shift) + 1):
            lo = max(addr, line << shift)
            hi = min(end, (line + 1) << shift)
            req = CacheRequest(lo, is_write, nbytes=hi - lo, done=env.event())
            self._enqueue(req)
            events.append(req.done)
        return events[0] if len(events) == 1 else simpy.AllOf(env, events)

    def _enqueue(self, req: CacheRequest) -> None:
        """Put ``req`` on ``req_in``'s channel as soon as it has a free slot."""
        channel = self.ports["req_in"].channel
        credit = channel.reserve()
        if credit.callbacks is None:  # pragma: no cover - a processed event is never returned
            channel.deliver(req)
        else:
            credit.callbacks.append(lambda _ev: channel.deliver(req))

    def counts(self) -> CacheCounts:
        return CacheCounts.from_mapping(self.stats)

    def line_trace(self) -> str:
        lines = " ".join(f"{line << self.cfg.line_shift:#x}" for line in list(self._pending)[:4])
        return (f"{self.name}@{self.clock.now_cycles}: MSHRs {self.outstanding}/{self.cfg.mshrs}"
                f"{' filling ' + lines if lines else ''}, hits {self.stats['hits']}, misses {self.stats['misses']}")


class CacheTraceDriver(Component):
    """Sends a list of requests with non-decreasing ``issue_cycle`` to a cache's ``req_in``: each at its issue
    cycle, or (``burst=True``) all at once as one item at cycle 0. Both give the same timing, since a cache
    looks no request up before its issue cycle; the burst saves SimPy events on long traces."""

    PORTS = (PortSpec("req_out", PortDir.OUT, "CacheRequest items, or lists of them"),)
    STATS = {"requests": "requests"}

    def __init__(self, sim: Simulation, name: str, clock: Clock, requests: list[CacheRequest], burst: bool = False):
        super().__init__(sim, name, clock)
        self.requests = requests
        self.burst = burst

    def run(self):
        env, period = self.env, self.clock.period_ps
        put = self.req_out.put
        if self.burst:
            yield from put(list(self.requests))
            self.stats.add("requests", len(self.requests))
            return
        for req in self.requests:
            t = req.issue_cycle * period
            if t > env.now:
                yield env.timeout(t - env.now)
            yield from put(req)
        self.stats.add("requests", len(self.requests))


@dataclass
class CacheRun:
    """One CL run of a trace: counts, stall cycles and per-request outcome (0 hit, 1 miss, 2 merge),
    lookup cycle and completion cycle. ``cycles``: the last completion cycle (0 for an empty trace)."""

    counts: CacheCounts
    mshr_stall_cycles: int
    merge_stall_cycles: int
    cycles: int
    outcome: np.ndarray
    accept_cycle: np.ndarray
    done_cycle: np.ndarray
    stats: dict[str, int] = field(default_factory=dict)


def run_cache_cl(cfg: CacheConfig, addrs: Sequence[int] | np.ndarray,
                 is_write: Sequence[bool] | np.ndarray | None = None,
                 issue_cycles: Sequence[int] | np.ndarray | None = None, period_ps: int = 1000,
                 trace: str | Path | Tracer | None = None, burst: bool = True) -> CacheRun:
    """CL face over a trace with the built-in fixed-latency next level.

    ``issue_cycles``: when each request is issued (non-decreasing; default one per cycle from 0). The
    front end still takes at most one request per cycle, in order. ``burst``: hand the trace to the
    cache as one item (fast) or request by request at the issue cycles (same timing).
    """
    _, _, writes, byte_addrs = _trace_lines(cfg, addrs, is_write)
    n = len(byte_addrs)
    if issue_cycles is None:
        issue = list(range(n))
    else:
        ic = np.asarray(issue_cycles)
        if ic.shape != (n,) or (n and not np.issubdtype(ic.dtype, np.integer)):
            raise ConfigError(f"issue_cycles: must be {n} integers, one per address, got {_short(issue_cycles)}")
        bad = np.flatnonzero((ic < 0) | (np.diff(ic, prepend=0) < 0))
        if bad.size:
            raise ConfigError(f"issue_cycles[{int(bad[0])}]: must be >= 0 and >= the one before, got {int(ic[bad[0]])}")
        issue = ic.tolist()
    reqs = [CacheRequest(a, w, issue_cycle=c) for a, w, c in zip(byte_addrs, writes, issue)]
    sim = Simulation(trace=trace if isinstance(trace, Tracer) else trace is not None, name="cache")
    clock = sim.clock("clk", period_ps)
    cache = CacheCL(sim, "cache", clock, cfg)
    driver = CacheTraceDriver(sim, "requester", clock, reqs, burst=burst)
    driver.connect("req_out", cache.ports["req_in"].channel)
    sim.run()
    if trace is not None and not isinstance(trace, Tracer):
        sim.tracer.write(trace)
    if any(r.done_cycle < 0 for r in reqs):  # pragma: no cover - would be a model bug
        raise RuntimeError("cache CL simulation ended with requests not done (deadlock)")
    st = cache.stats
    return CacheRun(
        counts=cache.counts(), mshr_stall_cycles=st["mshr_stall_cycles"], merge_stall_cycles=st["merge_stall_cycles"],
        cycles=max((r.done_cycle for r in reqs), default=0),
        outcome=np.fromiter((_OUTCOME_CODE[r.outcome] for r in reqs), np.int8, n),
        accept_cycle=np.fromiter((r.accept_cycle for r in reqs), np.int64, n),
        done_cycle=np.fromiter((r.done_cycle for r in reqs), np.int64, n),
        stats=st.as_dict())
