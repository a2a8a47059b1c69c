"""Cost face: exact per-link flit counts and action counters against the CL face for the same trace (deterministic
routing), channel loads by hand, and the contention-aware latency estimate against the CL face below saturation."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.noc import (NocConfig, Topology, TrafficConfig, flow_loads, noc_cost, run_synthetic_batch_cl, run_trace,
                       saturation_rate, synthetic_trace)
from hwsim.noc.topology import EAST, LOCAL, NORTH, WEST

from .reference import zero_load


@pytest.mark.parametrize("kind, size, routing", [("mesh", "5x3", "xy"), ("torus", "4x4", "xy"), ("ring", "6", "xy"),
                                                 ("mesh", "4x4", "odd_even")])
def test_trace_counts_equal_the_cl_face(kind, size, routing):
    cfg = NocConfig(topology=kind, size=size, routing=routing)
    trace = synthetic_trace(cfg, TrafficConfig(injection_rate=0.5, packet_bytes=40, seed=11), 300)
    cl = run_trace(cfg, trace, face="cl")
    cost = run_trace(cfg, trace, face="cost")
    assert cost.stats == cl.stats  # flit-hops, router/link traversals, buffer writes, ... (all routes are minimal)
    assert np.array_equal(cost.hops, cl.hops)
    if routing == "xy":
        assert cost.link_flits.dtype.kind == "i" and np.array_equal(cost.link_flits, cl.link_flits)
    else:  # adaptive: the cost face splits evenly, the CL face by congestion; the totals agree
        assert cost.link_flits.sum() == pytest.approx(cl.link_flits.sum())
    assert np.all(cost.zero_load_latency_cycles == cl.zero_load_latency_cycles)
    assert np.all(cl.latency_cycles >= cl.zero_load_latency_cycles)


def test_channel_loads_by_hand():
    cfg = NocConfig(size="3x2")  # nodes 0 1 2 / 3 4 5
    topo = Topology.of(cfg)
    loads = flow_loads(cfg, [0, 0, 5], [5, 2, 3], [1.0, 0.5, 0.25])
    link = loads.link.reshape(topo.nodes, topo.ports)
    # 0->5: east, east, north (XY); 0->2: east, east; 5->3: west, west
    assert link[0, EAST] == 1.5 and link[1, EAST] == 1.5 and link[2, NORTH] == 1.0
    assert link[5, WEST] == 0.25 and link[4, WEST] == 0.25
    assert link[5, LOCAL] == 1.0 and link[2, LOCAL] == 0.5 and link[3, LOCAL] == 0.25
    assert loads.injection.tolist() == [1.5, 0, 0, 0, 0, 0.25]
    assert link.sum() == pytest.approx(1.0 * 4 + 0.5 * 3 + 0.25 * 3)  # hops + 1 ejection each


@pytest.mark.parametrize("k", [4, 8])
def test_cost_saturation_of_uniform_xy_is_the_bisection_bound(k):
    cfg = NocConfig(size=f"{k}x{k}")
    assert saturation_rate(cfg, TrafficConfig()) == pytest.approx(4 * (k * k - 1) / k ** 3, rel=1e-12)
    # transpose on a k x k mesh: the busiest link carries k - 1 flows (row 0 westwards / column 0 northwards)
    assert saturation_rate(cfg, TrafficConfig(pattern="transpose")) == pytest.approx(1 / (k - 1), rel=1e-12)


def test_cost_zero_load_and_saturation_behaviour():
    cfg = NocConfig(size="4x4")
    low = noc_cost(cfg, TrafficConfig(injection_rate=1e-9))
    assert low.avg_latency_cycles == pytest.approx(low.zero_load_latency_cycles, abs=1e-6)
    # uniform on a k x k mesh excluding self: mean hops 2 (k^2 - 1) / (3 k) x N / (N - 1), zero load 3 H + 2 + 3
    assert low.zero_load_latency_cycles == pytest.approx(3 * 2 * 15 / 12 * 16 / 15 + 5)
    over = noc_cost(cfg, TrafficConfig(injection_rate=1.0))
    assert over.saturated and over.avg_latency_cycles is None
    assert over.accepted_throughput == pytest.approx(saturation_rate(cfg, TrafficConfig()))
    assert over.max_link_utilisation == pytest.approx(1.0)


# loads as fractions of the channel-load bound; they stay below ~80 % of the CL face's saturation throughput, which
# is ~64 % (4x4) and ~70 % (8x8) of the bound for uniform traffic and ~90 % of it for transpose
LOADS = {("4x4", "uniform"): (0.1, 0.3, 0.5), ("8x8", "uniform"): (0.1, 0.3, 0.55),
         ("4x4", "transpose"): (0.1, 0.4, 0.7), ("8x8", "transpose"): (0.1, 0.4, 0.7)}
BOUND = 0.12  # docs/noc.md: |cost - CL| / CL average latency, measured max 9.5 % (4x4 uniform at 0.5 of the bound)


@pytest.mark.parametrize("size, pattern", list(LOADS))
def test_cost_latency_agrees_with_cl_below_saturation(size, pattern):
    cfg = NocConfig(size=size)
    bound = saturation_rate(cfg, TrafficConfig(pattern=pattern))
    traffics = [TrafficConfig(pattern=pattern, injection_rate=frac * bound) for frac in LOADS[(size, pattern)]]
    for frac, traffic, cl in zip(LOADS[(size, pattern)], traffics,
                                 run_synthetic_batch_cl(cfg, traffics, warmup_cycles=500, measure_cycles=2000)):
        cost = noc_cost(cfg, traffic)
        assert not cl.saturated and not cost.saturated
        err = cost.avg_latency_cycles / cl.avg_latency_cycles - 1
        assert abs(err) <= BOUND, f"{size} {pattern} at {frac} of the bound: cost {cost.avg_latency_cycles:.2f}, " \
                                  f"CL {cl.avg_latency_cycles:.2f} ({100 * err:+.1f} %)"
        # the same routes (the CL sample of packets varies), the offered load accepted, the same channel loads
        assert cost.avg_hops == pytest.approx(cl.avg_hops, rel=0.1)
        assert cost.accepted_throughput == pytest.approx(cl.accepted_throughput, rel=0.08)
        assert cost.link_utilisation.sum() == pytest.approx(cl.link_utilisation.sum(), rel=0.1)
    busiest = int(np.argmax(cost.link_utilisation))  # measured on the link the cost face says is busiest
    assert cl.link_utilisation[busiest] == pytest.approx(cost.link_utilisation[busiest], rel=0.1)


def test_single_packet_cost_latency_is_exact():
    cfg = NocConfig(topology="torus", size="5x4", router_cycles=3, link_cycles=2, vc_buffer_flits=7)
    records = [(0, 0, 13, 64), (500, 7, 2, 16), (1000, 19, 19, 48)]
    cost = run_trace(cfg, records, face="cost")
    cl = run_trace(cfg, records)
    expected = [zero_load(h, f, 3, 2) for h, f in ((4, 4), (1, 1), (0, 3))]
    assert cl.latency_cycles.tolist() == expected == cost.zero_load_latency_cycles.tolist()
    assert cost.latency_cycles.tolist() == pytest.approx(expected, abs=0.5)  # sparse trace: almost no contention
