"""Cost face: closed-form cycles and action counts of a GEMM on the systolic unit (no values).

Compute cycles, MACs and SRAM counts are closed forms over the (at most four) fold shapes, so a
layer costs microseconds. With a finite memory port the stall cycles come from the supply plan
(:mod:`hwsim.systolic.schedule`): one integer recursion over the port loads, exact — the CL face
simulates the same port with SimPy processes and must agree to the cycle.
"""

from __future__ import annotations

from hwsim.errors import ConfigError
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Dataflow, get_dataflow
from hwsim.systolic.result import GemmStats
from hwsim.systolic.schedule import (
    Load, Phase, build_plan, chunk_steps, port_timing, serialisation_cycles, sram_problems,
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


def supply_timeline(cfg: SystolicConfig, loads: list[Load], phases: list[Phase]) -> tuple[int, dict[str, int]]:
    """Total cycles and stall cycles per operand of a plan under the configured memory port.

    Mirrors the CL model's processes: the port serves loads in order (a load waits for the port and
    for its buffer half); a phase takes its loads in order when it starts, waiting for any not ready.
    """
    bpc, latency = port_timing(cfg)
    prev_same: list[int | None] = []
    last: dict[str, int] = {}
    for ld in loads:
        prev_same.append(last.get(ld.operand))
        last[ld.operand] = ld.index
    ready = [0] * len(loads)
    taken = [0] * len(loads)
    port_free = 0
    computed = 0
    now = 0
    stalls = {"a": 0, "b": 0}
    for ph in phases:
        for j in ph.loads:
            while computed <= j:  # the in-order port reaches load j
                i = computed
                ps = prev_same[i]
                start = port_free if ps is None else max(port_free, taken[ps])
                port_free = start + serialisation_cycles(loads[i].nbytes, bpc)
                ready[i] = port_free + latency
                computed += 1
            if ready[j] > now:
                stalls[loads[j].operand] += ready[j] - now
                now = ready[j]
            taken[j] = now
        now += ph.cycles
    return now, stalls


def gemm_cost(cfg: SystolicConfig, m: int, n: int, k: int, accounting: str = "hwsim") -> GemmStats:
    """Cycles and counts of C[m,n] = A[m,k] . B[k,n] on the unit described by ``cfg``.

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
    if accounting == "scalesim":
        compute = folds * df.scalesim_fold_cycles(t, R, C) - 1
        total = compute
    elif cfg.memory_port is None:
        warnings = [f"SRAM too small for double buffering (ignored with an ideal memory port): {p}"
                    for p in sram_problems(cfg, m, n, k)]
        total = compute
    else:
        _, loads, phases = build_plan(cfg, m, n, k)
        total, stalls = supply_timeline(cfg, loads, phases)
    return GemmStats(
        m=m, n=n, k=k, rows=R, cols=C, dataflow=df.name, face="cost", accounting=accounting,
        cycles=total, compute_cycles=compute, stall_cycles=total - compute, macs=m * n * k,
        pe_busy_cycles=m * n * k, folds=folds, sram_reads=reads, sram_writes=writes,
        port_bytes=port_bytes, stall_cycles_by_operand=stalls,
        mapping_efficiency=used_pes / (folds * R * C), warnings=warnings,
    )
