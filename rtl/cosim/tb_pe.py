"""cocotb test of the MAC PE twin against the FL face's multiplier and accumulator arithmetic.

Job (``$HWSIM_COSIM_JOB``): {"pe": PEConfig dict, "pairs": "exhaustive" | N, "seed", "result"}.
The PE runs output-stationary: every cycle a new operand pair enters with both valid and the PE
accumulates its product in place, so after pair i ``psum_out`` must equal the FL face's running sum
of ``multiply(a, b)`` at accumulator width — every product of the pluggable multiplier is checked.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from hwsim.pe.config import PEConfig
from rtl.cosim.tbutil import load_job, start, write_result


def operand_pairs(pe: PEConfig, pairs, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All operand pairs (``"exhaustive"``) or N seeded random ones."""
    f = pe.in_fmt
    if pairs == "exhaustive":
        vals = np.arange(f.min_int, f.max_int + 1, dtype=np.int64)
        a, b = np.meshgrid(vals, vals, indexing="ij")
        return a.ravel(), b.ravel()
    rng = np.random.default_rng(seed)
    n = int(pairs)
    return rng.integers(f.min_int, f.max_int + 1, n), rng.integers(f.min_int, f.max_int + 1, n)


@cocotb.test()
async def pe_products(dut):
    job = load_job()
    pe = PEConfig.model_validate(job["pe"])
    a, b = operand_pairs(pe, job["pairs"], job["seed"])
    expected = pe.finish(np.cumsum(pe.mul.multiply(a, b)))
    in_mask = (1 << pe.in_fmt.bits) - 1
    acc_bits = pe.acc_fmt.bits
    half = 1 << (acc_bits - 1)

    await start(dut, [dut.en, dut.load, dut.drain, dut.a_in_valid, dut.b_in_valid, dut.psum_in_valid,
                      dut.a_in, dut.b_in, dut.psum_in])
    dut.en.value = 1
    dut.a_in_valid.value = 1
    dut.b_in_valid.value = 1
    mismatches = []
    for i in range(a.size):
        dut.a_in.value = int(a[i]) & in_mask
        dut.b_in.value = int(b[i]) & in_mask
        await FallingEdge(dut.clk)
        got = dut.psum_out.value.to_unsigned()
        got = got - (1 << acc_bits) if got >= half else got
        if got != expected[i]:
            prev = int(expected[i - 1]) if i else 0
            mismatches.append({"pair": i, "a": int(a[i]), "b": int(b[i]), "rtl_sum": got, "fl_sum": int(expected[i]),
                               "fl_product": int(expected[i]) - prev})
            break  # the running sum is wrong from here on
    write_result(job, {"pairs": int(a.size), "mismatches": mismatches})
    assert not mismatches, f"PE differs from the FL face: {mismatches[:1]}"
