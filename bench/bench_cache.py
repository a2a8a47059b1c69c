"""Cache speed: accesses per second of the functional face and of the CL face on a 10^5-access trace
(run by hand, not a test).

Baseline measured in the same run: the functional face (:func:`cache_counts`) on the same trace. The
printed ratio says how much the CL face's timing (SimPy events, MSHRs) costs over it. The script
also checks that the two faces agree: misses, evictions and writebacks are equal, and CL hits + merges
equal the functional hits.
Usage: python bench/bench_cache.py [accesses]
"""

from __future__ import annotations

import sys

import numpy as np

from hwsim.memory.cache import CacheConfig, cache_counts, run_cache_cl

from timing import best_of  # bench/timing.py (the script's folder is on sys.path)


def make_trace(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A deterministic mixed trace of 8-byte accesses: 60% a sequential stream over 256 KiB, 30% random in a
    16 KiB hot region, 10% random over 1 MiB; 30% stores. Requests issue back to back, with a 1-4 cycle gap
    after 1 in 8."""
    rng = np.random.default_rng(seed)
    stream = (np.arange(n, dtype=np.int64) * 8) % (256 * 1024)
    hot = (1 << 20) + (rng.integers(0, 16 * 1024, n, dtype=np.int64) & ~7)
    cold = rng.integers(0, 1 << 20, n, dtype=np.int64) & ~7
    pick = rng.random(n)
    addrs = np.where(pick < 0.6, stream, np.where(pick < 0.9, hot, cold))
    writes = rng.random(n) < 0.3
    gaps = np.where(rng.random(n) < 0.125, rng.integers(1, 5, n), 1)
    issue = np.cumsum(gaps) - gaps[0]
    return addrs, writes, issue



def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    addrs, writes, issue = make_trace(n)
    print(f"trace: {n:,} accesses (seeded), 32 KiB / 64 B lines / 8 ways, 8 MSHRs, hit 2, miss 100 cycles")
    print(f"{'replacement':>11} {'write':>13} {'miss %':>7} {'FL acc/s':>10} {'CL acc/s':>10} {'CL/FL time':>10} "
          f"{'CL cycles':>10} {'merges':>7} {'MSHR stall':>10}")
    for replacement in ("lru", "fifo", "random", "plru"):
        for write_policy in ("write_back", "write_through"):
            cfg = CacheConfig(capacity_bytes=32 * 1024, line_bytes=64, ways=8, replacement=replacement, seed=1,
                              write_policy=write_policy, mshrs=8, hit_latency_cycles=2, miss_latency_cycles=100)
            fl_s, fl = best_of(lambda: cache_counts(cfg, addrs, writes), 5)
            cl_s, cl = best_of(lambda: run_cache_cl(cfg, addrs, writes, issue_cycles=issue), 2)
            c = cl.counts
            if (c.misses, c.evictions, c.writebacks, c.hits + c.merges) != (fl.misses, fl.evictions, fl.writebacks,
                                                                             fl.hits):
                raise SystemExit(f"faces disagree: functional {fl} vs CL {c}")
            print(f"{replacement:>11} {write_policy:>13} {100 * fl.misses / n:>7.2f} {n / fl_s:>10,.0f} "
                  f"{n / cl_s:>10,.0f} {cl_s / fl_s:>10.1f} {cl.cycles:>10,} {c.merges:>7,} "
                  f"{cl.mshr_stall_cycles:>10,}")


if __name__ == "__main__":
    main()
