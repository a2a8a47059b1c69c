"""Cost-face speed in layers per second (run by hand, not a test).

Baseline in the same run: the same layers through the CL face's supply plan only (build_plan), the
cheapest thing any per-fold simulator must do, to show what the closed form saves.
Usage: python bench/bench_cost.py
"""

from __future__ import annotations

import time

from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost
from hwsim.systolic.schedule import build_plan

# ResNet-50-like and transformer GEMM shapes (M, N, K)
LAYERS = [(12544, 64, 147), (3136, 64, 576), (784, 128, 1152), (196, 256, 2304), (49, 512, 4608),
          (128, 768, 768), (128, 3072, 768), (128, 768, 3072), (1, 4096, 4096), (2048, 4096, 4096)]


def per_layer(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        for m, n, k in LAYERS:
            fn(m, n, k)
    return (time.perf_counter() - t0) / (reps * len(LAYERS))


def main() -> None:
    for port in (None, {"bandwidth_bytes_per_cycle": 64, "latency_cycles": 100}):
        for rows in (32, 128):
            cfg = SystolicConfig(rows=rows, cols=rows, dataflow="ws", memory_port=port,
                                 sram={"a_kib": 512, "b_kib": 512, "c_kib": 512})
            cost = per_layer(lambda m, n, k: gemm_cost(cfg, m, n, k), 20 if port else 500)
            plan = per_layer(lambda m, n, k: build_plan(cfg, m, n, k), 2)
            label = "ideal supply" if port is None else "64 B/cycle port"
            print(f"{rows}x{rows} WS, {label:>15}: cost face {cost * 1e6:9.1f} µs/layer = {1 / cost:10.0f} layers/s; "
                  f"plan-only baseline {plan * 1e6:9.1f} µs/layer ({plan / cost:.1f}x the cost face)")


if __name__ == "__main__":
    main()
