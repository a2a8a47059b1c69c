"""What every cocotb bench here does first: read its job, start the clock, hold reset."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


def load_job() -> dict:
    """The job the runner wrote (``$HWSIM_COSIM_JOB``)."""
    return json.loads(Path(os.environ["HWSIM_COSIM_JOB"]).read_text())


def write_result(job: dict, result) -> None:
    Path(job["result"]).write_text(json.dumps(result))


async def start(dut, inputs: list, reset_cycles: int = 3) -> None:
    """10 ns clock on ``dut.clk``; ``inputs`` driven to 0 under reset for ``reset_cycles``; returns at a
    falling edge with reset released."""
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    for sig in inputs:
        sig.value = 0
    for _ in range(reset_cycles):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
