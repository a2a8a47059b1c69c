"""Traffic: synthetic destination patterns (one strategy object each), Bernoulli packet generation, traces.

A **trace** is what a workload mapper produces: records ``(cycle, src, dst, size)``, one per packet,
meaning "node ``src`` creates a packet of ``size`` for node ``dst`` in cycle ``cycle``". ``size`` is in
bytes (converted to flits with the network's ``flit_bytes``) or in flits (``size_unit="flits"``).
:func:`as_trace` validates records into a :class:`Trace` (numpy columns); :func:`synthetic_trace`
draws one from a :class:`~hwsim.noc.config.TrafficConfig`. Both faces take a :class:`Trace`.

Packets are numbered in creation order (cycle, then source, then record order): the number is the
packet's age, which the CL face's arbiters use (oldest first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwsim.errors import ConfigError
from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.topology import Topology


# --- destination patterns ---------------------------------------------------------------------------
class Pattern:
    """A destination distribution: :meth:`matrix` (probabilities) and :meth:`draw` (seeded samples)."""

    name: ClassVar[str] = ""

    def check(self, topo: Topology, traffic: TrafficConfig) -> None:
        """Raise ConfigError if the pattern does not fit the network."""

    def matrix(self, topo: Topology, traffic: TrafficConfig) -> np.ndarray:
        """``(N, N)`` array: P(destination d | source s); an all-zero row is a silent source."""
        raise NotImplementedError  # pragma: no cover - abstract

    def draw(self, topo: Topology, traffic: TrafficConfig, src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One destination per source in ``src`` (all active)."""
        raise NotImplementedError  # pragma: no cover - abstract


def _uniform_other(n: int, src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    d = rng.integers(0, n - 1, size=src.size)
    return d + (d >= src)


class Uniform(Pattern):
    name = "uniform"

    def matrix(self, topo, traffic):
        n = topo.nodes
        m = np.full((n, n), 1.0 / (n - 1))
        np.fill_diagonal(m, 0.0)
        return m

    def draw(self, topo, traffic, src, rng):
        return _uniform_other(topo.nodes, src, rng)


class Permutation(Pattern):
    """A fixed destination per source; sources that map to themselves are silent."""

    def perm(self, topo: Topology) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def matrix(self, topo, traffic):
        n = topo.nodes
        p = self.perm(topo)
        m = np.zeros((n, n))
        s = np.arange(n)
        m[s, p] = 1.0
        m[s, s] = 0.0
        return m

    def draw(self, topo, traffic, src, rng):
        return self.perm(topo)[src]


class Transpose(Permutation):
    name = "transpose"

    def check(self, topo, traffic):
        if topo.cols != topo.rows:
            raise ConfigError(f"traffic.pattern: 'transpose' needs a square network, got {topo.cols}x{topo.rows}")

    def perm(self, topo):
        x, y = topo.coords(np.arange(topo.nodes))
        return x * topo.cols + y


class BitComplement(Permutation):
    name = "bit_complement"

    def perm(self, topo):
        return topo.nodes - 1 - np.arange(topo.nodes)


class Hotspot(Pattern):
    name = "hotspot"

    def check(self, topo, traffic):
        bad = [h for h in traffic.hotspot_nodes if h >= topo.nodes]
        if bad:
            raise ConfigError(f"traffic.hotspot_nodes: node ids must be in [0, {topo.nodes}), got {bad[0]}")

    def matrix(self, topo, traffic):
        f = traffic.hotspot_fraction
        hs = np.asarray(traffic.hotspot_nodes, dtype=np.int64)
        uniform = Uniform().matrix(topo, traffic)
        m = uniform * (1 - f)
        share = f / hs.size
        for h in hs:  # a draw of h by h itself is redrawn uniformly
            m[:, h] += share
            m[h, h] -= share
            m[h] += share * uniform[h]
        return m

    def draw(self, topo, traffic, src, rng):
        hs = np.asarray(traffic.hotspot_nodes, dtype=np.int64)
        hot = rng.random(src.size) < traffic.hotspot_fraction
        pick = hs[rng.integers(0, hs.size, size=src.size)]
        uni = _uniform_other(topo.nodes, src, rng)
        return np.where(hot & (pick != src), pick, uni)


PATTERNS: dict[str, Pattern] = {p.name: p for p in (Uniform(), Transpose(), BitComplement(), Hotspot())}


def traffic_matrix(noc: NocConfig, traffic: TrafficConfig) -> np.ndarray:
    """``(N, N)`` offered load in flits per cycle from s to d: ``injection_rate x P(d | s)``."""
    topo = Topology.of(noc)
    pattern = PATTERNS[traffic.pattern]
    pattern.check(topo, traffic)
    return traffic.injection_rate * pattern.matrix(topo, traffic)


def active_sources(noc: NocConfig, traffic: TrafficConfig) -> np.ndarray:
    """Node ids that inject under the pattern (all but the silent ones of a permutation)."""
    topo = Topology.of(noc)
    pattern = PATTERNS[traffic.pattern]
    pattern.check(topo, traffic)
    return np.flatnonzero(pattern.matrix(topo, traffic).sum(axis=1) > 0)


# --- traces ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trace:
    """Packets as numpy columns in creation order (packet i is the i-th oldest).

    ``cycle``: creation cycle; ``src``, ``dst``: node ids; ``flits``: packet length in flits; ``order``: the
    index of each packet's record in the input (``record[order[i]]`` became packet ``i``).
    """

    cycle: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    flits: np.ndarray
    order: np.ndarray

    def __len__(self) -> int:
        return int(self.cycle.size)

    @property
    def total_flits(self) -> int:
        return int(self.flits.sum())


def build_trace(cycle, src, dst, flits, order=None) -> Trace:
    """A :class:`Trace` from unchecked columns, sorted into creation order (cycle, then source, then given order)."""
    cycle = np.asarray(cycle, dtype=np.int64)
    src = np.asarray(src, dtype=np.int64)
    idx = np.lexsort((np.arange(cycle.size), src, cycle))
    order = idx if order is None else np.asarray(order)[idx]
    return Trace(cycle[idx], src[idx], np.asarray(dst, dtype=np.int64)[idx], np.asarray(flits, dtype=np.int64)[idx],
                 order.astype(np.int64))


def as_trace(noc: NocConfig, records: Trace | np.ndarray | Iterable[Sequence[int]],
             size_unit: str = "bytes") -> Trace:
    """Validate trace records ``(cycle, src, dst, size)`` into a :class:`Trace`.

    ``size_unit``: ``"bytes"`` (payload bytes, ``ceil(size / flit_bytes)`` flits, at least 1) or ``"flits"``.
    Raises :class:`~hwsim.errors.ConfigError` naming each bad record (first 5 problems).
    """
    if isinstance(records, Trace):
        return records
    if size_unit not in ("bytes", "flits"):
        raise ConfigError(f"size_unit: must be 'bytes' or 'flits', got {size_unit!r}")
    rows = records if isinstance(records, np.ndarray) else list(records)
    arr = np.asarray(rows, dtype=object) if not isinstance(rows, np.ndarray) else rows
    if len(rows) == 0:
        return build_trace([], [], [], [])
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ConfigError(f"trace: records must be (cycle, src, dst, size) 4-tuples, got shape {arr.shape}")
    problems = []
    n = noc.nodes
    for col, name, lo, hi in ((0, "cycle", 0, None), (1, "src", 0, n), (2, "dst", 0, n), (3, "size", 1, None)):
        values = arr[:, col]
        for i, v in enumerate(values):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                problems.append(f"trace[{i}].{name}: must be an integer, got {v!r}")
            elif v < lo or (hi is not None and v >= hi):
                allowed = f"in [{lo}, {hi})" if hi is not None else f">= {lo}"
                what = "a node id " if name in ("src", "dst") else ""
                problems.append(f"trace[{i}].{name}: must be {what}{allowed}, got {int(v)}")
            if len(problems) >= 5:
                break
        if len(problems) >= 5:
            break
    if problems:
        raise ConfigError(problems)
    a = arr.astype(np.int64)
    size = a[:, 3]
    flits = size if size_unit == "flits" else np.maximum(1, -(-size // noc.flit_bytes))
    return build_trace(a[:, 0], a[:, 1], a[:, 2], flits)


def synthetic_trace(noc: NocConfig, traffic: TrafficConfig, cycles: int, chunk_cycles: int = 1024) -> Trace:
    """Packets created in cycles ``[0, cycles)`` by ``traffic`` (Bernoulli per active node and cycle, probability
    ``injection_rate / packet_flits``; seeded, bit-identical for a seed). Drawn chunk by chunk from one
    generator, so memory stays bounded for long runs."""
    if isinstance(cycles, bool) or not isinstance(cycles, (int, np.integer)) or cycles < 0:
        raise ConfigError(f"cycles: must be an integer >= 0, got {cycles!r}")
    topo = Topology.of(noc)
    pattern = PATTERNS[traffic.pattern]
    pattern.check(topo, traffic)
    active = np.flatnonzero(pattern.matrix(topo, traffic).sum(axis=1) > 0)
    flits = traffic.flits(noc)
    p = min(1.0, traffic.injection_rate / flits)
    rng = np.random.default_rng(traffic.seed)
    cyc, srcs, dsts = [], [], []
    for start in range(0, int(cycles), chunk_cycles):
        span = min(chunk_cycles, int(cycles) - start)
        hit = rng.random((span, active.size)) < p
        t, k = np.nonzero(hit)  # row-major: by cycle, then source
        s = active[k]
        cyc.append(t + start)
        srcs.append(s)
        dsts.append(pattern.draw(topo, traffic, s, rng))
    if not cyc:
        return build_trace([], [], [], [])
    c = np.concatenate(cyc)
    return build_trace(c, np.concatenate(srcs), np.concatenate(dsts), np.full(c.size, flits))
