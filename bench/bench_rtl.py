"""Simulated cycles per second of the same array and GEMM on four simulators, measured in one run
(run by hand, not a test): the CL face (SimPy + numpy), Amaranth's Python simulator, Icarus Verilog
and Verilator (both through cocotb). Baseline: the CL face.

For the RTL simulators the figure covers the driving loop only (driver, simulator, monitor; the CL
model each bench also runs is excluded); builds are not timed.
Usage: python bench/bench_rtl.py [--rows 8 --cols 8 --dataflow ws --m 64 --n 64 --k 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hwsim.systolic.cl import run_gemm_cl
from hwsim.systolic.config import SystolicConfig
from rtl.cosim.amaranth_sim import cosim_amaranth
from rtl.cosim.runner import cosim_array


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--dataflow", default="ws")
    ap.add_argument("--m", type=int, default=48)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--k", type=int, default=32)
    args = ap.parse_args()
    cfg = SystolicConfig(rows=args.rows, cols=args.cols, dataflow=args.dataflow)
    seed = 7
    rng = np.random.default_rng(seed)
    a = cfg.pe.random_operands((args.m, args.k), rng)
    b = cfg.pe.random_operands((args.k, args.n), rng)

    rows = []
    t0 = time.perf_counter()
    _, st = run_gemm_cl(cfg, a, b)
    rows.append(("CL face (SimPy + numpy)", st.cycles, time.perf_counter() - t0))

    r = cosim_amaranth(cfg, [(a, b)])[0]
    rows.append(("Amaranth simulator", r["driven_cycles"], r["sim_wall_s"]))
    job = [{"m": args.m, "n": args.n, "k": args.k, "seed": seed}]
    for sim in ("icarus", "verilator"):
        cosim_array(cfg, job, sim=sim)  # build (not timed)
        r = cosim_array(cfg, job, sim=sim)[0]
        assert r["rtl_cycles"] == st.cycles and r["value_mismatches"] == r["cycle_mismatches"] == 0
        rows.append((f"{sim} (cocotb)", r["driven_cycles"], r["sim_wall_s"]))

    base = rows[0][1] / rows[0][2]
    print(f"GEMM {args.m}x{args.n}x{args.k} on {args.rows}x{args.cols} {args.dataflow.upper()}, "
          f"{st.cycles} cycles (all simulators agree with the CL face)")
    print(f"{'simulator':28} {'cycles':>8} {'seconds':>8} {'cycles/s':>10} {'vs CL':>8}")
    for name, cycles, secs in rows:
        rate = cycles / secs
        print(f"{name:28} {cycles:>8} {secs:>8.2f} {rate:>10.0f} {rate / base:>8.3f}")


if __name__ == "__main__":
    main()
