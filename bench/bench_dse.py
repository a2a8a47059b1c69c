"""Design-space exploration speed: design points evaluated per minute on the cost faces — the whole
serving run per point (prefill + decode, mapper search included) and the area model — over the
243 points of ``examples/dse/llama_decode.yaml`` (Llama-2-7B W8A8, batch 8, 512-token prompts,
128 generated tokens, on chiplet4 variants).

Measured in one run, each into a fresh store:

* serial: every point in this process, one after another (the baseline);
* 2 local workers: the default ``hwsim sweep`` executor (concurrent.futures process pool), freshly
  started — the figure a user sees; points sharing a die go to a worker together;
* serial, warm memo: the serial run again on a new store — the mapper's memo in this process now
  holds every op, so this is the rate of the sweep machinery plus the serving roll-up without the
  mapper's tiling search (spec -> config -> validated system, serve roll-up, area, SQLite row).

Seen on a quiet 2-core machine: serial ~1,070-1,100 points/min, 2 local workers ~1,450 (each worker
pays ~2 s of start-up: imports, the DRAM stream model per HBM configuration), warm memo ~5,000. After a
change to the RTL sources the first run re-synthesises the PE, multipliers and NoC router and their
toggle energies once (disk cache), and is slower.

Issue target: >= 1,000 points per minute with 2 local workers.

    python bench/bench_dse.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dse" / "llama_decode.yaml"


def main() -> None:
    from hwsim.dse.run import SerialExecutor, run_sweep
    from hwsim.dse.spec import load_spec

    spec, folder = load_spec(EXAMPLE)
    n = len(spec.grid_points())
    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        rates["serial (baseline)"] = run_sweep(spec, folder, Path(tmp) / "serial.db", executor=SerialExecutor(),
                                               progress=False)
        rates["2 local workers"] = run_sweep(spec, folder, Path(tmp) / "pool.db", workers=2, progress=False)
        rates["serial, warm memo"] = run_sweep(spec, folder, Path(tmp) / "warm.db", executor=SerialExecutor(),
                                               progress=False)
    base = rates["serial (baseline)"].wall_s
    print(f"{n} design points per run ({EXAMPLE.name}: Llama-2-7B W8A8 serving on chiplet4 variants, cost faces)")
    for name, r in rates.items():
        assert r.evaluated == n and r.errors == 0, (name, r)
        print(f"  {name:20s} {r.wall_s:6.2f} s  {n / r.wall_s * 60:8.0f} points/min  ({base / r.wall_s:.2f}x serial)")
    print("target: >= 1,000 points/min with 2 local workers")


if __name__ == "__main__":  # the worker processes re-import this script (TOOLCHAIN.md pitfall 13)
    t0 = time.perf_counter()
    main()
    print(f"bench total {time.perf_counter() - t0:.1f} s")
