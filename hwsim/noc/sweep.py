"""Face-independent entry points: one operating point, a trace, saturation throughput, latency vs injection sweeps.

``face="cl"`` runs the cycle-level simulation (:mod:`hwsim.noc.cl`), ``face="cost"`` the analytical model
(:mod:`hwsim.noc.cost`); both return the same result schemas.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hwsim.errors import ConfigError
from hwsim.noc.cl import run_synthetic_batch_cl, run_synthetic_cl, run_trace_cl
from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.cost import noc_cost, saturation_rate, trace_cost
from hwsim.noc.result import NocResult, TraceResult
from hwsim.noc.topology import Topology
from hwsim.noc.traffic import Trace, as_trace

FACES = ("cl", "cost")
#: offered load of the CL saturation run: every source always has a packet waiting
OVERLOAD_RATE = 1.0


def _face(face: str) -> str:
    if face not in FACES:
        raise ConfigError(f"face: must be 'cl' or 'cost', got {face!r}")
    return face


def simulate(noc: NocConfig, traffic: TrafficConfig, face: str = "cl", warmup_cycles: int = 1000,
             measure_cycles: int = 2000, drain: bool = True) -> NocResult:
    """One operating point of ``traffic`` (its ``injection_rate``) on ``noc`` with the chosen face."""
    if _face(face) == "cost":
        return noc_cost(noc, traffic)
    return run_synthetic_cl(noc, traffic, warmup_cycles=warmup_cycles, measure_cycles=measure_cycles, drain=drain)


def run_trace(noc: NocConfig, records: Trace | Iterable[Sequence[int]], size_unit: str = "bytes", face: str = "cl",
              record_ejections: bool = False) -> TraceResult:
    """Run a trace of ``(cycle, src, dst, size)`` records (what a workload mapper produces) with the chosen face.

    ``size`` is in bytes (``size_unit="bytes"``, ``ceil(size / flit_bytes)`` flits) or flits. The CL face
    delivers every packet; the cost face gives the exact per-link flit counts and action counters
    (deterministic routing) with zero-load latencies plus a contention estimate.
    """
    trace = as_trace(noc, records, size_unit)
    if _face(face) == "cost":
        return trace_cost(noc, trace)
    return run_trace_cl(noc, trace, record_ejections=record_ejections)


@dataclass
class Saturation:
    """Saturation throughput in flits/node/cycle.

    CL face: ``throughput`` is the largest offered load found stable, i.e. not ``saturated``: every measured
    packet delivered, accepted throughput within 5 % of the offered load and every source's average latency
    at most 3 x its zero-load latency (found by bisection over the offered load, to ``tolerance`` of
    ``upper``); the network is unstable at ``upper``. (Per source, because under a non-uniform pattern only
    the few sources that share the bottleneck saturate and the overall average hides them.) ``aggregate`` is
    the accepted throughput under overload (every source always backlogged), averaged over the sources: what
    uniform traffic saturates at. Under a non-uniform pattern the sources that do not cross the bottleneck
    keep going, so ``aggregate`` can exceed the sustainable load.
    Cost face: all three are the channel-load bound (the rate at which the busiest channel carries a flit
    per cycle)."""

    face: str
    throughput: float
    aggregate: float
    upper: float
    probes: int = 0


def stable(point: NocResult) -> bool:
    """An operating point the network sustains: not :attr:`~hwsim.noc.result.NocResult.saturated`."""
    return not point.saturated


def saturation_throughput(noc: NocConfig, traffic: TrafficConfig, face: str = "cl", warmup_cycles: int = 1000,
                          measure_cycles: int = 2000, tolerance: float = 0.02, probes_per_round: int = 4,
                          max_rounds: int = 4, points: Sequence[NocResult] = (),
                          overload: NocResult | None = None) -> Saturation:
    """Saturation throughput of ``traffic``'s pattern and packet size on ``noc`` (its injection rate is ignored).

    CL face: one overload run (or ``overload``, already simulated with the same windows), then rounds of
    ``probes_per_round`` offered loads spread evenly between the largest stable and the smallest unstable
    load known, simulated together (one batched run per round), until the two are within ``tolerance`` of
    the upper one. ``points`` already simulated with the same windows narrow the first bracket.
    """
    if _face(face) == "cost":
        rate = saturation_rate(noc, traffic)
        return Saturation("cost", rate, rate, rate)
    windows = {"warmup_cycles": warmup_cycles, "measure_cycles": measure_cycles}
    if overload is None:
        overload = run_synthetic_cl(noc, traffic.model_copy(update={"injection_rate": OVERLOAD_RATE}), drain=False,
                                    **windows)
    lo, hi = 0.0, min(OVERLOAD_RATE, overload.accepted_throughput)
    hi_known = False  # is the network known to be unstable at hi?
    for p in points:
        if stable(p):
            lo = max(lo, p.injection_rate)
        elif p.injection_rate <= hi:
            hi, hi_known = p.injection_rate, True
    lo = min(lo, hi)
    probes = 0
    for _ in range(max_rounds):
        if hi - lo <= tolerance * hi and hi_known:
            break
        # the first round also asks whether the load accepted under overload is itself sustainable
        rates = [lo + (hi - lo) * (i + 1) / (probes_per_round + (0 if hi_known else 1)) for i in
                 range(probes_per_round)]
        if not hi_known:
            rates[-1] = hi
        res = run_synthetic_batch_cl(noc, [traffic.model_copy(update={"injection_rate": r}) for r in rates], **windows)
        probes += len(rates)
        hi_known = True
        ok = [stable(r) for r in res]
        unstable = [r for r, good in zip(rates, ok) if not good]
        if unstable:
            hi = min(unstable)
        lo = max([lo] + [r for r, good in zip(rates, ok) if good and r < hi])
        if not unstable:  # stable up to the overload throughput
            lo = hi
            break
    return Saturation("cl", lo, overload.accepted_throughput, hi, probes)


@dataclass
class SweepResult:
    """A latency vs injection-rate curve: ``points`` in rate order, the saturation throughput of the same face,
    and the channel-load bound of the pattern (``channel_bound``; for uniform traffic also ``bisection_bound``)."""

    face: str
    points: list[NocResult]
    saturation: Saturation
    channel_bound: float
    bisection_bound: float | None = None
    config: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        pts = [{"injection_rate": p.injection_rate, "avg_latency_cycles": p.avg_latency_cycles,
                "p50_latency_cycles": p.p50_latency_cycles, "p95_latency_cycles": p.p95_latency_cycles,
                "p99_latency_cycles": p.p99_latency_cycles, "accepted_throughput": p.accepted_throughput,
                "min_accepted_throughput": p.min_accepted_throughput, "saturated": p.saturated,
                "max_link_utilisation": p.max_link_utilisation, "flit_hops": p.stats.get("flit_hops")}
               for p in self.points]
        return {"face": self.face, **self.config, "points": pts,
                "saturation_throughput": self.saturation.throughput,
                "saturation_upper": self.saturation.upper,
                "aggregate_saturation_throughput": self.saturation.aggregate,
                "channel_bound": self.channel_bound, "bisection_bound": self.bisection_bound}


def default_rates(noc: NocConfig, traffic: TrafficConfig, points: int = 10) -> list[float]:
    """``points`` rates evenly spaced up to the channel-load bound (capped at 1 flit/node/cycle)."""
    top = min(1.0, saturation_rate(noc, traffic))
    return [top * (i + 1) / points for i in range(points)]


def sweep(noc: NocConfig, traffic: TrafficConfig, rates: Sequence[float] | None = None, face: str = "cl",
          warmup_cycles: int = 1000, measure_cycles: int = 2000,
          progress: Callable[[int, int, str], None] | None = None) -> SweepResult:
    """Latency and accepted throughput at each offered rate (flits/node/cycle), plus the saturation throughput."""
    _face(face)
    rates = list(default_rates(noc, traffic) if rates is None else rates)
    bad = [r for r in rates if not (isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r)
                                     and 0 < r <= 1)]
    if bad:
        raise ConfigError(f"rates: every rate must be in (0, 1] flits/node/cycle, got {bad[0]!r}")
    if not rates:
        raise ConfigError("rates: give at least one injection rate, got none")
    rates = sorted(float(r) for r in rates)
    if progress:
        progress(0, 2, f"{len(rates)} rates")
    if face == "cost":
        points = [noc_cost(noc, traffic.model_copy(update={"injection_rate": r})) for r in rates]
        sat = saturation_throughput(noc, traffic, "cost")
    else:  # every rate and the overload run in one batched simulation, then the saturation search
        batch = run_synthetic_batch_cl(
            noc, [traffic.model_copy(update={"injection_rate": r}) for r in [*rates, OVERLOAD_RATE]],
            warmup_cycles, measure_cycles, drain=[True] * len(rates) + [False])
        points, overload = batch[:-1], batch[-1]
        if progress:
            progress(1, 2, "saturation")
        sat = saturation_throughput(noc, traffic, face, warmup_cycles, measure_cycles, points=points,
                                    overload=overload)
    if progress:
        progress(2, 2, "done")
    topo = Topology.of(noc)
    bisection = topo.uniform_bisection_bound() if traffic.pattern == "uniform" else None
    config = {"topology": noc.topology, "size": noc.size, "routing": noc.routing, "pattern": traffic.pattern,
              "packet_flits": traffic.flits(noc), "vcs": noc.vcs, "vc_buffer_flits": noc.vc_buffer_flits,
              "router_cycles": noc.router_cycles, "link_cycles": noc.link_cycles, "seed": traffic.seed}
    return SweepResult(face, points, sat, saturation_rate(noc, traffic), bisection, config)
