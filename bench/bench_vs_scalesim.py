"""hwsim's cost and CL faces against SCALE-Sim 3.0.0 on the same layers, measured in the same run.

Run by hand (not a test), from the repository root, after creating SCALE-Sim's own venv::

    python3 -m venv .venv-scalesim && .venv-scalesim/bin/pip install scalesim==3.0.0 numpy==2.3.5
    .venv/bin/python bench/bench_vs_scalesim.py            # ~3-5 minutes on 2 cores
    .venv/bin/python bench/bench_vs_scalesim.py --quick    # two small layers, seconds

Baseline: SCALE-Sim's wall time per layer (its ``single_layer_sim.run``, i.e. compute and memory
simulation, measured by ``tools/scalesim_ref.py``). Compared with: hwsim's cost face
(``gemm_cost(..., accounting="scalesim")``, best of 5 ``timeit`` rounds) and CL face (``run_gemm_cl`` on
seeded random int8 operands, one run, its cycle-true count checked against the cost face). Compute
cycles of SCALE-Sim and of hwsim's scalesim accounting must be equal, or the bench stops.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.systolic.cl import run_gemm_cl
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    name: str
    m: int
    n: int
    k: int
    rows: int = 32
    cols: int = 32
    dataflow: str = "ws"


CASES = [
    Case("bert_attn_scores", 128, 128, 64),  # BERT-base, seq 128: Q.K^T of one head
    Case("bert_out_proj", 128, 768, 768),
    Case("alexnet_conv1", 3025, 96, 363),  # 227x227x3, 11x11 stride 4 -> 55x55x96
    Case("gemv_decode", 1, 1024, 1024),  # one-token decode step
    Case("square_os", 256, 256, 256, dataflow="os"),
    Case("vit_s_fc_is", 196, 384, 384, dataflow="is"),
    Case("square_128x128", 512, 512, 512, rows=128, cols=128),
]
QUICK = [CASES[0], Case("square_os_small", 64, 64, 64, dataflow="os")]


def run_scalesim(cases: list[Case], python: Path) -> list[dict]:
    """SCALE-Sim's per-layer results for ``cases`` (one subprocess, one job per layer)."""
    jobs = [{"rows": c.rows, "cols": c.cols, "dataflow": c.dataflow,
             "layers": [{"name": c.name, "m": c.m, "n": c.n, "k": c.k}]} for c in cases]
    proc = subprocess.run([str(python), str(ROOT / "tools" / "scalesim_ref.py")], input=json.dumps(jobs),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"tools/scalesim_ref.py failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout)
    print(f"SCALE-Sim {out['scalesim']} (numpy {out['numpy']}) under {out['python']}")
    return [job["layers"][0] for job in out["jobs"]]


def time_cost(cfg: SystolicConfig, c: Case) -> float:
    """Seconds per gemm_cost call (best of 5 rounds of an auto-ranged number of calls)."""
    timer = timeit.Timer(lambda: gemm_cost(cfg, c.m, c.n, c.k, accounting="scalesim"))
    number, _ = timer.autorange()
    number = max(number, 1000)
    return min(timer.repeat(repeat=5, number=number)) / number


def time_cl(cfg: SystolicConfig, c: Case) -> tuple[float, int]:
    """(seconds, cycle-true cycles) of one CL-face run with seeded random int8 operands."""
    rng = np.random.default_rng(0)
    a = cfg.pe.random_operands((c.m, c.k), rng)
    b = cfg.pe.random_operands((c.k, c.n), rng)
    t0 = time.perf_counter()
    _, stats = run_gemm_cl(cfg, a, b)
    return time.perf_counter() - t0, stats.cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two small layers only")
    parser.add_argument("--scalesim-python", type=Path, default=ROOT / ".venv-scalesim" / "bin" / "python",
                        help="interpreter with scalesim==3.0.0 installed")
    parser.add_argument("--no-cl", action="store_true", help="skip the CL face")
    args = parser.parse_args()
    if not args.scalesim_python.exists():
        sys.exit(f"{args.scalesim_python} not found: python3 -m venv .venv-scalesim && "
                 ".venv-scalesim/bin/pip install scalesim==3.0.0 numpy==2.3.5")
    cases = QUICK if args.quick else CASES
    print(f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}")
    t_start = time.perf_counter()
    refs = run_scalesim(cases, args.scalesim_python)

    header = (f"{'layer':<17} {'array':>7} {'df':>2} {'M':>5} {'N':>5} {'K':>5} {'SCALE-Sim cyc':>13} "
              f"{'= hwsim':>3} {'cycle-true':>10} {'SCALE-Sim s':>11} {'cost us':>8} {'CL s':>7} "
              f"{'SS/cost':>9} {'SS/CL':>6} {'SS us/cyc':>9} {'CL us/cyc':>9}")
    print(header)
    print("-" * len(header))
    cost_ratios, cl_ratios = [], []
    for c, ref in zip(cases, refs, strict=True):
        cfg = SystolicConfig(rows=c.rows, cols=c.cols, dataflow=c.dataflow)
        ours = gemm_cost(cfg, c.m, c.n, c.k, accounting="scalesim")
        true = gemm_cost(cfg, c.m, c.n, c.k, accounting="hwsim")
        if ours.cycles != ref["compute_cycles"] or ref["stall_cycles"] != 0:
            sys.exit(f"{c.name}: SCALE-Sim {ref['compute_cycles']} compute cycles ({ref['stall_cycles']} stalls) "
                     f"!= hwsim scalesim accounting {ours.cycles}")
        t_cost = time_cost(cfg, c)
        t_cl, cl_cycles = (math.nan, true.cycles) if args.no_cl else time_cl(cfg, c)
        if cl_cycles != true.cycles:
            sys.exit(f"{c.name}: CL face {cl_cycles} cycles != cost face {true.cycles}")
        t_ss = ref["wall_s"]
        cost_ratios.append(t_ss / t_cost)
        cl_ratios.append(t_ss / t_cl)
        print(f"{c.name:<17} {c.rows:>3}x{c.cols:<3} {c.dataflow:>2} {c.m:>5} {c.n:>5} {c.k:>5} "
              f"{ref['compute_cycles']:>13} {'yes':>3} {true.cycles:>10} {t_ss:>11.2f} {t_cost * 1e6:>8.1f} "
              f"{t_cl:>7.2f} {t_ss / t_cost:>9.0f} {t_ss / t_cl:>6.1f} {t_ss / ref['compute_cycles'] * 1e6:>9.1f} "
              f"{t_cl / cl_cycles * 1e6:>9.1f}")

    def geomean(xs: list[float]) -> float:
        xs = [x for x in xs if not math.isnan(x)]
        return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else math.nan

    print("-" * len(header))
    print(f"cost face vs SCALE-Sim: min {min(cost_ratios):,.0f}x, geomean {geomean(cost_ratios):,.0f}x faster "
          f"(target >= 1000x)")
    if not args.no_cl:
        on32 = [r for c, r in zip(cases, cl_ratios) if (c.rows, c.cols) == (32, 32)]
        print(f"CL face vs SCALE-Sim:   min {min(cl_ratios):.1f}x, geomean {geomean(cl_ratios):.1f}x faster; "
              f"on 32x32 min {min(on32, default=math.nan):.1f}x (target > 1x)")
    print("columns: SCALE-Sim cyc = its COMPUTE_REPORT 'Total Cycles' (no stalls), equal to hwsim "
          "gemm_cost(accounting='scalesim'); cycle-true = hwsim default accounting (CL face agrees)")
    print(f"total bench time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
