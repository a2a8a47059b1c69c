"""Tensor parallelism: one GEMM split over the dies of a package, and the collective it needs.

A layer C[m,n] = A[m,k] . B[k,n] with ``split``:

* ``column``: die ``d`` computes C[:, n_d] = A . B[:, n_d] (N split as evenly as it goes, the first
  dies taking the extra column); the outputs stay sharded (as in a Megatron column-parallel layer
  feeding a row-parallel one). No communication.
* ``column_gather``: as ``column``, then an all-gather of C (``m x n`` words of the *input* format:
  the next layer's operand).
* ``row``: die ``d`` computes the partial product A[:, k_d] . B[k_d, :]; an all-reduce of the partial
  sums (``m x n`` words of the *accumulator* format) leaves every die with C.
* ``none``: die 0 computes the whole GEMM; the others idle.

The layer's time is the slowest die's cycles plus the collective's time (no overlap of compute and
communication); energy is every die's energy plus the D2D link energy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.chiplet.collective import split as even_split
from hwsim.systolic.config import SystolicConfig

SPLITS = ("column", "column_gather", "row", "none")


@dataclass(frozen=True)
class Shard:
    """The part of a GEMM that one die computes: rows of A all, columns ``n0:n1`` of B, slice ``k0:k1``."""

    die: int
    m: int
    n0: int
    n1: int
    k0: int
    k1: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.m, self.n1 - self.n0, self.k1 - self.k0


def shards(m: int, n: int, k: int, split: str, dies: int) -> list[Shard]:
    """The non-empty shards of the GEMM over ``dies`` dies (dies with nothing to do are left out)."""
    if split not in SPLITS:
        raise ValueError(f"split: must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "none":
        return [Shard(0, m, 0, n, 0, k)]
    if split == "row":
        return [Shard(d, m, 0, n, a, b) for d, (a, b) in enumerate(even_split(0, k, dies)) if b > a]
    return [Shard(d, m, a, b, 0, k) for d, (a, b) in enumerate(even_split(0, n, dies)) if b > a]


def collective_of(m: int, n: int, split: str, unit: SystolicConfig) -> tuple[str, int] | None:
    """(collective name, bytes: NCCL's size S) the split needs after the dies compute, or None."""
    if split == "column_gather":
        return "all-gather", math.ceil(m * n * unit.pe.in_fmt.bits / 8)
    if split == "row":
        return "allreduce", math.ceil(m * n * unit.pe.acc_fmt.bits / 8)
    return None


def assemble(unit: SystolicConfig, parts: list[tuple[Shard, np.ndarray]], m: int, n: int, split: str) -> np.ndarray:
    """C of the whole layer from the dies' outputs (what the package holds after the collective):
    column splits concatenate; a row split sums the partial results in the accumulator format."""
    if split == "row":  # the all-reduce adds in die order at accumulator precision
        total = parts[0][1]
        for _, c in parts[1:]:
            total = unit.pe.finish(unit.pe.accumulate(total, c))
        return total
    out = np.zeros((m, n), dtype=parts[0][1].dtype)
    for sh, c in parts:
        out[:, sh.n0 : sh.n1] = c
    return out
