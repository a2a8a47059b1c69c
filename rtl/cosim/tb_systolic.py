"""cocotb test of the systolic-array twin: loaded by the simulator, driven by rtl.cosim.runner.

The job (config, GEMMs, options) comes as a JSON file named by ``$HWSIM_COSIM_JOB``; results go to
the JSON file named in the job. Inputs are driven and outputs sampled at the falling clock edge, so
everything set for cycle n is stable at the rising edge that ends it, and what is read at the next
falling edge was written in cycle n.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from hwsim.systolic.config import SystolicConfig
from rtl.cosim.bench import CycleInputs, run_gemm
from rtl.cosim.tbutil import load_job, start, write_result


@cocotb.test()
async def systolic_gemms(dut):
    job = load_job()
    cfg = SystolicConfig.model_validate(job["config"])
    await start(dut, [dut.en, dut.a_in_valid, dut.b_in_valid, dut.a_in, dut.b_in])

    async def clock_cycle(ins: CycleInputs):
        dut.en.value = ins.en
        dut.a_in.value = ins.a_in
        dut.a_in_valid.value = ins.a_in_valid
        dut.b_in.value = ins.b_in
        dut.b_in_valid.value = ins.b_in_valid
        await FallingEdge(dut.clk)
        return dut.c_out.value.to_unsigned(), dut.c_out_valid.value.to_unsigned()

    results = []
    for g in job["gemms"]:
        rng = np.random.default_rng(g["seed"])
        a = cfg.pe.random_operands((g["m"], g["k"]), rng)
        b = cfg.pe.random_operands((g["k"], g["n"]), rng)
        results.append(await run_gemm(cfg, a, b, clock_cycle, job.get("follow_stalls", False)))
    write_result(job, results)
    bad = [r for r in results if r["value_mismatches"] or r["cycle_mismatches"] or r["missing"] or r["extra"]
           or r["rtl_cycles"] != r["model_cycles"] or not r["c_matches_fl"]]
    assert not bad, f"{len(bad)} GEMMs disagree with the CL face: {bad[0]}"
