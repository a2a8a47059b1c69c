"""Topologies: router coordinates, ports, neighbours, links, distances and the bisection bound.

Nodes are numbered ``id = y * cols + x``. Every router has a local port (0: injection from and
ejection to its network interface) and one port per direction: ``east`` (+x), ``west`` (-x),
``north`` (+y), ``south`` (-y). A ring of N nodes is handled as N columns by one row with only the
local, east (clockwise, +1) and west (counter-clockwise, -1) ports. A mesh has no links at its edges;
torus and ring have wrap-around links in every dimension.

A *link* is one direction of a channel between two routers, named by its upstream router and output
port, and indexed ``router * ports + port`` (the same index the stats arrays use).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwsim.noc.config import NocConfig

LOCAL, EAST, WEST, NORTH, SOUTH = 0, 1, 2, 3, 4
PORT_NAMES = ("local", "east", "west", "north", "south")
OPPOSITE = (LOCAL, WEST, EAST, SOUTH, NORTH)


@dataclass(frozen=True)
class Topology:
    """Geometry of one network: ``kind`` (mesh/torus/ring), ``cols`` x ``rows`` routers, ``ports`` per router."""

    kind: str
    cols: int
    rows: int
    ports: int = field(init=False)
    neighbour: np.ndarray = field(init=False, repr=False)  # (nodes, ports) downstream router of each port, -1 = none

    def __post_init__(self):
        object.__setattr__(self, "ports", 3 if self.kind == "ring" else 5)
        n = self.nodes
        x, y = self.coords(np.arange(n))
        wrap = self.kind != "mesh"
        nb = np.full((n, self.ports), -1, dtype=np.int64)
        for port, dx, dy in ((EAST, 1, 0), (WEST, -1, 0), (NORTH, 0, 1), (SOUTH, 0, -1)):
            if port >= self.ports:
                continue
            nx, ny = x + dx, y + dy
            if wrap:
                nx, ny = nx % self.cols, ny % self.rows
                ok = np.ones(n, bool) if (dx and self.cols > 1) or (dy and self.rows > 1) else np.zeros(n, bool)
            else:
                ok = (nx >= 0) & (nx < self.cols) & (ny >= 0) & (ny < self.rows)
            nb[ok, port] = (ny * self.cols + nx)[ok]
        object.__setattr__(self, "neighbour", nb)

    @classmethod
    def of(cls, cfg: NocConfig) -> "Topology":
        return cls(cfg.topology, cfg.cols, cfg.rows)

    @property
    def nodes(self) -> int:
        return self.cols * self.rows

    def coords(self, node):
        """``(x, y)`` of node ids (ints or arrays)."""
        return node % self.cols, node // self.cols

    def node(self, x: int, y: int = 0) -> int:
        return y * self.cols + x

    def name(self, node: int) -> str:
        """``(x,y)`` for 2-D networks, the id for a ring."""
        if self.kind == "ring":
            return str(int(node))
        x, y = self.coords(int(node))
        return f"({x},{y})"

    def port_name(self, port: int) -> str:
        if self.kind == "ring":
            return ("local", "cw", "ccw")[port]
        return PORT_NAMES[port]

    def links(self) -> np.ndarray:
        """Indices ``router * ports + port`` of every existing router-to-router link."""
        return np.flatnonzero(self.neighbour.reshape(-1) >= 0)

    def link_name(self, index: int) -> str:
        r, p = divmod(int(index), self.ports)
        return f"{self.name(r)}->{self.name(int(self.neighbour[r, p]))} {self.port_name(p)}"

    def output_names(self) -> list[str]:
        """A name for every output index ``router * ports + port``: ``(x,y) eject`` for port 0, ``(x,y)->(x',y')
        east`` for a link, ``(x,y) north (none)`` for a port without a link (mesh edges)."""
        names = []
        for i in range(self.nodes * self.ports):
            r, p = divmod(i, self.ports)
            if p == LOCAL:
                names.append(f"{self.name(r)} eject")
            elif self.neighbour[r, p] >= 0:
                names.append(self.link_name(i))
            else:
                names.append(f"{self.name(r)} {self.port_name(p)} (none)")
        return names

    def hops(self, src, dst):
        """Minimal hop count (router-to-router links) between nodes; every routing algorithm here is minimal."""
        xs, ys = self.coords(np.asarray(src))
        xd, yd = self.coords(np.asarray(dst))
        dx, dy = np.abs(xd - xs), np.abs(yd - ys)
        if self.kind != "mesh":
            dx = np.minimum(dx, self.cols - dx)
            dy = np.minimum(dy, self.rows - dy)
        return dx + dy

    def bisection_channels(self) -> int:
        """Unidirectional channels crossing the middle cut of the longest dimension, per direction: ``rows`` for a
        mesh cut across x (2 x rows on a torus, whose wrap links cross the cut too; 2 on a ring)."""
        other = self.rows if self.cols >= self.rows else self.cols
        return other * (1 if self.kind == "mesh" else 2)

    def uniform_bisection_bound(self) -> float:
        """Largest injection rate (flits/node/cycle) uniform-random traffic (destinations uniform over the N-1
        other nodes) can sustain before the bisection channels saturate.

        Cutting the longest dimension in the middle leaves ``n1`` and ``n2 = N - n1`` nodes on the two sides.
        A flit crosses the cut from side 1 with probability ``n2 / (N - 1)``, so ``n1 n2 lambda / (N - 1)``
        flits per cycle cross it in each direction, over ``B`` channels of one flit per cycle each:
        ``lambda <= B (N - 1) / (n1 n2)``. For a k x k mesh (k even) this is ``4 (k^2 - 1) / k^3`` (about
        ``4 / k``; 0.492 for 8 x 8); for a k x k torus twice that; for a ring of N, ``8 (N - 1) / N^2``.
        """
        longest = max(self.cols, self.rows)
        other = self.nodes // longest
        n1 = (longest // 2) * other
        n2 = self.nodes - n1
        return self.bisection_channels() * (self.nodes - 1) / (n1 * n2)
