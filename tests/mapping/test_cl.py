"""The mapper against the systolic unit's cycle-level (CL) face.

* Ideal supply: for small GEMMs on a one-unit die, the mapper's compute cycles equal the CL face's
  cycles exactly — the sum over the mapping's pieces (each simulated), and for the whole GEMM as one
  tile.
* DRAM-fed: the CL face runs the whole GEMM with its operands fetched from one HBM3 channel through
  the DMA engine (tiled layout, 256 KiB operand SRAMs); the mapper's time is within -15 % / +5 % of the
  CL time (measured: -12 % ... +1 %). The mapper is the optimistic side: it overlaps compute and
  memory perfectly (max of the two plus a fill), while the CL unit fetches each load when a buffer
  half frees up and waits for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.mapping import evaluate_mapping, map_op
from hwsim.mapping.mapper import die_context
from hwsim.systolic.cl import simulate_gemm_cl

from .conftest import gemm_op, small_die

IDEAL = [  # (rows, cols, units, (batch, m, n, k))
    (8, 8, 1, (1, 24, 16, 40)),
    (8, 8, 1, (1, 33, 70, 130)),
    (4, 8, 1, (2, 17, 9, 50)),
    (8, 8, 1, (1, 1, 96, 300)),
    (8, 4, 1, (1, 64, 64, 64)),
]


def _cl_cycles(cfg, m, n, k, rng, offchip=None):
    a = cfg.pe.random_operands((m, k), rng)
    b = cfg.pe.random_operands((k, n), rng)
    return simulate_gemm_cl(cfg, a, b, offchip=offchip).stats


@pytest.mark.parametrize("rows, cols, units, shape", IDEAL)
def test_compute_cycles_equal_cl_ideal_supply(rows, cols, units, shape):
    batch, m, n, k = shape
    die = small_die(rows=rows, cols=cols, units=units, sram_bytes=16 << 10)
    op = gemm_op(m, n, k, batch=batch)
    rng = np.random.default_rng(7)
    for sram in (16 << 10, 1 << 20):  # tight: several tiles; roomy: few
        die = die.model_copy(update={"sram_bytes": sram})
        c = map_op(op, die)
        cfg = die_context(die).unit_config(c.mapping["dataflow"], "bf16")
        cl = sum(p["steps"] * p["batch"] * _cl_cycles(cfg, p["m"], p["n"], p["k"], rng).cycles
                 for p in c.mapping["pieces"])
        assert cl == c.mapping["compute_cycles"]
    # the whole GEMM as one tile: the mapper's cycles are the CL's for the whole GEMM
    for df in ("os", "ws", "is"):
        ev = evaluate_mapping(op, die, dataflow=df, grid=(1, 1, 1), tile=(batch, m, n, k), order="mnk")
        cfg = die_context(die).unit_config(df, "bf16")
        assert ev.mapping["compute_cycles"] == batch * _cl_cycles(cfg, m, n, k, rng).cycles


def test_two_macs_per_pe_is_k_packed():
    """int8 at 2 MACs/PE/cycle: the mapper's cycles are the CL's on K halved (two consecutive K
    elements per PE per cycle)."""
    die = small_die(formats={"bf16": 1, "int8": 2})
    op = gemm_op(24, 16, 41, fmt="int8")
    ev = evaluate_mapping(op, die, dataflow="ws", grid=(1, 1, 1), tile=(1, 24, 16, 41), order="mnk")
    cfg = die_context(die).unit_config("ws", "int8")
    assert ev.mapping["compute_cycles"] == _cl_cycles(cfg, 24, 16, 21, np.random.default_rng(1)).cycles


DRAM_FED = [  # (rows, (m, n, k)): compute-bound on 8x8, memory-bound on 64x64
    (8, (16, 64, 512)),
    (8, (33, 70, 130)),
    (8, (128, 96, 64)),
    (64, (1, 256, 1024)),
    (64, (2, 512, 512)),
]


@pytest.mark.parametrize("rows, shape", DRAM_FED)
def test_time_within_bound_of_dram_fed_cl(rows, shape):
    m, n, k = shape
    die = small_die(rows=rows, cols=rows, unit_kib=256, channels=1)
    c = map_op(gemm_op(m, n, k), die)
    cfg = die_context(die).unit_config(c.mapping["dataflow"], "bf16")
    run = _cl_cycles(cfg, m, n, k, np.random.default_rng(3), offchip=die.memory)
    cl_s = run.cycles / (cfg.freq_mhz * 1e6)
    assert 0.85 <= c.time_s / cl_s <= 1.05, (c.time_s, cl_s, c.bound)
    if rows == 64:
        assert c.bound == "memory" and run.stall_cycles > 0.3 * run.cycles
