"""Collective communication on a package: algorithms as transfer DAGs, and their alpha-beta cost face.

Notation (all per direction): ``p`` ranks (dies), ``n`` bytes (NCCL's size S: the whole buffer of every
rank for all-reduce and broadcast, the whole output of all-gather, the whole input of reduce-scatter, and
each rank's send buffer for all-to-all), ``B`` the link bandwidth after retries (``bandwidth x g``),
``L`` the one-way link latency, ``c`` the chunk size and ``k`` the number of chunks of a message.

Every algorithm is a strategy object with two faces that share one schedule:

* ``transfers(plan)``: the schedule as a DAG of point-to-point transfers (source, destination, bytes,
  the transfers that must have arrived first, and what the receiver does with the data: add it or copy
  it). :mod:`hwsim.chiplet.sim` executes it message by message on the package (the simulated face), with
  or without real numpy values.
* ``cost(plan)``: the alpha-beta closed form. ``alpha`` is the latency of the longest route a step uses
  (``h x L``, plus the switch latency through a switch). A message of ``m`` bytes over an idle route of
  ``h`` hops takes ``tau(m) = alpha + m/B + (h - 1) m/(k B)`` (chunks are stored and forwarded hop by
  hop, so an ``h``-hop route adds ``h - 1`` chunk times of pipeline fill). With one-hop routes this is
  the textbook ``alpha + m/B``:

  ========================= ============================================================================
  ring all-reduce           ``2(p-1) tau(n/p)``          = ``2(p-1) alpha + 2(p-1)/p n/B``  (one hop)
  ring reduce-scatter       ``(p-1) tau(n/p)``           = ``(p-1) alpha + (p-1)/p n/B``
  ring all-gather           ``(p-1) tau(n/p)``           = ``(p-1) alpha + (p-1)/p n/B``
  2-D all-reduce (R x C)    ``2(C-1) tau_row(n/C) + 2(R-1) tau_col(n/(RC))``
                            = ``2(C-1+R-1) alpha + 2(C-1)/C n/B + 2(R-1)/(RC) n/B``  (one hop)
  tree all-reduce (DBT)     ``2D (alpha + h c/B) + (k-1) c/B`` with ``c = n/(2k)``, ``D = floor(log2 p)``
                            = ``2D alpha + (2D + k - 1) c/B``  (one hop; one tree of ``n`` when p < 4)
  ring broadcast (chain)    ``(p-1)(alpha + h c/B) + (k-1) c/B`` = ``(p-1) alpha + (p + k - 2) c/B``
  tree broadcast            ``D (alpha + h c/B) + (k-1) c/B``    = ``D alpha + (D + k - 1) c/B``
  direct all-to-all         ``alpha + max_link_load/B + (h-1) c/B`` = ``alpha + n/(pB)`` (full topology)
  ========================= ============================================================================

  Ring steps are timed in lockstep with the slowest route of the ring embedding (exact when all routes of
  the embedding take the same time; an upper bound otherwise). Where streams share links (trees or
  all-to-all on a ring, mesh or switch) the busiest link paces the pipeline: ``kappa`` streams crossing it
  make the pipeline period ``kappa c/B`` instead of ``c/B`` (all-to-all: its byte load); the simulated face
  models the actual contention.

Bytes moved over links (``hop_bytes``, the energy's base) are exact in both faces: every transfer's bytes
times its route's hops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import numpy as np

from hwsim.chiplet.package import MeshTopology, Package, folded_line_order
from hwsim.errors import ConfigError

__all__ = ["ALGORITHMS", "COLLECTIVES", "Collective", "CollectiveAlgorithm", "Cost", "Plan", "Transfer",
           "double_binary_trees", "get_algorithm", "get_collective"]


# --- schedule data ---------------------------------------------------------------------------------
@dataclass(slots=True)
class Transfer:
    """One point-to-point transfer of a schedule. Segments are ``[start, stop)`` in units (bytes, or
    elements when values are simulated); ``op`` is ``"reduce"`` (receiver adds) or ``"copy"``."""

    src: int
    dst: int
    nbytes: int
    deps: tuple[int, ...]
    op: str
    src_seg: tuple[int, int]
    dst_seg: tuple[int, int]
    src_buf: str = "data"
    dst_buf: str = "data"


@dataclass(frozen=True)
class Plan:
    """What an algorithm schedules: a built package, ``nbytes`` (NCCL's S), the chunk size of pipelining,
    the unit segments are cut in (1 byte, or the element size when values are simulated) and the root
    (broadcast)."""

    package: Package
    nbytes: int
    chunk_bytes: int
    unit_bytes: int = 1
    root: int = 0

    @property
    def ranks(self) -> int:
        return self.package.ranks

    @property
    def units(self) -> int:
        return self.nbytes // self.unit_bytes


@dataclass(frozen=True)
class Cost:
    """The cost face of one collective: time (exact fraction of ps), the formula, and bytes x hops moved."""

    time_ps: Fraction
    formula: str
    alpha_ps: Fraction
    hop_bytes: Fraction
    terms: dict = field(default_factory=dict)


def split(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into ``parts`` contiguous pieces whose sizes differ by at most one."""
    n = stop - start
    return [(start + n * i // parts, start + n * (i + 1) // parts) for i in range(parts)]


def chunk_count(nbytes: int | Fraction, chunk_bytes: int) -> int:
    """Chunks a message of ``nbytes`` is cut into: ``ceil(nbytes / chunk_bytes)``, at least 1."""
    return max(1, math.ceil(nbytes / chunk_bytes))


class _Builder:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.transfers: list[Transfer] = []

    def add(self, src, dst, seg, deps, op, dst_seg=None, src_buf="data", dst_buf="data") -> int:
        nbytes = (seg[1] - seg[0]) * self.plan.unit_bytes
        self.transfers.append(Transfer(src, dst, nbytes, tuple(deps), op, seg, dst_seg or seg, src_buf, dst_buf))
        return len(self.transfers) - 1


# --- cost helpers ----------------------------------------------------------------------------------
def _bandwidth(plan: Plan) -> Fraction:
    """Effective bytes per ps (after retries)."""
    return plan.package.link.effective_bytes_per_ps


def link_sharing(pkg: Package, streams: list[tuple[int, int]]) -> int:
    """kappa: the largest number of ``streams`` (source, destination routes) that cross one directed link."""
    count: dict[tuple[int, int], int] = {}
    for u, v in streams:
        for hop in pkg.route(u, v):
            count[(hop.src, hop.dst)] = count.get((hop.src, hop.dst), 0) + 1
    return max(count.values(), default=1)


def _tau(plan: Plan, m: Fraction, edges: list[tuple[int, int]]) -> tuple[Fraction, Fraction, int, int]:
    """(time, alpha, kappa, k) of one lockstep step in which every edge sends ``m`` bytes at once:
    ``max over edges of (alpha + m/B + (h - 1) m/(k B)) + (kappa - 1) m/B`` (``kappa`` messages sharing
    the busiest link serialise one after another; 1 for the ring embeddings built here)."""
    pkg, B = plan.package, _bandwidth(plan)
    k = chunk_count(m, plan.chunk_bytes)
    worst, worst_alpha = Fraction(0), Fraction(0)
    for u, v in edges:
        h = pkg.hops(u, v)
        alpha = Fraction(pkg.route_latency_ps(u, v))
        t = alpha + m / B + (h - 1) * m / (k * B)
        if t > worst:
            worst, worst_alpha = t, alpha
    kappa = link_sharing(pkg, edges) if edges else 1
    return worst + (kappa - 1) * m / B, worst_alpha, kappa, k


def _chunk_pipeline(plan: Plan, edges: list[tuple[int, int]], levels: int,
                    m: Fraction) -> tuple[Fraction, Fraction, int, int]:
    """(time, alpha, kappa, k) of ``m`` bytes pipelined in ``k`` chunks of ``c`` through ``levels``
    store-and-forward levels (the streams are ``edges``): ``levels (alpha + h c/B) + (k - 1) kappa c/B``.
    The busiest link carries ``kappa`` streams, so it passes one chunk of each every ``kappa c/B``: that
    period paces the pipeline (``kappa = 1`` when no two streams share a link)."""
    pkg, B = plan.package, _bandwidth(plan)
    k = chunk_count(m, plan.chunk_bytes)
    c = m / k
    per_level, alpha = Fraction(0), Fraction(0)
    for u, v in edges:
        a = Fraction(pkg.route_latency_ps(u, v))
        t = a + pkg.hops(u, v) * c / B
        if t > per_level:
            per_level, alpha = t, a
    kappa = link_sharing(pkg, edges)
    return levels * per_level + (k - 1) * kappa * c / B, alpha, kappa, k


def _ring_edges(order: list[int]) -> list[tuple[int, int]]:
    return [(order[i], order[(i + 1) % len(order)]) for i in range(len(order))] if len(order) > 1 else []


def _hop_sum(pkg: Package, edges) -> int:
    return sum(pkg.hops(u, v) for u, v in edges)


# --- ring primitive --------------------------------------------------------------------------------
def _ring_transfers(plan, phases: tuple[str, ...]):
    """The transfers of ring phases (``"rs"``, ``"ag"``) run one after another over the package's ring,
    rank ``r`` owning block ``r``; each phase starts on what the previous one left."""
    b = _Builder(plan)
    order = plan.package.ring_order()
    segs = _rank_blocks(plan, order)
    last: dict[int, list[int]] = {}
    for kind in phases:
        last = _ring_phase(b, order, segs, kind, last)
    return b.transfers


def _ring_phase(b: _Builder, order: list[int], segs: list[tuple[int, int]], kind: str,
                deps_in: dict[int, list[int]]) -> dict[int, list[int]]:
    """Reduce-scatter (``kind="rs"``) or all-gather (``"ag"``) over the ring ``order``.

    ``segs[i]`` is the segment ring position ``i`` owns. RS step ``s``:
    position ``i`` sends segment ``i - s - 1`` to ``i + 1``, which adds it; after ``m - 1`` steps position
    ``i`` holds segment ``i`` fully reduced. AG step ``s``: position ``i`` sends segment ``i - s``, copied.
    A send waits for the previous step's receive (and, at step 0, for ``deps_in``). Returns, per rank, the
    transfers its data depends on afterwards."""
    m = len(order)
    last = {r: list(deps_in.get(r, [])) for r in order}
    op = "reduce" if kind == "rs" else "copy"
    for s in range(m - 1):
        new: dict[int, list[int]] = {}
        for i, r in enumerate(order):
            nxt = order[(i + 1) % m]
            seg = segs[(i - s - 1) % m] if kind == "rs" else segs[(i - s) % m]
            new[nxt] = [b.add(r, nxt, seg, last[r], op)]
        last = new
    return last


# --- trees -----------------------------------------------------------------------------------------
def _heap_edges(perm: list[int]) -> set[frozenset]:
    return {frozenset((perm[i], perm[(i - 1) // 2])) for i in range(1, len(perm))}


def double_binary_trees(p: int) -> list[list[int]]:
    """Heap-shaped binary trees as rank permutations (heap position ``i`` has children ``2i+1, 2i+2``).

    For ``p >= 4`` two trees in the manner of NCCL's double binary tree: tree A is the identity; tree B
    puts tree A's leaves on its interior positions (so no rank is interior in both) and is searched
    (deterministically) so that the two trees share no pair of dies: every directed link then carries one
    tree in one phase. For ``p < 4`` no such pair exists and one tree carries everything."""
    a = list(range(p))
    if p < 4:
        return [a]
    h = p // 2
    leaves, interior = list(range(h, p)), list(range(h))
    a_edges = _heap_edges(a)
    for s in range(len(leaves)):
        rot = leaves[s:] + leaves[:s]
        rest0 = interior + rot[h:]
        for t in range(len(rest0)):
            perm = rot[:h] + rest0[t:] + rest0[:t]
            if not a_edges & _heap_edges(perm):
                return [a, perm]
    raise AssertionError(f"no edge-disjoint second tree for p={p}")  # pragma: no cover - searched for p <= 1024


def tree_depth(p: int) -> int:
    """Height (edges from root to deepest leaf) of a heap tree of ``p`` nodes: ``floor(log2 p)``."""
    return p.bit_length() - 1


def _tree_edges(perm: list[int]) -> list[tuple[int, int]]:
    """(child, parent) rank pairs of a heap tree."""
    return [(perm[i], perm[(i - 1) // 2]) for i in range(1, len(perm))]


def _tree_allreduce(b: _Builder, perm: list[int], region: tuple[int, int]) -> None:
    """Pipelined reduce to the root then broadcast, chunk by chunk (chunk ``j`` of a node goes up once
    chunk ``j`` of all its children has arrived; it comes down once its parent has it)."""
    plan = b.plan
    p = len(perm)
    k = chunk_count((region[1] - region[0]) * plan.unit_bytes, plan.chunk_bytes)
    k = min(k, max(1, region[1] - region[0]))
    for seg in split(region[0], region[1], k):
        up: dict[int, int] = {}
        for pos in range(p - 1, 0, -1):
            kids = [up[perm[c]] for c in (2 * pos + 1, 2 * pos + 2) if c < p]
            up[perm[pos]] = b.add(perm[pos], perm[(pos - 1) // 2], seg, kids, "reduce")
        down = {perm[0]: [up[perm[c]] for c in (1, 2) if c < p]}
        for pos in range(p):
            for c in (2 * pos + 1, 2 * pos + 2):
                if c < p:
                    down[perm[c]] = [b.add(perm[pos], perm[c], seg, down[perm[pos]], "copy")]


def _tree_broadcast(b: _Builder, perm: list[int], region: tuple[int, int]) -> None:
    plan = b.plan
    p = len(perm)
    k = chunk_count((region[1] - region[0]) * plan.unit_bytes, plan.chunk_bytes)
    k = min(k, max(1, region[1] - region[0]))
    for seg in split(region[0], region[1], k):
        down: dict[int, list[int]] = {perm[0]: []}
        for pos in range(p):
            for c in (2 * pos + 1, 2 * pos + 2):
                if c < p:
                    down[perm[c]] = [b.add(perm[pos], perm[c], seg, down[perm[pos]], "copy")]


# --- algorithms ------------------------------------------------------------------------------------
class CollectiveAlgorithm:
    """One algorithm of one collective: its schedule (``transfers``) and its closed form (``cost``)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def check(self, plan: Plan) -> None:
        """Raise :class:`ConfigError` when the algorithm cannot run on ``plan``'s package."""

    def transfers(self, plan: Plan) -> list[Transfer]:  # pragma: no cover - abstract
        raise NotImplementedError

    def cost(self, plan: Plan) -> Cost:  # pragma: no cover - abstract
        raise NotImplementedError


def _rank_blocks(plan: Plan, order: list[int]) -> list[tuple[int, int]]:
    """Per ring position, the block of the rank there (block ``r`` of the buffer belongs to rank ``r``)."""
    blocks = split(0, plan.units, plan.ranks)
    return [blocks[r] for r in order]


def _ring_cost(plan: Plan, phases: int, formula: str) -> Cost:
    """``phases`` rounds of p-1 ring steps of n/p each (reduce-scatter / all-gather: 1, all-reduce: 2)."""
    p, n = plan.ranks, Fraction(plan.nbytes)
    edges = _ring_edges(plan.package.ring_order())
    step, alpha, kappa, k = _tau(plan, n / p, edges)
    h = max(plan.package.hops(u, v) for u, v in edges)
    steps = phases * (p - 1)
    return Cost(steps * step, formula, alpha, steps * n / p * _hop_sum(plan.package, edges),
                {"steps": steps, "step_ps": step, "kappa": kappa, "max_hops": h,
                 "critical_transmissions": steps * (k + h - 1)})


class RingAllReduce(CollectiveAlgorithm):
    name = "ring"
    description = "ring reduce-scatter then ring all-gather (2(p-1) steps of n/p)"

    def transfers(self, plan):
        return _ring_transfers(plan, ("rs", "ag"))

    def cost(self, plan):
        return _ring_cost(plan, 2, "2(p-1)·alpha + 2(p-1)/p·n/B")


class RingReduceScatter(CollectiveAlgorithm):
    name = "ring"
    description = "ring reduce-scatter (p-1 steps of n/p); rank r ends with block r reduced"

    def transfers(self, plan):
        return _ring_transfers(plan, ("rs",))

    def cost(self, plan):
        return _ring_cost(plan, 1, "(p-1)·alpha + (p-1)/p·n/B")


class RingAllGather(RingReduceScatter):
    name = "ring"
    description = "ring all-gather (p-1 steps of n/p); every rank ends with all blocks"

    def transfers(self, plan):
        return _ring_transfers(plan, ("ag",))


class TreeAllReduce(CollectiveAlgorithm):
    name = "tree"
    description = "double binary tree (NCCL style): two heap trees, each reduces and broadcasts half, pipelined"

    def transfers(self, plan):
        b = _Builder(plan)
        trees = double_binary_trees(plan.ranks)
        for perm, region in zip(trees, split(0, plan.units, len(trees))):
            _tree_allreduce(b, perm, region)
        return b.transfers

    def cost(self, plan):
        p, n = plan.ranks, Fraction(plan.nbytes)
        trees = double_binary_trees(p)
        d = tree_depth(p)
        edges = [e for perm in trees for e in _tree_edges(perm)]
        m = n / len(trees)
        streams = edges + [(v, u) for u, v in edges]
        t, alpha, kappa, k = _chunk_pipeline(plan, streams, 2 * d, m)
        h = max(plan.package.hops(u, v) for u, v in streams)
        hop = sum(2 * m * _hop_sum(plan.package, _tree_edges(perm)) for perm in trees)
        return Cost(t, ("2D·alpha + (2D + k - 1)·c/B, c = n/(2k)" if len(trees) == 2 else
                        "2D·alpha + (2D + k - 1)·c/B, c = n/k") + ("" if kappa == 1 else f"; pipeline period x{kappa}"),
                    alpha, hop, {"trees": len(trees), "depth": d, "chunks": k, "chunk_bytes": m / k, "kappa": kappa,
                                 "max_hops": h, "critical_transmissions": 2 * d * h + k - 1})


class Hierarchical2DAllReduce(CollectiveAlgorithm):
    name = "2d"
    description = "mesh R x C: ring reduce-scatter along rows, ring all-reduce of the n/C shard along columns, " \
                  "ring all-gather along rows (rings over a line are folded: hops <= 2)"

    def check(self, plan):
        if not isinstance(plan.package.topology, MeshTopology):
            raise ConfigError(f"algo: '2d' runs on a mesh topology, got {plan.package.topology.kind!r}")

    @staticmethod
    def _orders(mesh: MeshTopology):
        rows = [[mesh.die_at(r, c) for c in folded_line_order(mesh.cols)] for r in range(mesh.rows)]
        cols = [[mesh.die_at(r, c) for r in folded_line_order(mesh.rows)] for c in range(mesh.cols)]
        return rows, cols

    def transfers(self, plan):
        self.check(plan)
        mesh = plan.package.topology
        b = _Builder(plan)
        rows, cols = self._orders(mesh)
        row_segs = split(0, plan.units, mesh.cols)  # per row-ring position (the same in every row)
        pos_of_col = {c: i for i, c in enumerate(folded_line_order(mesh.cols))}
        deps: dict[int, list[int]] = {}
        for order in rows:
            deps.update(_ring_phase(b, order, row_segs, "rs", {}))
        for c, order in enumerate(cols):
            a, z = row_segs[pos_of_col[c]]
            col_segs = split(a, z, mesh.rows)
            mid = _ring_phase(b, order, col_segs, "rs", deps)
            deps.update(_ring_phase(b, order, col_segs, "ag", mid))
        for order in rows:
            _ring_phase(b, order, row_segs, "ag", deps)
        return b.transfers

    def cost(self, plan):
        self.check(plan)
        mesh = plan.package.topology
        R, C, n = mesh.rows, mesh.cols, Fraction(plan.nbytes)
        rows, cols = self._orders(mesh)
        row_edges = [e for o in rows for e in _ring_edges(o)]
        col_edges = [e for o in cols for e in _ring_edges(o)]
        t_row, a_row, _, k_row = _tau(plan, n / C, row_edges)
        t_col, a_col, _, k_col = _tau(plan, n / (R * C), col_edges)
        pkg = plan.package
        h_row = max((pkg.hops(u, v) for u, v in row_edges), default=1)
        h_col = max((pkg.hops(u, v) for u, v in col_edges), default=1)
        hop = 2 * (C - 1) * n / C * _hop_sum(pkg, row_edges) + 2 * (R - 1) * n / (R * C) * _hop_sum(pkg, col_edges)
        return Cost(2 * (C - 1) * t_row + 2 * (R - 1) * t_col,
                    "2(C-1)·alpha_row + 2(C-1)/C·n/B + 2(R-1)·alpha_col + 2(R-1)/(RC)·n/B", max(a_row, a_col), hop,
                    {"rows": R, "cols": C, "row_step_ps": t_row, "col_step_ps": t_col,
                     "critical_transmissions": 2 * (C - 1) * (k_row + h_row - 1) + 2 * (R - 1) * (k_col + h_col - 1)})


class RingBroadcast(CollectiveAlgorithm):
    name = "ring"
    description = "pipelined chain from the root along the ring order, chunk by chunk"

    def _order(self, plan):
        order = plan.package.ring_order()
        i = order.index(plan.root)
        return order[i:] + order[:i]

    def transfers(self, plan):
        b = _Builder(plan)
        order = self._order(plan)
        k = min(chunk_count(plan.nbytes, plan.chunk_bytes), max(1, plan.units))
        for seg in split(0, plan.units, k):
            deps: list[int] = []
            for u, v in zip(order, order[1:]):
                deps = [b.add(u, v, seg, deps, "copy")]
        return b.transfers

    def cost(self, plan):
        order = self._order(plan)
        edges = list(zip(order, order[1:]))
        t, alpha, kappa, k = _chunk_pipeline(plan, edges, plan.ranks - 1, Fraction(plan.nbytes))
        h = max(plan.package.hops(u, v) for u, v in edges)
        return Cost(t, "(p-1)·alpha + (p + k - 2)·c/B, c = n/k", alpha,
                    Fraction(plan.nbytes) * _hop_sum(plan.package, edges),
                    {"chunks": k, "kappa": kappa, "max_hops": h, "critical_transmissions": (plan.ranks - 1) * h + k - 1})


class TreeBroadcast(CollectiveAlgorithm):
    name = "tree"
    description = "pipelined binary heap tree rooted at the root, chunk by chunk"

    @staticmethod
    def _perm(plan):
        return [(plan.root + i) % plan.ranks for i in range(plan.ranks)]

    def transfers(self, plan):
        b = _Builder(plan)
        _tree_broadcast(b, self._perm(plan), (0, plan.units))
        return b.transfers

    def cost(self, plan):
        perm = self._perm(plan)
        edges = [(v, u) for u, v in _tree_edges(perm)]
        d = tree_depth(plan.ranks)
        t, alpha, kappa, k = _chunk_pipeline(plan, edges, d, Fraction(plan.nbytes))
        h = max(plan.package.hops(u, v) for u, v in edges)
        return Cost(t, "D·alpha + (D + k - 1)·c/B, c = n/k" + ("" if kappa == 1 else f"; pipeline period x{kappa}"),
                    alpha, Fraction(plan.nbytes) * _hop_sum(plan.package, edges),
                    {"depth": d, "chunks": k, "kappa": kappa, "max_hops": h, "critical_transmissions": d * h + k - 1})


def _a2a_blocks(plan: Plan) -> list[tuple[int, int]]:
    """All-to-all blocks: ``units // p`` units each (every pair exchanges the same amount, as in NCCL; the
    ``units mod p`` tail of the buffer is not sent)."""
    b = plan.units // plan.ranks
    return [(j * b, (j + 1) * b) for j in range(plan.ranks)]


class DirectAllToAll(CollectiveAlgorithm):
    name = "direct"
    description = "every rank sends block j to rank j at once (queued in shifted order j = i+1, i+2, ...); " \
                  "the package routes them and they share the links"

    def transfers(self, plan):
        b = _Builder(plan)
        p = plan.ranks
        blocks = _a2a_blocks(plan)
        for s in range(1, p):  # shifted order: at each position of the send queues every rank has one sender
            for i in range(p):
                j = (i + s) % p
                b.add(i, j, blocks[j], [], "copy", dst_seg=blocks[i], dst_buf="out")
        return b.transfers

    def cost(self, plan):
        pkg, p, n = plan.package, plan.ranks, Fraction(plan.nbytes)
        B, m = _bandwidth(plan), n / p
        load: dict[tuple[int, int], int] = {}
        hop, alpha, h_max = Fraction(0), 0, 0
        for i in range(p):
            for j in range(p):
                if i != j:
                    route = pkg.route(i, j)
                    for hp in route:
                        load[(hp.src, hp.dst)] = load.get((hp.src, hp.dst), 0) + 1
                    hop += m * len(route)
                    alpha = max(alpha, pkg.route_latency_ps(i, j))
                    h_max = max(h_max, len(route))
        max_load = max(load.values()) * m
        k = chunk_count(m, plan.chunk_bytes)
        t = alpha + max_load / B + (h_max - 1) * m / (k * B)
        return Cost(t, "alpha + max_link_load/B + (h-1)·c/B  (= alpha + n/(pB) on a full topology)", Fraction(alpha),
                    hop, {"max_link_load_bytes": max_load, "max_hops": h_max, "critical_transmissions": k + h_max - 1})


# --- collectives ---------------------------------------------------------------------------------
class Collective:
    """A collective operation: its NCCL bus-bandwidth factor, algorithms, and a functional check."""

    name: ClassVar[str] = ""
    algorithms: ClassVar[dict[str, CollectiveAlgorithm]] = {}
    default_algorithm: ClassVar[str] = "ring"

    def busbw_factor(self, p: int) -> float:  # pragma: no cover - abstract
        """NCCL's correction from algorithm to bus bandwidth (nccl-tests doc/PERFORMANCE.md)."""
        raise NotImplementedError

    def init_values(self, plan: Plan, rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
        """Per-rank int64 buffers before the collective (``data``; ``out`` for all-to-all)."""
        return {"data": [rng.integers(-1000, 1000, plan.units, dtype=np.int64) for _ in range(plan.ranks)]}

    def check(self, plan: Plan, before: dict[str, list[np.ndarray]], after: dict[str, list[np.ndarray]]) -> list[str]:
        """Problems (one line each) with the buffers after the collective; empty when it is correct."""
        raise NotImplementedError  # pragma: no cover - abstract


def _mismatch(what: str, got: np.ndarray, want: np.ndarray) -> list[str]:
    bad = np.flatnonzero(got != want)
    return [] if bad.size == 0 else [f"{what}: {bad.size} wrong elements, first at {int(bad[0])} "
                                     f"(got {int(got[bad[0]])}, want {int(want[bad[0]])})"]


class AllReduce(Collective):
    name = "allreduce"
    algorithms = {"ring": RingAllReduce(), "tree": TreeAllReduce(), "2d": Hierarchical2DAllReduce()}

    def busbw_factor(self, p):
        return 2 * (p - 1) / p

    def check(self, plan, before, after):
        total = np.sum(before["data"], axis=0)
        return [m for r in range(plan.ranks) for m in _mismatch(f"rank {r}", after["data"][r], total)]


class ReduceScatter(Collective):
    name = "reduce-scatter"
    algorithms = {"ring": RingReduceScatter()}

    def busbw_factor(self, p):
        return (p - 1) / p

    def check(self, plan, before, after):
        total = np.sum(before["data"], axis=0)
        blocks = split(0, plan.units, plan.ranks)
        return [m for r in range(plan.ranks)
                for m in _mismatch(f"rank {r} block {r}", after["data"][r][slice(*blocks[r])], total[slice(*blocks[r])])]


class AllGather(Collective):
    name = "all-gather"
    algorithms = {"ring": RingAllGather()}

    def busbw_factor(self, p):
        return (p - 1) / p

    def init_values(self, plan, rng):
        blocks = split(0, plan.units, plan.ranks)
        data = []
        for r in range(plan.ranks):
            buf = np.zeros(plan.units, dtype=np.int64)
            a, z = blocks[r]
            buf[a:z] = rng.integers(-1000, 1000, z - a)
            data.append(buf)
        return {"data": data}

    def check(self, plan, before, after):
        gathered = np.sum(before["data"], axis=0)  # blocks are disjoint: the sum is the concatenation
        return [m for r in range(plan.ranks) for m in _mismatch(f"rank {r}", after["data"][r], gathered)]


class Broadcast(Collective):
    name = "broadcast"
    algorithms = {"ring": RingBroadcast(), "tree": TreeBroadcast()}

    def busbw_factor(self, p):
        return 1.0

    def init_values(self, plan, rng):
        return {"data": [rng.integers(-1000, 1000, plan.units, dtype=np.int64) if r == plan.root
                         else np.zeros(plan.units, dtype=np.int64) for r in range(plan.ranks)]}

    def check(self, plan, before, after):
        return [m for r in range(plan.ranks) for m in _mismatch(f"rank {r}", after["data"][r], before["data"][plan.root])]


class AllToAll(Collective):
    name = "all-to-all"
    algorithms = {"direct": DirectAllToAll()}
    default_algorithm = "direct"

    def busbw_factor(self, p):
        return (p - 1) / p

    def init_values(self, plan, rng):
        vals = super().init_values(plan, rng)
        blocks = _a2a_blocks(plan)
        out = []
        for r in range(plan.ranks):
            buf = np.zeros(plan.units, dtype=np.int64)
            a, z = blocks[r]
            buf[a:z] = vals["data"][r][a:z]  # a rank's own block stays in place
            out.append(buf)
        vals["out"] = out
        return vals

    def check(self, plan, before, after):
        blocks = _a2a_blocks(plan)
        problems = []
        for j in range(plan.ranks):
            want = before["out"][j].copy()
            for i in range(plan.ranks):
                want[slice(*blocks[i])] = before["data"][i][slice(*blocks[j])]
            problems += _mismatch(f"rank {j} out", after["out"][j], want)
        return problems


COLLECTIVES: dict[str, Collective] = {c.name: c for c in (AllReduce(), ReduceScatter(), AllGather(), Broadcast(), AllToAll())}
ALGORITHMS: dict[str, list[str]] = {name: list(c.algorithms) for name, c in COLLECTIVES.items()}


def get_collective(name: str) -> Collective:
    if name not in COLLECTIVES:
        raise ConfigError(f"collective: must be one of {', '.join(COLLECTIVES)}, got {name!r}")
    return COLLECTIVES[name]


def get_algorithm(collective: str, algo: str | None) -> CollectiveAlgorithm:
    coll = get_collective(collective)
    algo = coll.default_algorithm if algo is None else algo
    if algo not in coll.algorithms:
        raise ConfigError(f"algo: must be one of {', '.join(coll.algorithms)} for {collective}, got {algo!r}")
    return coll.algorithms[algo]
