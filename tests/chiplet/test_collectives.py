"""Collectives: the simulated face against the alpha-beta cost face (exact where the schedule is the
formula's, within stated bounds elsewhere), real data through every schedule, bandwidths, energy, retry."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hwsim.chiplet.collective import (
    ALGORITHMS, Plan, _tree_edges, double_binary_trees, get_algorithm, link_sharing, tree_depth,
)
from hwsim.chiplet.package import PackageConfig
from hwsim.chiplet.run import run_collective
from hwsim.errors import ConfigError

KIB = 1024
CHUNK = 16 * KIB


def package(p, topology, **kw):
    if topology == "mesh2":  # the mesh with the fewest rows >= 2 (a 1 x 2 line for p = 2)
        rows = 1 if p == 2 else min(r for r in range(2, p) if p % r == 0)
        topology = {"kind": "mesh", "rows": rows, "cols": p // rows}
    return PackageConfig.uniform(p, topology, **kw).build()


def both_faces(coll, algo, pkg, n, chunk=CHUNK, **kw):
    plan = Plan(pkg, n, chunk, 1, kw.get("root", 0))
    cost = get_algorithm(coll, algo).cost(plan)
    sim = run_collective(coll, pkg, n, algo, face="sim", chunk_bytes=chunk, **kw)
    return sim, cost


# Schedules whose simulated time is exactly the closed form: every step's routes take the same time and no
# two transfers of a step (or pipeline streams) share a link. Sizes are p x {256 B, 8 KiB, 96 KiB} so that
# every chunk's serialisation at 256 GB/s is a whole number of ps (multiples of 32 B).
EXACT = [
    ("allreduce", "ring", "ring"), ("allreduce", "ring", "full"), ("allreduce", "ring", "switch"),
    ("allreduce", "ring", "mesh"), ("allreduce", "tree", "full"), ("reduce-scatter", "ring", "ring"),
    ("reduce-scatter", "ring", "mesh"), ("all-gather", "ring", "ring"), ("all-gather", "ring", "switch"),
    ("broadcast", "ring", "ring"), ("broadcast", "ring", "mesh"), ("broadcast", "tree", "full"),
    ("all-to-all", "direct", "full"), ("all-to-all", "direct", "switch"),
]


@pytest.mark.parametrize("coll, algo, topology", EXACT, ids=["-".join(c) for c in EXACT])
def test_simulated_time_equals_formula_exactly(coll, algo, topology):
    for p in (2, 4, 8, 16):
        pkg = package(p, topology)
        for n in (p * 256, p * 8 * KIB, p * 96 * KIB):
            sim, cost = both_faces(coll, algo, pkg, n)
            assert cost.time_ps.denominator == 1, (p, n, cost.time_ps)
            assert sim.terms["time_ps_exact"] == cost.time_ps, (p, n, sim.time_ps, float(cost.time_ps))
            assert sim.hop_bytes == cost.hop_bytes


@pytest.mark.parametrize("p, rows", [(2, 1), (4, 2)])
def test_2d_allreduce_exact_on_meshes_with_rings_of_two(p, rows):
    pkg = package(p, {"kind": "mesh", "rows": rows, "cols": p // rows})
    for n in (p * 256, p * 8 * KIB, p * 96 * KIB):
        sim, cost = both_faces("allreduce", "2d", pkg, n)
        assert sim.terms["time_ps_exact"] == cost.time_ps


def test_textbook_formulas_by_hand():
    """The one-hop closed forms written out, on a ring / full package of ucie-advanced links."""
    L, B = 2000, Fraction(256, 1000)  # ps, bytes per ps
    for p in (2, 4, 8, 16):
        n = p * 96 * KIB
        ring, full = package(p, "ring"), package(p, "full")
        assert both_faces("allreduce", "ring", ring, n)[1].time_ps == 2 * (p - 1) * L + Fraction(2 * (p - 1), p) * n / B
        assert both_faces("reduce-scatter", "ring", ring, n)[1].time_ps == (p - 1) * L + Fraction(p - 1, p) * n / B
        d, trees = tree_depth(p), (2 if p >= 4 else 1)
        k = n // trees // CHUNK
        c = Fraction(n, trees * k)
        assert both_faces("allreduce", "tree", full, n)[1].time_ps == 2 * d * L + (2 * d + k - 1) * c / B
        k = n // CHUNK
        assert both_faces("broadcast", "ring", ring, n)[1].time_ps == (p - 1) * L + (p + k - 2) * Fraction(CHUNK) / B
        assert both_faces("broadcast", "tree", full, n)[1].time_ps == d * L + (d + k - 1) * Fraction(CHUNK) / B
        assert both_faces("all-to-all", "direct", full, n)[1].time_ps == L + Fraction(n, p) / B
    s = package(8, {"kind": "switch", "latency_ns": 5.0})
    n = 8 * 96 * KIB  # ring through the switch: alpha = 2L + 5 ns, plus one chunk of pipeline fill per step
    assert both_faces("allreduce", "ring", s, n)[1].time_ps == 14 * (2 * L + 5000 + Fraction(n, 8) / B + CHUNK / B)


@pytest.mark.parametrize("coll, algo, topology", [
    ("allreduce", "ring", "ring"), ("allreduce", "tree", "full"), ("broadcast", "ring", "ring"),
    ("broadcast", "tree", "full"), ("all-to-all", "direct", "full"), ("all-gather", "ring", "switch"),
])
@pytest.mark.parametrize("n", [1000, 12_345, 100_003])
def test_rounding_bound(coll, algo, topology, n):
    """Sizes that do not divide evenly: segments and chunks differ by a byte and each transmission is rounded
    up to a whole ps, so |sim - cost| <= (critical transmissions) x (1 ps + 1 byte / B)."""
    for p in (3, 8):
        pkg = package(p, topology)
        sim, cost = both_faces(coll, algo, pkg, n, chunk=4 * KIB)
        per = 1 + 1 / pkg.link.effective_bytes_per_ps
        assert abs(sim.terms["time_ps_exact"] - cost.time_ps) <= cost.terms["critical_transmissions"] * per


@pytest.mark.parametrize("coll, algo, topology", [
    ("allreduce", "2d", "mesh2"), ("allreduce", "2d", "mesh"), ("allreduce", "ring", {"kind": "mesh", "rows": 3, "cols": 3}),
    ("allreduce", "ring", {"kind": "mesh", "rows": 1, "cols": 6}), ("all-gather", "ring", {"kind": "mesh", "rows": 5, "cols": 1}),
])
def test_ring_embeddings_with_unequal_routes_are_bounded(coll, algo, topology):
    """Rings over lines (folded, hops 1 and 2) or a snake closed by a long route: no link is shared, so the
    data-driven schedule is at least the one-hop textbook time and at most the lockstep cost face (every step
    as slow as the slowest route)."""
    L, B = 2000, Fraction(256, 1000)
    for p in (6, 8, 9, 16) if isinstance(topology, str) else (None,):
        pkg = package(p, topology) if p else PackageConfig.uniform(
            topology["rows"] * topology["cols"], topology).build()
        if p and algo == "2d" and pkg.topology.rows * pkg.topology.cols != p:
            continue
        for n in (pkg.ranks * 8 * KIB, pkg.ranks * 96 * KIB):
            sim, cost = both_faces(coll, algo, pkg, n)
            if algo == "2d":
                R, C = pkg.topology.rows, pkg.topology.cols
                lower = 2 * (C - 1) * (L + Fraction(n, C) / B) + 2 * (R - 1) * (L + Fraction(n, R * C) / B)
            else:
                steps = cost.terms["steps"]
                lower = steps * (L + Fraction(n, pkg.ranks) / B)
            assert lower <= sim.terms["time_ps_exact"] <= cost.time_ps, (p, n, float(lower), sim.time_ps, float(cost.time_ps))


CONTENDED = [("allreduce", "tree", t) for t in ("ring", "mesh", "switch")] + \
            [("broadcast", "tree", t) for t in ("ring", "mesh", "switch")] + \
            [("all-to-all", "direct", t) for t in ("ring", "mesh")]


@pytest.mark.parametrize("coll, algo, topology", CONTENDED, ids=["-".join(c) for c in CONTENDED])
def test_contended_schedules_within_stated_bound(coll, algo, topology):
    """Where streams share links the cost face paces the pipeline by the busiest link (kappa streams, one chunk
    each per kappa c/B) or, for all-to-all, by its load. Stated bound: the simulated time is never below the
    busiest link's own bound (its bytes / B + L) and lies within [0.5, 1.5] x the cost face."""
    for p in (4, 8, 16):
        pkg = package(p, topology)
        for chunk in (4 * KIB, 32 * KIB):
            n = p * 32 * KIB
            sim, cost = both_faces(coll, algo, pkg, n, chunk=chunk)
            plan = Plan(pkg, n, chunk)
            load: dict = {}
            for t in get_algorithm(coll, algo).transfers(plan):
                for h in pkg.route(t.src, t.dst):
                    load[(h.src, h.dst)] = load.get((h.src, h.dst), 0) + t.nbytes
            floor = max(load.values()) / pkg.link.bytes_per_ps + pkg.link.latency_ps
            assert sim.terms["time_ps_exact"] >= floor
            assert 0.5 <= sim.time_ps / float(cost.time_ps) <= 1.5, (p, chunk, sim.time_ps / float(cost.time_ps))


COMBOS = [(c, a, t) for c, algos in ALGORITHMS.items() for a in algos
          for t in (("mesh",) if a == "2d" else ("ring", "mesh", "full", "switch"))]


@pytest.mark.parametrize("coll, algo, topology", COMBOS, ids=["-".join(c) for c in COMBOS])
def test_schedules_move_the_right_data(coll, algo, topology):
    """Real int64 data through the simulated schedule: every rank ends with the sum (all-reduce), its reduced
    block (reduce-scatter), every block (all-gather), the root's buffer (broadcast) or its blocks (all-to-all),
    for odd and even rank counts and sizes that do not divide evenly."""
    for p in (2, 3, 5, 8):
        pkg = package(p, topology if topology != "mesh" or p in (2, 3, 5) else "mesh2")
        for elems in (p, 7 * p + 3, 301):
            root = p - 1 if coll == "broadcast" else 0
            r = run_collective(coll, pkg, 8 * elems, algo, face="sim", chunk_bytes=64, root=root, check_values=True,
                               seed=p + elems)
            assert r.values_checked and r.problems == [], (p, elems, r.problems[:3])


def test_a_broken_schedule_is_caught():
    """The value check is not vacuous: dropping one transfer of a ring all-reduce leaves wrong sums."""
    from hwsim.chiplet.sim import execute
    from hwsim.chiplet.collective import get_collective

    pkg = package(4, "ring")
    plan = Plan(pkg, 8 * 40, 64, 8)
    transfers = get_algorithm("allreduce", "ring").transfers(plan)
    transfers[3].op = "copy"  # a reduce step that overwrites instead of adding
    coll = get_collective("allreduce")
    before = coll.init_values(plan, np.random.default_rng(0))
    after = {k: [a.copy() for a in v] for k, v in before.items()}
    execute(plan, transfers, after)
    assert coll.check(plan, before, after)


def test_double_binary_trees_are_complementary_and_link_disjoint():
    for p in range(4, 70):
        a, b = double_binary_trees(p)
        assert sorted(a) == sorted(b) == list(range(p))
        interior_a = {a[(i - 1) // 2] for i in range(1, p)}
        interior_b = {b[(i - 1) // 2] for i in range(1, p)}
        assert not interior_a & interior_b  # no rank forwards in both trees
        assert not {frozenset(e) for e in _tree_edges(a)} & {frozenset(e) for e in _tree_edges(b)}
        full = package(p, "full") if p <= 16 else None
        if full:
            streams = _tree_edges(a) + _tree_edges(b)
            assert link_sharing(full, streams + [(v, u) for u, v in streams]) == 1
    assert double_binary_trees(3) == [[0, 1, 2]]


def test_bandwidths_follow_nccl_definitions():
    p, n = 8, 8 * 96 * KIB
    pkg = package(p, "ring")
    factors = {"allreduce": 2 * (p - 1) / p, "reduce-scatter": (p - 1) / p, "all-gather": (p - 1) / p,
               "broadcast": 1.0, "all-to-all": (p - 1) / p}
    for coll, factor in factors.items():
        r = run_collective(coll, pkg, n)
        assert r.algbw_gbps == pytest.approx(n / (r.time_ps * 1e-12) / 1e9)
        assert r.busbw_gbps == pytest.approx(r.algbw_gbps * factor)
    # large ring all-reduce: busbw approaches the link bandwidth (NCCL's point of busbw)
    big = run_collective("allreduce", pkg, 1 << 30)
    assert 0.99 * 256 < big.busbw_gbps <= 256
    d = big.to_dict()
    assert {"time_us", "algbw_gbps", "busbw_gbps", "energy_uj", "link_bandwidth_gbps", "link_latency_ns"} <= set(d)
    assert d["link_bandwidth_gbps"] == 256.0 and d["link_latency_ns"] == 2.0


def test_energy_is_bits_over_links_times_pj_per_bit():
    p, n = 8, 8 * 96 * KIB
    for topo in ("ring", "mesh", "switch"):
        pkg = package(p, topo)
        sim = run_collective("allreduce", pkg, n, "tree", face="sim")
        cost = run_collective("allreduce", pkg, n, "tree")
        assert sim.hop_bytes == cost.hop_bytes and sim.wire_bits == cost.wire_bits == 8 * cost.hop_bytes
        assert sim.energy_uj == pytest.approx(cost.hop_bytes * 8 * 0.3 / 1e6)
    ring = run_collective("allreduce", package(p, "ring"), n)
    assert ring.hop_bytes == 2 * (p - 1) * n  # 2(p-1) steps x p ranks x n/p bytes x 1 hop
    std = run_collective("allreduce", package(p, "ring", link="ucie-standard"), n)
    assert std.energy_uj == pytest.approx(ring.energy_uj * 0.6 / 0.3)


def test_retry_expected_and_sampled():
    p, n = 4, 4 * 96 * KIB
    clean = package(p, "ring")
    noisy = package(p, "ring", link={"preset": "ucie-advanced", "ber": 2e-5})
    g = noisy.link.goodput_factor
    assert 0.8 < g < 0.95
    cost = run_collective("allreduce", noisy, n)
    sim = run_collective("allreduce", noisy, n, face="sim")
    base = run_collective("allreduce", clean, n)
    # expected mode: the simulated face serialises at B x g like the cost face (up to per-transmission rounding)
    assert abs(sim.time_ps - cost.time_ps) <= cost.terms["critical_transmissions"] * 1.0
    assert cost.energy_uj == pytest.approx(base.energy_uj / g)
    assert cost.time_ps - 6 * 2000 == pytest.approx((base.time_ps - 6 * 2000) / g)
    # sampled mode: seeded flit errors; the mean over seeds approaches the expected time and energy
    runs = [run_collective("allreduce", noisy, n, face="sim", retry="sampled", seed=s) for s in range(8)]
    assert all(r.flit_errors > 0 for r in runs)
    assert runs[0].time_ps == run_collective("allreduce", noisy, n, face="sim", retry="sampled", seed=0).time_ps
    mean_t = np.mean([r.time_ps for r in runs])
    mean_e = np.mean([r.energy_uj for r in runs])
    assert mean_t == pytest.approx(cost.time_ps, rel=0.03)
    assert mean_e == pytest.approx(cost.energy_uj, rel=0.02)


def test_collective_errors():
    ring = package(4, "ring")
    with pytest.raises(ConfigError, match=r"^algo: '2d' runs on a mesh topology, got 'ring'$"):
        run_collective("allreduce", ring, 1024, "2d")
    with pytest.raises(ConfigError, match=r"^algo: must be one of ring, tree, 2d for allreduce, got 'hd'$"):
        run_collective("allreduce", ring, 1024, "hd")
    with pytest.raises(ConfigError, match=r"^collective: must be one of allreduce, reduce-scatter, all-gather, "
                                          r"broadcast, all-to-all, got 'gather'$"):
        run_collective("gather", ring, 1024)
    with pytest.raises(ConfigError) as e:
        run_collective("broadcast", ring, 0, face="rtl", chunk_bytes=0, root=4, retry="never", check_values=True)
    assert e.value.problems == [
        "face: must be one of cost, sim, got 'rtl'", "bytes: must be an integer >= 1, got 0",
        "chunk_bytes: must be an integer >= 1, got 0", "root: must be a rank in [0, 4), got 4",
        "retry: must be one of expected, sampled, got 'never'",
        "check_values: values are moved by the simulated face; use face='sim'"]
    with pytest.raises(ConfigError, match=r"^bytes: must be a multiple of 8 \(int64 elements\) to check values, got 12$"):
        run_collective("allreduce", ring, 12, face="sim", check_values=True)


def test_simulation_is_deterministic_and_traceable(tmp_path):
    from hwsim.core import Tracer

    pkg = package(8, "mesh")
    a = run_collective("all-to-all", pkg, 8 * 8 * KIB, face="sim", chunk_bytes=2 * KIB)
    tracer = Tracer("collective")
    b = run_collective("all-to-all", pkg, 8 * 8 * KIB, face="sim", chunk_bytes=2 * KIB, tracer=tracer)
    assert a.time_ps == b.time_ps and a.max_link_utilisation == b.max_link_utilisation
    path = tracer.write(tmp_path / "t.json")
    assert "link 0->1" in tracer.tracks and path.exists()
    assert math.isclose(max(s.end_ps for s in tracer.spans), a.time_ps)
