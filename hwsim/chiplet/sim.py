"""The simulated face of collectives: message-level discrete-event simulation of a transfer DAG (SimPy).

Model (time in integer picoseconds):

* Every D2D edge is two independent **link servers**, one per direction. A server sends one payload at a
  time, first come first served (requests are ordered by the time they are made, ties by event order),
  for ``ceil(bytes / B)`` ps, and the payload arrives one link latency after its last byte left.
* A **transfer** starts when all the transfers it depends on have arrived (their data is then in the
  sender's buffer). Its message is cut into ``k = ceil(bytes / chunk_bytes)`` near-equal chunks. The
  sender injects chunk ``j + 1`` when the first link has taken chunk ``j``, so messages sharing a link
  interleave chunk by chunk. Multi-hop routes are **store-and-forward per chunk**: a chunk is forwarded
  (after the switch latency at a switch) once it has fully arrived, so on idle links a message of ``k``
  chunks of ``c`` bytes over ``h`` hops takes ``h L + (k + h - 1) c / B``.
* The transfer has arrived when its last chunk has; then the receiver adds (``reduce``) or copies the
  payload into its buffer. Reduction arithmetic takes no time.
* Retries: ``retry="expected"`` serialises at ``B x g`` (the goodput of :mod:`hwsim.chiplet.link`), the
  cost face's assumption; ``retry="sampled"`` serialises at the raw ``B`` and draws each chunk's corrupted
  flits from a seeded RNG, adding ``X (t_f + R)`` of wire time.

Each chunk transmission is rounded up to a whole ps, so the simulated time can exceed an exact rational
formula by less than 1 ps per transmission on the critical path; when every chunk's serialisation time is a
whole number of ps (e.g. multiples of 32 B on a 256 GB/s link) there is no rounding at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from hwsim.chiplet.collective import Plan, Transfer
from hwsim.chiplet.link import sample_flit_failures
from hwsim.core import Tracer
from hwsim.errors import ConfigError

__all__ = ["LinkServer", "SimRun", "execute"]

RETRY_MODES = ("expected", "sampled")


class LinkServer:
    """One direction of one D2D edge: a FIFO server with integer-ps serialisation and counters."""

    __slots__ = ("src", "dst", "num", "den", "latency_ps", "free_at", "busy_ps", "payload_bytes", "wire_bits",
                 "transmissions", "flit_errors", "_sampled", "_p", "_flit_bytes", "_rtt", "_raw_bits_per_ps",
                 "_inv_g", "_rng", "_tracer", "_track")

    def __init__(self, src: int, dst: int, params: dict, rng: np.random.Generator, tracer: Tracer | None = None):
        self.src, self.dst = src, dst
        self.num, self.den = params["num"], params["den"]
        self.latency_ps = params["latency_ps"]
        self.free_at = 0
        self.busy_ps = 0
        self.payload_bytes = 0
        self.wire_bits = 0.0
        self.transmissions = 0
        self.flit_errors = 0
        self._sampled = params["sampled"]
        self._p = params["p"]
        self._flit_bytes = params["flit_bytes"]
        self._rtt = params["rtt"]
        self._raw_bits_per_ps = params["raw_bits_per_ps"]
        self._inv_g = params["inv_g"]
        self._rng = rng
        self._tracer = tracer
        self._track = f"link {src}->{dst}"

    @staticmethod
    def params(plan: Plan, retry: str) -> dict:
        """What every server of ``plan``'s package shares (computed once: the exact fractions are slow)."""
        link = plan.package.link
        rate = link.bytes_per_ps if retry == "sampled" else link.effective_bytes_per_ps
        p = link.flit_error_probability
        return {"num": rate.numerator, "den": rate.denominator, "latency_ps": link.latency_ps,
                "sampled": retry == "sampled" and p > 0, "p": p, "flit_bytes": link.flit_bytes,
                "rtt": link.replay_round_trip_ps, "raw_bits_per_ps": float(link.bytes_per_ps) * 8,
                "inv_g": 1.0 if retry == "sampled" else 1.0 / link.goodput_factor}

    def occupy(self, now: int, nbytes: int) -> int:
        """Reserve the wire for ``nbytes`` from ``max(now, free)``; return the time its last byte leaves."""
        start = now if now > self.free_at else self.free_at
        if self._sampled:
            errors = sample_flit_failures(self._rng, -(-nbytes // self._flit_bytes), self._p)
            wire_bytes = nbytes + errors * self._flit_bytes
            ser = -(-wire_bytes * self.den // self.num) + errors * self._rtt
            self.flit_errors += errors
            self.wire_bits += 8 * wire_bytes + errors * self._rtt * self._raw_bits_per_ps
        else:
            ser = -(-nbytes * self.den // self.num)
            self.wire_bits += 8 * nbytes * self._inv_g
        self.free_at = start + ser
        self.busy_ps += ser
        self.payload_bytes += nbytes
        self.transmissions += 1
        if self._tracer is not None:
            self._tracer.span(self._track, "busy:tx", start, self.free_at, bytes=nbytes)
        return self.free_at


@dataclass
class SimRun:
    """What :func:`execute` measured."""

    time_ps: int
    hop_bytes: int
    wire_bits: float
    flit_errors: int
    transmissions: int
    link_busy_ps: dict[tuple[int, int], int] = field(default_factory=dict)
    values: dict[str, list[np.ndarray]] | None = None

    @property
    def max_link_utilisation(self) -> float:
        """Busy share of the busiest link direction over the run."""
        return max(self.link_busy_ps.values(), default=0) / self.time_ps if self.time_ps else 0.0


def _chunks(nbytes: int, chunk_bytes: int) -> list[int]:
    k = max(1, math.ceil(nbytes / chunk_bytes))
    return [nbytes * (i + 1) // k - nbytes * i // k for i in range(k)]


def execute(plan: Plan, transfers: list[Transfer], values: dict[str, list[np.ndarray]] | None = None,
            retry: str = "expected", seed: int = 0, tracer: Tracer | None = None) -> SimRun:
    """Run a transfer DAG on ``plan``'s package; ``values`` (per-rank numpy buffers) are updated in place."""
    if retry not in RETRY_MODES:
        raise ConfigError(f"retry: must be one of {', '.join(RETRY_MODES)}, got {retry!r}")
    pkg = plan.package
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    if tracer is not None:
        tracer.track("collective")
    params = LinkServer.params(plan, retry)
    links = {key: LinkServer(*key, params, rng, tracer) for key in pkg.directed_links}
    n = len(transfers)
    waiting = [len(t.deps) for t in transfers]
    dependents: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(transfers):
        for d in t.deps:
            if not 0 <= d < i:
                raise ValueError(f"transfer {i} depends on {d}, which is not an earlier transfer")
            dependents[d].append(i)
    done = {"count": 0, "time": 0}
    chunk_bytes = plan.chunk_bytes

    def arrived(i: int, payload) -> None:
        t = transfers[i]
        if values is not None:
            dst = values[t.dst_buf][t.dst]
            a, z = t.dst_seg
            if t.op == "reduce":
                dst[a:z] += payload
            else:
                dst[a:z] = payload
        done["count"] += 1
        done["time"] = env.now
        for d in dependents[i]:
            waiting[d] -= 1
            if waiting[d] == 0:
                start(d)

    def forward(nbytes: int, hops, ready: int):
        yield env.timeout(ready - env.now)
        for server, delay in hops:
            end = server.occupy(env.now, nbytes)
            yield env.timeout(end - env.now + server.latency_ps + delay)

    def multi_hop(i: int, payload, first: LinkServer, delay0: int, rest):
        pending = []
        for cb in _chunks(transfers[i].nbytes, chunk_bytes):
            end = first.occupy(env.now, cb)
            pending.append(env.process(forward(cb, rest, end + first.latency_ps + delay0)))
            yield env.timeout(end - env.now)
        yield env.all_of(pending)
        arrived(i, payload)

    def start(i: int) -> None:
        """Begin transfer ``i`` now: one-hop transfers run on timeout callbacks (the common case, cheaper than
        a process), multi-hop ones as a process with one forwarding process per chunk."""
        t = transfers[i]
        payload = None
        if values is not None:
            a, z = t.src_seg
            payload = values[t.src_buf][t.src][a:z].copy()
        hops = pkg.route(t.src, t.dst)
        first, delay0 = links[(hops[0].src, hops[0].dst)], hops[0].node_delay_ps
        if len(hops) > 1:
            env.process(multi_hop(i, payload, first, delay0, [(links[(h.src, h.dst)], h.node_delay_ps) for h in hops[1:]]))
            return
        chunks = _chunks(t.nbytes, chunk_bytes)
        state = {"next": 0}

        def inject(_ev=None) -> None:
            j = state["next"]
            state["next"] = j + 1
            end = first.occupy(env.now, chunks[j])
            if j + 1 < len(chunks):  # the next chunk goes when the wire has taken this one
                env.timeout(end - env.now).callbacks.append(inject)
            else:
                env.timeout(end - env.now + first.latency_ps + delay0).callbacks.append(lambda _e: arrived(i, payload))

        inject()

    for i in range(n):
        if waiting[i] == 0:
            start(i)
    env.run()
    if done["count"] != n:  # pragma: no cover - a DAG from the builders always completes
        raise RuntimeError(f"{n - done['count']} of {n} transfers never started (dependency cycle?)")
    if tracer is not None and done["time"] > 0:
        tracer.span("collective", "busy:collective", 0, done["time"], transfers=n)
    return SimRun(time_ps=done["time"], hop_bytes=sum(s.payload_bytes for s in links.values()),
                  wire_bits=sum(s.wire_bits for s in links.values()),
                  flit_errors=sum(s.flit_errors for s in links.values()),
                  transmissions=sum(s.transmissions for s in links.values()),
                  link_busy_ps={k: s.busy_ps for k, s in links.items() if s.busy_ps}, values=values)

