"""Cost face: channel loads from the routing function and a traffic matrix, zero-load latency in closed form,
and an M/D/1-style contention delay per channel.

**Channel loads.** Every packet from ``s`` to ``d`` crosses the injection channel of ``s``, the links of its
route and the ejection channel of ``d``. For deterministic routing the route is the CL face's route, so
for a trace the per-link flit counts and every action counter (flit-hops, router and link traversals,
buffer writes) are *exactly* the CL face's. Adaptive algorithms split a flow evenly over their
candidate ports at every router (an estimate: the CL face picks by congestion).

**Zero-load latency** of a packet of ``F`` flits over ``H`` hops (``R`` = ``router_cycles``,
``L`` = ``link_cycles``): ``H (R + L) + R + F - 1`` — the head leaves each of the ``H + 1`` routers ``R``
cycles after entering it and crosses ``H`` links; the tail follows ``F - 1`` cycles behind. Exact in the
CL face when ``vc_buffer_flits >= R + 2 L`` (the credit round trip), so a packet streams one flit per cycle.

**Contention.** A packet of ``F`` flits crossing a router from input ``j`` to output ``c`` contends for
the output with the packets arriving on the *other* inputs and for the input with the packets leaving
through the *other* outputs (a crossbar serves one flit per input and per output each cycle). Each is
taken as an M/D/1 queue with packet service time ``F``:

    W_j,c = F (rho_c - rho_jc) / (2 (1 - rho_c))  +  F (rho_j - rho_jc) / (2 (1 - rho_j))

where ``rho_c`` is the load (flits/cycle) of output ``c``, ``rho_j`` the load arriving on input ``j`` and
``rho_jc`` the load turning from ``j`` to ``c``. Traffic of the same turn is left out: it was serialised
on the same upstream channel, so it does not queue behind itself (a single flow on an uncontended path
sees no contention). The source queue is Geo/D/1 (Bernoulli packet arrivals, ``F`` cycles to inject a
packet): ``W = rho_s (F - 1) / (2 (1 - rho_s))``. A flow's latency is its zero-load latency plus these
waits along its route (ejection channel included). The network saturates when the largest channel load
reaches 1, so the cost face's saturation throughput is ``rate / max_c rho_c``: the channel-load bound
(for uniform traffic on a k x k mesh with XY routing, the bisection bound). The CL face saturates
below it (allocation and head-of-line blocking); docs/noc.md gives the measured ratio and the error of
the latency estimate against the CL face.
"""

from __future__ import annotations

import time

import numpy as np

from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.result import NOC_STATS, NocResult, TraceResult, percentiles
from hwsim.noc.routing import ROUTINGS
from hwsim.noc.topology import LOCAL, OPPOSITE, Topology
from hwsim.noc.traffic import Trace, active_sources, traffic_matrix

__all__ = ["FlowLoads", "flow_loads", "noc_cost", "saturation_rate", "trace_cost", "zero_load_latency"]


def zero_load_latency(cfg: NocConfig, hops, flits):
    """``H (router_cycles + link_cycles) + router_cycles + F - 1`` cycles (arrays or ints)."""
    return np.asarray(hops) * (cfg.router_cycles + cfg.link_cycles) + cfg.router_cycles + np.asarray(flits) - 1


class FlowLoads:
    """Loads of a set of flows ``(src, dst, weight)`` routed on ``cfg``.

    ``link[i]``: weight crossing output ``i = router * ports + port`` (port 0 = the ejection channel);
    ``injection[n]``: weight injected at node ``n``; ``turn[i, j]``: weight entering output ``i`` from input port
    ``j`` of the same router (j = 0: from the local interface). ``visits``: arrays ``(flow, output, input port,
    share)``, one row per channel a flow crosses (share < 1 where an adaptive route splits), for the per-flow
    contention sum.
    """

    def __init__(self, link, injection, turn, visits):
        self.link, self.injection, self.turn, self.visits = link, injection, turn, visits

    def scaled(self, factor: float) -> "FlowLoads":
        return FlowLoads(self.link * factor, self.injection * factor, self.turn * factor, self.visits)


def flow_loads(cfg: NocConfig, src, dst, weight) -> FlowLoads:
    """Route every flow (deterministic: its CL route; adaptive: even split over candidates) and add up loads."""
    topo = Topology.of(cfg)
    routing = ROUTINGS[cfg.routing]
    n, p = topo.nodes, topo.ports
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    link = np.zeros(n * p)
    turn = np.zeros((n * p, p))
    injection = np.bincount(src, weights=weight, minlength=n).astype(np.float64)
    # state rows: (flow, current node, input port it arrived on, share of the flow)
    flow = np.arange(src.size)
    cur = src.copy()
    inport = np.zeros(src.size, np.int64)
    share = np.ones(src.size)
    visits = []
    while flow.size:
        cand = routing.candidates(topo, cur, src[flow], dst[flow])
        k = (cand >= 0).sum(axis=1)
        rows = np.repeat(np.arange(flow.size), k)
        ports = cand[cand >= 0]  # row-major: each row's candidates in order
        f, c, ip = flow[rows], cur[rows], inport[rows]
        s = share[rows] / k[rows]
        out = c * p + ports
        w = weight[f] * s
        np.add.at(link, out, w)
        np.add.at(turn, (out, ip), w)
        visits.append(np.stack([f, out, ip, s]))
        go = ports != LOCAL
        f, c, ports, s = f[go], c[go], ports[go], s[go]
        nxt = topo.neighbour[c, ports]
        nin = np.asarray(OPPOSITE)[ports]
        # merge rows that reached the same (flow, node, input port)
        key = (f * n + nxt) * p + nin
        uniq, inv = np.unique(key, return_inverse=True)
        share = np.bincount(inv, weights=s)
        flow, rest = np.divmod(uniq, n * p)
        cur, inport = np.divmod(rest, p)
    v = np.concatenate(visits, axis=1) if visits else np.zeros((4, 0))
    return FlowLoads(link, injection, turn, (v[0].astype(np.int64), v[1].astype(np.int64), v[2].astype(np.int64), v[3]))


def _contention(cfg: NocConfig, loads: FlowLoads, flits: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Per flow: expected contention cycles along its route (inf when a channel it uses is saturated)."""
    rho, inj = loads.link, loads.injection
    flow, out, inport, share = loads.visits
    ports = loads.turn.shape[1]
    router = out // ports
    in_load = loads.turn.reshape(-1, ports, ports).sum(axis=1)  # [router, input port]: load arriving on it
    same = loads.turn[out, inport]  # load taking the same input -> output turn
    rho_out, rho_in = rho[out], in_load[router, inport]
    f = flits[flow]
    with np.errstate(divide="ignore", invalid="ignore"):
        wait_inj = np.where(inj[src] < 1, inj[src] * (flits - 1) / (2 * (1 - inj[src])), np.inf)
        wait_out = np.where(rho_out < 1, f * np.maximum(rho_out - same, 0) / (2 * (1 - rho_out)), np.inf)
        wait_in = np.where(rho_in < 1, f * np.maximum(rho_in - same, 0) / (2 * (1 - rho_in)), np.inf)
    return wait_inj + np.bincount(flow, weights=share * (wait_out + wait_in), minlength=src.size)


def saturation_rate(cfg: NocConfig, traffic: TrafficConfig) -> float:
    """Cost-face saturation throughput (flits/node/cycle): the offered rate at which the most loaded channel
    (link, injection or ejection channel) carries one flit per cycle."""
    t = traffic_matrix(cfg, traffic)
    s, d = np.nonzero(t)
    loads = flow_loads(cfg, s, d, t[s, d])
    peak = max(loads.link.max(initial=0.0), loads.injection.max(initial=0.0))
    return traffic.injection_rate / peak if peak > 0 else float("inf")


def noc_cost(cfg: NocConfig, traffic: TrafficConfig) -> NocResult:
    """Cost face of one operating point: the same schema as :func:`~hwsim.noc.cl.run_synthetic_cl`.

    Latencies are per-flow means (zero load + contention), weighted by flow rate; the percentiles are
    those of the per-flow means (they do not include the queueing variance within a flow). Beyond
    saturation the latencies are None and the accepted throughput is the saturation throughput.
    ``stats`` are the action counters per cycle (e.g. ``flit_hops`` = flit-hops per cycle).
    """
    wall0 = time.perf_counter()
    topo = Topology.of(cfg)
    t = traffic_matrix(cfg, traffic)
    s, d = np.nonzero(t)
    w = t[s, d]
    flits = np.full(s.size, float(traffic.flits(cfg)))
    loads = flow_loads(cfg, s, d, w)
    hops = topo.hops(s, d)
    zero = zero_load_latency(cfg, hops, flits)
    peak = max(loads.link.max(initial=0.0), loads.injection.max(initial=0.0))
    saturated = peak >= 1.0 - 1e-9  # at the bound (up to rounding) the queues grow without limit
    sources = active_sources(cfg, traffic).size
    rate = traffic.injection_rate
    if saturated:
        p = {"avg": None, "p50": None, "p95": None, "p99": None}
        accepted = rate / peak
        worst = None
    else:
        lat = zero + _contention(cfg, loads, flits, s)
        p = percentiles(lat, w)
        accepted = rate
        own = np.bincount(s, weights=w * lat)
        base = np.bincount(s, weights=w * zero)
        sent = base > 0
        worst = float((own[sent] / base[sent]).max()) if sent.any() else 0.0
    scale = 1.0 if not saturated else 1.0 / peak  # carried load
    total = w.sum() * scale
    hop_flits = float((w * hops).sum() * scale)
    stats = {"flits_injected": total, "flits_ejected": total, "packets_injected": total / flits[0] if s.size else 0.0,
             "packets_ejected": total / flits[0] if s.size else 0.0, "flit_hops": hop_flits,
             "link_traversals": hop_flits + 2 * total, "router_traversals": hop_flits + total,
             "buffer_writes": hop_flits + total, "buffer_reads": hop_flits + total,
             "vc_allocations": float((w / flits * hops).sum() * scale)}
    return NocResult(
        face="cost", injection_rate=rate, accepted_throughput=float(accepted),
        min_accepted_throughput=float(accepted), avg_latency_cycles=p["avg"],
        p50_latency_cycles=p["p50"], p95_latency_cycles=p["p95"], p99_latency_cycles=p["p99"],
        zero_load_latency_cycles=float((zero * w).sum() / w.sum()) if s.size else 0.0,
        avg_hops=float((hops * w).sum() / w.sum()) if s.size else 0.0, worst_source_latency_ratio=worst,
        saturated=bool(saturated),
        link_utilisation=np.minimum(loads.link * scale, 1.0), link_names=topo.output_names(), stats=stats,
        packets_measured=sources, wall_s=time.perf_counter() - wall0)


def trace_cost(cfg: NocConfig, trace: Trace) -> TraceResult:
    """Cost face of a trace: exact per-link flit counts and action counters (deterministic routing), zero-load
    latency per packet, and ``latency_cycles`` = zero load + the contention estimate with each channel's
    load taken as its flits divided by the trace's span (first creation to last creation + zero-load
    latency of the longest packet)."""
    wall0 = time.perf_counter()
    topo = Topology.of(cfg)
    m = len(trace)
    inv = np.empty(m, np.int64)
    inv[trace.order] = np.arange(m)
    if not m:
        empty = np.zeros(0, np.int64)
        return TraceResult("cost", empty, empty, empty, np.zeros(topo.nodes * topo.ports, np.int64),
                           topo.output_names(), dict.fromkeys(NOC_STATS, 0), 0)
    # aggregate packets into (src, dst) flows with their flit totals
    key = trace.src * topo.nodes + trace.dst
    uniq, which = np.unique(key, return_inverse=True)
    fs, fd = np.divmod(uniq, topo.nodes)
    flow_flits = np.bincount(which, weights=trace.flits)
    loads = flow_loads(cfg, fs, fd, flow_flits)
    exact = not ROUTINGS[cfg.routing].adaptive
    link = np.rint(loads.link).astype(np.int64) if exact else loads.link
    hops = topo.hops(trace.src, trace.dst)
    zero = zero_load_latency(cfg, hops, trace.flits)
    span = int(trace.cycle.max() - trace.cycle.min() + zero.max()) + 1
    rate_loads = loads.scaled(1.0 / span)
    flow_f = np.bincount(which, weights=trace.flits) / np.bincount(which)  # mean packet length per flow
    contention = _contention(cfg, rate_loads, flow_f, fs)[which]
    total = int(trace.flits.sum())
    hop_flits = int((hops * trace.flits).sum())
    stats = {"packets_injected": m, "packets_ejected": m, "flits_injected": total, "flits_ejected": total,
             "flit_hops": hop_flits, "link_traversals": hop_flits + 2 * total, "router_traversals": hop_flits + total,
             "buffer_writes": hop_flits + total, "buffer_reads": hop_flits + total, "vc_allocations": int(hops.sum())}
    eject = trace.cycle + zero
    return TraceResult(
        face="cost", latency_cycles=(zero + contention)[inv], zero_load_latency_cycles=zero[inv], hops=hops[inv],
        link_flits=link, link_names=topo.output_names(), stats=stats, cycles=int(eject.max()) + 1,
        inject_cycle=trace.cycle[inv], eject_cycle=eject[inv], wall_s=time.perf_counter() - wall0)
