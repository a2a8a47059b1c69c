"""``mem_bench``: bandwidth, latency, row-hit rate and energy of a preset under a traffic pattern.

The CL face runs a closed-loop traffic generator: it keeps ``outstanding`` requests in flight (a new
one is issued the moment one completes, zero think time) until ``requests`` have been issued, then
waits for all to complete. Bandwidth is ``requests x transaction_bytes / T`` where ``T`` is the time
from the first request (t = 0) to the last completion; latency is averaged over all requests
(arrival to completion). The cost face evaluates :func:`~hwsim.memory.dram.cost.dram_cost` for the
same pattern (it models the same finite run: pipeline fill and the refreshes that fall in it).

Patterns (addresses in transaction units ``i``, byte address ``i x transaction_bytes``):

* ``stream``: sequential, ``i = 0, 1, 2, ...``;
* ``random``: uniform over the whole memory (seeded);
* ``strided``: ``address_k = k x stride_bytes mod capacity`` (``stride_bytes`` a multiple of the
  transaction size; default 2 transactions, i.e. every other channel with the default mapping).

``read_fraction`` < 1 turns each request into a write with probability ``1 - read_fraction`` (seeded).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hwsim.core import Simulation
from hwsim.errors import ConfigError
from hwsim.memory.dram.config import DramConfig, load_preset
from hwsim.memory.dram.cost import TrafficPattern, dram_cost, pattern_addresses
from hwsim.memory.dram.energy import energy
from hwsim.memory.dram.system import DramSystem

FACES = ("cl", "cost")


def run_cl(cfg: DramConfig, pattern: TrafficPattern, record_commands: bool = False) -> dict[str, Any]:
    """Simulate ``pattern`` on the CL face; returns the system, its stats and the run's figures."""
    sim = Simulation()
    dram = DramSystem(sim, cfg, record_commands=record_commands)
    n = pattern.requests
    addrs = pattern_addresses(cfg, pattern).tolist()
    if pattern.read_fraction >= 1.0:
        writes = [False] * n
    else:
        rng = np.random.default_rng([pattern.seed, 1])
        writes = (rng.random(n) >= pattern.read_fraction).tolist()
    state = {"next": 0, "done": 0, "last_ps": 0}
    request = dram.request

    def issue() -> None:
        i = state["next"]
        if i < n:
            state["next"] = i + 1
            request(addrs[i], writes[i]).callbacks.append(finish)

    def finish(ev) -> None:
        state["done"] += 1
        state["last_ps"] = ev._value
        issue()

    wall0 = time.perf_counter()
    for _ in range(min(pattern.outstanding_for(cfg), n)):
        issue()
    sim.run()
    wall = time.perf_counter() - wall0
    if state["done"] != n:  # pragma: no cover - a lost request is a model bug
        raise RuntimeError(f"{n - state['done']} of {n} requests never completed")
    return {"system": dram, "stats": dram.stats, "duration_ps": state["last_ps"], "wall_s": wall}


def mem_bench(preset: str, pattern: str, face: str = "cl", requests: int = 20000, read_fraction: float = 1.0,
              stride_bytes: int | None = None, outstanding: int | None = None, seed: int = 0,
              **overrides: Any) -> dict[str, Any]:
    """Run one traffic pattern on a preset with one face; returns a flat dict of results.

    Keys: ``bandwidth_gbps`` (GB/s = 1e9 bytes/s), ``peak_bandwidth_gbps``, ``avg_latency_ns``,
    ``row_hit_rate``, ``energy_pj_per_bit`` and ``face``, ``preset``, ``pattern``, ``requests``,
    ``read_fraction``, ``stride_bytes``, ``outstanding``, ``seed``, ``transaction_bytes``,
    ``duration_ns``, ``activates``, ``refreshes`` (and ``wall_s``, ``requests_per_s`` for the CL face).
    ``stride_bytes=None`` / ``outstanding=None`` use the defaults (2 transactions; ``queue_depth``
    per pseudo channel). Extra keyword arguments override top-level config fields
    (e.g. ``page_policy="closed"``).
    """
    if face not in FACES:
        raise ConfigError(f"face: must be one of {', '.join(FACES)}, got {face!r}")
    cfg = load_preset(preset, **overrides)
    pat = TrafficPattern(kind=pattern, requests=requests, read_fraction=read_fraction, stride_bytes=stride_bytes,
                         outstanding=outstanding, seed=seed)
    pat.check(cfg)
    out: dict[str, Any] = {"face": face, "preset": cfg.name, "pattern": pat.kind, "requests": pat.requests,
                           "read_fraction": pat.read_fraction, "stride_bytes": pat.stride_for(cfg),
                           "outstanding": pat.outstanding_for(cfg), "seed": pat.seed,
                           "transaction_bytes": cfg.transaction_bytes,
                           "peak_bandwidth_gbps": cfg.simulated_peak_bandwidth_bytes_per_s / 1e9}
    if face == "cost":
        c = dram_cost(cfg, pat)
        out.update(bandwidth_gbps=c.bandwidth_bytes_per_s / 1e9, avg_latency_ns=c.avg_latency_ns,
                   row_hit_rate=c.row_hit_rate, energy_pj_per_bit=c.energy_pj_per_bit,
                   duration_ns=c.duration_ps / 1000, activates=c.stats["activates"],
                   refreshes=c.stats["refreshes"])
        return out
    r = run_cl(cfg, pat)
    s = r["stats"]
    dur = r["duration_ps"]
    nreq = s["reads"] + s["writes"]
    e = energy(cfg, s, dur)
    out.update(bandwidth_gbps=nreq * cfg.transaction_bytes / (dur * 1e-12) / 1e9 if dur else 0.0,
               avg_latency_ns=s["latency_sum_ps"] / s["latency_count"] / 1000,
               row_hit_rate=s["row_hits"] / nreq, energy_pj_per_bit=e.pj_per_bit, duration_ns=dur / 1000,
               activates=s["activates"], refreshes=s["refreshes"], wall_s=r["wall_s"],
               requests_per_s=nreq / r["wall_s"] if r["wall_s"] > 0 else float("inf"))
    return out
