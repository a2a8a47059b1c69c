"""Numpy-vectorised state of a rows x cols PE array, advanced one clock cycle per call.

Two array machines cover the three dataflows:

* :class:`StationaryArray` (WS, IS): a stationary tile in the PEs, a streamed operand entering from
  the left edge and moving right one PE per cycle, partial sums moving down one PE per cycle.
* :class:`OutputArray` (OS): A moving right, B moving down, one accumulator per PE, then a drain
  that shifts the accumulators down and out of the bottom edge.

Both read one SRAM row per stream cycle into a skew buffer (a ring of the last rows read) that
delays the element for array row ``k`` by ``k`` cycles. Every register carries a valid bit; a PE
multiplies only when both of its operands are valid, so unused rows/columns and stale values never
reach a result.
"""

from __future__ import annotations

import numpy as np

from hwsim.pe.config import PEConfig


class _PEArray:
    """What both array machines share: dimensions, PE arithmetic and per-fold bookkeeping."""

    def __init__(self, rows: int, cols: int, pe: PEConfig):
        self.R, self.C = rows, cols
        self.pe = pe
        self.macs = 0
        self.events: list[tuple[int, int, int, int]] | None = None  # (cycle, col, pos, value) if recording
        self._zero_row = np.zeros((1, cols), pe.acc_dtype)
        self._false_row = np.zeros((1, cols), bool)
        self._zero_tag = np.zeros((1, cols), np.int64)

    def _begin_fold(self, r: int, c: int, t: int, out_shape: tuple[int, int]) -> None:
        self.r, self.c, self.t = r, c, t
        self.tau = 0  # stream/tail cycles so far in this fold
        self.steps_read = 0
        self.y = np.zeros(out_shape, self.pe.acc_dtype)
        self.outputs = 0
        self.fold_macs = 0

    def _record(self, cycle: int | None, cols: np.ndarray, pos: np.ndarray, values: np.ndarray) -> None:
        """Log outputs written into the output register this cycle (values at accumulator width)."""
        if self.events is not None:
            vals = self.pe.finish(values)
            self.events.extend((cycle, int(j), int(p), v.item()) for j, p, v in zip(cols, pos, vals))

    def _count(self, active: np.ndarray) -> None:
        n_active = int(np.count_nonzero(active))
        self.macs += n_active
        self.fold_macs += n_active

    def result(self) -> np.ndarray:
        """The fold's result (t x c for WS/IS, r x c for OS)."""
        return self.y


class StationaryArray(_PEArray):
    """WS/IS array. ``stationary`` names the operand held in the PEs ("b" for WS, "a" for IS)."""

    def __init__(self, rows: int, cols: int, pe: PEConfig, stationary: str):
        super().__init__(rows, cols, pe)
        self.stationary_is_a = stationary == "a"
        in_dt, acc_dt = pe.in_fmt.dtype, pe.acc_dtype
        self.w = np.zeros((rows, cols), in_dt)
        self.wv = np.zeros((rows, cols), bool)
        self.x = np.zeros((rows, cols), in_dt)
        self.xv = np.zeros((rows, cols), bool)
        self.xt = np.zeros((rows, cols), np.int64)  # temporal index of the operand in each PE
        self.p = np.zeros((rows, cols), acc_dt)
        self.pv = np.zeros((rows, cols), bool)
        self.pt = np.zeros((rows, cols), np.int64)
        self.ring = np.zeros((rows, rows), in_dt)  # skew buffer: last R SRAM rows read
        self._k = np.arange(rows)

    def start_fold(self, r: int, c: int, t: int) -> None:
        """Begin a fold using r rows and c columns with temporal extent t (array is empty between folds)."""
        self._begin_fold(r, c, t, (t, c))
        self.xv[:] = False
        self.pv[:] = False

    def preload_cycle(self, row: np.ndarray) -> None:
        """Shift the stationary tile down one row; ``row`` (c values) enters the top row.
        Rows are pushed last-first, so after r cycles row i of the tile sits in PE row i."""
        self.w[1:] = self.w[:-1]
        self.wv[1:] = self.wv[:-1]
        self.w[0, : self.c] = row
        self.wv[0] = np.arange(self.C) < self.c

    def step(self, read_row: np.ndarray | None, cycle: int | None = None) -> None:
        """One stream/tail cycle; ``read_row`` (r values) is the SRAM row read this cycle, if any;
        ``cycle`` (global) labels recorded outputs."""
        R = self.R
        if read_row is not None:
            self.ring[self.steps_read % R, : self.r] = read_row
            self.steps_read += 1
        src = self.tau - self._k
        lv = (src >= 0) & (src < self.steps_read) & (self._k < self.r)
        left = self.ring[src % R, self._k]
        self.x[:, 1:] = self.x[:, :-1]
        self.xv[:, 1:] = self.xv[:, :-1]
        self.xt[:, 1:] = self.xt[:, :-1]
        self.x[:, 0] = left
        self.xv[:, 0] = lv
        self.xt[:, 0] = src
        active = self.xv & self.wv
        if self.stationary_is_a:
            prod = self.pe.mul.multiply(self.w, self.x)
        else:
            prod = self.pe.mul.multiply(self.x, self.w)
        p_in = np.concatenate((self._zero_row, self.p[:-1]))
        pv_in = np.concatenate((self._false_row, self.pv[:-1]))
        pt_in = np.concatenate((self._zero_tag, self.pt[:-1]))
        self.p = np.where(active, self.pe.accumulate(p_in, prod), p_in)
        self.pv = active | pv_in
        self.pt = np.where(active, self.xt, pt_in)
        self._count(active)
        out_valid = self.pv[R - 1, : self.c]
        if out_valid.any():
            cols = np.nonzero(out_valid)[0]
            self.y[self.pt[R - 1, cols], cols] = self.p[R - 1, cols]
            self.outputs += cols.size
            self._record(cycle, cols, self.pt[R - 1, cols], self.p[R - 1, cols])
        self.tau += 1

    def fold_done(self) -> bool:
        """All t x c results (Y[t, j] = sum_k X[t, k] * S[k, j]) have left the array."""
        return self.outputs == self.t * self.c


class OutputArray(_PEArray):
    """OS array: PE(i, j) accumulates C[row0 + i, col0 + j] over K, then drains down the columns."""

    def __init__(self, rows: int, cols: int, pe: PEConfig):
        super().__init__(rows, cols, pe)
        in_dt, acc_dt = pe.in_fmt.dtype, pe.acc_dtype
        self.a = np.zeros((rows, cols), in_dt)
        self.av = np.zeros((rows, cols), bool)
        self.b = np.zeros((rows, cols), in_dt)
        self.bv = np.zeros((rows, cols), bool)
        self.acc = np.zeros((rows, cols), acc_dt)
        self.accv = np.zeros((rows, cols), bool)
        self.acc_row = np.zeros((rows, cols), np.int64)  # which tile row each accumulator holds
        self.ring_a = np.zeros((rows, rows), in_dt)
        self.ring_b = np.zeros((cols, cols), in_dt)
        self._i = np.arange(rows)
        self._j = np.arange(cols)

    def start_fold(self, r: int, c: int, t: int) -> None:
        self._begin_fold(r, c, t, (r, c))
        self.av[:] = False
        self.bv[:] = False
        self.acc[:] = 0
        self.accv[:] = False
        self.acc_row[:] = self._i[:, None]
        self.draining = False

    def step(self, read_a: np.ndarray | None, read_b: np.ndarray | None, cycle: int | None = None) -> None:
        """One cycle. In the stream, ``read_a`` (r values of A's column k) and ``read_b`` (c values of
        B's row k) are read; after it, MACs finish; once all are done the accumulators drain."""
        if self.draining or self.fold_macs == self.r * self.c * self.t and read_a is None:
            self._drain(cycle)
            return
        R, C = self.R, self.C
        if read_a is not None:
            self.ring_a[self.steps_read % R, : self.r] = read_a
            self.ring_b[self.steps_read % C, : self.c] = read_b
            self.steps_read += 1
        src_a = self.tau - self._i
        lav = (src_a >= 0) & (src_a < self.steps_read) & (self._i < self.r)
        src_b = self.tau - self._j
        lbv = (src_b >= 0) & (src_b < self.steps_read) & (self._j < self.c)
        self.a[:, 1:] = self.a[:, :-1]
        self.av[:, 1:] = self.av[:, :-1]
        self.a[:, 0] = self.ring_a[src_a % R, self._i]
        self.av[:, 0] = lav
        self.b[1:] = self.b[:-1]
        self.bv[1:] = self.bv[:-1]
        self.b[0] = self.ring_b[src_b % C, self._j]
        self.bv[0] = lbv
        active = self.av & self.bv
        self.acc = np.where(active, self.pe.accumulate(self.acc, self.pe.mul.multiply(self.a, self.b)), self.acc)
        self.accv |= active
        self._count(active)
        self.tau += 1

    def _drain(self, cycle: int | None) -> None:
        """Shift accumulators down one row; the bottom row enters the output register."""
        self.draining = True
        R = self.R
        valid = self.accv[R - 1, : self.c]
        if valid.any():
            cols = np.nonzero(valid)[0]
            self.y[self.acc_row[R - 1, cols], cols] = self.acc[R - 1, cols]
            self.outputs += cols.size
            self._record(cycle, cols, self.acc_row[R - 1, cols], self.acc[R - 1, cols])
        self.acc = np.concatenate((self._zero_row, self.acc[:-1]))
        self.accv = np.concatenate((self._false_row, self.accv[:-1]))
        self.acc_row = np.concatenate((self._zero_tag, self.acc_row[:-1]))

    def fold_done(self) -> bool:
        """All r x c accumulators have been shifted out."""
        return self.outputs == self.r * self.c
