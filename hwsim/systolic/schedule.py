"""The operand-supply plan: what the memory port loads, in which order, and the phases that use it.

Each operand SRAM is double-buffered: one half is read by the array while the port fills the other.
A fold is a sequence of phases:

* ``preload`` (WS/IS): the stationary tile is read into the PEs, one row per cycle (``r`` cycles);
* ``stream`` chunks: the streamed operand(s) are read one row per cycle; a chunk is as many rows as
  fit in half of the operand's SRAM (the whole temporal extent if it fits);
* ``tail``: fill/drain cycles after the last SRAM read, until the last result has left.

Every preload/stream phase takes its load(s) from the buffer when it starts; if a load has not
arrived the whole array stalls (frozen) until it has. The port serves loads in order, one at a time:
a load starts when the port is free and its buffer half is free (the previous load of the same
operand has been taken by the array), takes ``ceil(bytes / bandwidth)`` cycles on the port and is
usable ``latency`` cycles later. Loads are not reused across folds.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.errors import ConfigError
from hwsim.memory.port import serialisation_cycles  # noqa: F401  (re-exported)
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import Dataflow, Fold, get_dataflow


@dataclass(frozen=True)
class Load:
    """One transfer over the memory port into an operand SRAM half."""

    index: int
    operand: str
    nbytes: int
    words: int
    fold: int
    kind: str  # "stationary" or "stream"
    step0: int  # first temporal step of a stream chunk
    steps: int  # temporal steps in the chunk (rows of the stationary tile for kind="stationary")


@dataclass(frozen=True)
class Phase:
    kind: str  # "preload", "stream" or "tail"
    fold: int
    cycles: int
    loads: tuple[int, ...]  # load indices taken (in this order) at the start of the phase


def chunk_steps(cfg: SystolicConfig, df: Dataflow, r: int, c: int, t: int) -> tuple[int, list[str]]:
    """Temporal steps per stream chunk, and any capacity problems (empty if it fits)."""
    bits = cfg.pe.in_fmt.bits
    problems = []
    steps = t
    for op, words in df.stream_words_per_step(r, c).items():
        half_bits = cfg.sram.half_bits(op)
        fit = half_bits // (words * bits)
        if fit < 1:
            problems.append(f"sram.{op}_kib: {cfg.sram.kib(op)} KiB cannot hold one row of {words} "
                            f"{cfg.pe.input} words in each buffer half; need >= "
                            f"{2 * words * bits / 8 / 1024:.3f} KiB")
        steps = min(steps, max(fit, 1))
    if df.stationary:
        op = df.stationary
        half_bits = cfg.sram.half_bits(op)
        if r * c * bits > half_bits:
            problems.append(f"sram.{op}_kib: {cfg.sram.kib(op)} KiB cannot double-buffer the {r}x{c} "
                            f"stationary tile; need >= {2 * r * c * bits / 8 / 1024:.3f} KiB")
    return steps, problems


def sram_problems(cfg: SystolicConfig, m: int, n: int, k: int) -> list[str]:
    """Capacity problems of the largest fold (empty when every fold fits its SRAM halves)."""
    df = get_dataflow(cfg.dataflow)
    s_row, s_col, t = df.extents(m, n, k)
    _, problems = chunk_steps(cfg, df, min(cfg.rows, s_row), min(cfg.cols, s_col), t)
    return problems


@dataclass(frozen=True)
class FoldTemplate:
    """Loads and phases of a fold of one shape; load indices in phases are local to the fold."""

    loads: tuple[tuple[str, int, int, str, int, int], ...]  # (operand, nbytes, words, kind, step0, steps)
    phases: tuple[tuple[str, int, tuple[int, ...]], ...]  # (kind, cycles, local load indices)


def fold_template(cfg: SystolicConfig, df: Dataflow, r: int, c: int, t: int) -> FoldTemplate:
    """The supply plan of one r x c fold with temporal extent t."""
    fmt = cfg.pe.in_fmt
    steps, _ = chunk_steps(cfg, df, r, c, t)
    loads: list[tuple[str, int, int, str, int, int]] = []
    phases: list[tuple[str, int, tuple[int, ...]]] = []
    if df.stationary:
        loads.append((df.stationary, fmt.storage_bytes(r * c), r * c, "stationary", 0, r))
        phases.append(("preload", df.preload_cycles(r, c), (0,)))
    per_step = df.stream_words_per_step(r, c)
    for s0 in range(0, t, steps):
        n_steps = min(steps, t - s0)
        ids = []
        for op, w in per_step.items():
            ids.append(len(loads))
            loads.append((op, fmt.storage_bytes(w * n_steps), w * n_steps, "stream", s0, n_steps))
        phases.append(("stream", n_steps, tuple(ids)))
    phases.append(("tail", df.tail_cycles(r, c, cfg.rows, cfg.cols), ()))
    return FoldTemplate(tuple(loads), tuple(phases))


def build_plan(cfg: SystolicConfig, m: int, n: int, k: int) -> tuple[list[Fold], list[Load], list[Phase]]:
    """Folds, port loads and array phases for C[m,n] = A[m,k] . B[k,n]. Tail phases carry the
    cycle-true tail length (the CL face measures its own and must agree)."""
    df = get_dataflow(cfg.dataflow)
    problems = sram_problems(cfg, m, n, k)
    if problems:
        raise ConfigError(problems)
    _, _, t = df.extents(m, n, k)
    folds = list(df.folds(m, n, k, cfg.rows, cfg.cols))
    templates: dict[tuple[int, int], FoldTemplate] = {}
    loads: list[Load] = []
    phases: list[Phase] = []
    for fold in folds:
        key = (fold.rows, fold.cols)
        if key not in templates:
            templates[key] = fold_template(cfg, df, fold.rows, fold.cols, t)
        tpl = templates[key]
        base = len(loads)
        for op, nbytes, words, kind, step0, steps in tpl.loads:
            loads.append(Load(len(loads), op, nbytes, words, fold.index, kind, step0, steps))
        for kind, cycles, ids in tpl.phases:
            phases.append(Phase(kind, fold.index, cycles, tuple(base + i for i in ids)))
    return folds, loads, phases


def port_timing(cfg: SystolicConfig) -> tuple[int | None, int]:
    """(bytes per cycle or None for an ideal port, latency in cycles)."""
    port = cfg.memory_port
    if port is None:
        return None, 0
    return port.bandwidth_bytes_per_cycle, port.latency_cycles


