"""NoC configs (readable errors), topology geometry against an independent BFS, traffic patterns and traces."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from hwsim.errors import ConfigError, format_validation_error
from hwsim.noc import NocConfig, Topology, TrafficConfig, as_trace, synthetic_trace, traffic_matrix
from hwsim.noc.topology import EAST, NORTH, SOUTH, WEST

from .reference import adjacency, distances, mesh_uniform_bisection_bound


def lines(cls=NocConfig, root="noc", **kw):
    with pytest.raises(ValidationError) as err:
        cls(**kw)
    return format_validation_error(err.value, root)


def test_config_messages_name_field_and_value():
    assert lines(topology="torus", size="4x4", vcs=1) == [
        "noc.vcs: a torus needs >= 2 virtual channels for its two dateline classes (or unsafe_no_dateline=True for "
        "deadlock tests), got 1"]
    assert lines(topology="ring", size="8x8") == ["noc.size: must be the node count N for a ring (e.g. '16'), got '8x8'"]
    assert lines(size="8by8") == ["noc.size: must be 'COLSxROWS' for a mesh (e.g. '8x8'), got '8by8'"]
    assert lines(topology="torus", size="4x4", routing="odd_even") == [
        "noc.routing: 'odd_even' is a mesh turn model; use 'xy' on a torus, got 'odd_even'"]
    assert lines(unsafe_no_dateline=True) == ["noc.unsafe_no_dateline: only a torus or a ring has a dateline, got True "
                                              "for a mesh"]
    assert lines(topology="torus", size="1x4") == [
        "noc.size: a torus needs every extent >= 2 (use a ring for one row), got '1x4'"]
    assert lines(size="100x100") == ["noc.size: at most 4096 nodes, got '100x100' (10000 nodes)"]
    assert lines(vc_buffer_flits=0, colour="red") == [
        "noc.vc_buffer_flits: Input should be greater than or equal to 1, got 0",
        "noc.colour: unknown key (not a field of this config)"]
    assert lines(TrafficConfig, "traffic", packet_flits=2, packet_bytes=64) == [
        "traffic.packet_bytes: give packet_flits or packet_bytes, not both, got packet_bytes=64"]
    assert lines(TrafficConfig, "traffic", injection_rate=1.5) == [
        "traffic.injection_rate: Input should be less than or equal to 1, got 1.5"]
    with pytest.raises(ConfigError) as err:
        NocConfig.parse({"size": "8x", "router_cycles": 0})
    assert err.value.problems == ["noc.size: must be 'COLSxROWS' for a mesh (e.g. '8x8'), got '8x'",
                                  "noc.router_cycles: Input should be greater than or equal to 1, got 0"]


def test_sizes_and_packet_bytes():
    assert (NocConfig(size="8x4").cols, NocConfig(size="8x4").rows, NocConfig(size="8x4").nodes) == (8, 4, 32)
    ring = NocConfig(topology="ring", size=12)
    assert (ring.cols, ring.rows, ring.nodes, ring.dateline_classes) == (12, 1, 12, 2)
    cfg = NocConfig(flit_bytes=16)
    assert [cfg.packet_flits(b) for b in (1, 16, 17, 64, 0)] == [1, 1, 2, 4, 1]
    assert TrafficConfig(packet_bytes=100).flits(cfg) == 7
    assert TrafficConfig().flits(cfg) == 4


@pytest.mark.parametrize("kind, size", [("mesh", "4x4"), ("mesh", "5x3"), ("mesh", "6x1"), ("torus", "4x4"),
                                        ("torus", "5x3"), ("torus", "2x3"), ("ring", "7"), ("ring", "2")])
def test_topology_matches_independent_geometry(kind, size):
    cfg = NocConfig(topology=kind, size=size, vcs=2)
    topo = Topology.of(cfg)
    adj = adjacency(kind, cfg.cols, cfg.rows)
    for node in range(topo.nodes):
        assert set(topo.neighbour[node][topo.neighbour[node] >= 0].tolist()) == adj[node]
    dist = distances(kind, cfg.cols, cfg.rows)
    src, dst = np.meshgrid(np.arange(topo.nodes), np.arange(topo.nodes), indexing="ij")
    assert topo.hops(src, dst).tolist() == dist
    # east/north go +1 in x/y, and west/south lead back
    x, y = topo.coords(np.arange(topo.nodes))
    pairs = ((EAST, WEST, 0, cfg.cols),) if kind == "ring" else ((EAST, WEST, 0, cfg.cols), (NORTH, SOUTH, 1, cfg.rows))
    for fwd, back, axis, extent in pairs:
        nxt = topo.neighbour[:, fwd]
        ok = np.flatnonzero(nxt >= 0)
        assert ((topo.coords(nxt[ok])[axis] - (x, y)[axis][ok]) % extent == 1).all()
        assert (topo.neighbour[nxt[ok], back] == ok).all()


@pytest.mark.parametrize("k", [2, 4, 8, 16])
def test_bisection_bound_of_a_k_by_k_mesh(k):
    topo = Topology.of(NocConfig(size=f"{k}x{k}"))
    assert topo.uniform_bisection_bound() == pytest.approx(mesh_uniform_bisection_bound(k), rel=1e-12)
    assert topo.uniform_bisection_bound() == pytest.approx(4 * (k * k - 1) / k ** 3, rel=1e-12)
    torus = Topology.of(NocConfig(topology="torus", size=f"{k}x{k}"))
    assert torus.uniform_bisection_bound() == pytest.approx(2 * mesh_uniform_bisection_bound(k), rel=1e-12)


def test_traffic_matrices():
    cfg = NocConfig(size="4x4")
    u = traffic_matrix(cfg, TrafficConfig(injection_rate=0.3))
    assert np.allclose(u.sum(axis=1), 0.3) and np.all(np.diag(u) == 0)
    t = traffic_matrix(cfg, TrafficConfig(pattern="transpose", injection_rate=0.5))
    for s in range(16):
        x, y = s % 4, s // 4
        d = x * 4 + y
        assert t[s].sum() == (0 if d == s else 0.5) and (d == s or t[s, d] == 0.5)
    b = traffic_matrix(cfg, TrafficConfig(pattern="bit_complement", injection_rate=1.0))
    assert [int(np.argmax(b[s])) for s in range(16)] == [15 - s for s in range(16)]
    h = traffic_matrix(cfg, TrafficConfig(pattern="hotspot", injection_rate=1.0, hotspot_nodes=(5, 10),
                                          hotspot_fraction=0.4))
    assert np.allclose(h.sum(axis=1), 1.0) and np.all(np.diag(h) == 0)
    assert h[0, 5] == pytest.approx(0.2 + 0.6 / 15) and h[0, 1] == pytest.approx(0.6 / 15)
    assert h[5, 10] == pytest.approx(0.2 + (0.6 + 0.2) / 15)  # 5's own hotspot draws are redrawn uniformly
    with pytest.raises(ConfigError, match=r"'transpose' needs a square network, got 4x2"):
        traffic_matrix(NocConfig(size="4x2"), TrafficConfig(pattern="transpose"))
    with pytest.raises(ConfigError, match=r"hotspot_nodes: node ids must be in \[0, 16\), got 16"):
        traffic_matrix(cfg, TrafficConfig(pattern="hotspot", hotspot_nodes=(16,)))


def test_synthetic_trace_is_seeded_and_follows_the_pattern():
    cfg = NocConfig(size="4x4")
    traffic = TrafficConfig(pattern="hotspot", injection_rate=0.4, hotspot_nodes=(3,), hotspot_fraction=0.5, seed=7)
    a, b = synthetic_trace(cfg, traffic, 4000), synthetic_trace(cfg, traffic, 4000)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("cycle", "src", "dst", "flits"))
    c = synthetic_trace(cfg, traffic.model_copy(update={"seed": 8}), 4000)
    assert not np.array_equal(a.dst, c.dst)
    assert np.all(np.diff(a.cycle) >= 0) and np.all(a.src != a.dst)
    # Bernoulli rate: 0.4 flits/node/cycle in 4-flit packets
    assert a.total_flits / (16 * 4000) == pytest.approx(0.4, rel=0.05)
    # empirical destination shares against the matrix
    share = np.bincount(a.dst, minlength=16) / len(a)
    expected = traffic_matrix(cfg, traffic).sum(axis=0) / traffic_matrix(cfg, traffic).sum()
    assert np.abs(share - expected).max() < 0.02
    silent = synthetic_trace(cfg, TrafficConfig(pattern="transpose", injection_rate=0.5), 500)
    assert set(silent.src.tolist()).isdisjoint({0, 5, 10, 15})


def test_trace_records_are_validated_and_sorted():
    cfg = NocConfig(size="4x4", flit_bytes=8)
    tr = as_trace(cfg, [(9, 1, 2, 64), (3, 0, 5, 1), (3, 0, 6, 17)])
    assert tr.cycle.tolist() == [3, 3, 9] and tr.flits.tolist() == [1, 3, 8] and tr.order.tolist() == [1, 2, 0]
    assert as_trace(cfg, [(0, 1, 2, 5)], size_unit="flits").flits.tolist() == [5]
    with pytest.raises(ConfigError) as err:
        as_trace(cfg, [(0, 1, 16, 4), (-1, 0, 1, 4), (0, 0, 1, 0), (0, 2.5, 1, 4)])
    assert err.value.problems == ["trace[1].cycle: must be >= 0, got -1", "trace[3].src: must be an integer, got 2.5",
                                  "trace[0].dst: must be a node id in [0, 16), got 16",
                                  "trace[2].size: must be >= 1, got 0"]
    with pytest.raises(ConfigError, match="size_unit: must be 'bytes' or 'flits', got 'words'"):
        as_trace(cfg, [(0, 1, 2, 3)], size_unit="words")
    with pytest.raises(ConfigError, match=r"records must be \(cycle, src, dst, size\) 4-tuples"):
        as_trace(cfg, [(0, 1, 2)])
    assert len(as_trace(cfg, [])) == 0
