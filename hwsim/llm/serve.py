"""An LLM served on a system: prefill and decode mapped onto the dies, with tensor, pipeline and expert
parallelism over the package; time to first token, time per output token, throughput and energy.

Every number comes from a component model: GEMM and vector ops from the mapper
(:func:`hwsim.mapping.map_op`, built on the systolic cost face and the DRAM cost face), collectives from
the package model (:func:`hwsim.chiplet.run.run_collective`), capacity from the KV-cache model.

**Parallelism** (``tp x pp = dies``):

* *Tensor parallel* (Megatron): column-split ops (QKV, gate/up, q_b, lm_head; N / tp) need no
  communication; row-split ops (o_proj, down_proj; K / tp) end with an all-reduce of the
  ``m x hidden`` partial sums in the activation format; attention ops split their heads (batch / tp);
  norms, residuals, the router and the embedding run replicated on every die; the lm_head's logits
  are all-gathered (``m x vocab`` activations).
* *Expert parallel* (MoE, over the tp dies): each die holds ``experts / tp`` routed experts and runs
  its share of the active ones (``ceil(active / tp)``, the busiest expert's tokens each); tokens go
  out and come back with two all-to-alls per MoE layer (``tokens x top_k x hidden`` activations).
* *Pipeline parallel*: the layers are cut into ``pp`` stages of whole layer groups as evenly as the
  layer counts allow; the batch runs as ``micro_batches`` micro-batches, each mapped at its own size;
  a phase takes ``(micro_batches + pp - 1) x`` (the slowest stage's time for one micro-batch + the
  activation hand-off between stages: one point-to-point transfer, alpha + bytes / link bandwidth).

**Decode** time per token is averaged over the ``generate`` steps: the decode graph is evaluated at the
first and the last context length and the two are averaged (exact when the step time is affine in the
context length, as it is for both attention forms up to flash-tile rounding).

**Energy** adds the package's leakage (placed logic area x the technology's W/mm², over the whole
request) to the per-action energies; **area** and the PE's **clock** check come from
:mod:`hwsim.mapping.area`.

Not modelled: overlap of communication with compute, speculative
decoding, continuous batching of sequences with different lengths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwsim.errors import ConfigError
from hwsim.llm.graph import Graph, LayerGroup, Op, Quant, build_graph
from hwsim.llm.kvcache import KVCache
from hwsim.llm.model import ModelSpec, load_model
from hwsim.pe.config import MultiplierConfig

COLUMN_OPS = {"qkv_proj", "q_proj", "k_proj", "v_proj", "q_b_proj", "kv_b_proj", "gate_up_proj", "fc",
              "shared_gate_up_proj", "lm_head"}
ROW_OPS = {"o_proj", "down_proj", "proj", "shared_down_proj"}
HEAD_KINDS = {"attention_score", "attention_context", "softmax", "rope"}
HEAD_OPS = {"q_absorb", "v_absorb", "kv_append"}


class Parallelism(BaseModel):
    """How the model is spread over the system's dies: ``tp x pp`` must equal the dies."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tp: int | None = Field(None, ge=1, le=4096, description="tensor-parallel dies (default: all dies / pp)")
    pp: int = Field(1, ge=1, le=4096, description="pipeline stages")
    micro_batches: int = Field(1, ge=1, le=4096, description="pipeline micro-batches (divides the batch)")
    expert_parallel: bool = Field(True, description="MoE: spread routed experts over the tp dies")


class ServeConfig(BaseModel):
    """One serving scenario: a model on a system, a batch of prompts and a number of generated tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    batch: int = Field(1, ge=1, le=1 << 20, description="sequences served together")
    prompt: int = Field(512, ge=1, le=1 << 24, description="prompt tokens per sequence")
    generate: int = Field(128, ge=1, le=1 << 24, description="generated tokens per sequence")
    quant: Quant = Field(default_factory=Quant)
    attention: Literal["naive", "flash"] = "flash"
    prefill_chunk: int | None = Field(None, ge=1, description="chunked prefill: tokens per chunk")
    moe_imbalance: float = Field(1.0, ge=1.0, le=1e6, description="max/mean tokens per routed expert")
    kv_block_tokens: int = Field(16, ge=1, le=1 << 20, description="KV-cache page size, tokens")
    parallel: Parallelism = Field(default_factory=Parallelism)
    multiplier: MultiplierConfig | None = Field(
        None, description="replace the units' multiplier design (e.g. {kind: truncated, params: {k: 4}}): "
                          "integer GEMMs (W8A8) are priced with its energy; time is unchanged")
    capacity: Literal["error", "warn"] = Field(
        "error", description="weights or KV cache beyond the system's memory: an error, or (a what-if) a "
                             "warning and the run goes on as if the memory were large enough")

    @model_validator(mode="after")
    def _micro(self) -> "ServeConfig":
        if self.batch % self.parallel.micro_batches:
            raise ValueError(f"parallel.micro_batches: must divide batch ({self.batch}), "
                             f"got {self.parallel.micro_batches}")
        return self


@dataclass
class OpResult:
    """One op of one phase: per-die time of every instance summed over the layers it stands for."""

    name: str
    kind: str
    group: str
    count: int  # layers it stands for
    time_s: float
    compute_s: float
    memory_s: float
    comm_s: float
    bound: str
    flops: float  # whole system
    hbm_bytes: float  # whole system
    energy_pj: dict[str, float]
    mapping: dict

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "group": self.group, "count": self.count,
                "time_s": self.time_s, "compute_s": self.compute_s, "memory_s": self.memory_s,
                "comm_s": self.comm_s, "bound": self.bound, "flops": self.flops, "hbm_bytes": self.hbm_bytes,
                "energy_pj": dict(self.energy_pj), "mapping": self.mapping}


@dataclass
class PhaseResult:
    phase: str
    time_s: float
    ops: list[OpResult]
    comm: list[dict]
    pipeline: dict
    flops: float

    @property
    def energy_pj(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for o in self.ops:
            for key, v in o.energy_pj.items():
                out[key] = out.get(key, 0.0) + v
        for c in self.comm:
            out["d2d"] = out.get("d2d", 0.0) + c["energy_pj"]
        return out

    def to_dict(self) -> dict:
        return {"phase": self.phase, "time_s": self.time_s, "flops": self.flops, "energy_pj": self.energy_pj,
                "pipeline": self.pipeline, "ops": [o.to_dict() for o in self.ops], "comm": self.comm}


@dataclass
class ServeResult:
    model: str
    system: str
    config: ServeConfig
    prefill: PhaseResult
    decode_first: PhaseResult
    decode_last: PhaseResult
    peak_flops: float
    peak_memory_bytes_per_s: float
    tp: int
    ep: int
    warnings: list[str] = field(default_factory=list)
    kv: dict = field(default_factory=dict)
    technology: list = field(default_factory=list)  # every technology number used, with its source
    area: dict = field(default_factory=dict)  # hwsim.mapping.area.system_area: per-die and package mm², leakage
    clock: dict = field(default_factory=dict)  # hwsim.mapping.area.system_clock

    @property
    def ttft_s(self) -> float:
        return self.prefill.time_s

    @property
    def tpot_s(self) -> float:
        return (self.decode_first.time_s + self.decode_last.time_s) / 2

    @property
    def total_time_s(self) -> float:
        return self.ttft_s + self.config.generate * self.tpot_s

    def energy_pj(self) -> dict[str, float]:
        """Prefill + ``generate`` decode steps (each the average of the first and last step), plus the
        package's leakage over the whole request, pJ."""
        out = dict(self.prefill.energy_pj)
        g = self.config.generate
        for ph in (self.decode_first, self.decode_last):
            for key, v in ph.energy_pj.items():
                out[key] = out.get(key, 0.0) + v * g / 2
        if self.area.get("leakage_w"):
            out["leakage"] = self.area["leakage_w"] * self.total_time_s * 1e12
        return out

    def breakdown(self) -> list[dict]:
        """Per op over the whole request (prefill + all decode steps): time split into compute,
        memory and communication, and what bounds it."""
        rows: dict[tuple[str, str], dict] = {}
        g = self.config.generate
        for ph, w in ((self.prefill, 1.0), (self.decode_first, g / 2), (self.decode_last, g / 2)):
            for o in ph.ops:
                r = rows.setdefault((o.group, o.name), {
                    "op": o.name, "group": o.group, "kind": o.kind, "time_s": 0.0, "compute_s": 0.0,
                    "memory_s": 0.0, "comm_s": 0.0, "prefill_s": 0.0, "decode_s": 0.0, "bound": {}})
                for key in ("time_s", "compute_s", "memory_s", "comm_s"):
                    r[key] += getattr(o, key) * w
                r["prefill_s" if ph is self.prefill else "decode_s"] += o.time_s * w
                r["bound"][o.bound] = r["bound"].get(o.bound, 0.0) + o.time_s * w
        out = []
        for r in rows.values():
            r["bound"] = max(r["bound"], key=r["bound"].get) if r["bound"] else "none"
            out.append(r)
        return sorted(out, key=lambda r: -r["time_s"])

    def to_dict(self) -> dict:
        e = self.energy_pj()
        total_e = sum(e.values())
        c = self.config
        out_tokens = c.batch * c.generate
        flops = self.prefill.flops + c.generate * (self.decode_first.flops + self.decode_last.flops) / 2
        return {
            "model": self.model, "system": self.system, "batch": c.batch, "prompt": c.prompt,
            "generate": c.generate, "quant": c.quant.scheme, "parallel": c.parallel.model_dump(),
            "tp": self.tp, "ep": self.ep, "peak_flops": self.peak_flops,
            "peak_memory_bytes_per_s": self.peak_memory_bytes_per_s,
            "ttft_ms": self.ttft_s * 1e3, "tpot_ms": self.tpot_s * 1e3,
            "tokens_per_s": out_tokens / self.total_time_s,
            "decode_tokens_per_s": c.batch / self.tpot_s,
            "energy_per_token_mj": total_e * 1e-12 / out_tokens * 1e3,
            "energy_uj": total_e * 1e-6, "energy_by_component_uj": {k: v * 1e-6 for k, v in e.items()},
            "average_power_w": total_e * 1e-12 / self.total_time_s,
            "utilization": flops / (self.peak_flops * self.total_time_s),
            "total_time_s": self.total_time_s, "kv_cache": self.kv,
            "breakdown": self.breakdown(),
            "phases": {"prefill": self.prefill.to_dict(), "decode_first": self.decode_first.to_dict(),
                       "decode_last": self.decode_last.to_dict()},
            "area_mm2": self.area.get("total_mm2"), "die_mm2": (self.area.get("dies") or [{}])[0].get("die_mm2"),
            "leakage_w": self.area.get("leakage_w"), "fmax_mhz": self.clock.get("fmax_mhz"),
            "area": self.area, "clock": self.clock,
            "warnings": list(self.warnings), "technology": list(self.technology),
        }


# --- sharding -------------------------------------------------------------------------------------
def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def shard_op(op: Op, tp: int, ep: int) -> tuple[Op, str | None]:
    """The part of ``op`` one die runs, and the tensor-parallel role (``column``, ``row``, ``heads``,
    ``experts``, or None = replicated). Byte and FLOP counts scale with the share."""
    if tp == 1 and ep == 1:
        return op, None
    if op.expert_role == "routed" and ep > 1 and op.is_gemm:
        active = op.experts_active or op.batch
        per_die = _ceil(active, ep)
        f = per_die / op.batch
        return _scaled(op, f, batch=per_die), "experts"
    if tp == 1:
        return op, None
    if op.name in COLUMN_OPS and op.is_gemm:
        n = _ceil(op.n, tp)
        return _scaled(op, n / op.n, n=n), "column"
    if op.name in ROW_OPS and op.is_gemm:
        k = _ceil(op.k, tp)
        return _scaled(op, k / op.k, k=k), "row"
    if op.kind in HEAD_KINDS or op.name in HEAD_OPS:
        if op.is_gemm and op.batch >= tp:
            b = _ceil(op.batch, tp)
            return _scaled(op, b / op.batch, batch=b), "heads"
        if not op.is_gemm:
            return _scaled(op, 1 / tp), "heads"
    return op, None


def _scaled(op: Op, f: float, **shape: int) -> Op:
    upd: dict[str, Any] = dict(shape)
    for key in ("flops", "weight_bytes", "act_in_bytes", "act_out_bytes", "kv_read_bytes", "kv_write_bytes",
                "scratch_bytes", "elements"):
        upd[key] = math.ceil(getattr(op, key) * f)
    return op.model_copy(update=upd)


# --- the runner -----------------------------------------------------------------------------------
class _Evaluator:
    def __init__(self, spec: ModelSpec, system, cfg: ServeConfig):
        from hwsim.mapping import map_op

        self.spec, self.system, self.cfg = spec, system, cfg
        self.map_op = map_op
        dies = system.dies
        par = cfg.parallel
        tp = par.tp if par.tp is not None else dies // par.pp
        if tp * par.pp != dies:
            raise ConfigError(f"parallel: tp x pp must equal the system's dies ({dies}), got tp={tp}, pp={par.pp}")
        self.tp, self.pp = tp, par.pp
        self.ep = tp if (par.expert_parallel and spec.is_moe) else 1
        self.package = None
        if dies > 1:
            if system.package is None:
                raise ConfigError(f"system {system.name}: {dies} dies need a package section")
            self.package = system.package.package_config(100.0, name=f"{system.name}_package").build()
        self._memo: dict = {}

    def collective(self, name: str, nbytes: int, ranks: int) -> dict:
        """One collective over ``ranks`` dies of the package (cost face), memoised."""
        from hwsim.chiplet.run import run_collective

        if ranks <= 1 or nbytes <= 0:
            return {"collective": name, "bytes": nbytes, "time_s": 0.0, "energy_pj": 0.0}
        key = (name, nbytes, ranks)
        if key not in self._memo:
            pk = self.system.package
            pkg = self.package if ranks == self.system.dies else \
                pk.model_copy(update={"dies": ranks, "topology": "ring"}).package_config(100.0).build()
            algo = pk.allreduce if name == "allreduce" else None
            r = run_collective(name, pkg, nbytes, algo=algo, chunk_bytes=pk.chunk_bytes)
            self._memo[key] = {"collective": name, "algo": r.algo, "bytes": nbytes, "time_s": r.time_ps * 1e-12,
                               "energy_pj": r.wire_bits * r.energy_pj_per_bit, "busbw_gbps": r.busbw_gbps}
        return dict(self._memo[key])

    def op_cost(self, op: Op):
        key = ("op", op.model_dump_json())
        if key not in self._memo:
            self._memo[key] = self.map_op(op, self.system.die, technology=self.system.technology)
        return self._memo[key]

    def group_time(self, group: LayerGroup) -> tuple[list[OpResult], list[dict], float]:
        """One layer of ``group`` on one die (tp/ep-sharded), its collectives, and the layer's time.

        An op fused into a GEMM of the same layer (``op.fusion`` names it: e.g. W4A16 dequantisation
        inside its GEMM) runs on the vector unit while the array runs the GEMM: only the part of its
        time beyond the GEMM's is exposed (reported ``time_s``; the op's own cost stays in
        ``compute_s``/``memory_s``)."""
        ops, comms = [], []
        act = self.cfg.quant.act_bytes
        dies_in_group = self.tp
        names = {op.name for op in group.ops}
        rows = []
        for op in group.ops:
            sh, role = shard_op(op, self.tp, self.ep)
            c = self.op_cost(sh)
            comm_s = 0.0
            layer_comms = []
            if role == "row":
                layer_comms.append(self.collective("allreduce", op.m * op.n * act * max(1, op.batch), self.tp))
            elif op.name == "lm_head" and role == "column":
                layer_comms.append(self.collective("all-gather", op.m * op.n * act, self.tp))
            elif role == "experts" and op.name.endswith("gate_up"):
                a2a = (op.expert_tokens_total or op.m * op.batch) * self.spec.hidden * act
                layer_comms += [self.collective("all-to-all", a2a, self.ep)] * 2  # dispatch + combine
            for lc in layer_comms:
                comm_s += lc["time_s"]
                comms.append({**lc, "op": op.name, "group": group.name, "count": group.count})
            rows.append((op, c, comm_s))
        host_time = {op.name: c.time_s for op, c, _ in rows}
        fused_into: dict[str, float] = {}  # host -> fused time already hidden under it
        t = 0.0
        for op, c, comm_s in rows:
            own = c.time_s
            if op.fusion in names and op.fusion != op.name and op.fusion in host_time:
                hidden = min(own, max(0.0, host_time[op.fusion] - fused_into.get(op.fusion, 0.0)))
                fused_into[op.fusion] = fused_into.get(op.fusion, 0.0) + hidden
                own -= hidden
            time_s = own + comm_s
            e = {k: v * dies_in_group for k, v in c.energy_pj.items()}  # every die of the tp group runs a shard
            mapping = c.mapping if own == c.time_s else {**c.mapping, "overlapped_with": op.fusion,
                                                          "hidden_s": c.time_s - own}
            ops.append(OpResult(op.name, op.kind, group.name, group.count, time_s * group.count,
                                c.compute_s * group.count, c.memory_s * group.count, comm_s * group.count,
                                c.bound, op.flops * group.count, c.hbm_bytes * dies_in_group * group.count,
                                {k: v * group.count for k, v in e.items()}, mapping))
            t += time_s
        return ops, comms, t

    def phase(self, graph: Graph, phase_name: str, micro: Graph | None = None) -> PhaseResult:
        """One phase. With micro-batches, ``micro`` is the same phase's graph for one micro-batch:
        every stage is mapped at the micro-batch size, each op's time and energy count ``micro_batches``
        times, and the phase takes ``(micro_batches + pp - 1) x (slowest stage + hand-off)``."""
        mb = self.cfg.parallel.micro_batches
        run = micro if (micro is not None and mb > 1) else graph
        reps = mb if run is micro else 1
        groups = list(run.groups)
        stage_of = _stages(groups, self.pp)
        ops_all: list[OpResult] = []
        comms_all: list[dict] = []
        stage_time = [0.0] * self.pp
        for g, stage in zip(groups, stage_of):
            ops, comms, t = self.group_time(g)
            for o in ops:
                if reps > 1:
                    o.time_s *= reps
                    o.compute_s *= reps
                    o.memory_s *= reps
                    o.comm_s *= reps
                    o.hbm_bytes *= reps
                    o.flops *= reps
                    o.energy_pj = {k: v * reps for k, v in o.energy_pj.items()}
            ops_all += ops
            for cm in comms:
                cm = dict(cm)
                cm["energy_pj"] = cm["energy_pj"] * g.count * reps
                cm["count"] = cm["count"] * reps
                comms_all.append(cm)
            stage_time[stage] += t * g.count  # one micro-batch (or the whole batch)
        pipeline = {"stages": self.pp, "micro_batches": mb, "stage_time_s": stage_time}
        if self.pp == 1 and reps == 1:
            total = stage_time[0]
        else:
            hand = 0.0
            if self.pp > 1:
                tokens = run.tokens // max(1, run.steps)
                p2p = self.collective("broadcast", tokens * self.spec.hidden * self.cfg.quant.act_bytes, 2)
                hand = p2p["time_s"]
                comms_all.append({**p2p, "op": "stage_handoff", "group": "pipeline", "count": (self.pp - 1) * reps,
                                  "energy_pj": p2p["energy_pj"] * (self.pp - 1) * reps})
            total = (reps + self.pp - 1) * (max(stage_time) + hand)
            pipeline.update(bubble_fraction=(self.pp - 1) / (reps + self.pp - 1), handoff_s=hand)
        return PhaseResult(phase_name, total, ops_all, comms_all, pipeline, float(graph.gemm_flops()))


def _stages(groups: list[LayerGroup], pp: int) -> list[int]:
    """Stage index of each group: layers dealt out evenly by count, in order (a group is not split:
    its layers all land in the stage where its first layer falls)."""
    if pp == 1:
        return [0] * len(groups)
    total = sum(g.count for g in groups)
    out, seen = [], 0
    for g in groups:
        out.append(min(pp - 1, seen * pp // total))
        seen += g.count
    return out


def serve(model: str | Path | ModelSpec, system, cfg: ServeConfig | None = None) -> ServeResult:
    """Evaluate one serving scenario (cost faces throughout)."""
    from hwsim.mapping import load_system

    cfg = cfg or ServeConfig()
    spec = model if isinstance(model, ModelSpec) else load_model(model)
    sysm = system if not isinstance(system, (str, Path)) else load_system(system)
    if cfg.multiplier is not None:
        unit = sysm.die.unit
        pe = unit.pe.model_dump()
        if cfg.multiplier.kind != "exact" and not unit.pe.in_fmt.is_int:  # approximate designs are integer:
            pe.update(input="int8", accumulator="int32")  # they serve the int8 GEMMs (floats stay exact)
        pe["multiplier"] = cfg.multiplier.model_dump()
        unit = unit.model_validate({**unit.model_dump(), "pe": pe})
        sysm = sysm.model_copy(update={"die": sysm.die.model_copy(update={"unit": unit})})
    ev = _Evaluator(spec, sysm, cfg)
    warnings: list[str] = []
    # capacity: weights per die (tp/ep-sharded, pp-split) + the KV cache for prompt + generate tokens
    die_capacity = sysm.die.memory.dram.config().capacity_bytes
    weight_bytes = _weight_bytes(spec, cfg.quant)
    per_die_weights = math.ceil(weight_bytes / (ev.tp * ev.pp))
    free = die_capacity * sysm.dies - weight_bytes
    context = cfg.prompt + cfg.generate
    problem = None
    if free <= 0:
        problem = (f"model {spec.name}: weights need {weight_bytes:,} bytes, the system's memory holds "
                   f"{die_capacity * sysm.dies:,} bytes ({sysm.dies} dies x {die_capacity:,})")
    kv = KVCache(spec=spec, capacity_bytes=max(0, free), block_tokens=cfg.kv_block_tokens, quant=cfg.quant)
    if problem is None:
        try:
            kv.check_batch(cfg.batch, context)
        except ConfigError as err:
            if cfg.capacity == "error":
                raise
            problem = "; ".join(err.problems)
    if problem is not None:
        if cfg.capacity == "error":
            raise ConfigError(problem + " (capacity: warn runs it anyway as a what-if)")
        warnings.append(f"capacity exceeded, run as a what-if: {problem}")
    kv_info = {"capacity_bytes": max(0, free), "bytes_per_token": kv.bytes_per_token,
               "max_batch": kv.max_batch(context) if free > 0 else 0,
               "weights_bytes": weight_bytes, "weights_per_die_bytes": per_die_weights}
    common = dict(quant=cfg.quant, attention=cfg.attention, sram_bytes=sysm.die.sram_bytes,
                  moe_imbalance=cfg.moe_imbalance)
    pre = build_graph(spec, "prefill", cfg.batch, cfg.prompt, prefill_chunk=cfg.prefill_chunk, **common)
    d0 = build_graph(spec, "decode", cfg.batch, cfg.prompt, **common)
    d1 = build_graph(spec, "decode", cfg.batch, cfg.prompt + cfg.generate - 1, **common)
    for fmt, ok in pre.pe_formats().items():
        if not ok:
            warnings.append(f"PE format {fmt} is not in the PE library; the mapper's fallback is used")
    mb = cfg.parallel.micro_batches
    micro = {}
    if mb > 1:
        b = cfg.batch // mb
        micro = {"prefill": build_graph(spec, "prefill", b, cfg.prompt, prefill_chunk=cfg.prefill_chunk, **common),
                 "decode_first": build_graph(spec, "decode", b, cfg.prompt, **common),
                 "decode_last": build_graph(spec, "decode", b, cfg.prompt + cfg.generate - 1, **common)}
    from hwsim.power import load_tech
    from hwsim.report.technology import technology_rows

    tech_rows = technology_rows(load_tech(sysm.technology), sysm.die.memory.dram.config())
    if ev.package is not None:
        link = ev.package.link
        tech_rows.append({"path": f"d2d[{link.name}]", "values": f"energy_pj_per_bit = {link.energy_pj_per_bit:g}, "
                          f"bandwidth_gbps = {link.bandwidth_gbps:g}, latency_ns = {link.latency_ps / 1000:g}",
                          "source": "hwsim/chiplet/data/d2d_links.yaml", "citation": "", "rule": "see the preset's sources"})
    from hwsim.mapping.area import system_area, system_clock

    area = system_area(sysm)
    clock = system_clock(sysm)
    if clock.get("warning"):
        warnings.append(clock["warning"])
    return ServeResult(spec.name, sysm.name, cfg, ev.phase(pre, "prefill", micro.get("prefill")),
                       ev.phase(d0, "decode_first", micro.get("decode_first")),
                       ev.phase(d1, "decode_last", micro.get("decode_last")), sysm.peak_flops(cfg.quant.gemm_pe_format),
                       sysm.peak_memory_bytes_per_s(), ev.tp, ev.ep, warnings, kv_info, tech_rows, area, clock)


def _weight_bytes(spec: ModelSpec, quant: Quant) -> int:
    """Bytes of all parameters in storage: every parameter at the weight format (norms, router and
    embeddings at 16 bits are a rounding error here, so the weight format is applied throughout)."""
    return quant.weight_bytes(spec.parameters().total)
