"""cocotb test of the stream FIFO and the credit link against their cycle-level reference models.

Job in ``$HWSIM_COSIM_JOB``: {"block": "fifo"|"link", params..., "seed", "cycles", "p_valid",
"p_ready", "result"}. Every cycle, ``i.ready``, ``o.valid`` and ``o.payload`` must equal the model's.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from rtl.cosim.stream_model import CreditLinkModel, FifoModel, traffic
from rtl.cosim.tbutil import load_job, start, write_result


@cocotb.test()
async def stream_block(dut):
    job = load_job()
    if job["block"] == "fifo":
        model = FifoModel(job["depth"])
    else:
        model = CreditLinkModel(job["latency"], job["credits"], job["credit_latency"])
    await start(dut, [dut.i__valid, dut.o__ready, dut.i__payload])
    mismatches, moved = [], 0
    # outputs depend only on registers, so at the falling edge of cycle n they are cycle n's
    for cycle, (v, p, r) in enumerate(traffic(job["seed"], job["cycles"], job["width"], job["p_valid"], job["p_ready"])):
        got = (bool(dut.i__ready.value), int(dut.o__payload.value) if dut.o__valid.value else None)
        want = model.outputs(cycle)
        if got != want and len(mismatches) < 10:
            mismatches.append((cycle, got, want))
        dut.i__valid.value = int(v)
        dut.i__payload.value = p
        dut.o__ready.value = int(r)
        _, left = model.clock(cycle, v, p, r)
        moved += left is not None
        await FallingEdge(dut.clk)
    write_result(job, {"mismatches": mismatches, "items_out": moved, "cycles": job["cycles"]})
    assert not mismatches, f"RTL differs from the reference model: {mismatches[:3]}"
