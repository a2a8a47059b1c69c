"""The DRAM cost face (closed form, :func:`dram_cost`) against the CL face (simulation) on a grid.

Exact where the closed form is exact:

* idle latency: :func:`idle_latency_cycles` equals the CL latency of a single request (read/write x
  hit/miss/conflict), and a one-request run has equal latency, duration and bandwidth on both faces;
* counts: requests, bytes and the peak bandwidth; for read-only streams every row hit, miss, conflict
  and ACT; the REF commands of a run.

Elsewhere within the bounds of ``BOUNDS`` (measured, with a margin), on the validation grid
presets x stream / random / strided x read fraction 1.0 / 0.7 x open / closed page, ``REQUESTS``
requests each with the default outstanding window (2 x queue_depth per pseudo channel) and seed 0;
``BOUNDS_LONG`` holds the same grid with ``LONG_REQUESTS`` requests (``-m slow``). Both faces are
deterministic, so the bounds only move when a model changes.
"""

from __future__ import annotations

import math
from functools import cache

import pytest

from hwsim.core import Simulation
from hwsim.memory.dram import DramSystem, TrafficPattern, dram_cost, load_preset
from hwsim.memory.dram.bench import mem_bench, run_cl
from hwsim.memory.dram.cost import idle_latency_cycles

PRESETS = ["hbm2e", "hbm3", "ddr4", "lpddr5"]
PATTERNS = ["stream", "random", "strided"]
READ_FRACTIONS = [1.0, 0.7]
POLICIES = ["open", "closed"]
REQUESTS = 6000
LONG_REQUESTS = 20000

# |cost / CL - 1| bounds in percent for bandwidth, mean latency and energy per bit, and the row-hit rate
# difference in percentage points; one row covers both page policies. "measured" is the larger of the
# two policies' errors (6,000 requests, seed 0). Mixed random traffic is the weak spot: the CL
# controller issues a row hit of the other direction whenever the current direction has no column
# command ready, so it turns the data bus around about 3.5x as often as write batching alone implies
# (LPDDR5, read fraction 0.7: 0.093 switches per request instead of 0.026); the cost face only
# prices the batched turnarounds, so it is optimistic there.
BOUNDS = {  # (preset, pattern, read_fraction): (bandwidth %, latency %, energy %, hit-rate points)
    ("hbm2e", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.4 0.3 0.0 0.00
    ("hbm2e", "stream", 0.7): (6.5, 3.0, 1.0, 0.3),  # measured 5.4 1.6 0.4 0.15
    ("hbm2e", "random", 1.0): (4.0, 2.0, 1.0, 0.2),  # measured 2.6 0.9 0.3 0.02
    ("hbm2e", "random", 0.7): (13.5, 5.5, 2.0, 0.2),  # measured 12.2 4.4 1.3 0.02
    ("hbm2e", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.2 0.2 0.0 0.00
    ("hbm2e", "strided", 0.7): (6.5, 3.5, 1.5, 0.5),  # measured 5.2 2.3 0.6 0.33
    ("hbm3", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.5 0.2 0.0 0.00
    ("hbm3", "stream", 0.7): (4.0, 2.5, 1.0, 0.3),  # measured 2.8 1.4 0.3 0.13
    ("hbm3", "random", 1.0): (13.5, 2.0, 2.0, 0.2),  # measured 12.0 0.5 1.5 0.03
    ("hbm3", "random", 0.7): (21.5, 5.0, 3.0, 0.2),  # measured 20.4 3.9 2.4 0.02
    ("hbm3", "strided", 1.0): (1.5, 2.5, 1.0, 0.1),  # measured 0.4 1.2 0.0 0.00
    ("hbm3", "strided", 0.7): (6.5, 1.5, 1.5, 0.3),  # measured 5.4 0.4 0.6 0.15
    ("ddr4", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("ddr4", "stream", 0.7): (1.5, 1.5, 1.0, 0.2),  # measured 0.2 0.2 0.0 0.05
    ("ddr4", "random", 1.0): (4.0, 4.0, 1.5, 0.2),  # measured 2.8 2.8 0.8 0.02
    ("ddr4", "random", 0.7): (2.5, 2.5, 1.0, 0.2),  # measured 1.0 1.0 0.3 0.02
    ("ddr4", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("ddr4", "strided", 0.7): (3.5, 3.5, 1.5, 0.3),  # measured 2.2 2.0 0.7 0.17
    ("lpddr5", "stream", 1.0): (1.0, 1.5, 0.5, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("lpddr5", "stream", 0.7): (2.0, 1.5, 1.0, 0.4),  # measured 0.8 0.1 0.1 0.22
    ("lpddr5", "random", 1.0): (5.0, 3.0, 1.5, 0.2),  # measured 3.7 1.9 0.6 0.03
    ("lpddr5", "random", 0.7): (32.5, 22.0, 5.0, 0.2),  # measured 31.3 20.9 4.3 0.03
    ("lpddr5", "strided", 1.0): (1.5, 1.5, 1.0, 0.3),  # measured 0.0 0.1 0.1 0.13
    ("lpddr5", "strided", 0.7): (2.0, 2.0, 1.0, 0.4),  # measured 0.9 0.8 0.3 0.25
}
BOUNDS_LONG = {  # the same grid with LONG_REQUESTS requests (marked slow): (bandwidth %, latency %, energy %, points)
    ("hbm2e", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.1 0.1 0.0 0.00
    ("hbm2e", "stream", 0.7): (6.5, 4.5, 1.0, 0.7),  # measured 5.4 3.3 0.3 0.58
    ("hbm2e", "random", 1.0): (2.0, 2.5, 1.0, 0.2),  # measured 0.7 1.4 0.1 0.01
    ("hbm2e", "random", 0.7): (7.5, 5.5, 1.5, 0.2),  # measured 6.1 4.3 0.7 0.01
    ("hbm2e", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.1 0.0 0.0 0.00
    ("hbm2e", "strided", 0.7): (5.0, 2.5, 1.0, 0.9),  # measured 4.0 1.4 0.4 0.76
    ("hbm3", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.2 0.2 0.0 0.00
    ("hbm3", "stream", 0.7): (7.0, 3.5, 1.0, 0.3),  # measured 5.9 2.0 0.4 0.16
    ("hbm3", "random", 1.0): (4.0, 2.5, 1.0, 0.2),  # measured 2.9 1.4 0.3 0.01
    ("hbm3", "random", 0.7): (10.0, 5.0, 2.0, 0.2),  # measured 9.0 3.6 1.0 0.01
    ("hbm3", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.1 0.0 0.0 0.00
    ("hbm3", "strided", 0.7): (6.5, 4.5, 1.5, 0.7),  # measured 5.4 3.1 0.6 0.58
    ("ddr4", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("ddr4", "stream", 0.7): (1.5, 1.5, 1.0, 0.2),  # measured 0.0 0.0 0.1 0.07
    ("ddr4", "random", 1.0): (4.0, 4.0, 1.5, 0.2),  # measured 2.8 2.8 0.8 0.01
    ("ddr4", "random", 0.7): (2.0, 2.0, 1.0, 0.2),  # measured 0.9 0.9 0.3 0.01
    ("ddr4", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("ddr4", "strided", 0.7): (3.5, 3.5, 1.5, 0.4),  # measured 2.2 2.1 0.7 0.21
    ("lpddr5", "stream", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.0 0.0 0.0 0.00
    ("lpddr5", "stream", 0.7): (4.0, 2.0, 2.0, 0.5),  # measured 2.6 0.5 1.5 0.31
    ("lpddr5", "random", 1.0): (5.0, 3.0, 2.0, 0.2),  # measured 3.9 1.7 1.2 0.01
    ("lpddr5", "random", 0.7): (30.5, 23.5, 6.0, 0.2),  # measured 29.1 22.3 5.1 0.01
    ("lpddr5", "strided", 1.0): (1.5, 1.5, 1.0, 0.1),  # measured 0.1 0.2 0.0 0.00
    ("lpddr5", "strided", 0.7): (2.0, 1.5, 1.0, 0.4),  # measured 0.7 0.4 0.2 0.23
}
GRID = [(p, pat, rf, pol) for p in PRESETS for pat in PATTERNS for rf in READ_FRACTIONS for pol in POLICIES]


@cache
def both_faces(preset: str, pattern: str, read_fraction: float, page_policy: str,
               requests: int = REQUESTS) -> tuple[dict, dict]:
    kw = {"requests": requests, "read_fraction": read_fraction, "page_policy": page_policy}
    return mem_bench(preset, pattern, "cl", **kw), mem_bench(preset, pattern, "cost", **kw)


def test_bounds_cover_the_grid():
    assert set(BOUNDS) == set(BOUNDS_LONG) == {(p, pat, rf) for p, pat, rf, _ in GRID}


@pytest.mark.parametrize("preset, pattern, read_fraction, page_policy", GRID,
                         ids=[f"{p}-{pat}-{rf}-{pol}" for p, pat, rf, pol in GRID])
def test_cost_face_within_bounds(preset, pattern, read_fraction, page_policy):
    check_bounds(preset, pattern, read_fraction, page_policy, REQUESTS, BOUNDS)


@pytest.mark.slow
@pytest.mark.parametrize("preset, pattern, read_fraction, page_policy", GRID,
                         ids=[f"{p}-{pat}-{rf}-{pol}" for p, pat, rf, pol in GRID])
def test_cost_face_within_bounds_long_runs(preset, pattern, read_fraction, page_policy):
    check_bounds(preset, pattern, read_fraction, page_policy, LONG_REQUESTS, BOUNDS_LONG)


def check_bounds(preset, pattern, read_fraction, page_policy, requests, bounds):
    cl, cost = both_faces(preset, pattern, read_fraction, page_policy, requests)
    bw_b, lat_b, en_b, hit_b = bounds[(preset, pattern, read_fraction)]
    errors = {k: 100 * abs(cost[k] / cl[k] - 1) for k in ("bandwidth_gbps", "avg_latency_ns", "energy_pj_per_bit")}
    hit = 100 * abs(cost["row_hit_rate"] - cl["row_hit_rate"])
    msg = f"errors {errors}, hit-rate {hit:.2f} points"
    assert errors["bandwidth_gbps"] <= bw_b, msg
    assert errors["avg_latency_ns"] <= lat_b, msg
    assert errors["energy_pj_per_bit"] <= en_b, msg
    assert hit <= hit_b, msg
    # both runs describe the same traffic
    for key in ("requests", "read_fraction", "stride_bytes", "outstanding", "transaction_bytes", "peak_bandwidth_gbps"):
        assert cost[key] == cl[key], key
    assert cl["bandwidth_gbps"] <= cl["peak_bandwidth_gbps"] and cost["bandwidth_gbps"] <= cost["peak_bandwidth_gbps"]


# --- exact agreement ----------------------------------------------------------------------------------
def single_latency_cycles(cfg, first: tuple[int, bool] | None, addr: int, is_write: bool) -> int:
    """CL latency (cycles) of a request to ``addr``, after an optional earlier request has finished."""
    sim = Simulation()
    dram = DramSystem(sim, cfg)
    out = []

    def go():
        if first is not None:
            yield dram.request(first[0], first[1])
            yield sim.env.timeout(300 * cfg.period_ps)  # every constraint of the first has expired
        t0 = sim.env.now
        done = yield dram.request(addr, is_write)
        out.append(done - t0)

    sim.env.process(go())
    sim.run()
    assert out[0] % cfg.period_ps == 0
    return out[0] // cfg.period_ps


@pytest.mark.parametrize("preset", PRESETS)
def test_idle_latency_equals_a_single_cl_request(preset):
    cfg = load_preset(preset)
    idle = idle_latency_cycles(cfg)
    enc = DramSystem(Simulation(), cfg).mapping.encode
    a = enc(channel=cfg.channels - 1, bank_group=1, bank=2, row=77, column_block=3)
    same_row = enc(channel=cfg.channels - 1, bank_group=1, bank=2, row=77, column_block=5)
    other_row = enc(channel=cfg.channels - 1, bank_group=1, bank=2, row=78, column_block=3)
    for w, d in ((False, "read"), (True, "write")):
        assert single_latency_cycles(cfg, None, a, w) == idle[f"{d}_miss"]
        assert single_latency_cycles(cfg, (a, False), same_row, w) == idle[f"{d}_hit"]
        assert single_latency_cycles(cfg, (a, True), other_row, w) == idle[f"{d}_conflict"]
        closed = load_preset(preset, page_policy="closed")
        assert single_latency_cycles(closed, (a, False), same_row, w) == idle[f"{d}_miss"]
    cost = dram_cost(cfg, TrafficPattern(kind="random", requests=1))
    assert cost.idle_latency_ns == {k: v * cfg.period_ps / 1000 for k, v in idle.items()}


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("read_fraction", [1.0, 0.0])
def test_one_request_runs_agree_exactly(preset, pattern, read_fraction):
    """One request on an idle device: a miss on both faces, same latency, duration and bandwidth."""
    kw = {"requests": 1, "read_fraction": read_fraction}
    cl, cost = mem_bench(preset, pattern, "cl", **kw), mem_bench(preset, pattern, "cost", **kw)
    idle = idle_latency_cycles(load_preset(preset))["read_miss" if read_fraction else "write_miss"]
    period_ns = load_preset(preset).period_ps / 1000
    assert cl["avg_latency_ns"] == cost["avg_latency_ns"] == cl["duration_ns"] == cost["duration_ns"] \
        == pytest.approx(idle * period_ns, abs=1e-9)
    assert cl["bandwidth_gbps"] == pytest.approx(cost["bandwidth_gbps"], rel=1e-12)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("page_policy", POLICIES)
def test_read_stream_counts_are_exact(preset, page_policy):
    """Read-only stream: requests, bytes, row hits / misses / conflicts, ACTs and REFs all equal."""
    cfg = load_preset(preset, page_policy=page_policy)
    pat = TrafficPattern(kind="stream", requests=REQUESTS)
    cl = run_cl(cfg, pat)["stats"]
    cost = dram_cost(cfg, pat)
    for key in ("reads", "writes", "bytes_read", "bytes_written", "row_hits", "row_misses", "row_conflicts",
                "activates", "refreshes"):
        assert cost.stats[key] == cl[key], key
    assert cost.peak_bandwidth_bytes_per_s == cfg.simulated_peak_bandwidth_bytes_per_s


@pytest.mark.parametrize("preset, pattern, read_fraction, page_policy", GRID,
                         ids=[f"{p}-{pat}-{rf}-{pol}" for p, pat, rf, pol in GRID])
def test_refresh_counts_agree(preset, pattern, read_fraction, page_policy):
    """Every grid case: both faces issue the same number of REFs per pseudo channel (+-1)."""
    cl, cost = both_faces(preset, pattern, read_fraction, page_policy)
    npc = load_preset(preset).total_pseudo_channels
    assert cl["refreshes"] % npc == 0 and cost["refreshes"] % npc == 0
    assert abs(cl["refreshes"] - cost["refreshes"]) <= npc


@pytest.mark.parametrize("preset", PRESETS)
def test_write_split_is_the_same_draw(preset):
    """Mixed traffic: the CL face draws each request's direction (seeded), the cost face takes the
    mean; the totals are equal and the draw is within 4 standard deviations of the mean."""
    cfg = load_preset(preset)
    pat = TrafficPattern(kind="random", requests=REQUESTS, read_fraction=0.7)
    s = run_cl(cfg, pat)["stats"]
    c = dram_cost(cfg, pat).stats
    assert s["reads"] + s["writes"] == c["reads"] + c["writes"] == REQUESTS
    sigma = math.sqrt(REQUESTS * 0.7 * 0.3)
    assert abs(s["writes"] - c["writes"]) <= 4 * sigma
    assert s["bytes_written"] == s["writes"] * cfg.transaction_bytes
    assert c["bytes_written"] == pytest.approx(c["writes"] * cfg.transaction_bytes)
