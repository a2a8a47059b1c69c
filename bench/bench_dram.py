"""DRAM/HBM model speed and cost-face accuracy (run by hand, not a test).

For every preset x pattern (stream, random, strided) x read fraction (1.0, 0.7), the same closed-loop
run (``requests`` transactions, default outstanding window, seed 0) on both faces:

* CL face: memory requests simulated per second of wall time (one run);
* cost face: time per evaluation (best of 3) and how many times faster it is than the CL run;
* cost-vs-CL error of bandwidth and mean latency (the CL face is the reference).

Baselines measured in the same run: the CL face itself (for the cost face's speed and error), and a
bare SimPy closed loop with the same requests and window in which every request is one fixed-latency
timeout — the floor of any SimPy memory model; the ``CL/bare`` column is what the DRAM timing
(queues, FR-FCFS, bank state) costs over it.
Usage: python bench/bench_dram.py [requests]
"""

from __future__ import annotations

import sys
import time

import simpy

from hwsim.memory.dram import TrafficPattern, dram_cost, load_preset
from hwsim.memory.dram.bench import mem_bench

from timing import best_of  # bench/timing.py (the script's folder is on sys.path)

PRESETS = ("hbm2e", "hbm3", "ddr4", "lpddr5")
PATTERNS = ("stream", "random", "strided")


def bare_simpy_requests_per_s(requests: int, outstanding: int, latency_ps: int) -> float:
    """Requests per second of a closed loop where each request is one SimPy timeout."""
    env = simpy.Environment()
    state = {"next": 0}

    def issue() -> None:
        if state["next"] < requests:
            state["next"] += 1
            env.timeout(latency_ps).callbacks.append(finish)

    def finish(_ev) -> None:
        issue()

    t0 = time.perf_counter()
    for _ in range(min(outstanding, requests)):
        issue()
    env.run()
    return requests / (time.perf_counter() - t0)



def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(f"{n:,} requests per run, default outstanding window (2 x queue depth per pseudo channel), seed 0")
    print(f"{'preset':>6} {'pattern':>7} {'rd':>4} {'CL req/s':>9} {'bare req/s':>10} {'CL/bare':>7} "
          f"{'cost ms':>7} {'cost x':>7} {'CL GB/s':>8} {'cost GB/s':>9} {'bw err':>7} "
          f"{'CL ns':>7} {'cost ns':>7} {'lat err':>7}")
    bw_errs, lat_errs, speedups = [], [], []
    for preset in PRESETS:
        cfg = load_preset(preset)
        for pattern in PATTERNS:
            for rf in (1.0, 0.7):
                cl = mem_bench(preset, pattern, "cl", requests=n, read_fraction=rf)
                pat = TrafficPattern(kind=pattern, requests=n, read_fraction=rf)
                cost_s, _ = best_of(lambda: dram_cost(cfg, pat), 3)
                cost = mem_bench(preset, pattern, "cost", requests=n, read_fraction=rf)
                bare = bare_simpy_requests_per_s(n, cl["outstanding"], round(cl["avg_latency_ns"] * 1000))
                bw_err = cost["bandwidth_gbps"] / cl["bandwidth_gbps"] - 1
                lat_err = cost["avg_latency_ns"] / cl["avg_latency_ns"] - 1
                bw_errs.append(abs(bw_err))
                lat_errs.append(abs(lat_err))
                speedups.append(cl["wall_s"] / cost_s)
                print(f"{preset:>6} {pattern:>7} {rf:>4.1f} {cl['requests_per_s']:>9,.0f} {bare:>10,.0f} "
                      f"{bare / cl['requests_per_s']:>7.1f} {cost_s * 1e3:>7.1f} {cl['wall_s'] / cost_s:>7.1f} "
                      f"{cl['bandwidth_gbps']:>8.2f} {cost['bandwidth_gbps']:>9.2f} {100 * bw_err:>+6.1f}% "
                      f"{cl['avg_latency_ns']:>7.1f} {cost['avg_latency_ns']:>7.1f} {100 * lat_err:>+6.1f}%")
    print(f"cost face: {min(speedups):.1f}x to {max(speedups):.1f}x faster than the CL run; |error| max "
          f"{100 * max(bw_errs):.1f}% bandwidth, {100 * max(lat_errs):.1f}% latency")


if __name__ == "__main__":
    main()
