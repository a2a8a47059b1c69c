"""Where the GEMM operands live in DRAM and which DMA descriptors each supply-plan load needs.

A (M x K) and B (K x N) are stored row-major, A at ``a_base`` and B after it (aligned). A load of the
supply plan (:mod:`hwsim.systolic.schedule`) becomes 2-D strided descriptors: e.g. a weight-stationary
B tile is ``rows`` = r rows of c words, ``N`` words apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.errors import ConfigError
from hwsim.memory.dma import Descriptor
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Fold, get_dataflow
from hwsim.systolic.schedule import Load


def _align(x: int, a: int) -> int:
    return -(-x // a) * a


@dataclass(frozen=True)
class OperandLayout:
    """Byte addresses of A and B (row-major, ``bits`` per element)."""

    m: int
    n: int
    k: int
    bits: int
    a_base: int = 0
    alignment: int = 4096

    @property
    def b_base(self) -> int:
        return _align(self.a_base + self._bytes(self.m * self.k), self.alignment)

    def _bytes(self, elements: int) -> int:
        return -(-elements * self.bits // 8)

    def block(self, operand: str, row0: int, rows: int, col0: int, cols: int) -> Descriptor:
        """Descriptor of ``rows`` x ``cols`` elements of A or B starting at (row0, col0)."""
        width = self.k if operand == "a" else self.n
        if (width * self.bits) % 8:
            raise ConfigError(f"gemm.{'k' if operand == 'a' else 'n'}: rows of {width} {self.bits}-bit words are not "
                              f"a whole number of bytes; the DMA layout needs byte-aligned rows")
        base = self.a_base if operand == "a" else self.b_base
        first_bit = (row0 * width + col0) * self.bits
        return Descriptor(base=base + first_bit // 8, rows=rows,
                          row_bytes=-(-(first_bit % 8 + cols * self.bits) // 8), stride_bytes=width * self.bits // 8)

    def total_bytes(self) -> int:
        return self.b_base + self._bytes(self.k * self.n)


def load_descriptors(cfg: SystolicConfig, layout: OperandLayout, fold: Fold, load: Load) -> list[Descriptor]:
    """The DMA descriptors that bring one load of the supply plan into its SRAM buffer half."""
    df = get_dataflow(cfg.dataflow)
    r0, r, c0, c = fold.row0, fold.rows, fold.col0, fold.cols
    s0, steps = load.step0, load.steps
    op = load.operand
    if df.name == "ws":  # rows <- K, cols <- N, time <- M
        if load.kind == "stationary":
            return [layout.block("b", r0, r, c0, c)]
        return [layout.block("a", s0, steps, r0, r)]
    if df.name == "is":  # rows <- K, cols <- M, time <- N
        if load.kind == "stationary":
            return [layout.block("a", c0, c, r0, r)]
        return [layout.block("b", r0, r, s0, steps)]
    # os: rows <- M, cols <- N, time <- K
    if op == "a":
        return [layout.block("a", r0, r, s0, steps)]
    return [layout.block("b", s0, steps, c0, c)]
