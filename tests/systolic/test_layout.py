"""Operand layouts in DRAM: every element has one address, and every load's descriptors cover exactly
the bytes of the elements it needs (checked element by element, independently of the descriptor maths)."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.memory.offchip import OffChipConfig
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import descriptor_transactions, gemm_cost
from hwsim.systolic.layout import OperandLayout, load_descriptors
from hwsim.systolic.schedule import build_plan


def covered(desc) -> set[int]:
    return {desc.base + r * desc.stride_bytes + b for r in range(desc.rows) for b in range(desc.row_bytes)}


def element_addresses(layout: OperandLayout, operand: str, height: int, width: int) -> np.ndarray:
    """The byte address of every element, from 1x1 requests."""
    out = np.empty((height, width), dtype=np.int64)
    for i in range(height):
        for j in range(width):
            d = layout.block(operand, i, 1, j, 1)
            assert d.rows == 1 and d.row_bytes == 1
            out[i, j] = d.base
    return out


CASES = [("ws", 4, 4, 10, 9, 7), ("is", 4, 3, 5, 11, 9), ("os", 3, 4, 7, 6, 13), ("ws", 4, 4, 1, 16, 12),
         ("os", 4, 4, 8, 8, 8)]


@pytest.mark.parametrize("kind", ["row_major", "tiled"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}{c[1]}x{c[2]}-{c[3]}x{c[4]}x{c[5]}")
def test_every_load_covers_exactly_its_elements(kind, case):
    df, R, C, m, n, k = case
    cfg = SystolicConfig(rows=R, cols=C, dataflow=df, sram={"a_kib": 0.0625, "b_kib": 0.0625})
    layout = OperandLayout.for_unit(cfg, m, n, k, kind)
    addr = {"a": element_addresses(layout, "a", m, k), "b": element_addresses(layout, "b", k, n)}
    # a bijection onto the operand's bytes: A in [a_base, a_base + m k), B in [b_base, b_base + k n)
    assert sorted(addr["a"].ravel()) == list(range(layout.a_base, layout.a_base + m * k))
    assert sorted(addr["b"].ravel()) == list(range(layout.b_base, layout.b_base + k * n))
    folds, loads, _ = build_plan(cfg, m, n, k)
    seen = {"a": 0, "b": 0}
    for ld in loads:
        f = folds[ld.fold]
        descs = load_descriptors(cfg, layout, f, ld)
        got = set().union(*(covered(d) for d in descs))
        # the elements the load needs, from the dataflow's mapping (independent of the layout code)
        r0, r, c0, c, s0, st = f.row0, f.rows, f.col0, f.cols, ld.step0, ld.steps
        if df == "ws":
            rows_cols = ("b", r0, r, c0, c) if ld.kind == "stationary" else ("a", s0, st, r0, r)
        elif df == "is":
            rows_cols = ("a", c0, c, r0, r) if ld.kind == "stationary" else ("b", r0, r, s0, st)
        else:
            rows_cols = ("a", r0, r, s0, st) if ld.operand == "a" else ("b", s0, st, c0, c)
        op, i0, h, j0, w = rows_cols
        want = set(addr[op][i0 : i0 + h, j0 : j0 + w].ravel().tolist())
        assert got == want
        seen[op] += 1
        if kind == "tiled":  # one contiguous run per load
            assert len(descs) == 1 and (descs[0].rows == 1 or descs[0].stride_bytes == descs[0].row_bytes)
    assert seen["a"] and seen["b"]


def test_tiled_layout_makes_weight_loads_contiguous_and_faster():
    """A 64x64 WS decode-style layer with a 4096-byte row stride: row-major B tiles hit few DRAM
    channels; the tiled layout streams them (both faces agree on the bytes; the tiled one is faster)."""
    cfg = SystolicConfig(rows=64, cols=64, dataflow="ws", sram={"a_kib": 256, "b_kib": 256, "c_kib": 512})
    m, n, k = 32, 4096, 1024
    rm = gemm_cost(cfg, m, n, k, offchip=OffChipConfig(dram={"preset": "hbm3"}, dma={"max_outstanding": 256}))
    tl = gemm_cost(cfg, m, n, k, offchip=OffChipConfig(dram={"preset": "hbm3"}, dma={"max_outstanding": 256},
                                                          layout="tiled"))
    assert tl.port_bytes == {"a": rm.port_bytes["a"], "b": k * n}  # tiles are whole transactions
    assert tl.compute_cycles == rm.compute_cycles
    assert tl.stall_cycles < rm.stall_cycles / 2


def test_tiled_layout_needs_whole_bytes():
    cfg = SystolicConfig(rows=4, cols=4, pe={"input": "int4", "accumulator": "int32"})
    with pytest.raises(ConfigError, match="tiled"):
        OperandLayout.for_unit(cfg, 4, 4, 4, "tiled")
    with pytest.raises(ConfigError, match="layout"):
        OperandLayout.for_unit(cfg, 4, 4, 4, "zigzag")
    OperandLayout.for_unit(cfg, 4, 4, 4, "row_major")


def test_descriptor_transactions_counts_distinct_transactions():
    layout = OperandLayout(8, 8, 8, 8)
    d = layout.block("b", 0, 8, 0, 8)  # 64 contiguous bytes
    assert descriptor_transactions(d, 32) == 2
    d = layout.block("b", 0, 8, 0, 1)  # one byte per row, 8 apart: all in the first two transactions
    assert descriptor_transactions(d, 32) == 2
