"""Hypothesis: random networks and random traces; the cost face's counters and per-link flit counts equal the CL
face's (deterministic routing), every packet is delivered, no packet beats its zero-load latency, and a packet
alone in the network takes exactly that."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwsim.noc import NocConfig, run_trace

from .reference import distances, zero_load


@st.composite
def networks(draw):
    kind = draw(st.sampled_from(["mesh", "torus", "ring"]))
    if kind == "ring":
        size = str(draw(st.integers(2, 9)))
    else:
        lo = 2 if kind == "torus" else 1
        cols, rows = draw(st.integers(lo, 5)), draw(st.integers(lo, 4))
        if cols * rows < 2:
            cols = 2
        size = f"{cols}x{rows}"
    routing = draw(st.sampled_from(["xy", "west_first", "odd_even"])) if kind == "mesh" else "xy"
    r, link = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return NocConfig(topology=kind, size=size, routing=routing, router_cycles=r, link_cycles=link,
                     vcs=draw(st.integers(2, 3)), vc_buffer_flits=draw(st.integers(r + 2 * link, r + 2 * link + 3)),
                     flit_bytes=draw(st.sampled_from([4, 16])))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=networks(), data=st.data())
def test_random_traces_on_both_faces(cfg, data):
    n = cfg.nodes
    records = data.draw(st.lists(st.tuples(st.integers(0, 60), st.integers(0, n - 1), st.integers(0, n - 1),
                                           st.integers(1, 100)), min_size=1, max_size=60))
    cl = run_trace(cfg, records)
    cost = run_trace(cfg, records, face="cost")
    assert cl.stats["packets_ejected"] == len(records)
    assert cost.stats == cl.stats
    if cfg.routing == "xy":
        assert np.array_equal(cost.link_flits, cl.link_flits)
    dist = distances(cfg.topology, cfg.cols, cfg.rows)
    flits = [max(1, -(-size // cfg.flit_bytes)) for _c, _s, _d, size in records]
    zero = [zero_load(dist[s][d], f, cfg.router_cycles, cfg.link_cycles) for (_c, s, d, _b), f in zip(records, flits)]
    assert cl.zero_load_latency_cycles.tolist() == zero == cost.zero_load_latency_cycles.tolist()
    assert np.all(cl.latency_cycles >= cl.zero_load_latency_cycles)
    alone = run_trace(cfg, records[:1])
    assert alone.latency_cycles.tolist() == zero[:1]
