"""Shared helpers of the mapper tests: small dies and GEMM ops."""

from __future__ import annotations

import pytest

from hwsim.llm.graph import Op
from hwsim.mapping import DieSpec


def small_die(rows: int = 8, cols: int = 8, units: int = 1, sram_bytes: int = 1 << 20, dataflow: str = "ws",
              formats: dict | None = None, unit_kib: int = 256, channels: int = 1) -> DieSpec:
    """A die of ``units`` small bf16 arrays at 1 GHz fed by ``channels`` HBM3 channels (tiled layout)."""
    return DieSpec(units=units,
                   unit={"rows": rows, "cols": cols, "dataflow": dataflow, "freq_mhz": 1000,
                         "pe": {"input": "bf16", "accumulator": "fp32"},
                         "sram": {"a_kib": unit_kib, "b_kib": unit_kib, "c_kib": 64}},
                   formats=formats or {"bf16": 1}, sram_bytes=sram_bytes,
                   vector={"lanes": 64, "freq_mhz": 1000},
                   memory={"dram": {"preset": "hbm3", "overrides": {"channels": channels}},
                           "dma": {"max_outstanding": 256}, "layout": "tiled"})


def gemm_op(m: int, n: int, k: int, batch: int = 1, fmt: str = "bf16", name: str = "g") -> Op:
    """A weight GEMM with 16-bit (or 8-bit) operands and the graph's byte conventions."""
    eb = 1 if fmt in ("int8", "fp8") else 2
    return Op(name=name, kind="gemm", m=m, n=n, k=k, batch=batch, flops=2 * m * n * k * batch,
              weight_bytes=eb * k * n * batch, act_in_bytes=eb * m * k * batch, act_out_bytes=eb * m * n * batch,
              pe_format=fmt, weight_format=fmt)


@pytest.fixture
def die8():
    return small_die()
