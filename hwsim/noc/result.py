"""Result schemas shared by the CL and cost faces.

* :class:`NocResult`: one operating point of synthetic traffic (offered rate -> latency, throughput,
  link utilisation, action counts);
* :class:`TraceResult`: one trace (per-packet latencies, per-link flit counts, action counts).

Latencies are in cycles, from the cycle a packet is created (enters its source queue) to the cycle its
tail flit is ejected at the destination. Throughput is in flits per active node per cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: action counters of both faces (name -> unit); energy = counters x a technology table
NOC_STATS = {
    "packets_injected": "packets",
    "packets_ejected": "packets",
    "flits_injected": "flits",
    "flits_ejected": "flits",
    "flit_hops": "flit-links (router-to-router link traversals)",
    "link_traversals": "flit-links (router-to-router links + injection and ejection channels)",
    "router_traversals": "flits through a crossbar",
    "buffer_writes": "flits written into router input buffers",
    "buffer_reads": "flits read from router input buffers",
    "vc_allocations": "output VCs allocated to packets on router-to-router links",
}


def percentiles(latencies: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float | None]:
    """``avg``, ``p50``, ``p95``, ``p99`` of latencies (numpy 'linear' percentiles; weighted: inverted CDF)."""
    lat = np.asarray(latencies, dtype=np.float64)
    if lat.size == 0:
        return {"avg": None, "p50": None, "p95": None, "p99": None}
    if weights is None:
        p = np.percentile(lat, [50, 95, 99])
        return {"avg": float(lat.mean()), "p50": float(p[0]), "p95": float(p[1]), "p99": float(p[2])}
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(lat, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    pick = [float(lat[order][min(np.searchsorted(cdf, q - 1e-12), lat.size - 1)]) for q in (0.5, 0.95, 0.99)]
    return {"avg": float((lat * w).sum() / w.sum()), "p50": pick[0], "p95": pick[1], "p99": pick[2]}


@dataclass
class NocResult:
    """One operating point (offered ``injection_rate`` in flits/node/cycle).

    * ``accepted_throughput``: flits ejected per active source per cycle during the measurement window (CL)
      or the carried load (cost); ``min_accepted_throughput``: the least-served source's (CL; below
      saturation it only shows the sampling noise of a short window).
    * ``link_utilisation[i]``: flits per cycle on output ``i = router * ports + port`` (port 0 = the ejection
      channel; names in ``link_names``) over the window (CL) or the channel load (cost).
    * ``worst_source_latency_ratio``: over the sources, the largest ratio of a source's average packet latency
      to its average zero-load latency (inf if one of its measured packets was not delivered; None beyond the
      cost face's saturation).
    * ``saturated``: the network does not sustain the offered load. Cost: the busiest channel's load reaches
      1. CL: a measured packet was still undelivered when the run ended, the accepted throughput fell more
      than 5 % short of the offered load, or ``worst_source_latency_ratio`` exceeds 3.
    * ``stats``: action counters (:data:`NOC_STATS`) of the whole run (CL) or per cycle (cost).
    """

    face: str
    injection_rate: float
    accepted_throughput: float
    min_accepted_throughput: float
    avg_latency_cycles: float | None
    p50_latency_cycles: float | None
    p95_latency_cycles: float | None
    p99_latency_cycles: float | None
    zero_load_latency_cycles: float
    avg_hops: float
    worst_source_latency_ratio: float | None
    saturated: bool
    link_utilisation: np.ndarray = field(repr=False)
    link_names: list[str] = field(repr=False)
    stats: dict[str, float] = field(default_factory=dict)
    packets_measured: int = 0
    packets_delivered: int = 0
    cycles: int = 0
    wall_s: float = 0.0

    @property
    def max_link_utilisation(self) -> float:
        return float(self.link_utilisation.max(initial=0.0))

    def to_dict(self, links: bool = False) -> dict:
        d = {k: getattr(self, k) for k in (
            "face", "injection_rate", "accepted_throughput", "min_accepted_throughput", "avg_latency_cycles",
            "p50_latency_cycles",
            "p95_latency_cycles", "p99_latency_cycles", "zero_load_latency_cycles", "avg_hops",
            "worst_source_latency_ratio", "saturated",
            "packets_measured", "packets_delivered", "cycles")}
        d["max_link_utilisation"] = self.max_link_utilisation
        d["stats"] = dict(self.stats)
        if links:
            d["link_utilisation"] = {n: float(u) for n, u in zip(self.link_names, self.link_utilisation)}
        return d


@dataclass
class TraceResult:
    """One trace. Per-packet arrays are in the order of the input records. ``link_flits[i]``: flits that crossed
    link index ``i`` (``router * ports + port``; port 0 = ejection channel of that router). ``cycles``: the cycle
    after the last tail was ejected (0 for an empty trace). The cost face gives zero-load ``eject_cycle`` and
    latency plus the contention estimate in ``latency_cycles``; its counts are exact for deterministic routing."""

    face: str
    latency_cycles: np.ndarray
    zero_load_latency_cycles: np.ndarray
    hops: np.ndarray
    link_flits: np.ndarray
    link_names: list[str]
    stats: dict[str, float]
    cycles: int
    inject_cycle: np.ndarray | None = None
    eject_cycle: np.ndarray | None = None
    ejections: np.ndarray | None = None  # CL with record_ejections: rows (cycle, packet, flit, node), packet = record
    wall_s: float = 0.0

    def summary(self) -> dict:
        p = percentiles(self.latency_cycles)
        return {"face": self.face, "packets": int(self.latency_cycles.size), "cycles": self.cycles,
                "avg_latency_cycles": p["avg"], "p50_latency_cycles": p["p50"], "p95_latency_cycles": p["p95"],
                "p99_latency_cycles": p["p99"], "stats": dict(self.stats)}
