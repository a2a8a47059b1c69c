"""Simulator-independent testbench parts for the systolic array: driver, monitor, model, scoreboard.

The same classes drive cocotb (Icarus, Verilator) and Amaranth's own simulator; a thin adapter per
simulator sets the input ports, advances one clock and reads the output ports.

Cycle convention (the CL face's): inputs set for cycle ``n`` are captured at the clock edge that
ends cycle ``n``; an output read after that edge was *written in cycle n*. Cycle 0 is the cycle of
the first input. A GEMM's cycle count is (cycle of its last output) + 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hwsim.systolic.cl import simulate_gemm_cl
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Fold, fold_tiles, get_dataflow
from hwsim.systolic.schedule import build_plan
from rtl.systolic import port_widths


def pack(values, valid, width: int) -> tuple[int, int]:
    """(packed word vector, valid bit vector) for an ArrayLayout port; element 0 in the LSBs."""
    mask = (1 << width) - 1
    word = 0
    for k, v in enumerate(values):
        word |= (int(v) & mask) << (k * width)
    vbits = 0
    for k, ok in enumerate(valid):
        vbits |= int(bool(ok)) << k
    return word, vbits


def unpack_signed(word: int, n: int, width: int) -> list[int]:
    mask = (1 << width) - 1
    half = 1 << (width - 1)
    out = []
    for k in range(n):
        v = (word >> (k * width)) & mask
        out.append(v - (1 << width) if v >= half else v)
    return out


@dataclass
class CycleInputs:
    en: int
    a_in: int
    a_in_valid: int
    b_in: int
    b_in_valid: int


@dataclass
class Model:
    """The CL face built from the same config: expected outputs (cycle, fold, col, pos, value)."""

    cfg: SystolicConfig
    a: np.ndarray
    b: np.ndarray

    def __post_init__(self):
        self.run = simulate_gemm_cl(self.cfg, self.a, self.b, record_outputs=True)
        self.events = sorted(self.run.events)
        self.cycles = self.run.stats.cycles


class Driver:
    """The controller's side: preload rows, stream rows, then idle until the fold's last result has
    left (told by the monitor). Given ``phase_starts`` (the model's phase start cycles), it also
    holds ``en`` low where the model's memory port made the array wait, so the freeze is checked."""

    def __init__(self, cfg: SystolicConfig, a: np.ndarray, b: np.ndarray, phase_starts: list[int] | None = None):
        self.cfg = cfg
        self.df = get_dataflow(cfg.dataflow)
        self.width = cfg.pe.in_fmt.bits
        m, k = a.shape
        n = b.shape[1]
        _, _, self.t = self.df.extents(m, n, k)
        self.folds, self.loads, self.phases = build_plan(cfg, m, n, k)
        self.tiles = {f.index: fold_tiles(self.df, f, a, b) for f in self.folds}
        self.widths = dict(zip("ab", port_widths(cfg.dataflow, cfg.rows, cfg.cols)))
        self.phase_starts = phase_starts

    def _inputs(self, rows: dict[str, np.ndarray]) -> CycleInputs:
        """One enabled cycle presenting ``rows[op]`` (padded with invalid words) on each port."""
        ins = CycleInputs(1, 0, 0, 0, 0)
        for op, vals in rows.items():
            n = self.widths[op]
            word, vb = pack(list(vals) + [0] * (n - len(vals)), [True] * len(vals) + [False] * (n - len(vals)),
                            self.width)
            setattr(ins, f"{op}_in", word)
            setattr(ins, f"{op}_in_valid", vb)
        return ins

    def program(self, monitor: "Monitor"):
        """Generator of :class:`CycleInputs`, one per cycle; the caller clocks the design between them
        and lets the monitor sample before asking for the next."""
        stall = CycleInputs(0, 0, 0, 0, 0)
        idle = CycleInputs(1, 0, 0, 0, 0)
        cycle = 0
        for i, ph in enumerate(self.phases):
            fold = self.folds[ph.fold]
            stationary, streams, _ = self.tiles[fold.index]
            if self.phase_starts is not None and ph.kind != "tail":
                while cycle < self.phase_starts[i]:
                    yield stall
                    cycle += 1
            if ph.kind == "preload":
                monitor.begin_fold(fold, self.df.outputs_per_fold(fold.rows, fold.cols, self.t))
                for s in range(fold.rows):  # last tile row first: row i ends in PE row i
                    yield self._inputs({self.df.stationary: stationary[fold.rows - 1 - s]})
                    cycle += 1
            elif ph.kind == "stream":
                if not self.df.stationary and self.loads[ph.loads[0]].step0 == 0:
                    monitor.begin_fold(fold, self.df.outputs_per_fold(fold.rows, fold.cols, self.t))
                step0 = self.loads[ph.loads[0]].step0
                for s in range(ph.cycles):
                    yield self._inputs({op: streams[op][step0 + s] for op in self.df.streamed})
                    cycle += 1
            else:  # tail: idle until the monitor has seen the fold's last result
                while not monitor.fold_complete():
                    yield idle
                    cycle += 1


@dataclass
class Monitor:
    """Samples ``c_out``/``c_out_valid`` after every enabled cycle and labels results by fold and
    position (WS/IS: the n-th result of a column in a fold is temporal index n; OS: the drain emits
    tile rows bottom-up, so it is row r-1-n)."""

    cfg: SystolicConfig
    events: list = field(default_factory=list)

    def __post_init__(self):
        self.acc_bits = self.cfg.pe.acc_fmt.bits
        self.os = self.cfg.dataflow == "os"
        self.fold: Fold | None = None
        self.expected = 0
        self.seen = 0
        self.per_col: dict[int, int] = {}

    def begin_fold(self, fold: Fold, expected: int) -> None:
        self.fold, self.expected, self.seen, self.per_col = fold, expected, 0, {}

    def fold_complete(self) -> bool:
        return self.seen >= self.expected

    def sample(self, cycle: int, enabled: bool, c_out: int, c_out_valid: int) -> None:
        if not enabled or self.fold is None or not c_out_valid:
            return
        values = unpack_signed(c_out, self.cfg.cols, self.acc_bits)
        for j in range(self.cfg.cols):
            if c_out_valid >> j & 1:
                n = self.per_col.get(j, 0)
                self.per_col[j] = n + 1
                pos = self.fold.rows - 1 - n if self.os else n
                self.events.append((cycle, self.fold.index, j, pos, values[j]))
                self.seen += 1


@dataclass
class Scoreboard:
    """Compares the RTL's outputs with the model's: every value and every cycle."""

    value_mismatches: int = 0
    cycle_mismatches: int = 0
    missing: int = 0
    extra: int = 0
    outputs: int = 0
    first_problems: list = field(default_factory=list)

    def compare(self, expected: list, got: list) -> None:
        exp = {(f, j, p): (cyc, v) for cyc, f, j, p, v in expected}
        seen = set()
        for cyc, f, j, p, v in got:
            key = (f, j, p)
            self.outputs += 1
            if key not in exp or key in seen:
                self.extra += 1
                self._note(f"unexpected output fold {f} col {j} pos {p} at cycle {cyc}")
                continue
            seen.add(key)
            ecyc, ev = exp[key]
            if ev != v:
                self.value_mismatches += 1
                self._note(f"fold {f} col {j} pos {p}: value {v}, model {ev}")
            if ecyc != cyc:
                self.cycle_mismatches += 1
                self._note(f"fold {f} col {j} pos {p}: cycle {cyc}, model {ecyc}")
        self.missing += len(exp) - len(seen)

    def _note(self, text: str) -> None:
        if len(self.first_problems) < 10:
            self.first_problems.append(text)

    @property
    def clean(self) -> bool:
        return not (self.value_mismatches or self.cycle_mismatches or self.missing or self.extra)

    def to_dict(self) -> dict:
        return {"outputs": self.outputs, "value_mismatches": self.value_mismatches,
                "cycle_mismatches": self.cycle_mismatches, "missing": self.missing, "extra": self.extra,
                "first_problems": self.first_problems}


async def run_gemm(cfg: SystolicConfig, a: np.ndarray, b: np.ndarray, clock_cycle, follow_stalls: bool = False) -> dict:
    """Co-simulate one GEMM. ``await clock_cycle(inputs) -> (c_out, c_out_valid)`` applies one
    cycle's inputs to the design, clocks it once and returns the outputs written in that cycle.

    Returns the scoreboard and cycle counts; the caller asserts on them."""
    model = Model(cfg, a, b)
    starts = [start for _, _, start, _ in model.run.phases] if follow_stalls else None
    monitor = Monitor(cfg)
    driver = Driver(cfg, a, b, starts)
    cycle = 0
    t0 = time.perf_counter()
    for ins in driver.program(monitor):
        c_out, c_valid = await clock_cycle(ins)
        monitor.sample(cycle, bool(ins.en), c_out, c_valid)
        cycle += 1
    sim_wall_s = time.perf_counter() - t0
    board = Scoreboard()
    board.compare(model.events, monitor.events)
    rtl_cycles = max(e[0] for e in monitor.events) + 1 if monitor.events else 0
    c = assemble(cfg, driver, monitor.events, a.shape[0], b.shape[1])
    return {"m": a.shape[0], "n": b.shape[1], "k": a.shape[1], "rtl_cycles": rtl_cycles,
            "model_cycles": model.cycles, "driven_cycles": cycle, "sim_wall_s": sim_wall_s, **board.to_dict(),
            "c_matches_fl": bool(np.array_equal(c, model.run.c))}


def assemble(cfg: SystolicConfig, driver: Driver, events: list, m: int, n: int) -> np.ndarray:
    """C from the RTL's fold outputs, accumulated as the C SRAM does (partial sums of later K-slices added)."""
    pe = cfg.pe
    c = np.zeros((m, n), np.int64)
    for fold in driver.folds:
        _, _, out_map = driver.tiles[fold.index]
        shape = (fold.rows, fold.cols) if cfg.dataflow == "os" else (driver.t, fold.cols)
        y = np.zeros(shape, np.int64)
        for _, f, j, pos, v in events:
            if f == fold.index:
                y[pos, j] = v
        rows, cols, vals = out_map(y)
        c[rows, cols] = vals if fold.first_k else c[rows, cols] + vals
    return pe.finish(c)
