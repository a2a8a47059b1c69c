"""Cost face: closed-form cycles and action counts of a GEMM on the systolic unit (no values).

Compute cycles, MACs and SRAM counts are closed forms over the (at most four) fold shapes, so a
layer costs microseconds. With a finite memory port the stall cycles come from the supply plan
(:mod:`hwsim.systolic.schedule`): one integer recursion over the port loads, exact — the CL face
simulates the same port with SimPy processes and must agree to the cycle.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from hwsim.core.clock import Clock
from hwsim.errors import ConfigError
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Dataflow, get_dataflow
from hwsim.systolic.result import GemmStats
from hwsim.systolic.schedule import (
    FoldTemplate, build_plan, chunk_steps, fold_template, port_timing, serialisation_cycles, sram_problems,
)

ACCOUNTINGS = ("hwsim", "scalesim")


def check_dims(m: int, n: int, k: int) -> None:
    problems = [f"gemm.{name}: must be an integer >= 1, got {v!r}"
                for name, v in (("m", m), ("n", n), ("k", k))
                if isinstance(v, bool) or not isinstance(v, int) or v < 1]
    if problems:
        raise ConfigError(problems)


def _stream_bytes_per_fold(cfg: SystolicConfig, df: Dataflow, r: int, c: int, t: int) -> dict[str, int]:
    """Bytes the port moves into each operand SRAM for one fold (stream chunks + stationary tile)."""
    fmt = cfg.pe.in_fmt
    steps, _ = chunk_steps(cfg, df, r, c, t)
    full, rest = divmod(t, steps)
    out = {"a": 0, "b": 0}
    for op, words in df.stream_words_per_step(r, c).items():
        out[op] += full * fmt.storage_bytes(words * steps) + (fmt.storage_bytes(words * rest) if rest else 0)
    if df.stationary:
        out[df.stationary] += fmt.storage_bytes(r * c)
    return out


# Supply state at a fold boundary, relative to the fold's start: when the port is next free, and when
# the array took the last load of A and of B (None: no load of that operand yet).
SupplyState = tuple[int, "int | None", "int | None"]


def fold_supply_step(state: SupplyState, tpl: FoldTemplate, bpc: int | None, latency: int
                     ) -> tuple[tuple[int, int, int], SupplyState]:
    """Advance the supply recursion over one fold: ((fold cycles incl. stalls, stall A, stall B), state).

    Mirrors the CL processes: the port serves loads in order, a load starting when the port is free
    and its buffer half is free (the previous load of the operand taken by the array); a phase takes
    its loads in order when it starts, stalling for any not ready.
    """
    port_free, last_a, last_b = state
    last_taken = {"a": last_a, "b": last_b}
    n = len(tpl.loads)
    ready = [0] * n
    computed = 0
    now = 0
    stalls = {"a": 0, "b": 0}
    for _kind, cycles, ids in tpl.phases:
        for j in ids:
            while computed <= j:  # the in-order port reaches load j
                op, nbytes = tpl.loads[computed][0], tpl.loads[computed][1]
                prev = last_taken[op]
                start = port_free if prev is None else max(port_free, prev)
                port_free = start + serialisation_cycles(nbytes, bpc)
                ready[computed] = port_free + latency
                computed += 1
            op = tpl.loads[j][0]
            if ready[j] > now:
                stalls[op] += ready[j] - now
                now = ready[j]
            last_taken[op] = now
        now += cycles

    def rel(x):
        return None if x is None else x - now

    return (now, stalls["a"], stalls["b"]), (port_free - now, rel(last_taken["a"]), rel(last_taken["b"]))


def _repeat(state, count: int, step, shortcut: bool = True):
    """Apply ``step`` ``count`` times. The recursion is shift-invariant, so once a state recurs the
    sequence of deltas repeats exactly: whole periods are then added in one go."""
    total = (0, 0, 0)
    seen: dict = {}
    states: list = []
    deltas: list = []
    i = 0
    while i < count:
        if shortcut and state in seen:
            j = seen[state]
            period = deltas[j:i]
            n_periods, rest = divmod(count - i, i - j)
            per = tuple(map(sum, zip(*period)))
            total = tuple(t + n_periods * p for t, p in zip(total, per))
            for d in deltas[j : j + rest]:
                total = tuple(map(sum, zip(total, d)))
            return total, states[j + rest]
        seen[state] = i
        states.append(state)
        delta, state = step(state)
        deltas.append(delta)
        total = tuple(map(sum, zip(total, delta)))
        i += 1
    return total, state


def supply_timeline(cfg: SystolicConfig, m: int, n: int, k: int, shortcut: bool = True
                    ) -> tuple[int, dict[str, int]]:
    """Total cycles and stall cycles per operand of the GEMM under the configured memory port.

    Folds run column fold by column fold, each a run of full row folds then a remainder; runs of
    identical folds (and identical column folds) are summed by period detection, so a layer with
    thousands of folds costs a handful of fold evaluations. ``shortcut=False`` evaluates every fold.
    """
    df = get_dataflow(cfg.dataflow)
    problems = sram_problems(cfg, m, n, k)
    if problems:
        raise ConfigError(problems)
    bpc, latency = port_timing(cfg)
    s_row, s_col, t = df.extents(m, n, k)
    row_runs = _runs(s_row, cfg.rows)
    templates = {(r, c): fold_template(cfg, df, r, c, t) for _, c in _runs(s_col, cfg.cols) for _, r in row_runs}

    def column_fold(c):
        def step(state):
            total = (0, 0, 0)
            for count, r in row_runs:
                d, state = _repeat(state, count, lambda s, r=r: fold_supply_step(s, templates[(r, c)], bpc, latency),
                                   shortcut)
                total = tuple(map(sum, zip(total, d)))
            return total, state
        return step

    state: SupplyState = (0, None, None)
    total = (0, 0, 0)
    for count, c in _runs(s_col, cfg.cols):
        d, state = _repeat(state, count, column_fold(c), shortcut)
        total = tuple(map(sum, zip(total, d)))
    return total[0], {"a": total[1], "b": total[2]}


def _runs(extent: int, size: int) -> list[tuple[int, int]]:
    """Fold lengths along one axis in execution order, run-length encoded: full folds, then the rest."""
    full, rest = divmod(extent, size)
    return ([(full, size)] if full else []) + ([(1, rest)] if rest else [])


def gemm_cost(cfg: SystolicConfig, m: int, n: int, k: int, accounting: str = "hwsim", offchip=None) -> GemmStats:
    """Cycles and counts of C[m,n] = A[m,k] . B[k,n] on the unit described by ``cfg``.

    ``offchip`` (:class:`hwsim.memory.offchip.OffChipConfig`) feeds the operands from DRAM through DMA
    (see :func:`offchip_supply`) instead of ``cfg.memory_port``.

    ``accounting="hwsim"`` (default) gives the cycle-true count that the CL face and the RTL twin
    reproduce; ``"scalesim"`` reproduces SCALE-Sim 3.0's "compute cycles" (no memory stalls).
    """
    check_dims(m, n, k)
    if accounting not in ACCOUNTINGS:
        raise ConfigError(f"accounting: must be one of {', '.join(ACCOUNTINGS)}, got {accounting!r}")
    df = get_dataflow(cfg.dataflow)
    R, C = cfg.rows, cfg.cols
    _, _, t = df.extents(m, n, k)
    classes = df.fold_classes(m, n, k, R, C)
    folds = sum(fc.count for fc in classes)

    reads = {"a": 0, "b": 0, "c": 0}
    writes = {"a": 0, "b": 0, "c": 0}
    port_bytes = {"a": 0, "b": 0}
    compute = 0
    used_pes = 0
    for fc in classes:
        r, c = fc.rows, fc.cols
        compute += fc.count * df.fold_cycles(r, c, t, R, C)
        used_pes += fc.count * r * c
        first = df.sram_reads(r, c, t, first_k=True)
        later = df.sram_reads(r, c, t, first_k=False)
        for op in reads:
            reads[op] += fc.first_k_count * first[op] + (fc.count - fc.first_k_count) * later[op]
        writes["c"] += fc.count * df.outputs_per_fold(r, c, t)
        for op in ("a", "b"):
            # every word the array reads from an operand SRAM was written there by the port first
            writes[op] += fc.count * first[op]
        for op, nbytes in _stream_bytes_per_fold(cfg, df, r, c, t).items():
            port_bytes[op] += fc.count * nbytes

    warnings: list[str] = []
    stalls = {"a": 0, "b": 0}
    dram = None
    if accounting == "scalesim":
        compute = folds * df.scalesim_fold_cycles(t, R, C) - 1
        total = compute
    elif offchip is not None:
        if cfg.memory_port is not None:
            raise ConfigError("unit.memory_port: give either a memory port or off-chip memory (memory:), not both")
        total, stalls, port_bytes, dram = offchip_supply(cfg, m, n, k, offchip)
    elif cfg.memory_port is None:
        warnings = [f"SRAM too small for double buffering (ignored with an ideal memory port): {p}"
                    for p in sram_problems(cfg, m, n, k)]
        total = compute
    else:
        total, stalls = supply_timeline(cfg, m, n, k)
    return GemmStats(
        m=m, n=n, k=k, rows=R, cols=C, dataflow=df.name, face="cost", accounting=accounting,
        cycles=total, compute_cycles=compute, stall_cycles=total - compute, macs=m * n * k,
        pe_busy_cycles=m * n * k, folds=folds, sram_reads=reads, sram_writes=writes,
        port_bytes=port_bytes, stall_cycles_by_operand=stalls,
        mapping_efficiency=used_pes / (folds * R * C), warnings=warnings, dram=dram,
    )


def descriptor_transactions(desc, size: int) -> int:
    """Distinct ``size``-byte transactions a DMA descriptor moves (rows may share one), vectorised."""
    starts = desc.base + np.arange(desc.rows, dtype=np.int64) * desc.stride_bytes
    first = starts // size
    counts = (starts + desc.row_bytes - 1) // size - first + 1
    if desc.stride_bytes >= desc.row_bytes + size - 1 or desc.rows == 1:
        return int(counts.sum())  # rows cannot share a transaction
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return int(np.unique(np.repeat(first, counts) + offsets).size)


@functools.lru_cache(maxsize=256)
def _dram_pattern(dcfg_json: str, stride: int, window: int) -> tuple[float, float, float]:
    """(bandwidth bytes/s, row-hit rate, activates per request) the DRAM cost face predicts for a
    sequential (``stride`` 0) or strided stream with ``window`` requests in flight (memoised: a layer
    sweep asks for the same few patterns again and again)."""
    from hwsim.memory.dram.config import DramConfig
    from hwsim.memory.dram.cost import TrafficPattern, dram_cost

    dcfg = DramConfig.model_validate_json(dcfg_json)
    pat = TrafficPattern(kind="stream", outstanding=window) if stride == 0 else \
        TrafficPattern(kind="strided", stride_bytes=stride, outstanding=window)
    dc = dram_cost(dcfg, pat)
    return dc.bandwidth_bytes_per_s, dc.row_hit_rate, dc.stats["activates"] / pat.requests


@functools.lru_cache(maxsize=1024)
def _cold_activates(dcfg_json: str, transactions: int) -> float:
    """Activates of one sequential pass over ``transactions`` never-touched transactions (every bank's
    first row is cold): the DRAM cost face's stream pattern of that length (extrapolated linearly
    beyond 20,000 transactions, where the stream is in steady state)."""
    from hwsim.memory.dram.config import DramConfig
    from hwsim.memory.dram.cost import TrafficPattern, dram_cost

    n = min(transactions, 20000)
    dc = dram_cost(DramConfig.model_validate_json(dcfg_json), TrafficPattern(kind="stream", requests=n))
    return dc.stats["activates"] * transactions / n


def offchip_supply(cfg: SystolicConfig, m: int, n: int, k: int,
                   offchip) -> tuple[int, dict[str, int], dict[str, int], dict[str, float]]:
    """(total cycles, stall cycles per operand, bytes moved per operand, DRAM actions) with the operands
    fed from DRAM through the DMA engine.

    Bytes moved are exact (the same 2-D descriptors and transaction granularity as the CL face). Time
    treats the DRAM as a port whose bandwidth for each load is what the DRAM cost face predicts for the
    load's access pattern (sequential, or transactions a row stride apart) with the DMA's outstanding
    window, and whose latency is the idle read latency at the load's expected row-hit rate plus the
    clock-domain crossing and the DMA's setup. The row-hit rate is the pattern's steady-state rate, or
    lower when the operand is small: each operand's rows are opened at least once (cold activates of
    one pass over it), spread over all the transactions fetched from it. The supply
    recursion is then the memory port's. It agrees with the CL face within the bound stated
    and tested in tests/systolic/test_offchip.py.
    """
    from hwsim.memory.dram.cost import idle_latency_cycles
    from hwsim.systolic.layout import OperandLayout, load_descriptors

    dcfg = offchip.dram.config()
    dcfg_key = dcfg.model_dump_json()
    size = dcfg.transaction_bytes
    folds, loads, phases = build_plan(cfg, m, n, k)
    layout = OperandLayout.for_unit(cfg, m, n, k, offchip.layout)
    descs = [load_descriptors(cfg, layout, folds[ld.fold], ld) for ld in loads]
    moved = [sum(descriptor_transactions(d, size) for d in ds) * size for ds in descs]
    unit_ps = Clock.period_from_mhz(cfg.freq_mhz)
    window = offchip.dma.max_outstanding
    per_op = {"a": 0, "b": 0}  # bytes moved per operand
    for ld, b in zip(loads, moved):
        per_op[ld.operand] += b
    fetched = {op: b // size for op, b in per_op.items()}  # transactions fetched per operand
    region = {"a": m * k, "b": k * n}  # elements
    cold = {op: _cold_activates(dcfg_key, -(-region[op] * cfg.pe.in_fmt.bits // 8 // size) or 1)
            for op in ("a", "b")}
    idle = idle_latency_cycles(dcfg)
    bandwidth: dict[int, float] = {}  # bytes per unit cycle by access stride (0: sequential)
    act_rate: dict[int, float] = {}  # activates per transaction by access stride
    latency: dict[tuple[int, str], int] = {}  # unit cycles from issue to data, by access stride and operand
    strides = []
    for ld, ds in zip(loads, descs):
        # the load's access pattern, as the DRAM cost face sees it: 0 (sequential) when its rows are long
        # or contiguous, else the transaction stride it behaves like
        d = ds[0]
        per_row = -(-d.row_bytes // size)
        stride = 0 if (per_row >= 4 or d.stride_bytes <= max(d.row_bytes, size) + size or d.rows == 1) \
            else max(1, round(d.stride_bytes / size)) * size
        strides.append(stride)
        if stride not in bandwidth:
            bw, _, act_rate[stride] = _dram_pattern(dcfg_key, stride, window)
            bandwidth[stride] = bw * unit_ps * 1e-12
        op = ld.operand
        if (stride, op) not in latency:
            # idle latency at the expected row-hit rate, plus the clock-domain crossing and DMA setup
            hit_rate = 1 - min(1.0, max(act_rate[stride], cold[op] / fetched[op]))
            lat_ps = (hit_rate * idle["read_hit"] + (1 - hit_rate) * idle["read_miss"]) * dcfg.period_ps
            latency[(stride, op)] = math.ceil(lat_ps / unit_ps) + offchip.dma.setup_cycles

    port_free = 0
    last_taken: dict[str, int | None] = {"a": None, "b": None}
    ready = [0] * len(loads)
    computed = 0
    now = 0
    stalls = {"a": 0, "b": 0}
    for ph in phases:
        for j in ph.loads:
            while computed <= j:
                op = loads[computed].operand
                prev = last_taken[op]
                start = port_free if prev is None else max(port_free, prev)
                stride = strides[computed]
                port_free = start + math.ceil(moved[computed] / bandwidth[stride])
                ready[computed] = port_free + latency[(stride, op)]
                computed += 1
            op = loads[j].operand
            if ready[j] > now:
                stalls[op] += ready[j] - now
                now = ready[j]
            last_taken[op] = now
        now += ph.cycles
    acts = {"a": 0.0, "b": 0.0}
    for ld, b, stride in zip(loads, moved, strides):
        acts[ld.operand] += b // size * act_rate[stride]
    activates = sum(max(acts[op], min(cold[op], fetched[op])) for op in acts)
    duration_ps = now * unit_ps
    refreshes = (duration_ps // (dcfg.cycles().REFI * dcfg.period_ps)) * dcfg.total_pseudo_channels \
        if dcfg.refresh else 0
    total_bytes = sum(moved)
    dram = {"activates": activates, "refreshes": refreshes, "reads": total_bytes // size, "writes": 0,
            "bytes_read": total_bytes, "bytes_written": 0, "duration_ps": duration_ps}
    return now, stalls, per_op, dram
