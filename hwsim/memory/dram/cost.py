"""Cost face: closed-form bandwidth, latency, row-hit rate and energy of a traffic pattern.

:func:`dram_cost` predicts what the CL face measures for the same closed-loop run (``requests``
transactions, ``outstanding`` in flight, see :mod:`hwsim.memory.dram.bench`), with no simulation.
All times are in controller cycles (``cfg.cycles()``) until the result.

**1. Pattern statistics.** Per request: row hit (its row is open), miss (bank closed) or conflict
(another row open). ``stream`` and ``strided`` are deterministic: the addresses are decoded
(vectorised) and each (pseudo channel, bank) sequence is classified in order (closed page: a hit
needs the previous same-row request within the last ``queue_depth`` requests of its pseudo channel).
``random`` uses closed forms: hit probability ``1 / rows``, misses = expected distinct banks touched
``B (1 - (1 - 1/B)^N)``, the rest conflicts. Also: the busiest pseudo channel's share of the requests
(``s_max``), the bank groups ``k_bg`` and banks ``k_bank`` present in a queue window (FR-FCFS
alternates them), and the write fraction ``w``.

**2. Cycles per request of one pseudo channel** (its throughput bound), the largest of

* data / column: ``max(burst, tCCD_S, tCCD_L / k_bg)``, plus read/write turnarounds: with write
  batching between the watermarks (``hi - lo`` writes), ``(tRTW - col) + (tCWL + burst + tWTR_S - col)``
  per batch pair, i.e. ``S w (1 - w) / (hi - lo)`` per request;
* activation rate: ``m max(tRRD, tFAW / 4)`` with ``m`` ACTs per request (misses + conflicts),
  ``tRRD = max(tRRD_S, tRRD_L / k_bg)``;
* bank occupancy: ``m t_bank / k_bank`` with ``t_bank = max(tRC, tRCD + tRTP + tRP)`` for reads
  (``tRCD + tCWL + burst + tWR + tRP`` for writes);
* command bus: the pseudo channels sharing a channel's bus need ``1 + m + conflicts`` commands per
  request on one bus, or ``max(1, m + conflicts)`` on the busier of the row / column buses.

**3. Outstanding requests.** Exact mean-value analysis of a closed network: the used pseudo channels
as queueing stations (service = step 2), plus a pure delay ``Z = R0 - service`` where ``R0`` is the
pattern's idle latency (hit ``tCL + burst``, miss ``+ tRCD``, conflict ``+ tRP + tRCD``; writes use
``tCWL``). This gives the throughput ``X(outstanding)`` between the latency bound
``outstanding / R0`` and the throughput bound.

**4. The finite run.** ``T = max(N / X, n_max c) + R_first u``: the busiest pseudo channel's work
(random: the expected maximum of the per-channel binomial counts, ``N/P + z sqrt(N/P (1 - 1/P))``)
plus the pipeline fill (``R_first`` = a cold miss, weighted by the utilisation ``u``). Each all-bank
refresh falling in ``T`` (at ``k tREFI``, all pseudo channels together) stalls the whole memory for
``G = h (tRTP + tRP + tRFC + tRCD) + (1 - h)(tRC + tRFC)`` (row hits: drain, precharge, refresh,
re-activate; ACT-bound traffic: tRC + tRFC), iterated until the refresh count is stable.
Bandwidth is ``N x transaction_bytes / T``; the mean latency is the closed loop's
``W T / (N + W/2)`` (Little's law with the run's drain), at least ``R0``.

**Exact** (equal to the CL face): peak bandwidth; the idle latencies of a single request
(``idle_latency_ns``: hit, miss, conflict; e.g. a single random read on an idle device is a miss).
Elsewhere the agreement bound is measured and pinned in ``tests/memory/test_dram_cost.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hwsim.errors import ConfigError
from hwsim.memory.dram.config import DramConfig
from hwsim.memory.dram.energy import DramEnergyBreakdown, energy
from hwsim.memory.dram.mapping import AddressMapping

_SAMPLE = 1 << 18  # deterministic patterns: requests decoded for the statistics


class TrafficPattern(BaseModel):
    """A closed-loop traffic pattern: ``requests`` transactions, ``outstanding`` in flight."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["stream", "random", "strided"] = Field("stream", description="address pattern")
    requests: int = Field(20000, ge=1, le=100_000_000, description="transactions in the run")
    read_fraction: float = Field(1.0, ge=0.0, le=1.0, description="share of reads (the rest are writes)")
    stride_bytes: int | None = Field(None, ge=1, description="strided: bytes between consecutive requests")
    outstanding: int | None = Field(None, ge=1, le=1_000_000, description="requests in flight")
    seed: int = Field(0, ge=0, description="seed of random addresses and of the read/write choice")

    def outstanding_for(self, cfg: DramConfig) -> int:
        """Requests in flight: as given, else ``2 x queue_depth`` per pseudo channel (keeps every queue
        full while as many requests again are in the data pipeline or waiting in front of the queue)."""
        return self.outstanding if self.outstanding is not None else 2 * cfg.queue_depth * cfg.total_pseudo_channels

    def stride_for(self, cfg: DramConfig) -> int | None:
        if self.kind != "strided":
            return self.stride_bytes
        return self.stride_bytes if self.stride_bytes is not None else 2 * cfg.transaction_bytes

    def check(self, cfg: DramConfig) -> None:
        """Raise :class:`ConfigError` if the pattern does not suit ``cfg`` (e.g. a misaligned stride)."""
        if self.kind == "strided":
            s = self.stride_for(cfg)
            if s % cfg.transaction_bytes:
                raise ConfigError(f"stride_bytes: must be a multiple of the {cfg.transaction_bytes}-byte "
                                  f"transaction, got {s}")


def pattern_addresses(cfg: DramConfig, pattern: TrafficPattern, count: int | None = None) -> np.ndarray:
    """The byte addresses of the pattern's first ``count`` (default: all) requests, in issue order."""
    pattern.check(cfg)
    n = pattern.requests if count is None else min(count, pattern.requests)
    tb = cfg.transaction_bytes
    ntx = cfg.capacity_bytes // tb
    if pattern.kind == "stream":
        idx = np.arange(n, dtype=np.int64) % ntx
    elif pattern.kind == "random":
        idx = np.random.default_rng([pattern.seed, 0]).integers(0, ntx, pattern.requests, dtype=np.int64)[:n]
    else:
        step = (pattern.stride_for(cfg) // tb) % ntx
        if n * step < (1 << 62):
            idx = (np.arange(n, dtype=np.int64) * step) % ntx
        else:
            idx = np.array([(k * step) % ntx for k in range(n)], dtype=np.int64)
    return idx * tb


@dataclass
class DramCost:
    """The cost face's prediction for one pattern (units in the names; times of the whole run)."""

    bandwidth_bytes_per_s: float
    avg_latency_ns: float
    row_hit_rate: float
    energy_pj_per_bit: float
    peak_bandwidth_bytes_per_s: float
    duration_ps: float
    idle_latency_ns: dict[str, float]
    cycles_per_request: dict[str, float]  # per pseudo channel, by limit
    bottleneck: str
    stats: dict[str, float]
    energy: DramEnergyBreakdown = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"bandwidth_bytes_per_s": self.bandwidth_bytes_per_s, "avg_latency_ns": self.avg_latency_ns,
                "row_hit_rate": self.row_hit_rate, "energy_pj_per_bit": self.energy_pj_per_bit,
                "peak_bandwidth_bytes_per_s": self.peak_bandwidth_bytes_per_s, "duration_ps": self.duration_ps,
                "idle_latency_ns": dict(self.idle_latency_ns), "cycles_per_request": dict(self.cycles_per_request),
                "bottleneck": self.bottleneck, "stats": dict(self.stats), "energy": self.energy.to_dict()}


def idle_latency_cycles(cfg: DramConfig) -> dict[str, int]:
    """Latency of a single request on an otherwise idle device, controller cycles (exact).

    From the request's arrival (on a clock edge; its first command issues in that cycle) to the last
    data beat: read hit ``tCL + burst``, miss (bank closed) ``tRCD + tCL + burst``, conflict (another
    row open) ``tRP + tRCD + tCL + burst``; writes use tCWL (data written into the device).
    """
    c = cfg.cycles()
    return {"read_hit": c.CL + c.burst, "read_miss": c.RCD + c.CL + c.burst,
            "read_conflict": c.RP + c.RCD + c.CL + c.burst, "write_hit": c.CWL + c.burst,
            "write_miss": c.RCD + c.CWL + c.burst, "write_conflict": c.RP + c.RCD + c.CWL + c.burst}


def _distinct(n_bins: float, draws: float) -> float:
    """Expected distinct bins hit by ``draws`` uniform draws over ``n_bins``."""
    if n_bins <= 0 or draws <= 0:
        return 0.0
    return n_bins * (1.0 - (1.0 - 1.0 / n_bins) ** draws)


def _pattern_stats(cfg: DramConfig, pat: TrafficPattern, tau: float, r_first: float) -> dict[str, float]:
    """Hit / miss / conflict fractions and the parallelism of the pattern (see the module docstring).

    ``tau`` is the run's time per request (cycles) and ``r_first`` the first completion: with them,
    request ``i`` is placed at ``r_first + i tau`` to know which refresh interval it falls in (a
    refresh closes every row, so a revisit after a refresh is a miss, not a hit or conflict).
    """
    n = pat.requests
    npc = cfg.total_pseudo_channels
    q = cfg.queue_depth
    closed = cfg.page_policy == "closed"
    refi = cfg.cycles().REFI if cfg.refresh else math.inf
    if pat.kind == "random":
        total_banks = npc * cfg.banks
        per_epoch = min(float(n), max(1.0, refi / tau)) if tau > 0 else float(n)
        hit = 0.0 if closed else 1.0 / cfg.rows
        miss = 1.0 - hit if closed else min(1.0, _distinct(total_banks, per_epoch) / per_epoch)
        conflict = max(0.0, 1.0 - hit - miss)
        per_pc = n / npc
        z = NormalDist().inv_cdf((npc - 0.375) / (npc + 0.25)) if npc > 1 else 0.0
        n_max = per_pc + z * math.sqrt(per_pc * (1.0 - 1.0 / npc))
        return {"hit": hit, "miss": miss, "conflict": conflict, "s_max": 1.0 / npc, "n_used": npc,
                "n_max": min(n, n_max), "k_bg": _distinct(cfg.bank_groups, q), "k_bank": float(cfg.banks),
                "channels_used": cfg.total_channels, "pcs_per_channel": cfg.pseudo_channels, "deterministic": 0.0}
    mapping = AddressMapping(cfg)
    m = min(n, _SAMPLE)
    pcg, bank, row, _col = mapping.locate_array(pattern_addresses(cfg, pat, m))
    counts = np.bincount(pcg, minlength=npc).astype(float)
    used = counts > 0
    s_max = float(counts.max() / m)
    chan = np.arange(npc) // cfg.pseudo_channels
    pcs_per_channel = float(np.bincount(chan[used]).max())
    channels_used = int(len(np.unique(chan[used])))
    # position of each request within its pseudo channel's sequence
    order = np.argsort(pcg, kind="stable")
    pos = np.empty(m, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts[used]).astype(np.int64)))
    for a, b in zip(starts[:-1], starts[1:]):
        pos[order[a:b]] = np.arange(b - a)
    epoch = np.floor((r_first + np.arange(m) * tau) / refi).astype(np.int64) if math.isfinite(refi) \
        else np.zeros(m, dtype=np.int64)
    # classify each request against the previous request to its bank, in (pc, bank) order
    key = pcg * cfg.banks + bank
    o = np.argsort(key, kind="stable")
    ks, rs, ps, es = key[o], row[o], pos[o], epoch[o]
    same_bank = np.concatenate(([False], (ks[1:] == ks[:-1]) & (es[1:] == es[:-1])))
    same_row = np.concatenate(([False], rs[1:] == rs[:-1])) & same_bank
    if closed:
        near = np.concatenate(([False], (ps[1:] - ps[:-1]) <= q)) & same_bank
        hits = same_row & near
        miss = ~hits
        conflicts = np.zeros_like(hits)
    else:
        hits = same_row
        miss = ~same_bank
        conflicts = same_bank & ~same_row
    # bank groups and banks present in a queue window of each used pseudo channel (its first q requests)
    bg = bank // cfg.banks_per_group
    k_bg, k_bank = [], []
    for a in starts[:-1]:
        idx = order[a:a + q]
        k_bg.append(len(np.unique(bg[idx])))
        k_bank.append(len(np.unique(bank[idx])))
    return {"hit": float(hits.mean()), "miss": float(miss.mean()), "conflict": float(conflicts.mean()),
            "s_max": s_max, "n_used": int(used.sum()), "n_max": n * s_max, "k_bg": float(np.mean(k_bg)),
            "k_bank": float(np.mean(k_bank)), "channels_used": channels_used,
            "pcs_per_channel": pcs_per_channel, "deterministic": 1.0}


def _mva_curve(stations: list[tuple[float, float, float]], customers: int) -> list[float]:
    """Mean-value analysis of a closed network: ``customers`` circulate through one station of each
    type in ``stations`` = [(count, occupancy, own)], each request visiting one of a type's ``count``
    identical FCFS stations uniformly. A request holds its station for ``occupancy`` cycles but is
    itself delayed only ``own`` cycles there (a bank stays busy for tRC after its request's data has
    left). By the arrival theorem an arriving request finds ``queue`` requests there; DRAM service
    times are fixed, so the one in service has on average half its occupancy left:
    residence = ``occupancy x (queue - utilisation / 2) + own``.
    Returns the throughput per cycle for 1..customers requests (at most ``min(count / occupancy)``)."""
    x_max = min(k / occ for k, occ, _own in stations if occ > 0)
    queues = [0.0] * len(stations)
    utils = [0.0] * len(stations)
    out: list[float] = []
    for nc in range(1, customers + 1):
        resid = [occ * (qq - uu / 2.0) + own for (k, occ, own), qq, uu in zip(stations, queues, utils)]
        x = min(x_max, nc / sum(resid))
        queues = [x * r / k for (k, _occ, _own), r in zip(stations, resid)]
        utils = [x * occ / k for k, occ, _own in stations]
        out.append(x)
        if x >= x_max * (1.0 - 1e-6):
            out.extend([x_max] * (customers - nc))
            break
    return out


def _run_time(cfg: DramConfig, pattern: TrafficPattern, st: dict[str, float], r_first: float) -> dict[str, Any]:
    """Steps 2-4 of the module docstring for one set of pattern statistics."""
    c = cfg.cycles()
    n = pattern.requests
    w = 1.0 - pattern.read_fraction
    h, mi, co = st["hit"], st["miss"], st["conflict"]
    m = mi + co  # ACTs per request
    k_bg = max(1.0, st["k_bg"])
    # --- 2. cycles per request of a pseudo channel -----------------------------------------------
    ccd_s = max(c.CCD_S, c.burst)
    col = max(ccd_s, c.CCD_L / k_bg)
    q = cfg.queue_depth
    hi, lo = max(1, (3 * q + 3) // 4), q // 4
    switch = max(0.0, c.RTW - col) + max(0.0, c.CWL + c.burst + c.WTR_S - col)
    turn = switch * w * (1.0 - w) / max(1, hi - lo)
    rrd = max(c.RRD_S, c.RRD_L / k_bg)
    t_bank = (1.0 - w) * max(c.RC, c.RCD + c.RTP + c.RP) + w * max(c.RC, c.RCD + c.CWL + c.burst + c.WR + c.RP)
    k_bank = max(1.0, st["k_bank"])
    kpc = st["pcs_per_channel"]
    cmds = max(1.0, m + co) if cfg.separate_row_column_bus else 1.0 + m + co
    limits = {"data": col + turn, "activate": m * max(rrd, c.FAW / 4.0), "bank": m * t_bank / k_bank,
              "command_bus": kpc * cmds}
    bottleneck = max(limits, key=limits.get)
    service = limits[bottleneck]
    # --- 3. outstanding requests -----------------------------------------------------------------
    idle = idle_latency_cycles(cfg)
    r0 = (1.0 - w) * (h * idle["read_hit"] + mi * idle["read_miss"] + co * idle["read_conflict"]) \
        + w * (h * idle["write_hit"] + mi * idle["write_miss"] + co * idle["write_conflict"])
    outstanding = min(pattern.outstanding_for(cfg), n)
    pcs = 1.0 / st["s_max"]
    tail = 0.0
    if st["deterministic"]:  # a fixed sequence: sharp bounds (no queueing randomness)
        x = min(pcs / service, outstanding / r0)
    else:
        others = limits["data"] + limits["activate"] + cmds
        own_bank = max(0.0, r0 - others)  # the rest of R0 is spent in the bank
        stations = [(pcs, limits["data"], limits["data"]), (pcs, limits["activate"], limits["activate"]),
                    (float(st["channels_used"]), cmds, cmds), (pcs * k_bank, m * t_bank, own_bank)]
        visible = min(outstanding, int(cfg.queue_depth * st["n_used"]))  # the schedulers see their queues only
        x = _mva_curve(stations, visible)[-1]
        # the run ends with the busiest pseudo channel draining its last queue alone
        one = [(1.0, limits["data"], limits["data"]), (1.0, limits["activate"], limits["activate"]),
               (1.0, cmds, cmds), (k_bank, m * t_bank, own_bank)]
        k_tail = int(min(cfg.queue_depth, st["n_max"]))
        tail = sum(1.0 / xk for xk in _mva_curve(one, k_tail))
    util = min(1.0, x * service * st["s_max"])
    # --- 4. the finite run, with the refreshes that fall in it -----------------------------------
    if outstanding >= n:  # everything issued at once: drain at the throughput bound after the first
        t_run = t_full = r_first + (n - 1) / x
    elif st["deterministic"]:
        t_run = t_full = max(n / x, st["n_max"] * service) + r_first * util
    else:  # t_full: while every slot is busy (the busiest channel's tail runs with fewer in flight)
        t_full = n / x
        t_run = max(t_full, (st["n_max"] - k_tail) * service + tail)
    g_hit = (1.0 - w) * c.RTP + w * (c.CWL + c.burst + c.WR) + c.RP + c.RFC + c.RCD
    gap = h * g_hit + (1.0 - h) * (c.RC + c.RFC)
    n_ref = 0
    total = t_run
    if cfg.refresh:
        for _ in range(100):
            k = int(total // c.REFI)
            if k == n_ref:
                break
            n_ref = k
            total = t_run + n_ref * gap
    if outstanding >= n:
        avg_lat = r_first + (n - 1) / (2.0 * x) + n_ref * gap / 2.0
    else:
        avg_lat = max(r0, outstanding * (t_full + n_ref * gap) / (n + outstanding / 2.0))
    return {"t_cycles": total, "avg_latency": avg_lat, "n_ref": n_ref, "limits": limits, "bottleneck": bottleneck,
            "r0": r0}


def dram_cost(cfg: DramConfig, pattern: TrafficPattern | str) -> DramCost:
    """Predict bandwidth, latency, row-hit rate and energy of ``pattern`` on ``cfg`` (no simulation).

    ``pattern`` is a :class:`TrafficPattern` or a kind (``"stream"``, ``"random"``, ``"strided"``)
    with the default run (20,000 reads, default outstanding).
    """
    if isinstance(pattern, str):
        pattern = TrafficPattern(kind=pattern)
    if not isinstance(pattern, TrafficPattern):
        raise ConfigError(f"pattern: must be a TrafficPattern or one of stream, random, strided, got {pattern!r}")
    pattern.check(cfg)
    c = cfg.cycles()
    n = pattern.requests
    w = 1.0 - pattern.read_fraction
    idle = idle_latency_cycles(cfg)
    r_first = (1.0 - w) * idle["read_miss"] + w * idle["write_miss"]
    tau = 0.0  # time per request: first pass without refresh intervals, then iterate
    for _ in range(4):
        st = _pattern_stats(cfg, pattern, tau, r_first)
        run = _run_time(cfg, pattern, st, r_first)
        new_tau = run["t_cycles"] / n
        if tau and abs(new_tau - tau) <= 1e-3 * tau:
            break
        tau = new_tau
    # --- predicted action counts (for energy) ----------------------------------------------------
    h, mi, co = st["hit"], st["miss"], st["conflict"]
    n_ref = run["n_ref"]
    duration_ps = run["t_cycles"] * cfg.period_ps
    avg_lat = run["avg_latency"]
    npc = cfg.total_pseudo_channels
    tb = cfg.transaction_bytes
    reads = n * (1.0 - w)
    stats = {"reads": reads, "writes": n * w, "activates": (mi + co) * n, "precharges": (mi + co) * n,
             "refreshes": n_ref * npc, "row_hits": h * n, "row_misses": mi * n, "row_conflicts": co * n,
             "bytes_read": reads * tb, "bytes_written": n * w * tb,
             "latency_sum_ps": avg_lat * n * cfg.period_ps, "latency_count": n}
    e = energy(cfg, stats, duration_ps)
    bw = n * tb / (duration_ps * 1e-12)
    return DramCost(
        bandwidth_bytes_per_s=bw, avg_latency_ns=avg_lat * cfg.period_ps / 1000.0, row_hit_rate=h,
        energy_pj_per_bit=e.pj_per_bit, peak_bandwidth_bytes_per_s=cfg.simulated_peak_bandwidth_bytes_per_s,
        duration_ps=duration_ps, idle_latency_ns={k: v * cfg.period_ps / 1000.0 for k, v in idle.items()},
        cycles_per_request=run["limits"], bottleneck=run["bottleneck"], stats=stats, energy=e)
