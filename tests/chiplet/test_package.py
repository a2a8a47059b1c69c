"""Packages: topologies (edges, dimension-order and shortest-path routes, ring embeddings), area by hand,
config errors."""

from __future__ import annotations

import math

import pytest

from hwsim.chiplet.link import load_link
from hwsim.chiplet.package import MeshTopology, PackageConfig, folded_line_order
from hwsim.errors import ConfigError


def pkg(p, topo, **kw):
    return PackageConfig.uniform(p, topo, **kw).build()


def ring_hops(package):
    order = package.ring_order()
    assert sorted(order) == list(range(package.ranks))
    return [package.hops(order[i], order[(i + 1) % len(order)]) for i in range(len(order))]


def test_mesh_xy_routing_and_edges():
    m = pkg(12, {"kind": "mesh", "rows": 3, "cols": 4})
    assert len(m.edges) == 3 * 3 + 2 * 4  # horizontal + vertical links
    # die 0 at (0,0) to die 11 at (2,3): first along row 0 to column 3, then down column 3
    assert [(h.src, h.dst) for h in m.route(0, 11)] == [(0, 1), (1, 2), (2, 3), (3, 7), (7, 11)]
    assert [(h.src, h.dst) for h in m.route(11, 0)] == [(11, 10), (10, 9), (9, 8), (8, 4), (4, 0)]
    assert m.hops(5, 5) == 0 and m.route(5, 5) == ()
    assert m.route_latency_ps(0, 11) == 5 * 2000


def test_ring_routes_take_the_short_way_clockwise_on_ties():
    r = pkg(8, "ring")
    assert [h.dst for h in r.route(1, 3)] == [2, 3]
    assert [h.dst for h in r.route(1, 7)] == [0, 7]
    assert [h.dst for h in r.route(0, 4)] == [1, 2, 3, 4]  # tie: clockwise
    assert len(r.edges) == 8 and len(pkg(2, "ring").edges) == 1


def test_full_and_switch_routes():
    f = pkg(5, "full")
    assert len(f.edges) == 10 and all(f.hops(a, b) == 1 for a in range(5) for b in range(5) if a != b)
    s = pkg(4, {"kind": "switch", "latency_ns": 7.5})
    assert [(h.src, h.dst, h.node_delay_ps) for h in s.route(1, 3)] == [(1, 4, 7500), (4, 3, 0)]
    assert s.route_latency_ps(1, 3) == 2 * 2000 + 7500


@pytest.mark.parametrize("rows, cols, hops", [
    (2, 2, [1] * 4), (2, 4, [1] * 8), (4, 4, [1] * 16), (3, 4, [1] * 12), (4, 3, [1] * 12), (2, 8, [1] * 16),
])
def test_mesh_ring_is_hamiltonian_when_a_side_is_even(rows, cols, hops):
    assert ring_hops(pkg(rows * cols, {"kind": "mesh", "rows": rows, "cols": cols})) == hops


def test_mesh_rings_without_hamiltonian_cycle():
    line = pkg(5, {"kind": "mesh", "rows": 1, "cols": 5})
    assert line.ring_order() == folded_line_order(5) == [0, 2, 4, 3, 1]
    assert max(ring_hops(line)) == 2
    odd = pkg(9, {"kind": "mesh", "rows": 3, "cols": 3})
    assert sorted(ring_hops(odd)) == [1] * 8 + [4]  # snake closed by the route back to die 0
    # the ring edges of each embedding use every directed link at most once (no contention in a ring step)
    for p in (line, odd, pkg(7, {"kind": "mesh", "rows": 7, "cols": 1})):
        order = p.ring_order()
        used = [(h.src, h.dst) for i in range(len(order)) for h in p.route(order[i], order[(i + 1) % len(order)])]
        assert len(used) == len(set(used))


def test_default_mesh_is_most_square():
    assert pkg(16, "mesh").topology == MeshTopology(rows=4, cols=4)
    assert pkg(8, "mesh").topology == MeshTopology(rows=2, cols=4)
    assert pkg(7, "mesh").topology == MeshTopology(rows=1, cols=7)
    assert pkg(8, "mesh", mesh_rows=4).topology == MeshTopology(rows=4, cols=2)


def test_area_by_hand():
    link = load_link("ucie-advanced")
    module = 0.3888 * 0.9756
    r = pkg(4, "ring", die_area_mm2=50.0, modules_per_edge=2).area()
    assert [d["links"] for d in r["dies"]] == [2, 2, 2, 2]
    assert r["dies"][0]["phy_mm2"] == pytest.approx(2 * 2 * module)
    assert r["dies"][0]["shoreline_mm"] == pytest.approx(2 * 2 * 0.3888)
    assert r["dies"][0]["shoreline_fraction"] == pytest.approx(4 * 0.3888 / (4 * math.sqrt(50)))
    assert r["total_area_mm2"] == pytest.approx(4 * 50 + 4 * 4 * module)
    m = pkg(6, {"kind": "mesh", "rows": 2, "cols": 3}).area()
    assert [d["links"] for d in m["dies"]] == [2, 3, 2, 2, 3, 2] and m["links"] == 7
    assert m["total_phy_mm2"] == pytest.approx(2 * 7 * link.phy_area_mm2)
    s = pkg(4, {"kind": "switch", "area_mm2": 30.0}).area()
    assert s["switch"]["links"] == 4 and s["switch"]["area_mm2"] == pytest.approx(30 + 4 * module)
    assert s["total_area_mm2"] == pytest.approx(4 * (100 + module) + 30 + 4 * module)
    assert s["warnings"] == []


def test_hbm_stacks_and_shoreline_warning():
    cfg = PackageConfig.parse({
        "dies": [{"name": f"d{i}", "area_mm2": 1.0, "hbm_stacks": 2} for i in range(6)],
        "topology": {"kind": "full"}, "link": "ucie-standard", "modules_per_edge": 2})
    a = cfg.build().area()
    assert a["hbm_stacks"] == 12
    assert len(a["warnings"]) == 6
    assert a["warnings"][0] == "dies[0] (d0): D2D shoreline 5.71 mm exceeds the perimeter 4 mm of a square 1 mm2 die"
    assert cfg.edge_link.modules == 2 and cfg.link.modules == 1


def test_package_errors_are_one_line_each():
    with pytest.raises(ConfigError) as e:
        PackageConfig.parse({"dies": [{"name": "a", "area_mm2": 1}, {"name": "a", "area_mm2": 2}, {"name": "b", "area_mm2": 3}],
                             "topology": {"kind": "mesh", "rows": 2, "cols": 2}, "link": "ucie-advanced"})
    assert e.value.problems == [
        "package: topology.rows x topology.cols must equal the number of dies (3), got 2 x 2 = 4; dies: names must be "
        "unique, got duplicates 'a'"]
    with pytest.raises(ConfigError) as e:
        PackageConfig.parse({"dies": [{"name": "a", "area_mm2": 0}], "topology": {"kind": "torus"}, "link": "nvlink"})
    assert e.value.problems == [
        "package.dies[0].area_mm2: Input should be greater than 0, got 0",
        "package.topology: Input tag 'torus' found using 'kind' does not match any of the expected tags: 'mesh', "
        "'ring', 'full', 'switch', got {'kind': 'torus'}",
        "package.link: must be a D2D link preset (ucie-advanced, ucie-standard, custom) or a mapping of fields, "
        "got 'nvlink'"]
    with pytest.raises(ConfigError, match=r"^package.dies: List should have at least 2 items after validation, not 1"):
        PackageConfig.parse({"dies": [{"name": "a", "area_mm2": 1}], "topology": {"kind": "ring"}, "link": "ucie-advanced"})
    with pytest.raises(ConfigError, match=r"^topology: must be one of mesh, ring, full, switch, got 'tree'$"):
        PackageConfig.uniform(4, "tree")
    with pytest.raises(ConfigError, match=r"^mesh_rows: must be a divisor of ranks \(6\), got 4$"):
        PackageConfig.uniform(6, "mesh", mesh_rows=4)
    with pytest.raises(ConfigError, match=r"^ranks: must be an integer >= 2, got 1$"):
        PackageConfig.uniform(1)
