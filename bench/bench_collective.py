"""Collective simulation speed: wall time of the simulated face (SimPy transfer DAG) for all-reduce on 64 dies,
ring on a ring package and double binary tree on a fully connected one, at a few sizes (run by hand, not a test).

Baseline measured in the same run: the cost face (alpha-beta closed form) of the same collective. The printed
ratio says how much the message-level simulation costs over the formula; the script also checks that the two
faces agree (these schedules are exactly their formulas on these packages: equal times, integer ps).
Usage: python bench/bench_collective.py [ranks] [chunk_kib]
"""

from __future__ import annotations

import sys

from hwsim.chiplet.collective import Plan, get_algorithm
from hwsim.chiplet.package import PackageConfig
from hwsim.chiplet.run import run_collective

from timing import best_of  # bench/timing.py (the script's folder is on sys.path)

MIB = 1 << 20



def main() -> None:
    ranks = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    chunk = (int(sys.argv[2]) if len(sys.argv) > 2 else 64) * 1024
    print(f"all-reduce on {ranks} dies, ucie-advanced links (256 GB/s, 2 ns per direction), chunk {chunk // 1024} KiB")
    print(f"{'algo':>5} {'topology':>8} {'bytes':>8} {'transfers':>9} {'sim wall s':>10} {'cost wall s':>11} "
          f"{'wall ratio':>10} {'time us':>10} {'busbw GB/s':>10} {'faces':>6}")
    for algo, topology in (("ring", "ring"), ("tree", "full")):
        pkg = PackageConfig.uniform(ranks, topology).build()
        for size in (1 * MIB, 16 * MIB, 64 * MIB):
            n = size - size % (ranks * 32)  # whole ps per chunk: both faces are then exactly equal
            transfers = len(get_algorithm("allreduce", algo).transfers(Plan(pkg, n, chunk)))
            cost_s, cost = best_of(lambda: run_collective("allreduce", pkg, n, algo, chunk_bytes=chunk), 5)
            sim_s, sim = best_of(lambda: run_collective("allreduce", pkg, n, algo, face="sim", chunk_bytes=chunk), 1)
            agree = "==" if sim.terms["time_ps_exact"] == sim.cost_time_ps else f"{sim.time_ps / cost.time_ps:.4f}"
            print(f"{algo:>5} {topology:>8} {size // MIB:>6}Mi {transfers:>9,} {sim_s:>10.3f} {cost_s:>11.5f} "
                  f"{sim_s / cost_s:>10,.0f} {sim.time_us:>10.2f} {sim.busbw_gbps:>10.1f} {agree:>6}")


if __name__ == "__main__":
    main()
