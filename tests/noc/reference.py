"""Independent references for the NoC tests: adjacency and hop distances by breadth-first search over links built
here from coordinates (not from hwsim.noc.topology), the zero-load closed form and the bisection bound."""

from __future__ import annotations

from collections import deque


def adjacency(kind: str, cols: int, rows: int) -> dict[int, set[int]]:
    """Neighbours of every node: 4-neighbour grid, wrapped on torus and ring (a ring is cols x 1)."""
    adj: dict[int, set[int]] = {n: set() for n in range(cols * rows)}
    for y in range(rows):
        for x in range(cols):
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nx, ny = x + dx, y + dy
                if kind == "mesh":
                    if not (0 <= nx < cols and 0 <= ny < rows):
                        continue
                else:
                    if (dy and rows == 1) or (dx and cols == 1):
                        continue
                    nx, ny = nx % cols, ny % rows
                if (nx, ny) != (x, y):
                    adj[y * cols + x].add(ny * cols + nx)
    return adj


def distances(kind: str, cols: int, rows: int) -> list[list[int]]:
    """All-pairs hop distances by BFS."""
    adj = adjacency(kind, cols, rows)
    n = cols * rows
    out = []
    for s in range(n):
        dist = [-1] * n
        dist[s] = 0
        q = deque([s])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    q.append(v)
        out.append(dist)
    return out


def zero_load(hops: int, flits: int, router_cycles: int, link_cycles: int) -> int:
    """A packet alone in the network: the head spends router_cycles in each of the hops + 1 routers and link_cycles on
    each of the hops links; the tail arrives flits - 1 cycles after the head."""
    return (hops + 1) * router_cycles + hops * link_cycles + flits - 1


def mesh_uniform_bisection_bound(k: int) -> float:
    """k x k mesh, k even, destinations uniform over the other k^2 - 1 nodes: half the nodes send a fraction
    (k^2 / 2) / (k^2 - 1) of their flits across the middle cut, which has k channels per direction:
    (k^2 / 2) * lam * (k^2 / 2) / (k^2 - 1) <= k."""
    n = k * k
    return k * (n - 1) / (n / 2) ** 2
