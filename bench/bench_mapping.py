"""Mapper speed: ops mapped per second and whole GPT-3 175B graphs (run by hand, not a test).

For each system preset: the prefill graph (batch 1, 2048 tokens) and a decode step (batch 8, 2047
tokens in the cache) mapped op by op, cold (empty memo; the DRAM model's sustained-bandwidth
patterns are computed once per preset and counted in the first graph) and warm (memoised).

Baseline in the same run: the search's candidates evaluated one by one through the systolic cost face
(:func:`hwsim.mapping.evaluate_mapping`, what a plain loop over the same candidate set would do),
timed on a sample of one prefill GEMM's candidates and extrapolated to all of them.
Usage: python bench/bench_mapping.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best_of  # noqa: E402

from hwsim.llm import build_graph, load_model  # noqa: E402
from hwsim.mapping import evaluate_mapping, load_system, map_op, search_candidates, system_names  # noqa: E402
from hwsim.mapping import mapper  # noqa: E402


def clear_memo() -> None:
    mapper._MEMO.clear()
    mapper._context.cache_clear()


def graphs(spec, sram_bytes: int):
    return [build_graph(spec, "prefill", 1, 2048, sram_bytes=sram_bytes),
            build_graph(spec, "decode", 8, 2047, sram_bytes=sram_bytes)]


def map_graph(graph, die) -> tuple[int, float]:
    n, total = 0, 0.0
    for group, op in graph.ops():
        c = map_op(op, die)
        n += 1
        total += c.time_s * group.count
    return n, total


def main() -> None:
    spec = load_model("gpt3-175b")
    print("GPT-3 175B, prefill 2048 tokens (batch 1) + one decode step (batch 8), one die each:")
    for name in system_names():
        sysm = load_system(name)
        gs = graphs(spec, sysm.die.sram_bytes)
        clear_memo()
        t0 = time.perf_counter()
        counts = [map_graph(g, sysm.die) for g in gs]
        cold = time.perf_counter() - t0
        ops = sum(n for n, _ in counts)
        warm, _ = best_of(lambda: [map_graph(g, sysm.die) for g in gs], 3)
        gemms = sum(1 for g in gs for _, op in g.ops() if op.is_gemm)
        print(f"  {name:11} {ops} ops ({gemms} GEMM-like): cold {cold:5.2f} s = {ops / cold:6.0f} ops/s, "
              f"warm {warm * 1e3:6.1f} ms = {ops / warm:7.0f} ops/s; model: prefill {counts[0][1] * 1e3:8.1f} ms, "
              f"decode step {counts[1][1] * 1e3:6.1f} ms")

    # baseline: the same candidates, one gemm_cost evaluation each
    sysm = load_system("a100_like")
    op = next(o for _, o in graphs(spec, sysm.die.sram_bytes)[0].ops() if o.name == "qkv_proj")
    clear_memo()
    t_search, _ = best_of(lambda: search_candidates(op, sysm.die), 1)
    clear_memo()
    t_map, cost = best_of(lambda: (clear_memo(), map_op(op, sysm.die))[1], 3)
    cands = search_candidates(op, sysm.die)
    rng = np.random.default_rng(0)
    sample = [cands[i] for i in rng.choice(len(cands), 200, replace=False)]
    t0 = time.perf_counter()
    for c in sample:
        evaluate_mapping(op, sysm.die, dataflow=c["dataflow"], grid=c["grid"], tile=c["tile"], order=c["order"])
    per = (time.perf_counter() - t0) / len(sample)
    print(f"qkv_proj prefill on a100_like: {len(cands)} candidates; map_op {t_map * 1e3:.1f} ms "
          f"({t_map / len(cands) * 1e6:.2f} µs per candidate); baseline (one gemm_cost evaluation per "
          f"candidate) {per * 1e6:.0f} µs per candidate = {per * len(cands):.1f} s for this op "
          f"({per * len(cands) / t_map:.0f}x map_op)")
    print(f"  chosen: {cost.mapping['dataflow']} tile (tb, tm, tn, tk) = ({cost.mapping['tb']}, {cost.mapping['tm']}, "
          f"{cost.mapping['tn']}, {cost.mapping['tk']}), order {cost.mapping['loop_order']}, "
          f"grid {cost.mapping['unit_grid']}, {cost.bound}-bound, {cost.time_s * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
