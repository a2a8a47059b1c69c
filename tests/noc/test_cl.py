"""CL face: zero-load latency equals the closed form exactly; every flit is delivered exactly once and in order
under saturation; results are bit-identical for a seed; the watchdog names a constructed deadlock; uniform
traffic saturates near the bisection bound; the latency curve has a knee."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hwsim.core import Simulation
from hwsim.noc import (DeadlockError, NocCL, NocConfig, TrafficConfig, as_trace, run_synthetic_batch_cl,
                       run_synthetic_cl, run_trace, saturation_throughput, synthetic_trace)
from hwsim.noc.cl import _copy_stats

from .reference import distances, mesh_uniform_bisection_bound, zero_load


def spaced(pairs, flits, gap=400):
    """One packet at a time: packet i is created in cycle i * gap (long after the previous one has left)."""
    return [(i * gap, s, d, f) for i, ((s, d), f) in enumerate(zip(pairs, itertools.cycle(flits)))]


@pytest.mark.parametrize("kind, size, routing, router_cycles, link_cycles", [
    ("mesh", "4x4", "xy", 2, 1), ("mesh", "5x3", "xy", 1, 1), ("mesh", "4x4", "west_first", 3, 2),
    ("mesh", "4x5", "odd_even", 2, 1), ("torus", "4x4", "xy", 2, 1), ("torus", "5x3", "xy", 1, 3),
    ("ring", "7", "xy", 2, 1), ("ring", "6", "xy", 4, 1),
])
def test_zero_load_latency_is_the_closed_form_for_every_pair(kind, size, routing, router_cycles, link_cycles):
    cfg = NocConfig(topology=kind, size=size, routing=routing, router_cycles=router_cycles, link_cycles=link_cycles,
                    vc_buffer_flits=router_cycles + 2 * link_cycles)  # a packet streams one flit per cycle
    dist = distances(kind, cfg.cols, cfg.rows)
    pairs = [(s, d) for s in range(cfg.nodes) for d in range(cfg.nodes)]
    flits = [1, 4, 2, 7]
    records = spaced(pairs, flits)
    res = run_trace(cfg, records, size_unit="flits")
    expected = [zero_load(dist[s][d], f, router_cycles, link_cycles) for _c, s, d, f in records]
    assert res.latency_cycles.tolist() == expected
    assert res.hops.tolist() == [dist[s][d] for _c, s, d, _f in records]
    # the cost face's zero-load latency is the same closed form
    assert run_trace(cfg, records, size_unit="flits", face="cost").zero_load_latency_cycles.tolist() == expected


def test_zero_load_with_a_buffer_below_the_credit_round_trip_is_slower():
    cfg = NocConfig(size="4x1", router_cycles=2, link_cycles=2, vc_buffer_flits=2)  # round trip 6 cycles
    res = run_trace(cfg, [(0, 0, 3, 8)], size_unit="flits")
    assert res.latency_cycles[0] > zero_load(3, 8, 2, 2)


CONSERVATION = [("mesh", "4x4", "xy", "uniform"), ("mesh", "4x4", "west_first", "hotspot"),
                ("mesh", "4x4", "odd_even", "transpose"), ("torus", "4x4", "xy", "uniform"),
                ("ring", "8", "xy", "bit_complement")]


@pytest.mark.parametrize("kind, size, routing, pattern", CONSERVATION)
def test_every_flit_delivered_exactly_once_and_in_order_under_saturation(kind, size, routing, pattern):
    cfg = NocConfig(topology=kind, size=size, routing=routing)
    traffic = TrafficConfig(pattern=pattern, injection_rate=1.0, packet_flits=3, hotspot_nodes=(5,), seed=3)
    trace = synthetic_trace(cfg, traffic, 400)  # offered far beyond saturation, then drained
    res = run_trace(cfg, trace, record_ejections=True)
    log = res.ejections  # rows (cycle, packet = record index, flit, node)
    assert log.shape[0] == trace.total_flits
    keys = log[:, 1] * 1000 + log[:, 2]
    assert np.unique(keys).size == keys.size  # no flit twice
    order = np.lexsort((log[:, 0], log[:, 1]))  # by packet, then ejection cycle
    by_packet = log[order]
    flits_of = trace.flits[np.argsort(trace.order)]  # per record
    starts = np.r_[0, np.cumsum(flits_of)[:-1]]
    expected_flit = np.arange(log.shape[0]) - np.repeat(starts, flits_of)
    assert np.array_equal(by_packet[:, 2], expected_flit)  # every flit 0..F-1 of every packet, in order
    assert np.all(np.diff(by_packet[:, 0])[np.diff(by_packet[:, 1]) == 0] > 0)  # strictly later flit by flit
    dst_of = trace.dst[np.argsort(trace.order)]
    assert np.array_equal(by_packet[:, 3], np.repeat(dst_of, flits_of))  # at the right node
    s = res.stats
    assert s["flits_injected"] == s["flits_ejected"] == trace.total_flits
    assert s["packets_injected"] == s["packets_ejected"] == len(trace)
    assert s["router_traversals"] == s["buffer_writes"] == s["buffer_reads"] == s["flit_hops"] + trace.total_flits
    assert s["link_traversals"] == s["flit_hops"] + 2 * trace.total_flits
    assert res.link_flits.sum() == s["router_traversals"]
    assert np.all(res.latency_cycles >= res.zero_load_latency_cycles)


def test_bit_identical_for_a_seed():
    cfg = NocConfig(size="4x4", routing="odd_even")
    runs = [run_synthetic_cl(cfg, TrafficConfig(injection_rate=0.4, seed=s), warmup_cycles=200, measure_cycles=600)
            for s in (5, 5, 6)]
    a, b, c = (r.to_dict(links=True) for r in runs)
    assert a == b and a != c
    assert np.array_equal(runs[0].link_utilisation, runs[1].link_utilisation)


@pytest.mark.parametrize("kind, size, routing", [("mesh", "4x4", "west_first"), ("torus", "4x3", "xy")])
def test_a_batch_of_operating_points_equals_separate_runs(kind, size, routing):
    cfg = NocConfig(topology=kind, size=size, routing=routing)
    traffics = [TrafficConfig(pattern=p, injection_rate=r, seed=i) for i, (p, r) in
                enumerate([("uniform", 0.1), ("hotspot", 0.35), ("bit_complement", 0.6), ("uniform", 1.0)])]
    drain = [True, True, True, False]
    alone = [run_synthetic_cl(cfg, t, warmup_cycles=100, measure_cycles=300, drain=d) for t, d in zip(traffics, drain)]
    together = run_synthetic_batch_cl(cfg, traffics, warmup_cycles=100, measure_cycles=300, drain=drain)
    for x, y in zip(alone, together):
        assert x.to_dict(links=True) == y.to_dict(links=True)


def test_counters_of_a_synthetic_point_match_the_component_stats():
    cfg = NocConfig(size="4x4")
    trace = synthetic_trace(cfg, TrafficConfig(injection_rate=0.5), 300)
    sim = Simulation()
    noc = NocCL(sim, "noc", sim.clock("noc", cfg.period_ps), cfg, trace, stop=lambda e, t: t >= 250)
    sim.run()
    assert _copy_stats(noc.engine, trace, 0) == noc.stats.as_dict()  # stopped with flits in flight


def test_watchdog_names_the_routers_and_vcs_of_a_deadlock():
    # ring of 5, one VC, no dateline: every node sends an 8-flit packet two hops clockwise, so each packet holds
    # the VC of its first link and waits for the next one, held by its neighbour's packet: a cycle
    unsafe = NocConfig(topology="ring", size="5", vcs=1, vc_buffer_flits=2, unsafe_no_dateline=True,
                       watchdog_cycles=100)
    records = [(0, n, (n + 2) % 5, 8) for n in range(5)]
    with pytest.raises(DeadlockError) as err:
        run_trace(unsafe, records, size_unit="flits")
    msg = str(err.value)
    assert msg.startswith("deadlock: ") and "made no progress for more than 100 cycles" in msg
    assert "router 1 in-port ccw vc 0: packet 0 (0 -> 2, flit 1/8) waiting for a free VC at output cw" in msg
    stuck = err.value.stuck
    assert {s["router"] for s in stuck} == set(range(5)) and {s["vc"] for s in stuck} == {0}
    assert err.value.cycle < 400
    # the same traffic with the dateline's second VC class completes
    safe = NocConfig(topology="ring", size="5", vcs=2, vc_buffer_flits=2, watchdog_cycles=100)
    assert run_trace(safe, records, size_unit="flits").stats["packets_ejected"] == 5


def test_watchdog_on_a_torus_without_dateline():
    cfg = NocConfig(topology="torus", size="5x5", vcs=1, vc_buffer_flits=2, unsafe_no_dateline=True,
                    watchdog_cycles=64)
    records = [(0, y * 5 + x, y * 5 + (x + 2) % 5, 6) for y in range(5) for x in range(5)]
    with pytest.raises(DeadlockError, match=r"50 virtual channel\(s\) made no progress.*router \(0,0\) in-port west vc 0"):
        run_trace(cfg, records, size_unit="flits")
    ok = NocConfig(topology="torus", size="5x5", vcs=2, vc_buffer_flits=2, watchdog_cycles=64)
    assert run_trace(ok, records, size_unit="flits").stats["packets_ejected"] == 25


def test_noc_cl_is_a_component_on_one_clock():
    cfg = NocConfig(size="4x4", freq_mhz=500)
    trace = as_trace(cfg, [(10, 0, 15, 4), (12, 3, 12, 1)], size_unit="flits")
    sim = Simulation(trace=True)
    noc = NocCL(sim, "noc", sim.clock("noc", cfg.period_ps), cfg, trace)
    sim.run()
    assert noc.stats["packets_ejected"] == 2 and set(noc.stats.as_dict()) == set(NocCL.STATS)
    # tails leave in cycle creation + zero load (6 hops x 3 + 2 + flits - 1); the last credit returns a cycle later
    assert noc.engine.pkt_eject.tolist() == [10 + 6 * 3 + 2 + 3, 12 + 6 * 3 + 2]
    assert noc.cycles == 35 and sim.now_ps == 34 * 2000  # 500 MHz: 2000 ps per cycle
    assert run_trace(cfg, [(10, 0, 15, 4), (12, 3, 12, 1)], size_unit="flits").cycles == 34
    assert "2/2 packets out" in noc.line_trace()


def test_uniform_traffic_saturates_near_the_bisection_bound():
    cfg = NocConfig(size="8x8")
    over = run_synthetic_cl(cfg, TrafficConfig(injection_rate=1.0), warmup_cycles=300, measure_cycles=1200, drain=False)
    bound = mesh_uniform_bisection_bound(8)  # 0.492 flits/node/cycle
    assert 0.6 * bound <= over.accepted_throughput <= bound  # measured: 0.35 = 70 % of the bound
    assert over.max_link_utilisation <= 1.0
    cost = saturation_throughput(cfg, TrafficConfig(), face="cost")
    assert cost.throughput == pytest.approx(bound, rel=1e-9)  # XY on an even mesh: channel bound = bisection bound


def test_saturation_search_brackets_the_knee():
    cfg = NocConfig(size="4x4")
    sat = saturation_throughput(cfg, TrafficConfig(), warmup_cycles=200, measure_cycles=800, tolerance=0.05)
    assert 0 < sat.throughput < sat.upper <= sat.aggregate and sat.upper - sat.throughput <= 0.05 * sat.upper
    assert 0.5 * mesh_uniform_bisection_bound(4) <= sat.throughput  # measured: 0.55 of a 0.94 bound
    below = run_synthetic_cl(cfg, TrafficConfig(injection_rate=sat.throughput), warmup_cycles=200, measure_cycles=800)
    above = run_synthetic_cl(cfg, TrafficConfig(injection_rate=min(1.0, 1.2 * sat.upper)), warmup_cycles=200,
                             measure_cycles=800)
    assert below.worst_source_latency_ratio <= 3 < above.worst_source_latency_ratio


def test_latency_curve_has_a_knee():
    cfg = NocConfig(size="8x8")
    sat = 0.34  # saturation throughput of this network (accepted under overload, test above)
    pts = run_synthetic_batch_cl(cfg, [TrafficConfig(injection_rate=f * sat) for f in (0.1, 0.5, 0.7, 0.9, 1.3)],
                                 warmup_cycles=400, measure_cycles=1200)
    lat = [p.avg_latency_cycles for p in pts]
    assert lat == sorted(lat)
    queueing = [p.avg_latency_cycles - p.zero_load_latency_cycles for p in pts]
    assert lat[3] > 1.4 * lat[0] and queueing[3] > 10 * queueing[0]
    slope_low = (lat[1] - lat[0]) / 0.4
    slope_high = (lat[3] - lat[2]) / 0.2
    assert slope_high > 4 * slope_low
    assert not any(p.saturated for p in pts[:4]) and pts[4].saturated and lat[4] > 5 * pts[4].zero_load_latency_cycles
