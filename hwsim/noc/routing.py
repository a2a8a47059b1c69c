"""Routing algorithms (one strategy object each) and the dateline VC classes of torus and ring.

Every algorithm is minimal and vectorised: :meth:`Routing.candidates` takes arrays of current,
source and destination nodes and returns, per packet, up to two output ports it may take next
(``-1`` pads; the local port 0 means "eject here"). Deterministic algorithms return one candidate.

* ``xy`` (:class:`DimensionOrder`): all of x first, then y. On a mesh it is deadlock-free with one VC
  (no y-to-x turn, so the channel dependency graph is acyclic). On torus and ring each dimension is a
  ring; a packet goes the shorter way round (ties, at distance exactly k/2, go east/north from an even
  source coordinate and west/south from an odd one, to balance the two directions), and
  :func:`dateline_class` splits the VCs into two classes to break the cycle of each ring.
* ``west_first`` (:class:`WestFirst`, Glass & Ni 1992): a packet that must go west goes west first
  (deterministically); otherwise it may take any productive direction among east, north, south.
  The two turns into west are forbidden, which breaks every cycle of the mesh.
* ``odd_even`` (:class:`OddEven`, Chiu 2000): no east-to-north/south turn in an even column and no
  north/south-to-west turn in an odd column; minimal and adaptive in both directions.

The adaptive algorithms return every permitted productive port; the CL face picks one per hop by
downstream free VCs and credits (:mod:`hwsim.noc.cl`), the cost face splits the load evenly.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hwsim.noc.topology import EAST, LOCAL, NORTH, SOUTH, WEST, Topology


def _signed_steps(cur, dst, k, wrap: bool, entry):
    """Per packet: +1, -1 or 0, the direction to travel along one dimension of extent ``k``.
    On a ring (``wrap``) the shorter way; at distance exactly k/2 by the parity of the entry coordinate."""
    if not wrap:
        return np.sign(dst - cur)
    fwd = (dst - cur) % k
    back = k - fwd
    step = np.where(fwd == 0, 0, np.where(fwd < back, 1, np.where(fwd > back, -1, np.where(entry % 2 == 0, 1, -1))))
    return step


class Routing:
    """A routing algorithm: candidate output ports from (current, source, destination)."""

    name: ClassVar[str] = ""
    adaptive: ClassVar[bool] = False

    def candidates(self, topo: Topology, cur: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """``(n, 2)`` int64 array of permitted output ports, ``-1`` padded; ``[LOCAL, -1]`` at the destination."""
        raise NotImplementedError  # pragma: no cover - abstract


class DimensionOrder(Routing):
    """x first, then y; the shorter way round on torus/ring dimensions."""

    name = "xy"

    def candidates(self, topo, cur, src, dst):
        wrap = topo.kind != "mesh"
        xc, yc = topo.coords(cur)
        xs, ys = topo.coords(src)
        xd, yd = topo.coords(dst)
        sx = _signed_steps(xc, xd, topo.cols, wrap, xs)
        sy = _signed_steps(yc, yd, topo.rows, wrap, ys)
        port = np.where(sx > 0, EAST, np.where(sx < 0, WEST, np.where(sy > 0, NORTH, np.where(sy < 0, SOUTH, LOCAL))))
        out = np.full((port.shape[0], 2), -1, dtype=np.int64)
        out[:, 0] = port
        return out


class WestFirst(Routing):
    """West first (deterministic), then adaptively among the productive east/north/south ports (mesh)."""

    name = "west_first"
    adaptive = True

    def candidates(self, topo, cur, src, dst):
        xc, yc = topo.coords(cur)
        xd, yd = topo.coords(dst)
        dx, dy = xd - xc, yd - yc
        yport = np.where(dy > 0, NORTH, np.where(dy < 0, SOUTH, -1))
        out = np.full((cur.shape[0], 2), -1, dtype=np.int64)
        west = dx < 0
        out[:, 0] = np.where(west, WEST, np.where(dx > 0, EAST, yport))
        out[:, 1] = np.where(~west & (dx > 0), yport, -1)
        out[(dx == 0) & (dy == 0), 0] = LOCAL
        return out


class OddEven(Routing):
    """Chiu's odd-even turn model (minimal, adaptive, mesh), procedure ROUTE of the paper."""

    name = "odd_even"
    adaptive = True

    def candidates(self, topo, cur, src, dst):
        xc, yc = topo.coords(cur)
        xs, _ = topo.coords(src)
        xd, yd = topo.coords(dst)
        e0, e1 = xd - xc, yd - yc
        yport = np.where(e1 > 0, NORTH, np.where(e1 < 0, SOUTH, -1))
        out = np.full((cur.shape[0], 2), -1, dtype=np.int64)
        # e0 == 0: straight along y (or local)
        same_col = e0 == 0
        out[same_col, 0] = np.where(yport[same_col] >= 0, yport[same_col], LOCAL)
        # eastbound
        east = e0 > 0
        y_ok = east & (e1 != 0) & ((xc % 2 == 1) | (xc == xs))
        e_ok = east & ((e1 == 0) | (xd % 2 == 1) | (e0 != 1))
        out[e_ok, 0] = EAST
        out[y_ok & e_ok, 1] = yport[y_ok & e_ok]
        out[y_ok & ~e_ok, 0] = yport[y_ok & ~e_ok]
        # westbound
        west = e0 < 0
        out[west, 0] = WEST
        wy = west & (xc % 2 == 0) & (e1 != 0)
        out[wy, 1] = yport[wy]
        return out


ROUTINGS: dict[str, Routing] = {r.name: r for r in (DimensionOrder(), WestFirst(), OddEven())}


def dateline_class(topo: Topology, cur: np.ndarray, port: np.ndarray, src: np.ndarray) -> np.ndarray:
    """VC class (0 or 1) a packet at ``cur`` leaving through ``port`` must take on a torus/ring with dimension-order
    routing.

    Each ring of a dimension has a dateline: its wrap-around link (from the last coordinate to 0 going
    east/north, from 0 to the last going west/south). A packet enters a dimension in class 0 and moves to
    class 1 when it crosses the dateline, i.e. on the wrap link itself and on every link after it in that
    dimension. With x first, the packet enters the x ring at ``src_x`` and the y ring at ``src_y``, so it
    has crossed the x dateline going east exactly when ``x < src_x`` (west: ``x > src_x``). Minimal routes
    are shorter than the ring, so no packet crosses a dateline twice: class-0 channels never depend on the
    wrap link and class-1 channels never depend on a channel before it, and neither class has a cycle.
    """
    xc, yc = topo.coords(cur)
    xs, ys = topo.coords(src)
    last_x, last_y = topo.cols - 1, topo.rows - 1
    cls = np.zeros(np.shape(cur), dtype=np.int64)
    cls = np.where(port == EAST, (xc < xs) | (xc == last_x), cls)
    cls = np.where(port == WEST, (xc > xs) | (xc == 0), cls)
    cls = np.where(port == NORTH, (yc < ys) | (yc == last_y), cls)
    cls = np.where(port == SOUTH, (yc > ys) | (yc == 0), cls)
    return cls.astype(np.int64)


def route_paths(topo: Topology, routing: Routing, src: np.ndarray, dst: np.ndarray) -> list[np.ndarray]:
    """Deterministic routing only: for each (src, dst) the link indices (``router * ports + port``) in path order."""
    if routing.adaptive:
        raise ValueError(f"{routing.name!r} is adaptive: its paths depend on the network state")
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    cur = src.copy()
    hops: list[list[int]] = [[] for _ in range(src.size)]
    live = np.flatnonzero(cur != dst)
    while live.size:
        port = routing.candidates(topo, cur[live], src[live], dst[live])[:, 0]
        links = cur[live] * topo.ports + port
        for i, link in zip(live.tolist(), links.tolist()):
            hops[i].append(link)
        cur[live] = topo.neighbour[cur[live], port]
        live = live[cur[live] != dst[live]]
    return [np.asarray(h, dtype=np.int64) for h in hops]
