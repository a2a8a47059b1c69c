"""CL-face speed in PE-cycles per second on 32x32 and 128x128 arrays (run by hand, not a test).

Baseline measured in the same run: the cost face on the same GEMM (it has no per-cycle work), so
the printed ratio says how much the cycle-by-cycle simulation with real values costs over it.
Usage: python bench/bench_cl.py
"""

from __future__ import annotations

import time

import numpy as np

from hwsim.systolic.cl import run_gemm_cl
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

CASES = [
    # (rows, cols, dataflow, m, n, k)
    (32, 32, "ws", 256, 128, 128),
    (32, 32, "os", 128, 128, 256),
    (32, 32, "is", 128, 256, 128),
    (128, 128, "ws", 512, 256, 256),
    (128, 128, "os", 256, 256, 512),
]


def main() -> None:
    print(f"{'array':>9} {'df':>3} {'GEMM (MxNxK)':>16} {'cycles':>9} {'CL s':>7} {'PE-cycles/s':>12} "
          f"{'cycles/s':>9} {'cost s':>9} {'CL/cost':>8}")
    for rows, cols, df, m, n, k in CASES:
        cfg = SystolicConfig(rows=rows, cols=cols, dataflow=df)
        rng = np.random.default_rng(0)
        a = cfg.pe.random_operands((m, k), rng)
        b = cfg.pe.random_operands((k, n), rng)
        t0 = time.perf_counter()
        c, st = run_gemm_cl(cfg, a, b)
        cl_s = time.perf_counter() - t0
        assert np.array_equal(c, a @ b)
        reps = 2000
        t0 = time.perf_counter()
        for _ in range(reps):
            cost = gemm_cost(cfg, m, n, k)
        cost_s = (time.perf_counter() - t0) / reps
        assert cost.cycles == st.cycles
        pe_cycles = st.cycles * rows * cols
        print(f"{rows:>4}x{cols:<4} {df:>3} {f'{m}x{n}x{k}':>16} {st.cycles:>9,} {cl_s:>7.2f} "
              f"{pe_cycles / cl_s:>12.3e} {st.cycles / cl_s:>9.0f} {cost_s:>9.2e} {cl_s / cost_s:>8.0f}")


if __name__ == "__main__":
    main()
