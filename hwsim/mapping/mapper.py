"""Per-operator mapper: one :class:`~hwsim.llm.graph.Op` on one die -> :class:`OpCost`.

**GEMM-like ops** (``gemm``, ``router``, ``attention_score``, ``attention_context``: ``batch``
independent ``C[m x n] = A[m x k] . B[k x n]``) run on the die's systolic units. A mapping is

* a **die tile** ``(tb, tm, tn, tk)``: ``tb`` batch elements, an ``tm x tn`` output block and a ``tk``
  slice of K, resident in the on-die SRAM. Its footprint, every operand double-buffered, is
  ``2 tb (tm tk a + tk tn b + tm tn 4)`` bytes (``a``, ``b`` bytes per A/B element, C accumulated at
  4 bytes) and must fit ``sram_bytes``;
* a **loop order** over the tiles (batch outermost, then a permutation of m, n, k). A tile is fetched
  from DRAM whenever its index changes: A is re-read ``Nt`` times if some loop indexing A (m or k, with
  more than one trip) runs inside the n loop, else once; B likewise ``Mt`` times (m loop outside k or
  n); C is visited ``Kt`` times if k runs outside m or n — each visit but the last writes fp32 partial
  sums and reads them back (``2 (Kt - 1) x 4-byte C``). The operand whose tile stays across the
  innermost loop is the one *kept on chip* (innermost k: C, n: A, m: B);
* a **dataflow** (os/ws/is) of the units and a **unit grid** ``(pb, pm, pn)``, ``pb pm pn <= units``:
  each die tile is cut into ``pb x pm x pn`` pieces (batch elements, output rows, output columns), one
  per unit. The steps (tiles) run one after another; in a step every unit runs its piece as one GEMM
  of ``ceil(tb/pb)`` batch elements of ``ceil(tm/pm) x ceil(tn/pn) x tk``, so a step lasts as long as
  the largest piece. A piece's cycles are the systolic cost face's compute cycles
  (:func:`hwsim.systolic.cost.gemm_cost`, ideal supply, the unit's ``pe.input`` set to the op's
  format) with K packed by the format's MACs per PE per cycle (``p`` MACs on ``p`` consecutive K
  elements: ``k -> ceil(k / p)``; a non-integer rate divides the cycles instead).

Cost of a mapping: ``compute_s = sum over steps of the largest piece's cycles / f``;
``memory_s = HBM bytes / sustained bandwidth`` where the sustained bandwidth is the DRAM cost face's
prediction for a long sequential read stream of the preset (:func:`hwsim.memory.dram.dram_cost`,
2,000,000 requests with the default window; ~93.5 % of peak for the HBM presets, refresh included);
``fill_s = DRAM idle read latency (row miss) + min(memory_s, compute_s) / steps`` (the double-buffer
pipeline's prologue: the first tile's load or the last tile's compute, whichever is shorter);
``time_s = max(compute_s, memory_s) + fill_s``.

HBM bytes (the activation policy): every op reads its activation inputs from HBM and writes its
outputs to HBM, except tensors inside a fused kernel. ``gemm``/``router``: A = ``act_in_bytes``
(+ ``kv_read_bytes``, cached latents multiplied like activations), B = ``weight_bytes``, C =
``act_out_bytes``, re-read per the loop order; ``kv_write_bytes`` and ``scratch_bytes`` added once.
Attention products: the graph already fixes their traffic for its attention algorithm (flash tiling
re-reads, naive score matrices), so the mapper adds no re-reads: Q and the new tokens' K/V are read
once, the context output written once, ``kv_read``/``kv_write``/``scratch`` added; the score and
probability matrices S/P never count as activations (on chip with flash, in ``scratch_bytes`` when
naive).

**Search** (exhaustive over a candidate grid, vectorised with numpy, then re-evaluated with the cost
face): each tile dimension takes ``d``, the powers of two from 16 below ``d`` and the balanced splits
``ceil(d / 2^j)`` (rounded up to 16); the batch tile also the multiples of the unit count. Stage 1
picks, for every ``(tb, tm, tn)`` and dataflow, the fastest unit grid (grids: ``pb, pm`` powers of two
or the unit count, ``pn`` the units left, in every permutation) at ``tk = k``; stage 2 evaluates every
``(tb, tm, tn, tk)`` that fits the SRAM with every dataflow (its stage-1 grid) and loop order, and
keeps the fastest (time is monotone in compute and in bytes, so the best dataflow and the best order
of a tile are chosen independently). Results are memoised on the op's shape and counts, the die and
the technology.

**Vector ops** run on the die's vector unit: ``compute_s = ops / (lanes x ops/lane/cycle x f)`` with
``ops = max(op.flops, elements)`` (or ``elements x vector.ops_per_element[kind]``); ``memory_s`` = the
op's HBM bytes / sustained bandwidth; ``fill_s`` = the DRAM idle latency.

**Energy** (pJ, by component): ``mac`` = MACs x (multiply at the op's format + add at the accumulator,
technology table; fp8 priced as an int8 multiply); ``sram`` = the units' operand SRAM words (the cost
face's counts per MAC of the largest piece x the op's MACs, priced at each SRAM's capacity) + on-die
SRAM bytes (written from DRAM, read by the units, results written back; priced at
``die.bank_bytes``); ``dram`` = bytes read/written x the preset's pJ/bit of a long read/write stream
(dram cost face: array, I/O, activates, refresh and background at streaming rate); ``vector`` = vector
ops x the mean of the table's fp32 add and fp32 multiply (half the operations taken as adds, half as
multiplies).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from hwsim.errors import ConfigError
from hwsim.llm.graph import GEMM_KINDS, Op
from hwsim.mapping.system import FORMAT_BYTES, DieSpec

DATAFLOWS = ("os", "ws", "is")
ORDERS = ("mnk", "nmk", "mkn", "nkm", "kmn", "knm")  # outer -> inner; batch is always outermost
ACC_BYTES = 4  # fp32 / int32 accumulators and partial sums
SCORE_BYTES = 2  # the graph's 16-bit score / probability matrices
STREAM_REQUESTS = 2_000_000  # the sustained-bandwidth stream: long enough for steady state (refresh included)
ALIGN = 16  # tile sizes below a dimension are multiples of this
_MEMO: dict = {}
_MEMO_MAX = 20000


@dataclass
class OpCost:
    """Time, traffic and energy of one op on one die, and the mapping chosen.

    ``time_s = max(compute_s, memory_s) + fill_s``; ``bound`` says which of compute and memory is
    larger; ``hbm_bytes`` are bytes read from and written to DRAM under the chosen mapping;
    ``energy_pj`` has the components ``mac``, ``sram``, ``dram``, ``vector``.
    """

    name: str
    kind: str
    time_s: float
    compute_s: float
    memory_s: float
    fill_s: float
    bound: str
    flops: int
    hbm_bytes: int
    energy_pj: dict[str, float]
    mapping: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def energy_total_pj(self) -> float:
        return math.fsum(self.energy_pj.values())


# --- die context: derived quantities, memoised ------------------------------------------------------
@dataclass(frozen=True)
class MemoryModel:
    """The die's DRAM as the mapper sees it."""

    peak_bytes_per_s: float
    bytes_per_s: float  # sustained (long sequential read stream)
    latency_s: float  # idle read latency, row miss
    read_pj_per_byte: float
    write_pj_per_byte: float

    @property
    def efficiency(self) -> float:
        return self.bytes_per_s / self.peak_bytes_per_s


@functools.lru_cache(maxsize=64)
def memory_model(dram_json: str) -> MemoryModel:
    """Sustained bandwidth, latency and energy per byte of a DRAM config (its JSON), from the DRAM
    cost face's stream patterns (memoised)."""
    from hwsim.memory.dram.config import DramConfig
    from hwsim.memory.dram.cost import TrafficPattern, dram_cost

    dcfg = DramConfig.model_validate_json(dram_json)
    rd = dram_cost(dcfg, TrafficPattern(kind="stream", requests=STREAM_REQUESTS))
    wr = dram_cost(dcfg, TrafficPattern(kind="stream", requests=STREAM_REQUESTS, read_fraction=0.0))
    return MemoryModel(peak_bytes_per_s=dcfg.peak_bandwidth_bytes_per_s, bytes_per_s=rd.bandwidth_bytes_per_s,
                       latency_s=rd.idle_latency_ns["read_miss"] * 1e-9,
                       read_pj_per_byte=rd.energy_pj_per_bit * 8, write_pj_per_byte=wr.energy_pj_per_bit * 8)


@functools.lru_cache(maxsize=16)
def _tech(name: str):
    from hwsim.power.tech import load_tech

    return load_tech(name)


def unit_grids(units: int) -> list[tuple[int, int, int]]:
    """Unit grids ``(pb, pm, pn)`` tried: two factors from the powers of two up to ``units`` (and
    ``units`` itself), the third the units left, in every permutation."""
    base = sorted({1 << i for i in range(units.bit_length()) if (1 << i) <= units} | {units})
    out = set()
    for x in base:
        for y in base:
            if x * y <= units:
                out.update(itertools.permutations((x, y, units // (x * y))))
    return sorted(out)


class DieContext:
    """A die's derived quantities for the mapper (built once per die and technology)."""

    def __init__(self, die: DieSpec, technology: str):
        self.die = die
        self.technology = technology
        self.rows, self.cols, self.units = die.unit.rows, die.unit.cols, die.units
        self.freq_hz = die.unit.freq_mhz * 1e6
        self.mem = memory_model(die.memory.dram.config().model_dump_json())
        self.tech = _tech(technology)
        self.grids = np.array(unit_grids(die.units), dtype=np.int64)
        self._cfgs: dict = {}
        self._stats: dict = {}

    def unit_config(self, dataflow: str, fmt: str):
        """The unit with ``dataflow`` and the PE input of ``fmt`` (fp8 runs as int8: same cycles and
        bytes), ideal supply."""
        key = (dataflow, fmt)
        if key not in self._cfgs:
            pe_in = "int8" if fmt == "fp8" else fmt
            acc = "fp32" if pe_in in ("fp16", "bf16") else "int32"
            self._cfgs[key] = self.die.unit.model_copy(update={
                "dataflow": dataflow, "pe": self.die.unit.pe.model_copy(update={"input": pe_in, "accumulator": acc}),
                "memory_port": None})
        return self._cfgs[key]

    def gemm_stats(self, dataflow: str, fmt: str, m: int, n: int, k: int):
        """The systolic cost face on one unit (memoised)."""
        from hwsim.systolic.cost import gemm_cost

        key = (dataflow, fmt, m, n, k)
        st = self._stats.get(key)
        if st is None:
            st = self._stats[key] = gemm_cost(self.unit_config(dataflow, fmt), m, n, k)
        return st


@functools.lru_cache(maxsize=32)
def _context(die_json: str, technology: str) -> DieContext:
    return DieContext(DieSpec.model_validate_json(die_json), technology)


def die_context(die: DieSpec, technology: str = "horowitz45") -> DieContext:
    return _context(die.model_dump_json(), technology)


# --- closed forms shared by the search (vectorised) and the evaluation -----------------------------
def compute_cycles_closed_form(dataflow: str, rows: int, cols: int, m, n, k):
    """Compute cycles of ``C[m,n] = A[m,k] B[k,n]`` on one ``rows x cols`` unit, ideal supply: the
    sum over folds of the cost face's fold length (WS/IS ``r + T + R + c - 2``, OS
    ``T + r + c - 2 + R``), which sums to ``Nr Nc (T + R - 2) + Nc S_row + Nr S_col``. Works on numpy
    arrays; a zero extent gives 0. ``gemm_cost`` is the reference (tests compare them)."""
    if dataflow == "os":
        s_row, s_col, t = m, n, k
    elif dataflow == "ws":
        s_row, s_col, t = k, n, m
    else:
        s_row, s_col, t = k, m, n
    nr = -(-s_row // rows)
    nc = -(-s_col // cols)
    return nr * nc * (t + rows - 2) + nc * s_row + nr * s_col


def _packed_k(k, rate: float):
    """K as the array streams it: ``ceil(k / p)`` for an integer rate ``p`` >= 1, else k."""
    p = int(rate)
    if p >= 1 and p == rate:
        return -(-k // p)
    return k


def _rate_scale(cycles, rate: float):
    """Cycles for a non-integer MACs/PE/cycle rate (integer rates are applied by packing K)."""
    p = int(rate)
    if p >= 1 and p == rate:
        return cycles
    return np.ceil(cycles / rate).astype(np.int64) if isinstance(cycles, np.ndarray) else math.ceil(cycles / rate)


def dim_candidates(d: int, align: int = ALIGN) -> list[int]:
    """Tile sizes tried for a dimension ``d``: ``d``, the powers of two from ``align`` below it, and the
    balanced splits ``ceil(d / 2^j)`` rounded up to ``align``."""
    out = {d}
    v = align
    while v < d:
        out.add(v)
        v *= 2
    j = 1
    while True:
        v = -(-d // (1 << j))
        if v < align:
            break
        v = -(-v // align) * align
        if v < d:
            out.add(v)
        j += 1
    return sorted(out)


def batch_candidates(batch: int, units: int) -> list[int]:
    """Batch tiles tried: ``batch``, the powers of two below it, ``ceil(batch / 2^j)``, and the
    multiples ``units x 2^i`` below it."""
    out = {batch}
    v = 1
    while v < batch:
        out.add(v)
        v *= 2
    j = 1
    while (1 << j) <= 2 * batch:
        out.add(-(-batch // (1 << j)))
        j += 1
    v = units
    while v < batch:
        out.add(v)
        v *= 2
    return sorted(x for x in out if 1 <= x <= batch)


def _classes(extent: int, tile):
    """(full-tile count, tile, remainder count, remainder) — numpy-friendly."""
    full = extent // tile
    rem = extent - full * tile
    return ((full, tile), ((rem > 0).astype(np.int64) if isinstance(rem, np.ndarray) else int(rem > 0), rem))


def _class_axes(cls, axis: int, ndim: int):
    """(counts, extents) of :func:`_classes` stacked on ``axis`` of ``ndim`` leading class axes (full
    tile, remainder), so that every combination of the dimensions' classes broadcasts at once."""
    shape = [1] * ndim
    shape[axis] = 2
    (cf, lf), (cr, lr) = cls
    counts = np.stack(np.broadcast_arrays(np.asarray(cf), np.asarray(cr)))
    extents = np.stack(np.broadcast_arrays(np.asarray(lf), np.asarray(lr)))
    return (counts.reshape(tuple(shape) + counts.shape[1:]), extents.reshape(tuple(shape) + extents.shape[1:]))


def loop_factors(order: str, mt, nt, kt):
    """Re-read factors ``(fa, fb, fc)`` of the loop ``order`` (outer -> inner) with these trip counts:
    A is fetched ``Nt`` times if a loop indexing it (m, k) with more than one trip runs inside n, else
    once; B ``Mt`` times if k or n runs inside m; C is visited ``Kt`` times if m or n runs inside k.
    Works on numpy arrays."""
    pos = {d: order.index(d) for d in "mnk"}
    trips = {"m": mt, "n": nt, "k": kt}
    xp = np if isinstance(mt, np.ndarray) else None

    def inner(dims):
        vals = [np.where(trips[d] > 1, pos[d], -1) if xp else (pos[d] if trips[d] > 1 else -1) for d in dims]
        return np.maximum(*vals) if xp else max(vals)

    def factor(outer, dims):
        cond = (trips[outer] > 1) & (pos[outer] < inner(dims)) if xp else (trips[outer] > 1 and pos[outer] < inner(dims))
        return np.where(cond, trips[outer], 1) if xp else (trips[outer] if cond else 1)

    return factor("n", "mk"), factor("m", "kn"), factor("k", "mn")


def kept_on_chip(order: str, mt: int, nt: int, kt: int) -> str:
    """The operand whose tile stays across the innermost loop with more than one trip."""
    trips = {"m": mt, "n": nt, "k": kt}
    eff = [d for d in order if trips[d] > 1]
    if not eff:
        return "all (one tile)"
    return {"k": "c", "n": "a", "m": "b"}[eff[-1]]


# --- the op's operands under the activation policy ------------------------------------------------
@dataclass(frozen=True)
class Operands:
    """HBM sizes (bytes) of a GEMM-like op's operands and its fixed traffic, and bytes per element."""

    a: int  # A, re-read per the loop order
    b: int  # B
    c_out: int  # C, written once (final values)
    c_acc: int  # C at accumulator width (partial sums)
    fixed_read: int  # read once whatever the mapping
    fixed_write: int  # written once
    a_elem: float
    b_elem: float

    @property
    def compulsory(self) -> int:
        return self.a + self.b + self.c_out + self.fixed_read + self.fixed_write


def gemm_operands(op: Op, fmt_bytes: float) -> Operands:
    b, m, n, k = op.batch, op.m, op.n, op.k
    if op.kind in ("gemm", "router"):
        b_elem = op.weight_bytes / (b * k * n) if op.weight_bytes else fmt_bytes
        return Operands(a=op.act_in_bytes + op.kv_read_bytes, b=op.weight_bytes, c_out=op.act_out_bytes,
                        c_acc=b * m * n * ACC_BYTES, fixed_read=op.scratch_bytes, fixed_write=op.kv_write_bytes,
                        a_elem=fmt_bytes, b_elem=b_elem)
    if op.kind == "attention_score":
        # reads: Q + new tokens' K (act_in), cached K; S (act_out) is on chip (flash) or, naive, its
        # write is the scratch
        naive = op.fusion is None
        return Operands(a=0, b=0, c_out=0, c_acc=0,
                        fixed_read=op.act_in_bytes + op.kv_read_bytes + (0 if naive else op.scratch_bytes),
                        fixed_write=op.kv_write_bytes + (op.scratch_bytes if naive else 0),
                        a_elem=fmt_bytes, b_elem=fmt_bytes)
    # attention_context: P (part of act_in) is on chip or, naive, read as scratch
    p_bytes = b * m * k * SCORE_BYTES
    return Operands(a=0, b=0, c_out=op.act_out_bytes, c_acc=0,
                    fixed_read=max(0, op.act_in_bytes - p_bytes) + op.kv_read_bytes + op.scratch_bytes,
                    fixed_write=op.kv_write_bytes, a_elem=fmt_bytes, b_elem=fmt_bytes)


def _data_bytes(op: Op, fmt: str) -> float:
    """Bytes per operand element on chip: the op's own format (an fp8 op run at a bf16 rate still
    moves 1-byte operands), else the format the units run."""
    return FORMAT_BYTES.get(op.pe_format, FORMAT_BYTES[fmt]) if op.pe_format else FORMAT_BYTES[fmt]


def footprint_bytes(tb, tm, tn, tk, a_elem: float, b_elem: float):
    """On-die SRAM bytes of a die tile, every operand double-buffered (C at accumulator width)."""
    return 2 * tb * (tm * tk * a_elem + tk * tn * b_elem + tm * tn * ACC_BYTES)


RESIDENT_SETS = tuple(itertools.product((0, 1), repeat=3))  # keep (A, B, C partials) resident or not


def traffic(order: str | tuple[str, ...], tiles, ops: "Operands", batch: int, sram_bytes: int):
    """HBM bytes of a tiling (numpy arrays of ``tb, tm, tn, tk`` and the op's extents in ``tiles``):
    ``(reads, writes, (fa, fb, fc), resident, extra SRAM bytes)``.

    The loop order's re-read factors (:func:`loop_factors`) apply unless the operand is kept
    resident: an operand that would be re-read (A, B, or the C partial sums) stays in the SRAM next to
    the double-buffered tiles when all of it (for the batch tile) fits in what the tiles leave free;
    it is then read (or written) once. Of the resident sets that fit, the one with the fewest bytes is
    taken (ties: the smaller set). ``order`` may be a tuple of orders: every result then has a
    leading axis, one row per order (the search evaluates all orders in one pass)."""
    tb, tm, tn, tk, m, n, k = tiles
    mt, nt, kt = -(-m // tm), -(-n // tn), -(-k // tk)
    orders = (order,) if isinstance(order, str) else tuple(order)
    per = [loop_factors(o, mt, nt, kt) for o in orders]
    fa, fb, fc = (np.stack([np.broadcast_to(np.asarray(f[i], dtype=np.int64), np.shape(mt)) for f in per])
                  for i in range(3))  # (orders, N)
    free = sram_bytes - footprint_bytes(tb, tm, tn, tk, ops.a_elem, ops.b_elem)
    size = (ops.a / batch * tb, ops.b / batch * tb, ops.c_acc / batch * tb)
    # the empty set always "fits" (the tiles themselves were checked)
    best_r = ops.a * fa + ops.b * fb + (fc - 1) * ops.c_acc + ops.fixed_read
    best_w = ops.c_out + (fc - 1) * ops.c_acc + ops.fixed_write
    chosen = np.zeros(fa.shape, dtype=np.int64)
    extra = np.zeros(fa.shape)
    for keep in sorted(RESIDENT_SETS, key=sum)[1:]:
        need = sum(s * x for s, x in zip(size, keep))
        ok = need <= free  # (N,)
        if not np.any(ok):
            continue
        ga, gb, gc = (1 if keep[0] else fa), (1 if keep[1] else fb), (1 if keep[2] else fc)
        reads = ops.a * ga + ops.b * gb + (gc - 1) * ops.c_acc + ops.fixed_read
        writes = ops.c_out + (gc - 1) * ops.c_acc + ops.fixed_write
        better = ok & (reads + writes < best_r + best_w)
        best_r, best_w = np.where(better, reads, best_r), np.where(better, writes, best_w)
        chosen = np.where(better, keep[0] * 1 + keep[1] * 2 + keep[2] * 4, chosen)
        extra = np.where(better, need, extra)
    if isinstance(order, str):
        return best_r[0], best_w[0], (fa[0], fb[0], fc[0]), chosen[0], extra[0]
    return best_r, best_w, (fa, fb, fc), chosen, extra


def _resident_names(code: int) -> list[str]:
    return [name for bit, name in ((1, "a"), (2, "b"), (4, "c_partials")) if code & bit]


# --- the search ---------------------------------------------------------------------------------
@dataclass
class _Search:
    tiles: np.ndarray  # (N, 4) tb, tm, tn, tk
    grids: np.ndarray  # (N, n_df, 3) stage-1 grid per tile and dataflow
    compute: np.ndarray  # (N, n_df) cycles
    bytes_: np.ndarray  # (N, n_orders)
    time: np.ndarray  # (N, n_df, n_orders) seconds
    dataflows: tuple[str, ...]
    orders: tuple[str, ...]
    grids_tried: int

    def choose(self, tie_tolerance: float = 0.0) -> tuple[int, int, int]:
        """(tile, dataflow, order) indices of the choice: the fewest HBM bytes among the candidates
        within ``tie_tolerance`` (relative) of the fastest; then the fastest."""
        best = float(self.time.min())
        near = self.time <= best * (1.0 + tie_tolerance)
        nbytes = np.broadcast_to(self.bytes_[:, None, :], self.time.shape)
        key = np.where(near, nbytes, np.iinfo(np.int64).max)
        least = key.min()
        pick = np.where(key == least, self.time, np.inf)
        return tuple(int(x) for x in np.unravel_index(int(np.argmin(pick)), self.time.shape))


def _search(ctx: DieContext, op: Op, fmt: str, rate: float, dataflows, orders) -> _Search:
    R, C, U = ctx.rows, ctx.cols, ctx.units
    batch, m, n, k = op.batch, op.m, op.n, op.k
    ops = gemm_operands(op, _data_bytes(op, fmt))
    sram = ctx.die.sram_bytes
    tb_c, tm_c, tn_c, tk_c = (batch_candidates(batch, U), dim_candidates(m), dim_candidates(n), dim_candidates(k))
    tk_min = tk_c[0]
    t3 = np.array([(a, b, c) for a in tb_c for b in tm_c for c in tn_c], dtype=np.int64)
    fits3 = footprint_bytes(t3[:, 0], t3[:, 1], t3[:, 2], tk_min, ops.a_elem, ops.b_elem) <= sram
    t3 = t3[fits3]
    if not len(t3):
        need = footprint_bytes(1, tm_c[0], tn_c[0], tk_min, ops.a_elem, ops.b_elem)
        raise ConfigError(f"die.sram_bytes: {sram} is too small for the smallest tile of {op.name} "
                          f"({tm_c[0]}x{tn_c[0]}x{tk_min}, double-buffered: {need:.0f} bytes)")
    TB, TM, TN = (t3[:, i:i + 1] for i in range(3))  # (N1, 1)
    PB, PM, PN = (ctx.grids[None, :, i] for i in range(3))  # (1, NG)
    kp_full = _packed_k(np.int64(k), rate)
    b_cls, m_cls, n_cls = _classes(batch, TB), _classes(m, TM), _classes(n, TN)

    # stage 1: best grid per (tb, tm, tn) and dataflow, with tk = k; the (full, remainder) classes of
    # b, m and n on axes 0-2, tiles on axis 3, grids on axis 4
    (cb, bl), (cm, ml), (cn, nl) = (_class_axes(c, i, 3) for i, c in enumerate((b_cls, m_cls, n_cls)))
    weight = cb * cm * cn * (-(-bl // PB))
    mp, np_ = -(-ml // PM), -(-nl // PN)
    best_grid = np.empty((len(t3), len(dataflows), 3), dtype=np.int64)
    for d, df in enumerate(dataflows):
        total = (weight * compute_cycles_closed_form(df, R, C, mp, np_, kp_full)).sum(axis=(0, 1, 2))
        best_grid[:, d, :] = ctx.grids[np.argmin(total, axis=1)]
    grids_tried = total.size * len(dataflows)

    # stage 2: every tk that fits, with each dataflow's stage-1 grid, and every loop order
    idx, tks = [], []
    for j, tk in enumerate(tk_c):
        fit = footprint_bytes(t3[:, 0], t3[:, 1], t3[:, 2], tk, ops.a_elem, ops.b_elem) <= sram
        idx.append(np.nonzero(fit)[0])
        tks.append(np.full(int(fit.sum()), tk, dtype=np.int64))
    idx = np.concatenate(idx)
    tiles = np.column_stack([t3[idx], np.concatenate(tks)])
    grids = best_grid[idx]  # (N, n_df, 3)
    tb, tm, tn, tk = (tiles[:, i] for i in range(4))
    # the (full, remainder) classes of b, m, n and k on axes 0-3, candidates on axis 4
    (cb, bl), (cm, ml), (cn, nl), (ck, kl) = (
        _class_axes(_classes(e, t), i, 4) for i, (e, t) in enumerate(((batch, tb), (m, tm), (n, tn), (k, tk))))
    count, kp = cb * cm * cn * ck, _packed_k(kl, rate)
    compute = np.zeros((len(tiles), len(dataflows)), dtype=np.int64)
    for d, df in enumerate(dataflows):
        pb, pm, pn = grids[:, d, 0], grids[:, d, 1], grids[:, d, 2]
        cyc = compute_cycles_closed_form(df, R, C, -(-ml // pm), -(-nl // pn), kp)
        compute[:, d] = (count * (-(-bl // pb)) * _rate_scale(cyc, rate)).sum(axis=(0, 1, 2, 3))
    mt, nt, kt = -(-m // tm), -(-n // tn), -(-k // tk)
    steps = (-(-batch // tb)) * mt * nt * kt
    r, w, _, _, _ = traffic(orders, (tb, tm, tn, tk, m, n, k), ops, batch, sram)
    bytes_ = np.ascontiguousarray((r + w).T).astype(np.int64)  # (N, n_orders)
    compute_s = compute / ctx.freq_hz  # (N, n_df)
    memory_s = bytes_ / ctx.mem.bytes_per_s  # (N, n_orders)
    cs, ms = compute_s[:, :, None], memory_s[:, None, :]
    time = np.maximum(cs, ms) + ctx.mem.latency_s + np.minimum(cs, ms) / steps[:, None, None]
    return _Search(tiles, grids, compute, bytes_, time, tuple(dataflows), tuple(orders), grids_tried)


# --- evaluation of one mapping (the reference: the systolic cost face per piece) --------------------
def _evaluate_gemm(ctx: DieContext, op: Op, fmt: str, rate: float, dataflow: str, grid, tile, order: str,
                   warnings: list[str]) -> OpCost:
    pb, pm, pn = (int(x) for x in grid)
    tb, tm, tn, tk = (int(x) for x in tile)
    batch, m, n, k = op.batch, op.m, op.n, op.k
    ops = gemm_operands(op, _data_bytes(op, fmt))
    sram_need = footprint_bytes(tb, tm, tn, tk, ops.a_elem, ops.b_elem)
    if sram_need > ctx.die.sram_bytes:
        raise ConfigError(f"tile: ({tb}, {tm}, {tn}, {tk}) needs {sram_need:.0f} bytes of SRAM double-buffered, "
                          f"the die has sram_bytes = {ctx.die.sram_bytes}")
    if pb * pm * pn > ctx.units:
        raise ConfigError(f"grid: {pb} x {pm} x {pn} units exceeds the die's {ctx.units} units")
    cycles = 0
    pieces = []
    largest = None
    for (cb, bl), (cm, ml), (cn, nl), (ck, kl) in itertools.product(
            _classes(batch, tb), _classes(m, tm), _classes(n, tn), _classes(k, tk)):
        count = cb * cm * cn * ck
        if not count or not (bl and ml and nl and kl):
            continue
        nb, mp, np_, kp = -(-bl // pb), -(-ml // pm), -(-nl // pn), _packed_k(kl, rate)
        st = ctx.gemm_stats(dataflow, fmt, mp, np_, kp)
        piece = nb * _rate_scale(st.compute_cycles, rate)
        cycles += count * piece
        pieces.append({"steps": count, "batch": nb, "m": mp, "n": np_, "k": kp, "cycles": piece})
        if largest is None or st.macs > largest.macs:
            largest = st
    mt, nt, kt = -(-m // tm), -(-n // tn), -(-k // tk)
    steps = -(-batch // tb) * mt * nt * kt
    r, w, (fa, fb, fc), code, extra = traffic(order, tuple(np.array([x]) for x in (tb, tm, tn, tk, m, n, k)),
                                              ops, batch, ctx.die.sram_bytes)
    reads, writes = int(r[0]), int(w[0])
    fa, fb, fc, code = int(fa[0]), int(fb[0]), int(fc[0]), int(code[0])
    resident = _resident_names(code)
    sram_need = sram_need + float(extra[0])
    hbm = reads + writes
    compute_s = cycles / ctx.freq_hz
    memory_s = hbm / ctx.mem.bytes_per_s
    fill_s = ctx.mem.latency_s + min(compute_s, memory_s) / steps
    time_s = max(compute_s, memory_s) + fill_s

    # energy
    tech, cfg = ctx.tech, ctx.unit_config(dataflow, fmt)
    macs = min(batch * m * n * k, op.flops // 2) if op.flops else batch * m * n * k
    mult_pj = tech.mult_energy_pj(cfg.pe.input)
    if cfg.pe.multiplier.kind != "exact" and cfg.pe.in_fmt.is_int:
        # an approximate multiplier (the die's unit config): its switching energy relative to the exact
        # design of the same format, from the RTL twin's toggle estimate (hwsim.approx.energy)
        from hwsim.approx.energy import multiplier_energy_ratio

        mult_pj *= multiplier_energy_ratio(cfg.pe.multiplier, cfg.pe.input)
        mapping_multiplier = cfg.pe.multiplier.kind
    else:
        mapping_multiplier = "exact"
    mac_pj = mult_pj + tech.add_energy_pj(cfg.pe.accumulator)
    per_mac = 1.0 / largest.macs
    in_b, acc_b = cfg.pe.in_fmt.bits / 8, cfg.pe.acc_fmt.bits / 8
    unit_sram = sum((largest.sram_reads[o] + largest.sram_writes[o]) * per_mac * macs
                    * (acc_b if o == "c" else in_b) * tech.sram_energy_pj_per_byte(cfg.sram.kib(o) * 1024)
                    for o in ("a", "b", "c"))
    to_units = sum(largest.port_bytes.values()) * per_mac * macs
    global_bytes = reads + to_units + ops.c_out
    energy = {"mac": macs * mac_pj,
              "sram": unit_sram + global_bytes * tech.sram_energy_pj_per_byte(ctx.die.bank_bytes),
              "dram": reads * ctx.mem.read_pj_per_byte + writes * ctx.mem.write_pj_per_byte,
              "vector": 0.0}
    ub = -(-tb // -(-tb // pb))
    um = -(-tm // -(-tm // pm))
    un = -(-tn // -(-tn // pn))
    dense_macs = batch * m * n * k
    mapping = {
        "engine": "systolic", "dataflow": dataflow, "format": fmt, "format_requested": op.pe_format,
        "multiplier": mapping_multiplier,
        "macs_per_pe_per_cycle": rate, "tb": tb, "tm": tm, "tn": tn, "tk": tk,
        "loop_order": "b" + order, "stationary": kept_on_chip(order, mt, nt, kt),
        "reuse": {"a": 1 if "a" in resident else fa, "b": 1 if "b" in resident else fb,
                  "c": 1 if "c_partials" in resident else fc},
        "resident": resident,
        "unit_grid": {"batch": pb, "m": pm, "n": pn}, "units_used": ub * um * un, "units": ctx.units,
        "steps": steps, "pieces": pieces, "compute_cycles": int(cycles),
        "pe_utilization": dense_macs / (cycles * ctx.units * ctx.rows * ctx.cols * rate) if cycles else 0.0,
        "sram_footprint_bytes": int(sram_need), "sram_bytes": ctx.die.sram_bytes,
        "hbm_read_bytes": int(reads), "hbm_write_bytes": int(writes), "compulsory_bytes": ops.compulsory,
        "bandwidth_bytes_per_s": ctx.mem.bytes_per_s, "dram_latency_s": ctx.mem.latency_s,
        "warnings": list(warnings),
    }
    return OpCost(op.name, op.kind, time_s, compute_s, memory_s, fill_s,
                  "compute" if compute_s >= memory_s else "memory", op.flops, int(hbm), energy, mapping)


def _vector(ctx: DieContext, op: Op) -> OpCost:
    v = ctx.die.vector
    per = v.ops_per_element.get(op.kind)
    ops = op.elements * per if per is not None else max(op.flops, op.elements)
    # S/P of attention are never activations (on chip with flash, scratch when naive); ops fused into
    # another kernel keep their tensors on chip
    act_in = 0 if (op.fusion is not None or op.kind == "softmax") else op.act_in_bytes
    act_out = 0 if (op.fusion is not None or op.kind == "softmax") else op.act_out_bytes
    if op.kind == "softmax":
        s_read, s_write = op.scratch_bytes // 2, op.scratch_bytes - op.scratch_bytes // 2
    else:
        s_read, s_write = op.scratch_bytes, 0
    reads = act_in + op.weight_bytes + op.kv_read_bytes + s_read
    writes = act_out + op.kv_write_bytes + s_write
    compute_s = ops / v.ops_per_s()
    memory_s = (reads + writes) / ctx.mem.bytes_per_s
    fill_s = ctx.mem.latency_s
    tech = ctx.tech
    on_chip = op.act_in_bytes + op.act_out_bytes + reads + writes
    energy = {"mac": 0.0, "sram": on_chip * tech.sram_energy_pj_per_byte(ctx.die.bank_bytes),
              "dram": reads * ctx.mem.read_pj_per_byte + writes * ctx.mem.write_pj_per_byte,
              "vector": ops * (tech.add_energy_pj("fp32") + tech.mult_energy_pj("fp32")) / 2}
    mapping = {"engine": "vector", "ops": int(ops),
               "ops_per_element": (ops / op.elements) if op.elements else None,
               "ops_per_s": v.ops_per_s(), "hbm_read_bytes": int(reads), "hbm_write_bytes": int(writes),
               "bandwidth_bytes_per_s": ctx.mem.bytes_per_s, "dram_latency_s": ctx.mem.latency_s,
               "fused_into": op.fusion, "warnings": []}
    return OpCost(op.name, op.kind, max(compute_s, memory_s) + fill_s, compute_s, memory_s, fill_s,
                  "compute" if compute_s >= memory_s else "memory", op.flops, int(reads + writes), energy, mapping)


def _check(op: Op, dataflows, orders) -> None:
    if not isinstance(op, Op):
        raise ConfigError(f"op: must be an hwsim.llm.graph.Op, got {type(op).__name__}")
    bad = [f"dataflows: unknown {d!r}; allowed: {', '.join(DATAFLOWS)}" for d in dataflows if d not in DATAFLOWS]
    bad += [f"orders: unknown {o!r}; allowed: {', '.join(ORDERS)}" for o in orders if o not in ORDERS]
    if not dataflows:
        bad.append("dataflows: give at least one")
    if not orders:
        bad.append("orders: give at least one")
    if bad:
        raise ConfigError(bad)


def _gemm_format(ctx: DieContext, op: Op) -> tuple[str, float, list[str]]:
    fmt, rate, warn = ctx.die.resolve_format(op.pe_format)
    return fmt, rate, [warn] if warn else []


TIE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class _Choice:
    """The search's pick for an op on a die (independent of energy, so shared by multiplier designs)."""

    dataflow: str
    grid: tuple[int, int, int]
    tile: tuple[int, int, int, int]
    order: str
    candidates: int
    grids_tried: int
    search_time_s: float
    fastest_s: float


_CHOICES: dict = {}


@functools.lru_cache(maxsize=256)
def _search_key(die_json: str) -> str:
    """The die as the search sees it: everything but the PE's multiplier design, which changes energy
    only (the search ranks candidates by time, then HBM bytes)."""
    die = json.loads(die_json)
    die.get("unit", {}).get("pe", {}).pop("multiplier", None)
    return json.dumps(die, sort_keys=True)


def map_op(op: Op, die: DieSpec, technology: str = "horowitz45", *, dataflows=DATAFLOWS,
           orders=ORDERS, tie_tolerance: float = TIE_TOLERANCE) -> OpCost:
    """Map one op onto one die (the caller shards ops over dies) and return its cost.

    GEMM-like ops search the die tile, loop order, dataflow and unit grid (module docstring) and keep
    the fastest; ``dataflows``/``orders`` restrict the search (e.g. to evaluate a fixed alternative).
    Among the candidates within ``tie_tolerance`` (relative, default 0.1 %) of the fastest, the one
    moving the fewest HBM bytes is kept (a compute-bound op otherwise picks among near-equal tilings
    by microseconds of fill, whatever their traffic); ``tie_tolerance=0`` keeps the fastest.
    Other ops run on the vector unit. Memoised on the op's shape and counts, the die and the
    technology. A PE format the die lacks runs at its slowest 2-byte format's rate, with a warning in
    ``mapping["warnings"]``.
    """
    dataflows, orders = tuple(dataflows), tuple(orders)
    _check(op, dataflows, orders)
    die_json = die.model_dump_json()
    if not (isinstance(tie_tolerance, (int, float)) and 0 <= tie_tolerance < 1):
        raise ConfigError(f"tie_tolerance: must be in [0, 1), got {tie_tolerance!r}")
    op_json = op.model_dump_json(exclude={"name", "note"})
    key = (die_json, technology, op_json, dataflows, orders, tie_tolerance)
    cost = _MEMO.get(key)
    if cost is None:
        ctx = _context(die_json, technology)
        if op.is_gemm:
            fmt, rate, warnings = _gemm_format(ctx, op)
            choice_key = (_search_key(die_json), op_json, dataflows, orders, tie_tolerance)
            choice = _CHOICES.get(choice_key)
            if choice is None:
                s = _search(ctx, op, fmt, rate, dataflows, orders)
                i, d, o = s.choose(tie_tolerance)
                choice = _Choice(dataflow=dataflows[d], grid=tuple(int(x) for x in s.grids[i, d]),
                                 tile=tuple(int(x) for x in s.tiles[i]), order=orders[o],
                                 candidates=int(s.time.size), grids_tried=int(s.grids_tried),
                                 search_time_s=float(s.time[i, d, o]), fastest_s=float(s.time.min()))
                if len(_CHOICES) >= _MEMO_MAX:
                    _CHOICES.clear()
                _CHOICES[choice_key] = choice
            cost = _evaluate_gemm(ctx, op, fmt, rate, choice.dataflow, choice.grid, choice.tile, choice.order,
                                  warnings)
            cost.mapping["candidates"] = choice.candidates
            cost.mapping["grids_tried"] = choice.grids_tried
            cost.mapping["search_time_s"] = choice.search_time_s
            cost.mapping["fastest_candidate_s"] = choice.fastest_s
        else:
            cost = _vector(ctx, op)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[key] = cost
    return replace(cost, name=op.name, energy_pj=dict(cost.energy_pj), mapping=_copy_mapping(cost.mapping))


def _copy_mapping(mapping: dict) -> dict:
    """A copy of a memoised mapping the caller may change: scalars shared, dicts and lists (of scalars
    or flat dicts, e.g. ``pieces``) copied — the mapping's whole depth, cheaper than ``deepcopy``."""
    out = {}
    for k, v in mapping.items():
        if isinstance(v, dict):
            v = {kk: (dict(vv) if isinstance(vv, dict) else list(vv) if isinstance(vv, list) else vv)
                 for kk, vv in v.items()}
        elif isinstance(v, list):
            v = [dict(x) if isinstance(x, dict) else list(x) if isinstance(x, list) else x for x in v]
        out[k] = v
    return out


def evaluate_mapping(op: Op, die: DieSpec, *, dataflow: str, grid: tuple[int, int, int],
                     tile: tuple[int, int, int, int], order: str, technology: str = "horowitz45") -> OpCost:
    """Cost of one fully specified mapping of a GEMM-like op (no search): ``grid = (pb, pm, pn)``,
    ``tile = (tb, tm, tn, tk)``, ``order`` a permutation of ``mnk`` (outer -> inner)."""
    _check(op, (dataflow,), (order,))
    if not op.is_gemm:
        raise ConfigError(f"op: {op.name} is a {op.kind} op; evaluate_mapping takes GEMM-like ops")
    dims = (op.batch, op.m, op.n, op.k)
    bad = [f"tile[{i}]: must be in 1..{d}, got {t!r}" for i, (t, d) in enumerate(zip(tile, dims))
           if not isinstance(t, (int, np.integer)) or not 1 <= t <= d]
    bad += [f"grid[{i}]: must be an integer >= 1, got {g!r}" for i, g in enumerate(grid)
            if not isinstance(g, (int, np.integer)) or g < 1]
    if bad:
        raise ConfigError(bad)
    ctx = die_context(die, technology)
    fmt, rate, warnings = _gemm_format(ctx, op)
    return _evaluate_gemm(ctx, op, fmt, rate, dataflow, grid, tile, order, warnings)


def search_candidates(op: Op, die: DieSpec, technology: str = "horowitz45", *, dataflows=DATAFLOWS,
                      orders=ORDERS) -> list[dict[str, Any]]:
    """Every fully evaluated candidate of :func:`map_op`'s search for a GEMM-like op: dataflow, grid,
    tile, order and the search's time (for tests and inspection; can be long)."""
    _check(op, tuple(dataflows), tuple(orders))
    ctx = die_context(die, technology)
    fmt, rate, _ = _gemm_format(ctx, op)
    s = _search(ctx, op, fmt, rate, tuple(dataflows), tuple(orders))
    out = []
    for i in range(len(s.tiles)):
        for d, df in enumerate(s.dataflows):
            for o, order in enumerate(s.orders):
                out.append({"dataflow": df, "grid": tuple(int(x) for x in s.grids[i, d]),
                            "tile": tuple(int(x) for x in s.tiles[i]), "order": order,
                            "compute_cycles": int(s.compute[i, d]), "hbm_bytes": int(s.bytes_[i, o]),
                            "time_s": float(s.time[i, d, o])})
    return out
