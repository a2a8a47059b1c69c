"""Dataflow strategy objects: how a GEMM C[M,N] = A[M,K] . B[K,N] is laid onto a rows x cols array.

Each dataflow maps two GEMM dimensions onto the array (one per spatial axis) and streams the third
through time. The problem is cut into *folds* (array-sized tiles of the two spatial dimensions);
folds run one after another, each with its own fill and drain (no overlap between folds).

Cycle-true timing of one fold, with ``r``/``c`` the rows/columns the fold uses, ``R`` the physical
rows and ``T`` the temporal extent. A cycle is counted from the first operand written into an edge
PE's register to the last result written into the array's output register, inclusive:

* weight-stationary (rows <- K, cols <- N, time <- M) and input-stationary (rows <- K, cols <- M,
  time <- N): ``r`` cycles to shift the stationary tile in from the top, then the streamed operand
  enters from the left, row k delayed k cycles (skew); partial sums flow down and leave at the bottom
  edge after crossing all ``R`` physical rows: ``fold = r + T + R + c - 2``.
* output-stationary (rows <- M, cols <- N, time <- K): A enters from the left and B from the top, both
  skewed; the last MAC is at cycle ``K + r + c - 3``; the accumulators then shift down and out through
  the bottom edge, one row per cycle: ``fold = K + r + c - 2 + R``.

SCALE-Sim counts every fold as if it used the whole array and, for OS, does not count the drain:
``WS/IS: 2R + C + T - 2`` and ``OS: K + R + C - 2`` per fold, minus one for the whole layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

OPERANDS = ("a", "b")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Fold:
    """One array-sized tile of the problem.

    ``row0``/``rows`` and ``col0``/``cols`` index the GEMM dimensions mapped onto array rows/columns;
    ``first_k`` is False for the 2nd.. K-slices of an output tile (results accumulate in the C SRAM).
    """

    index: int
    row0: int
    rows: int
    col0: int
    cols: int
    first_k: bool


@dataclass(frozen=True)
class FoldClass:
    """Folds sharing a shape, for closed forms: ``count`` folds of ``rows`` x ``cols``, of which
    ``first_k_count`` start an output tile."""

    count: int
    rows: int
    cols: int
    first_k_count: int


def _split(extent: int, size: int) -> list[tuple[int, int]]:
    """(count, length) pieces of ``extent`` cut into ``size`` chunks: full ones and a remainder."""
    full, rest = divmod(extent, size)
    pieces = [(full, size)] if full else []
    if rest:
        pieces.append((1, rest))
    return pieces


class Dataflow(ABC):
    """Strategy: mapping, fold order, timing and SRAM access counts of one dataflow."""

    name: str
    row_dim: str  # GEMM dimension on array rows: "m" or "k"
    col_dim: str  # on array columns: "n" or "m"
    time_dim: str  # streamed through time: "k", "m" or "n"
    stationary: str | None  # operand held in the PEs ("a", "b") or None (outputs stay)
    streamed: tuple[str, ...]  # operands read from SRAM every cycle of the stream

    def extents(self, m: int, n: int, k: int) -> tuple[int, int, int]:
        """(spatial-row extent, spatial-column extent, temporal extent T)."""
        dims = {"m": m, "n": n, "k": k}
        return dims[self.row_dim], dims[self.col_dim], dims[self.time_dim]

    def folds(self, m: int, n: int, k: int, rows: int, cols: int) -> Iterator[Fold]:
        """Folds in execution order: column folds outer, row folds inner (K innermost for WS/IS,
        so an output tile's partial sums complete before the next tile starts)."""
        s_row, s_col, _ = self.extents(m, n, k)
        idx = 0
        for c0 in range(0, s_col, cols):
            for r0 in range(0, s_row, rows):
                yield Fold(idx, r0, min(rows, s_row - r0), c0, min(cols, s_col - c0),
                           first_k=(r0 == 0 or self.row_dim != "k"))
                idx += 1

    def fold_count(self, m: int, n: int, k: int, rows: int, cols: int) -> int:
        s_row, s_col, _ = self.extents(m, n, k)
        return ceil_div(s_row, rows) * ceil_div(s_col, cols)

    def fold_classes(self, m: int, n: int, k: int, rows: int, cols: int) -> list[FoldClass]:
        """At most four fold shapes (full/remainder in each axis) with their counts."""
        s_row, s_col, _ = self.extents(m, n, k)
        out = []
        for ccount, clen in _split(s_col, cols):
            for rcount, rlen in _split(s_row, rows):
                count = ccount * rcount
                if self.row_dim == "k":
                    # each column fold starts with the row fold at K offset 0, of length min(rows, K)
                    first = ccount if rlen == min(rows, s_row) else 0
                else:
                    first = count
                out.append(FoldClass(count, rlen, clen, first))
        return out

    # --- timing -------------------------------------------------------------------------------
    @abstractmethod
    def preload_cycles(self, r: int, c: int) -> int:
        """Cycles to load the stationary tile before streaming."""

    @abstractmethod
    def tail_cycles(self, r: int, c: int, rows: int, cols: int) -> int:
        """Cycles after the last streamed SRAM read until the last result has left."""

    def fold_cycles(self, r: int, c: int, t: int, rows: int, cols: int) -> int:
        """Cycle-true length of one fold (no stalls)."""
        return self.preload_cycles(r, c) + t + self.tail_cycles(r, c, rows, cols)

    @abstractmethod
    def scalesim_fold_cycles(self, t: int, rows: int, cols: int) -> int:
        """SCALE-Sim 3.0's per-fold compute cycles (whole array assumed busy)."""

    # --- SRAM traffic (words) -------------------------------------------------------------------
    @abstractmethod
    def stream_words_per_step(self, r: int, c: int) -> dict[str, int]:
        """Words each streamed operand supplies per temporal step (one SRAM row read per cycle)."""

    def stationary_words(self, r: int, c: int) -> int:
        return r * c if self.stationary else 0

    def sram_reads(self, r: int, c: int, t: int, first_k: bool) -> dict[str, int]:
        """Words read from each SRAM by one fold (C reads: psums read back to accumulate)."""
        reads = {"a": 0, "b": 0, "c": 0}
        for op, words in self.stream_words_per_step(r, c).items():
            reads[op] += words * t
        if self.stationary:
            reads[self.stationary] += r * c
        if not first_k:
            reads["c"] += self.outputs_per_fold(r, c, t)
        return reads

    @abstractmethod
    def outputs_per_fold(self, r: int, c: int, t: int) -> int:
        """Result words a fold writes to the C SRAM."""

    # --- numerics ---------------------------------------------------------------------------------
    @abstractmethod
    def accumulation_chunk(self, k: int, rows: int) -> int:
        """K-slice summed in the array before the C SRAM adds slices (fixes fp rounding order)."""

    def __repr__(self) -> str:
        return f"<Dataflow {self.name}>"


class OutputStationary(Dataflow):
    """Each PE owns one output C[m, n]; A streams from the left, B from the top, K through time."""

    name = "os"
    row_dim, col_dim, time_dim = "m", "n", "k"
    stationary = None
    streamed = ("a", "b")

    def preload_cycles(self, r: int, c: int) -> int:
        return 0

    def tail_cycles(self, r: int, c: int, rows: int, cols: int) -> int:
        return (r - 1) + (c - 1) + rows

    def scalesim_fold_cycles(self, t: int, rows: int, cols: int) -> int:
        return t + rows + cols - 2

    def stream_words_per_step(self, r: int, c: int) -> dict[str, int]:
        return {"a": r, "b": c}

    def outputs_per_fold(self, r: int, c: int, t: int) -> int:
        return r * c

    def accumulation_chunk(self, k: int, rows: int) -> int:
        return k


class StationaryOperand(Dataflow):
    """One operand tile sits in the PEs (WS: B; IS: A), the other streams from the left, partial sums
    flow down the columns over K. IS is WS on the transposed problem C^T = B^T . A^T."""

    row_dim = "k"

    def __init__(self, name: str, stationary: str):
        self.name = name
        self.stationary = stationary
        other = "a" if stationary == "b" else "b"
        self.streamed = (other,)
        self.col_dim = "n" if stationary == "b" else "m"
        self.time_dim = "m" if stationary == "b" else "n"

    def preload_cycles(self, r: int, c: int) -> int:
        return r

    def tail_cycles(self, r: int, c: int, rows: int, cols: int) -> int:
        return rows + c - 2

    def scalesim_fold_cycles(self, t: int, rows: int, cols: int) -> int:
        return 2 * rows + cols + t - 2

    def stream_words_per_step(self, r: int, c: int) -> dict[str, int]:
        return {self.streamed[0]: r}

    def outputs_per_fold(self, r: int, c: int, t: int) -> int:
        return t * c

    def accumulation_chunk(self, k: int, rows: int) -> int:
        return rows


DATAFLOWS: dict[str, Dataflow] = {
    "os": OutputStationary(),
    "ws": StationaryOperand("ws", stationary="b"),
    "is": StationaryOperand("is", stationary="a"),
}


def get_dataflow(name: str) -> Dataflow:
    return DATAFLOWS[name]


def fold_tiles(df: Dataflow, fold: Fold, a: np.ndarray, b: np.ndarray):
    """Operand values of one fold, in array orientation.

    Returns ``(stationary, streams, out_index)``: the stationary tile (r x c, rows along array rows)
    or None; for each streamed operand a (T x words-per-step) matrix whose row t is read from SRAM at
    stream step t; and a function mapping a fold result Y (T x c for WS/IS, r x c for OS) to
    (C row slice, C col slice, values in C orientation).
    """
    r0, r1 = fold.row0, fold.row0 + fold.rows
    c0, c1 = fold.col0, fold.col0 + fold.cols
    if df.name == "os":
        streams = {"a": a[r0:r1, :].T, "b": b[:, c0:c1]}  # step k: A[rows, k] and B[k, cols]
        return None, streams, lambda y: (slice(r0, r1), slice(c0, c1), y)
    if df.name == "ws":
        stationary = b[r0:r1, c0:c1]
        streams = {"a": a[:, r0:r1]}  # step m: A[m, k-slice]
        return stationary, streams, lambda y: (slice(None), slice(c0, c1), y)
    stationary = a[c0:c1, r0:r1].T  # IS: PE(k, j) holds A[m0 + j, k]
    streams = {"b": b[r0:r1, :].T}  # step n: B[k-slice, n]
    return stationary, streams, lambda y: (slice(c0, c1), slice(None), y.T)
