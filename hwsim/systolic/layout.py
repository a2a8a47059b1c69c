"""Where the GEMM operands live in DRAM and which DMA descriptors each supply-plan load needs.

A (M x K) and B (K x N) are stored A at ``a_base`` and B after it (aligned), in one of two layouts:

* ``row_major``: plain row-major matrices. A load of the supply plan (:mod:`hwsim.systolic.schedule`)
  becomes a 2-D strided descriptor: e.g. a weight-stationary B tile is r rows of c words, ``N`` words
  apart. Long power-of-two strides can land on few DRAM channels (see docs/memory.md).
* ``tiled``: each operand is stored as blocks shaped to the dataflow, so that every load of the plan
  is one contiguous run of bytes (what a compiler does when it pre-tiles weights and activations):

  ==========  =====================================  =====================================
  dataflow    A blocks (rows x cols, inner order)    B blocks
  ==========  =====================================  =====================================
  WS          M x R panels, row-major                R x C tiles, row-major
  IS          C x R tiles, row-major                 R x N panels, column-major
  OS          R x K panels, column-major             K x C panels, row-major
  ==========  =====================================  =====================================

  Blocks are stored in row-major order of the block grid; edge blocks are smaller (no padding).
  Elements must be whole bytes (int4 operands need ``row_major``).
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


LAYOUTS = ("row_major", "tiled")


@dataclass(frozen=True)
class Blocking:
    """How one operand is cut into blocks: block rows x cols and the order inside a block."""

    rows: int
    cols: int
    column_major: bool = False


def blockings(cfg: SystolicConfig, m: int, n: int, k: int) -> dict[str, Blocking]:
    """The ``tiled`` layout's blocks of A and B for the unit's dataflow (table in the module docstring)."""
    R, C = cfg.rows, cfg.cols
    df = cfg.dataflow
    if df == "ws":
        return {"a": Blocking(m, R), "b": Blocking(R, C)}
    if df == "is":
        return {"a": Blocking(C, R), "b": Blocking(R, n, column_major=True)}
    return {"a": Blocking(R, k, column_major=True), "b": Blocking(k, C)}


@dataclass(frozen=True)
class OperandLayout:
    """Byte addresses of A and B (``bits`` per element): row-major, or blocked (``blocks`` given)."""

    m: int
    n: int
    k: int
    bits: int
    a_base: int = 0
    alignment: int = 4096
    blocks: dict | None = None  # {"a": Blocking, "b": Blocking}: the tiled layout

    @classmethod
    def for_unit(cls, cfg: SystolicConfig, m: int, n: int, k: int, kind: str = "row_major") -> "OperandLayout":
        """The layout ``kind`` (``row_major`` or ``tiled``) of a GEMM on the unit ``cfg``."""
        if kind not in LAYOUTS:
            raise ConfigError(f"memory.layout: must be one of {', '.join(LAYOUTS)}, got {kind!r}")
        bits = cfg.pe.in_fmt.bits
        if kind == "row_major":
            return cls(m, n, k, bits)
        if bits % 8:
            raise ConfigError(f"memory.layout: 'tiled' needs whole-byte elements, got {bits}-bit "
                              f"{cfg.pe.input}; use 'row_major'")
        return cls(m, n, k, bits, blocks=blockings(cfg, m, n, k))

    @property
    def b_base(self) -> int:
        return _align(self.a_base + self._bytes(self.m * self.k), self.alignment)

    def _bytes(self, elements: int) -> int:
        return -(-elements * self.bits // 8)

    def block(self, operand: str, row0: int, rows: int, col0: int, cols: int) -> Descriptor:
        """Descriptor of ``rows`` x ``cols`` elements of A or B starting at (row0, col0)."""
        if self.blocks is not None:
            return self._tiled_block(operand, row0, rows, col0, cols)
        width = self.k if operand == "a" else self.n
        if (width * self.bits) % 8:
            raise ConfigError(f"gemm.{'k' if operand == 'a' else 'n'}: rows of {width} {self.bits}-bit words are not "
                              f"a whole number of bytes; the DMA layout needs byte-aligned rows")
        base = self.a_base if operand == "a" else self.b_base
        first_bit = (row0 * width + col0) * self.bits
        return Descriptor(base=base + first_bit // 8, rows=rows,
                          row_bytes=-(-(first_bit % 8 + cols * self.bits) // 8), stride_bytes=width * self.bits // 8)

    def _tiled_block(self, operand: str, row0: int, rows: int, col0: int, cols: int) -> Descriptor:
        """The request must lie inside one block (true for every load of the supply plan)."""
        height, width = (self.m, self.k) if operand == "a" else (self.k, self.n)
        blk = self.blocks[operand]
        eb = self.bits // 8
        bi, bj = row0 // blk.rows, col0 // blk.cols
        i0, j0 = row0 - bi * blk.rows, col0 - bj * blk.cols
        h = min(blk.rows, height - bi * blk.rows)  # this block's size (edge blocks are smaller)
        w = min(blk.cols, width - bj * blk.cols)
        if i0 + rows > h or j0 + cols > w:
            raise ValueError(f"{operand}[{row0}:{row0 + rows}, {col0}:{col0 + cols}] crosses a "
                             f"{blk.rows}x{blk.cols} block of the tiled layout")
        base = (self.a_base if operand == "a" else self.b_base) + (bi * blk.rows * width + bj * h * blk.cols) * eb
        if blk.column_major:
            return Descriptor(base=base + (j0 * h + i0) * eb, rows=cols, row_bytes=rows * eb, stride_bytes=h * eb)
        return Descriptor(base=base + (i0 * w + j0) * eb, rows=rows, row_bytes=cols * eb, stride_bytes=w * eb)

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
