"""CL face: the systolic unit simulated cycle by cycle on SimPy, computing real values.

Three components on one clock:

* :class:`OperandLoader` sends the supply plan's loads (stationary tiles, stream chunks) over the
  memory-port :class:`~hwsim.core.Link` into the A and B operand SRAMs, each a capacity-1
  :class:`~hwsim.core.Channel` (the half being filled) beside the half the array reads;
* :class:`SystolicCL` (ports ``a_in``, ``b_in``, ``c_out``) takes loads as its phases need them,
  stalls when they are late, and advances the numpy PE-array state one cycle at a time; a fold ends
  when its last result has left the array (data-driven, not from the cost formula);
* :class:`ResultBuffer` is the C SRAM: it stores each fold's results, adding partial sums of later
  K-slices to what it holds (a read-modify-write).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.core import Channel, Component, Link, PortDir, PortSpec, Simulation, Tracer
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Fold, fold_tiles, get_dataflow
from hwsim.errors import ConfigError
from hwsim.systolic.fl import check_operands
from hwsim.systolic.pe_array import OutputArray, StationaryArray
from hwsim.systolic.result import GemmStats
from hwsim.systolic.schedule import Load, Phase, build_plan, port_timing


@dataclass
class Chunk:
    """A load's payload: its plan entry and values (stationary tile r x c, or stream rows x words)."""

    load: Load
    values: np.ndarray


@dataclass
class FoldOutput:
    fold: Fold
    rows: slice
    cols: slice
    values: np.ndarray


class OperandLoader(Component):
    """Issues the plan's loads in order: over the memory port (one transfer at a time), or, with a
    DMA engine, as 2-D strided DMA descriptors from DRAM that overlap each other (each load still takes
    its buffer-half credit in order and is delivered in order)."""

    PORTS = (
        PortSpec("a_out", PortDir.OUT, "A-operand loads into the A SRAM"),
        PortSpec("b_out", PortDir.OUT, "B-operand loads into the B SRAM"),
    )
    STATS = {"loads": "transfers", "port_bytes_a": "bytes", "port_bytes_b": "bytes",
             "sram_write_a": "words", "sram_write_b": "words"}

    def __init__(self, sim, name, clock, loads: list[Load], payloads: list[np.ndarray], dma=None, descriptors=None):
        super().__init__(sim, name, clock)
        self.activity: list[tuple[int, str, int]] | None = None  # (cycle, counter, amount) when recording
        self.loads = loads
        self.payloads = payloads
        self.dma = dma
        self.descriptors = descriptors

    def _log(self, counter: str, amount: int) -> None:
        if self.activity is not None:
            self.activity.append((self.clock.now_cycles, counter, amount))

    def run(self):
        if self.dma is not None:
            yield from self._run_dma()
            return
        for ld, values in zip(self.loads, self.payloads):
            t0 = self.env.now
            yield from self.ports[f"{ld.operand}_out"].put(Chunk(ld, values), ld.nbytes)
            self.stats.add("loads")
            self.stats.add(f"port_bytes_{ld.operand}", ld.nbytes)
            self.stats.add(f"sram_write_{ld.operand}", ld.words)
            self._log(f"port_bytes_{ld.operand}", ld.nbytes)
            self._log(f"sram_write_{ld.operand}", ld.words)
            self.span(f"load:{ld.operand}:{ld.kind}", t0, self.env.now, fold=ld.fold, bytes=ld.nbytes)

    def _run_dma(self):
        previous = None
        for ld, values, descs in zip(self.loads, self.payloads, self.descriptors):
            port = self.ports[f"{ld.operand}_out"]
            yield port.reserve()
            delivered = self.env.event()
            self.env.process(self._dma_load(ld, values, descs, port, previous, delivered))
            previous = delivered

    def _dma_load(self, ld: Load, values, descs, port, previous, delivered):
        t0 = self.env.now
        for desc in descs:
            yield from self.dma.transfer(desc)
        yield self.clock.sync()  # DRAM completions cross into the unit's clock domain at its next edge
        if previous is not None and not previous.triggered:
            yield previous
        port.deliver(Chunk(ld, values))
        delivered.succeed()
        self.stats.add("loads")
        nbytes = sum(len(d.transactions(self.dma.dram.transaction_bytes)) for d in descs) * self.dma.dram.transaction_bytes
        self.stats.add(f"port_bytes_{ld.operand}", nbytes)
        self.stats.add(f"sram_write_{ld.operand}", ld.words)
        self._log(f"port_bytes_{ld.operand}", nbytes)
        self._log(f"sram_write_{ld.operand}", ld.words)
        self.span(f"load:{ld.operand}:{ld.kind}", t0, self.env.now, fold=ld.fold, descriptors=len(descs))


class ResultBuffer(Component):
    """C SRAM / accumulator: first K-slice of a tile is written, later slices read-add-write."""

    PORTS = (PortSpec("c_in", PortDir.IN, "fold results from the array"),)
    STATS = {"sram_read_c": "words", "sram_write_c": "words"}

    def __init__(self, sim, name, clock, cfg: SystolicConfig, m: int, n: int):
        super().__init__(sim, name, clock)
        self.pe = cfg.pe
        self.c = np.zeros((m, n), cfg.pe.acc_dtype)
        self.activity: list[tuple[int, str, int]] | None = None  # (cycle, counter, amount) when recording

    def run(self):
        while True:
            out: FoldOutput = yield self.c_in.get()
            words = out.values.size
            now = self.clock.now_cycles
            if out.fold.first_k:
                self.c[out.rows, out.cols] = out.values
            else:
                self.c[out.rows, out.cols] = self.pe.accumulate(self.c[out.rows, out.cols], out.values)
                self.stats.add("sram_read_c", words)
                if self.activity is not None:
                    self.activity.append((now, "sram_read_c", words))
            self.stats.add("sram_write_c", words)
            if self.activity is not None:
                self.activity.append((now, "sram_write_c", words))


class SystolicCL(Component):
    """The PE array and its controller: phases of each fold, stalls on late operands."""

    PORTS = (
        PortSpec("a_in", PortDir.IN, "A operand: stream chunks (OS, WS) or stationary tiles (IS)"),
        PortSpec("b_in", PortDir.IN, "B operand: stream chunks (OS, IS) or stationary tiles (WS)"),
        PortSpec("c_out", PortDir.OUT, "each fold's results, to the C SRAM"),
    )
    STATS = {"mac": "ops", "pe_busy_cycles": "PE-cycles", "compute_cycles": "cycles",
             "stall_cycles_a": "cycles", "stall_cycles_b": "cycles", "sram_read_a": "words",
             "sram_read_b": "words", "folds": "folds"}

    def __init__(self, sim, name, clock, cfg: SystolicConfig, folds: list[Fold], phases: list[Phase],
                 out_map, t: int):
        super().__init__(sim, name, clock)
        self.cfg = cfg
        self.df = get_dataflow(cfg.dataflow)
        self.folds = folds
        self.phases = phases
        self.out_map = out_map
        self.t = t
        if self.df.stationary:
            self.array = StationaryArray(cfg.rows, cfg.cols, cfg.pe, self.df.stationary)
        else:
            self.array = OutputArray(cfg.rows, cfg.cols, cfg.pe)
        self.finished_ps: int | None = None
        self.phase_log: list[tuple[str, int, int, int]] = []  # (kind, fold, start cycle, cycles) as simulated
        self.activity: list[tuple[int, str, int]] | None = None  # (cycle, counter, amount) when recording

    def _take(self, operand: str):
        t0 = self.env.now
        chunk = yield self.ports[f"{operand}_in"].get()
        waited = self.clock.to_cycles(self.env.now - t0)
        if waited:
            self.stats.add(f"stall_cycles_{operand}", waited)
            self.span(f"stall:{operand}", t0, self.env.now)
        return chunk

    def _advance(self, kind: str, fold: Fold, cycles: int):
        t0 = self.env.now
        self.phase_log.append((kind, fold.index, self.clock.now_cycles, cycles))
        if cycles:
            yield self.clock.cycles(cycles)
        self.stats.add("compute_cycles", cycles)
        self.span(f"busy:{kind}", t0, self.env.now, fold=fold.index)

    def run(self):
        arr = self.array
        by_fold: dict[int, list[Phase]] = {}
        for ph in self.phases:
            by_fold.setdefault(ph.fold, []).append(ph)
        for fold in self.folds:
            r, c = fold.rows, fold.cols
            arr.start_fold(r, c, self.t)
            macs0 = arr.macs
            for ph in by_fold[fold.index]:
                if ph.kind == "preload":
                    tile = (yield from self._take(self.df.stationary)).values
                    for i in range(r):  # last row first: row i ends in PE row i
                        arr.preload_cycle(tile[r - 1 - i])
                    self.stats.add(f"sram_read_{self.df.stationary}", r * c)
                    if self.activity is not None:
                        self.activity.append((self.clock.now_cycles, f"sram_read_{self.df.stationary}", r * c))
                    yield from self._advance("preload", fold, r)
                elif ph.kind == "stream":
                    chunks = {}
                    for op in self.df.streamed:
                        chunks[op] = (yield from self._take(op)).values
                    steps = ph.cycles
                    now = self.clock.now_cycles
                    log = self.activity
                    if isinstance(arr, OutputArray):
                        for s in range(steps):
                            m0 = arr.macs
                            arr.step(chunks["a"][s], chunks["b"][s], cycle=now + s)
                            if log is not None:
                                log.append((now + s, "mac", arr.macs - m0))
                    else:
                        rows = chunks[self.df.streamed[0]]
                        for s in range(steps):
                            m0 = arr.macs
                            arr.step(rows[s], cycle=now + s)
                            if log is not None:
                                log.append((now + s, "mac", arr.macs - m0))
                    for op, vals in chunks.items():
                        self.stats.add(f"sram_read_{op}", vals.size)
                        if log is not None:  # one streamed row (or column) per cycle
                            per = vals.size // steps if steps else 0
                            log.extend((now + s, f"sram_read_{op}", per) for s in range(steps))
                            if per * steps != vals.size:
                                log.append((now + steps - 1, f"sram_read_{op}", vals.size - per * steps))
                    yield from self._advance("stream", fold, steps)
                else:  # tail: run until the last result has left the array
                    cycles = 0
                    now = self.clock.now_cycles
                    log = self.activity
                    while not arr.fold_done():
                        m0 = arr.macs
                        if isinstance(arr, OutputArray):
                            arr.step(None, None, cycle=now + cycles)
                        else:
                            arr.step(None, cycle=now + cycles)
                        if log is not None and arr.macs != m0:
                            log.append((now + cycles, "mac", arr.macs - m0))
                        cycles += 1
                    yield from self._advance("tail", fold, cycles)
            self.stats.add("mac", arr.macs - macs0)
            self.stats.add("pe_busy_cycles", arr.macs - macs0)
            self.stats.add("folds")
            rows_sl, cols_sl, values = self.out_map[fold.index](arr.result())
            yield from self.c_out.put(FoldOutput(fold, rows_sl, cols_sl, values.copy()))
        self.finished_ps = self.env.now

    def line_trace(self) -> str:
        arr = self.array
        return (f"{self.name}@{self.clock.now_cycles}: macs={arr.macs} "
                f"valid_pes={int(np.count_nonzero(getattr(arr, 'pv', getattr(arr, 'accv', np.zeros(1)))))}")


DRAM_ACTIONS = ("activates", "refreshes", "reads", "writes", "bytes_read", "bytes_written")


@dataclass
class ClRun:
    """Everything one CL simulation produced."""

    c: np.ndarray  # C as the hardware holds it
    stats: GemmStats
    folds: list[Fold]
    phases: list[tuple[str, int, int, int]]  # (kind, fold, start cycle, cycles) as simulated
    events: list[tuple[int, int, int, int, int]] | None  # (cycle, fold, col, pos, value) if recorded
    dram_stats: dict | None = None  # DRAM counters when fed from off-chip memory
    activity: dict | None = None  # component -> [(cycle, counter, amount)] with activity_window
    dram_windows: list | None = None  # [(cycle, DRAM counters so far)] with activity_window and offchip
    activity_window: int | None = None
    cycles: int | None = None


def run_gemm_cl(cfg: SystolicConfig, a: np.ndarray, b: np.ndarray,
                trace: str | Path | Tracer | None = None) -> tuple[np.ndarray, GemmStats]:
    """Simulate C = A . B on the unit; returns (C as the hardware holds it, stats).

    ``trace``: a path to write a Chrome/Perfetto trace-event JSON file (one track per component),
    or a :class:`~hwsim.core.Tracer` to add this run's spans to (at its ``offset_ps``).
    """
    run = simulate_gemm_cl(cfg, a, b, trace=trace)
    return run.c, run.stats


def simulate_gemm_cl(cfg: SystolicConfig, a: np.ndarray, b: np.ndarray, trace: str | Path | Tracer | None = None,
                     record_outputs: bool = False, offchip=None, activity_window: int | None = None) -> ClRun:
    """:func:`run_gemm_cl` with the details a co-simulation needs: the phase timeline and, with
    ``record_outputs``, every value written into the array's output register and its cycle
    (``pos`` is the temporal index for WS/IS, the tile row for OS).

    ``offchip`` (:class:`hwsim.memory.offchip.OffChipConfig`) feeds the operand SRAMs from a cycle-level
    DRAM/HBM model through a DMA engine instead of the simple memory port; A and B are laid out
    row-major in DRAM (:mod:`hwsim.systolic.layout`).

    ``activity_window`` (cycles): record when every action happened (``run.activity``: (cycle, counter,
    amount) per component) and, fed from DRAM, snapshot the DRAM counters every window
    (``run.dram_windows``), for a power trace (:func:`hwsim.power.trace.power_trace`)."""
    a, b = check_operands(cfg, a, b)
    m, k = a.shape
    n = b.shape[1]
    df = get_dataflow(cfg.dataflow)
    folds, loads, phases = build_plan(cfg, m, n, k)
    _, _, t = df.extents(m, n, k)

    tiles = {f.index: fold_tiles(df, f, a, b) for f in folds}
    payloads = []
    for ld in loads:
        stationary, streams, _ = tiles[ld.fold]
        if ld.kind == "stationary":
            payloads.append(stationary)
        else:
            payloads.append(streams[ld.operand][ld.step0 : ld.step0 + ld.steps])
    out_map = {i: tl[2] for i, tl in tiles.items()}

    tracer_arg = trace if isinstance(trace, Tracer) else trace is not None
    sim = Simulation(trace=tracer_arg, name=f"gemm {m}x{n}x{k} on {cfg.rows}x{cfg.cols} {df.name}")
    clock = sim.clock("unit", period_ps=_period_ps(cfg))
    bpc, latency = port_timing(cfg)
    port = Link(sim.env, clock, "memory_port", bpc, latency)
    a_sram = Channel(sim.env, clock, "a_sram", capacity=1, link=port)
    b_sram = Channel(sim.env, clock, "b_sram", capacity=1, link=port)
    c_sram = Channel(sim.env, clock, "c_sram", capacity=None)

    dma = descriptors = dram = None
    if offchip is not None:
        from hwsim.memory.dma import DmaEngine
        from hwsim.memory.dram import DramSystem
        from hwsim.systolic.layout import OperandLayout, load_descriptors

        if cfg.memory_port is not None:
            raise ConfigError("unit.memory_port: give either a memory port or off-chip memory (memory:), not both")
        dram = DramSystem(sim, offchip.dram.config(), name="dram")
        dma = DmaEngine(sim, "dma", clock, dram, offchip.dma)
        layout = OperandLayout.for_unit(cfg, m, n, k, offchip.layout)
        descriptors = [load_descriptors(cfg, layout, folds[ld.fold], ld) for ld in loads]
    loader = OperandLoader(sim, "loader", clock, loads, payloads, dma=dma, descriptors=descriptors)
    unit = SystolicCL(sim, "array", clock, cfg, folds, phases, out_map, t)
    cbuf = ResultBuffer(sim, "c_sram", clock, cfg, m, n)
    events: list | None = None
    if record_outputs:
        unit.array.events = []
    dram_windows: list[tuple[int, dict]] | None = None
    if activity_window is not None:
        if isinstance(activity_window, bool) or not isinstance(activity_window, int) or activity_window < 1:
            raise ConfigError(f"activity_window: must be a number of cycles >= 1, got {activity_window!r}")
        unit.activity, loader.activity, cbuf.activity = [], [], []
        if dram is not None:
            dram_windows = []

            def sample():  # DRAM counters at every window boundary until the array finishes
                while True:
                    yield clock.cycles(activity_window)
                    dram_windows.append((clock.now_cycles, dram.stats.as_dict()))
                    if unit.finished_ps is not None:
                        return

            sim.env.process(sample())
    loader.connect("a_out", a_sram)
    loader.connect("b_out", b_sram)
    unit.connect("a_in", a_sram)
    unit.connect("b_in", b_sram)
    unit.connect("c_out", c_sram)
    cbuf.connect("c_in", c_sram)
    sim.run()
    if unit.finished_ps is None:  # pragma: no cover - would be a kernel bug
        raise RuntimeError("systolic CL simulation ended before the array finished (deadlock)")

    total = clock.to_cycles(unit.finished_ps)
    s, ls, cs = unit.stats, loader.stats, cbuf.stats
    stats = GemmStats(
        m=m, n=n, k=k, rows=cfg.rows, cols=cfg.cols, dataflow=df.name, face="cl", accounting="hwsim",
        cycles=total, compute_cycles=s["compute_cycles"], stall_cycles=total - s["compute_cycles"],
        macs=s["mac"], pe_busy_cycles=s["pe_busy_cycles"], folds=s["folds"],
        sram_reads={"a": s["sram_read_a"], "b": s["sram_read_b"], "c": cs["sram_read_c"]},
        sram_writes={"a": ls["sram_write_a"], "b": ls["sram_write_b"], "c": cs["sram_write_c"]},
        port_bytes={"a": ls["port_bytes_a"], "b": ls["port_bytes_b"]},
        stall_cycles_by_operand={"a": s["stall_cycles_a"], "b": s["stall_cycles_b"]},
        mapping_efficiency=sum(f.rows * f.cols for f in folds) / (len(folds) * cfg.rows * cfg.cols),
    )
    if trace is not None and not isinstance(trace, Tracer):
        sim.tracer.write(trace)
    if record_outputs:
        fold_of = _fold_of_cycle(unit.phase_log)
        events = [(cyc, fold_of(cyc), col, pos, val) for cyc, col, pos, val in unit.array.events]
    run = ClRun(cfg.pe.finish(cbuf.c), stats, folds, unit.phase_log, events)
    if activity_window is not None:
        run.activity = {"array": unit.activity, "loader": loader.activity, "c_sram": cbuf.activity}
        run.dram_windows = dram_windows
        run.activity_window = activity_window
        run.cycles = total
    if dram is not None:
        run.dram_stats = dram.stats.as_dict()
        stats.dram = {key: run.dram_stats[key] for key in DRAM_ACTIONS}
        stats.dram["duration_ps"] = total * clock.period_ps
    return run


def _fold_of_cycle(phase_log):
    """Map a cycle to the fold whose phase contains it."""
    starts = [start for _, _, start, _ in phase_log]
    folds = [fold for _, fold, _, _ in phase_log]

    def fold_of(cycle: int) -> int:
        return folds[bisect.bisect_right(starts, cycle) - 1]

    return fold_of


def _period_ps(cfg: SystolicConfig) -> int:
    from hwsim.core.clock import Clock

    return Clock.period_from_mhz(cfg.freq_mhz)
