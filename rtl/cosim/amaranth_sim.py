"""Run the systolic-array bench on Amaranth's own Python simulator (no external tools)."""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator

from hwsim.systolic.config import SystolicConfig
from rtl.cosim.bench import CycleInputs, run_gemm
from rtl.systolic import SystolicArray


def cosim_amaranth(cfg: SystolicConfig, gemms: list[tuple[np.ndarray, np.ndarray]], follow_stalls: bool = False,
                   vcd: str | None = None) -> list[dict]:
    """Co-simulate each (A, B) in turn on the Amaranth simulator; one result dict per GEMM."""
    dut = SystolicArray(cfg)
    results: list[dict] = []
    a_in, b_in, c_out = dut.a_in.as_value(), dut.b_in.as_value(), dut.c_out.as_value()

    async def bench(ctx):
        async def clock_cycle(ins: CycleInputs):
            ctx.set(dut.en, ins.en)
            ctx.set(a_in, ins.a_in)
            ctx.set(dut.a_in_valid, ins.a_in_valid)
            ctx.set(b_in, ins.b_in)
            ctx.set(dut.b_in_valid, ins.b_in_valid)
            await ctx.tick()
            return ctx.get(c_out), ctx.get(dut.c_out_valid)

        for a, b in gemms:
            results.append(await run_gemm(cfg, a, b, clock_cycle, follow_stalls))
        ctx.set(dut.a_in_valid, 0)
        ctx.set(dut.b_in_valid, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return results
