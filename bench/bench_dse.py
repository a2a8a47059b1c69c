"""Design-space exploration speed: design points evaluated per minute (cost faces, the whole serving
run per point: Llama-2-7B W8A8, batch 8, 512-token prompts, 128 generated tokens, on chiplet4
variants; area model included).

Measured in one run, on the same 72-point grid (2 array sizes x 2 SRAM sizes x 3 HBM stack counts x
2 multiplier designs x 3 die counts), each into a fresh store:

* serial: every point in this process, one after another (the baseline);
* local pool: 2 worker processes (concurrent.futures), freshly started — the figure a user sees;
* serial, warm: the serial run again on a new store — the mapper's memo in this process now holds
  every op, so this is the rate of the sweep machinery plus the serving roll-up without the mapper's
  tiling search (spec -> config -> validated system, serve roll-up, area, SQLite row).

Nearly all of a cold point's time is the mapper's tiling search (~0.3 s per new die and shard
shape); every point of this grid has a die or shard shapes of its own.

Issue target: >= 1,000 points per minute with 2 local workers.

    python bench/bench_dse.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

SPEC = {
    "name": "bench_dse",
    "base": {"system": "chiplet4", "model": "llama-2-7b", "batch": 8, "prompt": 512, "generate": 128,
             "quant": "W8A8"},
    "parameters": [
        {"name": "array", "path": ["die.unit.rows", "die.unit.cols"], "choices": [32, 64]},
        {"name": "sram_bytes", "path": "die.sram_bytes", "choices": [8388608, 33554432]},
        {"name": "hbm_stacks", "path": "die.memory.dram.overrides.stacks", "choices": [1, 2, 4]},
        {"name": "multiplier", "path": "die.unit.pe.multiplier.kind", "choices": ["exact", "drum"]},
        {"name": "dies", "path": "dies", "choices": [1, 2, 4]},
    ],
    "objectives": [{"metric": "tpot_ms"}, {"metric": "ttft_ms"}, {"metric": "area_mm2"}],
    "constraints": ["area_mm2 <= 1500"],
}


def main() -> None:
    from hwsim.dse.run import SerialExecutor, run_sweep
    from hwsim.dse.spec import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "bench_dse.yaml"
        p.write_text(yaml.safe_dump(SPEC))
        spec, folder = load_spec(p)
        n = len(spec.grid_points())
        rates = {}
        s = run_sweep(spec, folder, Path(tmp) / "serial.db", executor=SerialExecutor(), progress=False)
        rates["serial (baseline)"] = s
        rates["2 local workers"] = run_sweep(spec, folder, Path(tmp) / "pool.db", workers=2, progress=False)
        rates["serial, warm memo"] = run_sweep(spec, folder, Path(tmp) / "warm.db", executor=SerialExecutor(),
                                               progress=False)
        base = rates["serial (baseline)"].wall_s
        print(f"{n} design points per run (Llama-2-7B W8A8 serving on chiplet4 variants, cost faces)")
        for name, r in rates.items():
            assert r.evaluated == n and r.errors == 0, (name, r)
            print(f"  {name:20s} {r.wall_s:6.2f} s  {n / r.wall_s * 60:8.0f} points/min  "
                  f"({base / r.wall_s:.2f}x serial)")
        print("target: >= 1,000 points/min with 2 local workers")


if __name__ == "__main__":  # the worker processes re-import this script (TOOLCHAIN.md pitfall 13)
    t0 = time.perf_counter()
    main()
    print(f"bench total {time.perf_counter() - t0:.1f} s")
