"""NoC CL-face speed: flit-hops simulated per second on an 8x8 mesh at saturation (run by hand, not a test).

Baselines measured in the same run: the same network at light load (10 % of the saturation throughput;
the per-cycle cost of the vectorised step is nearly fixed, so flit-hops per second grow with the load),
and the cost face on the same operating point (the ratio is how much one CL point costs over the
analytical model). Also printed: an 8x8 torus and a 16x16 mesh at saturation, for scaling, and a
10-point latency sweep of the 8x8 mesh run point by point against the same points batched into one
simulation (independent copies of the network side by side in the same arrays; identical results).
Usage: python bench/bench_noc.py [measure_cycles]
"""

from __future__ import annotations

import sys
import time

from hwsim.noc import NocConfig, TrafficConfig, noc_cost, run_synthetic_batch_cl, run_synthetic_cl, saturation_rate

from timing import best_of  # bench/timing.py (the script's folder is on sys.path)



def cl_point(cfg: NocConfig, rate: float, measure: int, drain: bool):
    traffic = TrafficConfig(injection_rate=rate)
    wall, r = best_of(lambda: run_synthetic_cl(cfg, traffic, warmup_cycles=500, measure_cycles=measure,
                                               drain=drain), 2)
    return wall, r


def main() -> None:
    measure = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    print(f"CL face, uniform traffic, 4-flit packets, 2 VCs x 4 flits, router 2 + link 1 cycles; warm-up 500 + "
          f"{measure} measured cycles, best of 2")
    print(f"{'network':>10} {'load':>22} {'cycles':>7} {'flit-hops':>10} {'wall s':>7} {'flit-hops/s':>12} "
          f"{'cycles/s':>9} {'accepted':>9}")
    rows = {}
    cases = [("mesh", "8x8", "saturation", 1.0, False), ("mesh", "8x8", "light (10 % of sat.)", None, True),
             ("torus", "8x8", "saturation", 1.0, False), ("mesh", "16x16", "saturation", 1.0, False)]
    sat_8x8 = None
    for kind, size, label, rate, drain in cases:
        cfg = NocConfig(topology=kind, size=size)
        if rate is None:
            rate = 0.1 * sat_8x8
        wall, r = cl_point(cfg, rate, measure, drain)
        if kind == "mesh" and size == "8x8" and label == "saturation":
            sat_8x8 = r.accepted_throughput
        hops = r.stats["flit_hops"]
        rows[(kind, size, label)] = (wall, hops / wall, r)
        print(f"{kind + ' ' + size:>10} {label:>22} {r.cycles:>7,} {hops:>10,} {wall:>7.2f} {hops / wall:>12,.0f} "
              f"{r.cycles / wall:>9,.0f} {r.accepted_throughput:>9.4f}")
    sat_wall, sat_rate, _ = rows[("mesh", "8x8", "saturation")]
    light_wall, light_rate, light = rows[("mesh", "8x8", "light (10 % of sat.)")]
    cfg = NocConfig(size="8x8")
    cost_wall, cost = best_of(lambda: noc_cost(cfg, TrafficConfig(injection_rate=light.injection_rate)), 5)
    print(f"\n8x8 mesh at saturation: {sat_rate:,.0f} flit-hops/s = {sat_rate / light_rate:.1f} x the light-load run's "
          f"{light_rate:,.0f} flit-hops/s (same network, same run)")
    print(f"cost face, same light-load point: {cost_wall * 1e3:.1f} ms -> the CL point takes {light_wall / cost_wall:,.0f} "
          f"x as long (latency {light.avg_latency_cycles:.2f} CL vs {cost.avg_latency_cycles:.2f} cost cycles)")
    bound = saturation_rate(cfg, TrafficConfig())
    print(f"accepted throughput under overload, 8x8 uniform: CL {sat_8x8:.4f} flits/node/cycle, channel-load "
          f"(bisection) bound {bound:.4f} ({100 * sat_8x8 / bound:.0f} %)")
    traffics = [TrafficConfig(injection_rate=0.034 * (i + 1)) for i in range(10)]
    t0 = time.perf_counter()
    alone = [run_synthetic_cl(cfg, t, warmup_cycles=500, measure_cycles=measure) for t in traffics]
    t1 = time.perf_counter()
    together = run_synthetic_batch_cl(cfg, traffics, warmup_cycles=500, measure_cycles=measure)
    t2 = time.perf_counter()
    same = all(a.to_dict(links=True) == b.to_dict(links=True) for a, b in zip(alone, together))
    hops = sum(r.stats["flit_hops"] for r in together)
    print(f"10-point sweep 0.034..0.34 on 8x8: point by point {t1 - t0:.2f} s, batched {t2 - t1:.2f} s "
          f"({(t1 - t0) / (t2 - t1):.1f} x faster, {hops / (t2 - t1):,.0f} flit-hops/s; results identical: {same})")


if __name__ == "__main__":
    main()
