"""Routing: minimal, the turn-model restrictions hold, and the channel dependency graph (links x VC classes) is
acyclic for every algorithm the configs allow (deadlock freedom); without the dateline the torus/ring graph has a
cycle. Distances and the cycle search are computed here, independently of hwsim.noc."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from hwsim.noc import ROUTINGS, NocConfig, Topology, dateline_class
from hwsim.noc.routing import route_paths
from hwsim.noc.topology import EAST, LOCAL, NORTH, SOUTH, WEST

from .reference import distances


def has_cycle(edges: dict) -> bool:
    """Kahn's algorithm on a directed graph given as node -> set of successors."""
    nodes = set(edges) | {v for succ in edges.values() for v in succ}
    indeg = dict.fromkeys(nodes, 0)
    for succ in edges.values():
        for v in succ:
            indeg[v] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        u = ready.pop()
        seen += 1
        for v in edges.get(u, ()):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    return seen < len(nodes)


def all_moves(cfg: NocConfig):
    """Every (src, dst, current node, candidate ports) a packet can meet, following every candidate."""
    topo = Topology.of(cfg)
    routing = ROUTINGS[cfg.routing]
    for s in range(topo.nodes):
        for d in range(topo.nodes):
            frontier, seen = {(s, LOCAL)}, set()
            while frontier:
                state = frontier.pop()
                if state in seen:
                    continue
                seen.add(state)
                cur, came = state
                cand = [int(c) for c in routing.candidates(topo, np.array([cur]), np.array([s]), np.array([d]))[0]
                        if c >= 0]
                yield s, d, cur, came, cand
                for port in cand:
                    if port != LOCAL:
                        frontier.add((int(topo.neighbour[cur, port]), port))


CASES = [("mesh", "5x4", "xy"), ("mesh", "5x4", "west_first"), ("mesh", "5x4", "odd_even"), ("mesh", "4x4", "odd_even"),
         ("torus", "4x4", "xy"), ("torus", "5x3", "xy"), ("ring", "6", "xy"), ("ring", "7", "xy")]


@pytest.mark.parametrize("kind, size, routing", CASES)
def test_routes_are_minimal_and_end_at_the_destination(kind, size, routing):
    cfg = NocConfig(topology=kind, size=size, routing=routing)
    topo = Topology.of(cfg)
    dist = distances(kind, cfg.cols, cfg.rows)
    for s, d, cur, _came, cand in all_moves(cfg):
        assert cand, f"no route from {cur} for {s}->{d}"
        if cur == d:
            assert cand == [LOCAL]
            continue
        for port in cand:
            assert port != LOCAL
            nxt = int(topo.neighbour[cur, port])
            assert nxt >= 0 and dist[nxt][d] == dist[cur][d] - 1, (s, d, cur, port)


@pytest.mark.parametrize("kind, size, routing", CASES)
def test_channel_dependency_graph_is_acyclic(kind, size, routing):
    cfg = NocConfig(topology=kind, size=size, routing=routing)
    topo = Topology.of(cfg)
    dateline = cfg.dateline_classes == 2
    edges = defaultdict(set)
    for s, _d, cur, came, cand in all_moves(cfg):
        if came == LOCAL:
            continue
        prev = int(topo.neighbour[cur, {EAST: WEST, WEST: EAST, NORTH: SOUTH, SOUTH: NORTH}[came]])
        in_link = (prev, came)
        in_cls = int(dateline_class(topo, np.array([prev]), np.array([came]), np.array([s]))[0]) if dateline else 0
        for port in cand:
            if port == LOCAL:
                continue
            cls = int(dateline_class(topo, np.array([cur]), np.array([port]), np.array([s]))[0]) if dateline else 0
            edges[(in_link, in_cls)].add(((cur, port), cls))
    assert not has_cycle(edges)


@pytest.mark.parametrize("kind, size", [("torus", "5x4"), ("ring", "6")])
def test_without_the_dateline_the_ring_dependencies_form_a_cycle(kind, size):
    cfg = NocConfig(topology=kind, size=size, vcs=1, unsafe_no_dateline=True)
    topo = Topology.of(cfg)
    edges = defaultdict(set)
    for _s, _d, cur, came, cand in all_moves(cfg):
        if came == LOCAL:
            continue
        prev = int(topo.neighbour[cur, {EAST: WEST, WEST: EAST, NORTH: SOUTH, SOUTH: NORTH}[came]])
        for port in cand:
            if port != LOCAL:
                edges[(prev, came)].add((cur, port))
    assert has_cycle(edges)


def test_turn_model_restrictions():
    # west-first: once a packet has moved east, north or south it never turns west
    cfg = NocConfig(size="5x4", routing="west_first")
    for _s, _d, _cur, came, cand in all_moves(cfg):
        if came in (EAST, NORTH, SOUTH):
            assert WEST not in cand
    # odd-even (Chiu): no east->north/south turn in an even column, no north/south->west turn in an odd column
    cfg = NocConfig(size="6x4", routing="odd_even")
    topo = Topology.of(cfg)
    adaptive_choices = 0
    for _s, _d, cur, came, cand in all_moves(cfg):
        x = cur % topo.cols
        if came == EAST and x % 2 == 0:
            assert NORTH not in cand and SOUTH not in cand
        if came in (NORTH, SOUTH) and x % 2 == 1:
            assert WEST not in cand
        adaptive_choices += len(cand) > 1
    assert adaptive_choices > 100  # it is adaptive


def test_dateline_classes_by_hand():
    topo = Topology.of(NocConfig(topology="ring", size="6"))
    # a packet from node 4 going east to node 1: 4->5 class 0, 5->0 is the wrap link (class 1), 0->1 class 1
    cls = dateline_class(topo, np.array([4, 5, 0]), np.array([EAST] * 3), np.array([4] * 3))
    assert cls.tolist() == [0, 1, 1]
    # going west from 1 to 4: 1->0 class 0, 0->5 wrap class 1, 5->4 class 1
    cls = dateline_class(topo, np.array([1, 0, 5]), np.array([WEST] * 3), np.array([1] * 3))
    assert cls.tolist() == [0, 1, 1]


def test_torus_ties_split_by_source_parity():
    cfg = NocConfig(topology="torus", size="4x4")
    topo = Topology.of(cfg)
    paths = route_paths(topo, ROUTINGS["xy"], np.array([0, 1]), np.array([2, 3]))  # distance 2 = k/2 both ways
    assert [int(p[0] % topo.ports) for p in paths] == [EAST, WEST]
    with pytest.raises(ValueError, match="adaptive"):
        route_paths(topo, ROUTINGS["west_first"], np.array([0]), np.array([1]))
