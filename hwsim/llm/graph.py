"""Operator graph of one inference phase (prefill or decode) of a transformer, for the mapper.

:func:`build_graph` turns a :class:`~hwsim.llm.model.ModelSpec` into a :class:`Graph`: a list of
:class:`LayerGroup`\\ s (embedding, each kind of decoder layer, head), each holding the :class:`Op`\\ s of
ONE layer and a ``count`` of identical layers, so a 96-layer model is one group of 96, not 96 copies.
Every op states its shape and what it costs, in integers:

* ``m, n, k, batch``: for GEMM-like kinds (``gemm``, ``router``, ``attention_score``,
  ``attention_context``), ``batch`` independent products ``C[m x n] = A[m x k] . B[k x n]``.
  Attention products are per head: ``batch = sequences x heads``. MoE expert GEMMs have
  ``batch = experts_active`` and ``m = expert_tokens_max`` (the busiest expert, which sets time).
* ``flops``: arithmetic operations (a multiply-add is 2). GEMMs: ``2 m n k batch`` plus one per
  output for a bias; MoE expert GEMMs count the tokens actually assigned (``2 x assignments x n x
  k``). Vector ops: ``elements x`` the per-element cost in :data:`ELEMENT_FLOPS`.
* ``weight_bytes``: parameters read, at their storage precision.
* ``act_in_bytes``/``act_out_bytes``: the logical activation tensors consumed and produced, each
  counted once (whether they live in HBM or on chip is the mapper's decision).
* ``kv_read_bytes``/``kv_write_bytes``: KV-cache traffic, re-reads by attention tiling included.
* ``scratch_bytes``: HBM traffic the attention algorithm forces beyond the logical tensors: naive
  attention writes and reads the score matrices, flash attention re-reads K/V per query tile.

Formulas and the models behind them (flash tiling, MLA forms, MoE load, quantisation) are in
``docs/llm.md``; they are restated where they are implemented below.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwsim.errors import ConfigError
from hwsim.llm.model import ModelSpec
from hwsim.pe.formats import INPUT_FORMATS

OpKind = Literal["gemm", "attention_score", "attention_context", "softmax", "norm", "rope", "activation",
                 "embedding", "router", "elementwise", "dequant"]
GEMM_KINDS = frozenset({"gemm", "router", "attention_score", "attention_context"})
Phase = Literal["prefill", "decode"]

#: Arithmetic operations per element of the vector ops (stated, not measured).
ELEMENT_FLOPS: dict[str, int] = {
    "rms_norm": 4,        # square, accumulate, multiply by 1/rms, multiply by weight
    "layer_norm": 7,      # accumulate mean, subtract, square, accumulate, scale, weight, bias
    "softmax": 5,         # running max, subtract, exp, accumulate, divide
    "rope": 3,            # per pair (x0, x1): 4 multiplies + 2 adds
    "swiglu": 5,          # silu(g) = g / (1 + exp(-g)): negate, exp, add, divide; times up
    "gelu": 8,            # tanh form: x^3 (2), scale, add, scale, tanh, add 1, times 0.5 x
    "residual": 1,        # add
    "router_topk": 5,     # score (sigmoid/softmax), bias/normalise, top-k compare
    "moe_combine": 2,     # multiply by gate weight, accumulate
    "kv_quantize": 2,     # scale, round/convert (8-bit KV cache only)
    "kv_dequantize": 2,   # convert, scale (8-bit KV cache only)
    "weight_dequantize": 2,  # int4 -> 16-bit float: convert, multiply by group scale (symmetric)
}

_FLOAT_BYTES = 2  # 16-bit float: norm weights, biases, router, attention operands, score matrices


class Quant(BaseModel):
    """Number formats of a graph: weights, activations, KV cache, and the PE input format of GEMMs.

    ======== ============ ============= ========================= ==========================
    scheme   weight bytes act. bytes    GEMM PE input             notes
    ======== ============ ============= ========================= ==========================
    W16A16   2            2             ``float_format``          fp16 or bf16
    W8A8     1 (int8)     1 (int8)      ``int8``                  per-channel scales ignored
    W4A16    0.5 (int4)   2             ``float_format``          ``dequant`` op per weight GEMM
    FP8      1 (fp8)      1 (fp8)       ``fp8``                   no fp8 PE in hwsim.pe yet
    ======== ============ ============= ========================= ==========================

    W4A16 weights are dequantised to ``float_format`` on the fly (2 element ops per weight, see
    :data:`ELEMENT_FLOPS`); the fp16 group scales (one per ``group_size`` weights) are the dequant op's
    ``weight_bytes``. Attention products always run on ``float_format`` operands (an 8-bit KV cache is
    dequantised on load). Norm weights, biases and the MoE router stay 16-bit; the token embedding
    and lm_head too unless ``quantize_embeddings``. One activation size is used for every tensor
    between ops; the score matrices of naive attention are 16-bit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: Literal["W16A16", "W8A8", "W4A16", "FP8"] = Field("W16A16", description="weight/activation scheme")
    float_format: Literal["bf16", "fp16"] = Field("bf16", description="16-bit float used for activations/attention")
    kv_dtype: Literal["fp16", "bf16", "int8", "fp8"] | None = Field(
        None, description="KV-cache element format (None: float_format)")
    group_size: int = Field(128, ge=1, le=1 << 20, description="W4A16: weights per fp16 scale")
    quantize_embeddings: bool = Field(False, description="store embedding and lm_head in the weight format too")

    @property
    def weight_format(self) -> str:
        return {"W16A16": self.float_format, "W8A8": "int8", "W4A16": "int4", "FP8": "fp8"}[self.scheme]

    @property
    def weight_bits(self) -> int:
        return {"W16A16": 16, "W8A8": 8, "W4A16": 4, "FP8": 8}[self.scheme]

    @property
    def act_format(self) -> str:
        return {"W16A16": self.float_format, "W8A8": "int8", "W4A16": self.float_format, "FP8": "fp8"}[self.scheme]

    @property
    def act_bytes(self) -> int:
        """Bytes per activation element."""
        return 1 if self.scheme in ("W8A8", "FP8") else 2

    @property
    def gemm_pe_format(self) -> str:
        """PE input format of the weight GEMMs (``hwsim.pe`` format name, or ``fp8``)."""
        return {"W16A16": self.float_format, "W8A8": "int8", "W4A16": self.float_format, "FP8": "fp8"}[self.scheme]

    @property
    def kv_format(self) -> str:
        return self.kv_dtype or self.float_format

    @property
    def kv_bytes(self) -> int:
        """Bytes per KV-cache element."""
        return 1 if self.kv_format in ("int8", "fp8") else 2

    @property
    def dequantizes_weights(self) -> bool:
        return self.scheme == "W4A16"

    def weight_bytes(self, elements: int, quantized: bool = True) -> int:
        """Bytes of ``elements`` weights: packed at ``weight_bits`` (rounded up), or 16-bit if not quantized."""
        if not quantized:
            return elements * _FLOAT_BYTES
        return (elements * self.weight_bits + 7) // 8

    def scale_bytes(self, elements: int) -> int:
        """W4A16: bytes of the fp16 group scales of ``elements`` weights (0 for other schemes)."""
        return math.ceil(elements / self.group_size) * _FLOAT_BYTES if self.dequantizes_weights else 0

    @staticmethod
    def pe_supported(fmt: str) -> bool:
        """Whether ``hwsim.pe`` has this PE input format (it has no fp8 yet)."""
        return fmt in INPUT_FORMATS


class Op(BaseModel):
    """One operator of one layer; counts are integers (bytes, flops, elements). See the module doc."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    kind: OpKind
    m: int | None = Field(None, ge=1, description="GEMM rows (MoE experts: busiest expert's tokens)")
    n: int | None = Field(None, ge=1, description="GEMM columns")
    k: int | None = Field(None, ge=1, description="GEMM reduction length")
    batch: int = Field(1, ge=1, description="independent GEMMs of this shape (heads x sequences, experts)")
    elements: int = Field(0, ge=0, description="elements a vector op processes")
    flops: int = Field(0, ge=0, description="arithmetic operations (multiply-add = 2)")
    weight_bytes: int = Field(0, ge=0, description="parameter bytes read")
    act_in_bytes: int = Field(0, ge=0, description="activation bytes consumed (logical, once)")
    act_out_bytes: int = Field(0, ge=0, description="activation bytes produced (logical, once)")
    kv_read_bytes: int = Field(0, ge=0, description="KV-cache bytes read (tiling re-reads included)")
    kv_write_bytes: int = Field(0, ge=0, description="KV-cache bytes written")
    scratch_bytes: int = Field(0, ge=0, description="forced extra HBM bytes (naive S/P, flash K/V re-reads)")
    pe_format: str | None = Field(None, description="PE input format the GEMM needs")
    weight_format: str | None = Field(None, description="storage format of the weights read")
    fusion: str | None = Field(None, description="kernel this op runs inside (flash_attention, a GEMM's name)")
    weight_sharing: str | None = Field(None, description="how the weights are shared, if they are")
    heads_per_kv: int | None = Field(None, ge=1, description="attention: query heads sharing one K/V stream")
    expert_role: Literal["routed", "shared"] | None = None
    experts_active: int | None = Field(None, ge=1, description="routed experts receiving >= 1 token")
    expert_tokens_max: int | None = Field(None, ge=1, description="tokens on the busiest expert")
    expert_tokens_mean: float | None = Field(None, ge=0, description="assignments / experts (all experts)")
    expert_tokens_total: int | None = Field(None, ge=0, description="token-expert assignments")
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Op:
        dims = (self.m, self.n, self.k)
        if self.kind in GEMM_KINDS and None in dims:
            raise ValueError(f"{self.name}: a {self.kind} op needs m, n and k, got {dims}")
        if self.kind not in GEMM_KINDS and dims != (None, None, None):
            raise ValueError(f"{self.name}: only GEMM-like ops have m, n, k, got {dims} on a {self.kind}")
        return self

    @property
    def is_gemm(self) -> bool:
        """GEMM-like (has m, n, k): gemm, router, attention_score, attention_context."""
        return self.kind in GEMM_KINDS


class LayerGroup(BaseModel):
    """The ops of one layer and how many identical layers (``count``) there are."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    kind: Literal["embedding", "dense", "moe", "head"]
    count: int = Field(..., ge=1, description="identical layers")
    layers: tuple[int, ...] = Field((), description="decoder layer indices (empty for embedding/head)")
    step: int = Field(0, ge=0, description="prefill chunk index (0 without chunking)")
    ops: tuple[Op, ...]


_SUM_FIELDS = ("flops", "weight_bytes", "act_in_bytes", "act_out_bytes", "kv_read_bytes", "kv_write_bytes",
               "scratch_bytes")


class Graph(BaseModel):
    """The operator graph of one phase; groups run in order (steps, then embedding, layers, head)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str
    phase: Phase
    batch: int = Field(..., description="sequences")
    seq_len: int = Field(..., description="prefill: prompt tokens; decode: tokens already in the KV cache")
    prefill_chunk: int | None = Field(None, description="prefill chunk size, tokens (None: one step)")
    steps: int = Field(..., description="prefill chunks (1 without chunking, 1 for decode)")
    tokens: int = Field(..., description="new tokens processed, all sequences and steps")
    attention: Literal["naive", "flash"]
    mla_form: Literal["naive", "absorbed"] | None = None
    sram_bytes: int | None = Field(None, description="flash: on-chip bytes a tile set may use (None: unbounded)")
    flash_tile_rows: int | None = Field(None, description="flash: query rows per tile for this SRAM (None: all)")
    logits: Literal["last", "all"]
    moe_imbalance: float
    quant: Quant
    groups: tuple[LayerGroup, ...]

    def ops(self) -> Iterator[tuple[LayerGroup, Op]]:
        for group in self.groups:
            for op in group.ops:
                yield group, op

    def total(self, field: str, kinds: frozenset[str] | set[str] | None = None) -> int:
        """Sum of ``field`` over all layers (``op.field x group.count``), optionally for some op kinds."""
        if field not in _SUM_FIELDS:
            raise ConfigError(f"Graph.total: unknown field {field!r}; allowed: {', '.join(_SUM_FIELDS)}")
        return sum(getattr(op, field) * g.count for g, op in self.ops() if kinds is None or op.kind in kinds)

    def totals(self) -> dict[str, int]:
        """Every summed field, plus ``gemm_flops`` and ``hbm_bytes``."""
        out = {f: self.total(f) for f in _SUM_FIELDS}
        out["gemm_flops"] = self.gemm_flops()
        out["hbm_bytes"] = self.hbm_bytes()
        return out

    def gemm_flops(self) -> int:
        """FLOPs of the GEMM-like ops (weights, router, attention products); vector ops excluded."""
        return self.total("flops", GEMM_KINDS)

    def hbm_bytes(self) -> int:
        """Off-chip bytes the graph fixes whatever the mapping: weights, KV cache, forced scratch.

        Activations (``act_*_bytes``) are left out: whether they go off chip is the mapper's choice.
        """
        return sum(self.total(f) for f in ("weight_bytes", "kv_read_bytes", "kv_write_bytes", "scratch_bytes"))

    def by_kind(self, field: str = "flops") -> dict[str, int]:
        out: dict[str, int] = {}
        for g, op in self.ops():
            out[op.kind] = out.get(op.kind, 0) + getattr(op, field) * g.count
        return out

    def pe_formats(self) -> dict[str, bool]:
        """PE input formats the GEMMs need, each with whether ``hwsim.pe`` supports it."""
        return {op.pe_format: Quant.pe_supported(op.pe_format) for _, op in self.ops() if op.pe_format}

    def summary(self) -> str:
        t = self.totals()
        return (f"{self.model} {self.phase} batch={self.batch} seq_len={self.seq_len} steps={self.steps} "
                f"{self.attention} {self.quant.scheme}: {t['flops'] / 1e12:.3f} TFLOP, "
                f"weights {t['weight_bytes'] / 1e9:.3f} GB, KV read {t['kv_read_bytes'] / 1e9:.3f} GB, "
                f"HBM {t['hbm_bytes'] / 1e9:.3f} GB")


# ---- flash tiling -----------------------------------------------------------------------------

def flash_tile_footprint_bytes(rows: int, qk_dim: int, v_dim: int) -> int:
    """On-chip bytes of one square flash tile set of ``rows`` query rows and ``rows`` key rows.

    Q tile (rows x qk_dim), K tile (rows x qk_dim) and V tile (rows x v_dim) as 16-bit values, the
    score/probability tile (rows x rows) and the output accumulator (rows x v_dim) in fp32, and the
    running max and sum (2 x rows fp32).
    """
    t = rows
    return _FLOAT_BYTES * t * (2 * qk_dim + v_dim) + 4 * t * t + 4 * t * v_dim + 8 * t


def flash_tile_rows(sram_bytes: int, qk_dim: int, v_dim: int) -> int:
    """Largest square tile ``t`` with :func:`flash_tile_footprint_bytes` ``(t) <= sram_bytes``."""
    b = _FLOAT_BYTES * (2 * qk_dim + v_dim) + 4 * v_dim + 8
    t = int((-b + math.sqrt(b * b + 16 * sram_bytes)) / 8)  # root of 4 t^2 + b t = sram_bytes
    while t > 0 and flash_tile_footprint_bytes(t, qk_dim, v_dim) > sram_bytes:
        t -= 1
    while flash_tile_footprint_bytes(t + 1, qk_dim, v_dim) <= sram_bytes:
        t += 1
    if t < 1:
        need = flash_tile_footprint_bytes(1, qk_dim, v_dim)
        raise ConfigError(f"sram_bytes: {sram_bytes} is too small for one flash tile with head dims "
                          f"{qk_dim}/{v_dim}; need >= {need}")
    return t


# ---- MoE load model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpertLoad:
    """Token-to-expert load of one MoE layer under uniform top-k routing with an imbalance factor.

    ``assignments = tokens x top_k``; ``mean = assignments / experts``;
    ``active = min(experts, assignments, ceil(experts x (1 - (1 - top_k/experts)^tokens)))`` (expected
    distinct experts when each token picks top_k distinct experts uniformly at random);
    ``max = min(tokens, max(ceil(imbalance x mean), ceil(assignments / active)))``: the busiest
    expert, whose GEMM sets the layer's time. ``imbalance`` = max/mean >= 1 (1: perfectly balanced).
    """

    tokens: int
    experts: int
    top_k: int
    imbalance: float

    @property
    def assignments(self) -> int:
        return self.tokens * self.top_k

    @property
    def mean(self) -> float:
        return self.assignments / self.experts

    @property
    def active(self) -> int:
        expected = self.experts * (1.0 - (1.0 - self.top_k / self.experts) ** self.tokens)
        return max(1, min(self.experts, self.assignments, math.ceil(expected - 1e-9)))

    @property
    def max_tokens(self) -> int:
        busiest = max(math.ceil(self.imbalance * self.mean - 1e-9), math.ceil(self.assignments / self.active))
        return max(1, min(self.tokens, busiest))


# ---- builder ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Step:
    index: int
    new: int    # new tokens per sequence in this step
    prior: int  # tokens already in the KV cache per sequence

    @property
    def keys(self) -> int:
        return self.prior + self.new


class _Builder:
    """Builds the ops of one step; one method per block. Sizes in elements unless named *_bytes."""

    def __init__(self, spec: ModelSpec, quant: Quant, batch: int, step: _Step, *, attention: str,
                 sram_bytes: int | None, mla_form: str | None, imbalance: float, logit_rows: int):
        self.s, self.q, self.B, self.step = spec, quant, batch, step
        self.T = batch * step.new
        self.attention, self.sram_bytes, self.mla_form = attention, sram_bytes, mla_form
        self.imbalance, self.logit_rows = imbalance, logit_rows
        self.ab = quant.act_bytes
        self.tile_rows: int | None = None

    # -- generic ops --
    def linear(self, name: str, rows: int, n: int, k: int, *, batch: int = 1, bias: bool = False,
               quantized: bool = True, act_in: int | None = None, weight_sharing: str | None = None,
               kv_read: int = 0, note: str = "") -> list[Op]:
        """A weight GEMM (``batch`` weight matrices of k x n), preceded by its dequant op under W4A16."""
        elems = batch * n * k
        fmt = self.q.weight_format if quantized else self.q.float_format
        pe = self.q.gemm_pe_format if quantized else self.q.float_format
        ops = []
        if quantized and self.q.dequantizes_weights:
            ops.append(Op(name=f"{name}.dequant", kind="dequant", elements=elems,
                          flops=ELEMENT_FLOPS["weight_dequantize"] * elems, weight_bytes=self.q.scale_bytes(elems),
                          weight_format="fp16", fusion=name,
                          note=f"int4 -> {self.q.float_format} in {name}'s weight load; weight_bytes = group scales"))
        ops.append(Op(
            name=name, kind="gemm", m=rows, n=n, k=k, batch=batch,
            flops=2 * rows * n * k * batch + (rows * n * batch if bias else 0),
            weight_bytes=self.q.weight_bytes(elems, quantized) + (batch * n * _FLOAT_BYTES if bias else 0),
            act_in_bytes=rows * k * batch * self.ab if act_in is None else act_in,
            act_out_bytes=rows * n * batch * self.ab, kv_read_bytes=kv_read,
            pe_format=pe, weight_format=fmt, weight_sharing=weight_sharing, note=note))
        return ops

    def norm(self, name: str, rows: int, width: int) -> Op:
        layer = self.s.norm == "layernorm"
        e = rows * width
        return Op(name=name, kind="norm", elements=e, flops=e * ELEMENT_FLOPS["layer_norm" if layer else "rms_norm"],
                  weight_bytes=width * _FLOAT_BYTES * (2 if layer else 1), act_in_bytes=e * self.ab,
                  act_out_bytes=e * self.ab, weight_format=self.q.float_format)

    def residual(self, name: str) -> Op:
        e = self.T * self.s.hidden
        return Op(name=name, kind="elementwise", elements=e, flops=e * ELEMENT_FLOPS["residual"],
                  act_in_bytes=2 * e * self.ab, act_out_bytes=e * self.ab, note="residual add")

    # -- embedding and head --
    def embedding_ops(self) -> list[Op]:
        s, T = self.s, self.T
        row_bytes = self.q.weight_bytes(s.hidden, self.q.quantize_embeddings)
        fmt = self.q.weight_format if self.q.quantize_embeddings else self.q.float_format
        e = T * s.hidden
        if s.rope:
            return [Op(name="embed_tokens", kind="embedding", elements=e, weight_bytes=T * row_bytes,
                       act_out_bytes=e * self.ab, weight_format=fmt, note="gather one table row per token")]
        return [Op(name="embed_tokens+positions", kind="embedding", elements=e, flops=e,
                   weight_bytes=2 * T * row_bytes, act_out_bytes=e * self.ab,
                   weight_format=fmt, note="token row + learned position row, added")]

    def head_ops(self) -> list[Op]:
        s = self.s
        ops = [self.norm("final_norm", self.T, s.hidden)]
        if self.logit_rows:
            ops += self.linear("lm_head", self.logit_rows, s.vocab, s.hidden, quantized=self.q.quantize_embeddings,
                               weight_sharing="tied to embed_tokens" if s.tied_embeddings else None)
        return ops

    # -- attention core --
    def attention_core(self, *, streams: int, qk_dim: int, v_dim: int, cached_tokens: int, act_tokens: int,
                       k_cache: int, v_cache: int, k_act: int, v_act: int, note: str) -> list[Op]:
        """Score, softmax and context products of one layer.

        ``streams`` K/V streams per sequence (KV heads), shared by ``heads / streams`` query heads.
        Per token and stream, ``k_cache``/``v_cache`` bytes come from the KV cache (for
        ``cached_tokens`` tokens) and ``k_act``/``v_act`` bytes from activations (``act_tokens``).

        Naive: K/V read once per stream; S (and P) written to and read from HBM at 16 bits.
        Flash (FlashAttention-2 order): query tiles of ``Br`` rows in the outer loop, K/V streamed in the
        inner loop, so K/V are read ``ceil(rows / Br)`` times, rows = new tokens x query heads per
        stream (GQA heads of a group are packed into one tile); ``Br`` from :func:`flash_tile_rows`
        (all rows in one tile when ``sram_bytes`` is None).
        """
        s, B, q, L, H = self.s, self.B, self.step.new, self.step.keys, self.s.heads
        g = H // streams
        rows = q * g
        if self.attention == "flash" and self.sram_bytes is not None:
            self.tile_rows = flash_tile_rows(self.sram_bytes, qk_dim, v_dim)
            br = min(rows, self.tile_rows)
        else:
            br = rows
        tiles = -(-rows // br)
        flash = self.attention == "flash"
        fusion = "flash_attention" if flash else None
        s_bytes = B * H * q * L * _FLOAT_BYTES  # one score (or probability) matrix, 16-bit
        k_act_bytes, v_act_bytes = B * streams * act_tokens * k_act, B * streams * act_tokens * v_act
        scratch_naive = s_bytes if not flash else 0
        fmt = self.q.float_format
        ops = []
        if self.q.kv_bytes == 1 and cached_tokens:
            e = tiles * B * streams * cached_tokens * ((k_cache + v_cache) // self.q.kv_bytes)
            ops.append(Op(name="kv_dequant", kind="dequant", elements=e, flops=e * ELEMENT_FLOPS["kv_dequantize"],
                          fusion=fusion or "attention_score", note=f"{self.q.kv_format} KV -> {fmt} on load"))
        ops.append(Op(
            name="attn_score", kind="attention_score", m=q, n=L, k=qk_dim, batch=B * H,
            flops=2 * B * H * q * L * qk_dim,
            act_in_bytes=B * H * q * qk_dim * self.ab + k_act_bytes, act_out_bytes=s_bytes,
            kv_read_bytes=tiles * B * streams * cached_tokens * k_cache,
            scratch_bytes=(tiles - 1) * k_act_bytes + scratch_naive,
            pe_format=fmt, fusion=fusion, heads_per_kv=g, note=note))
        e = B * H * q * L
        ops.append(Op(name="attn_softmax", kind="softmax", elements=e, flops=e * ELEMENT_FLOPS["softmax"],
                      act_in_bytes=s_bytes, act_out_bytes=s_bytes, scratch_bytes=2 * scratch_naive, fusion=fusion))
        ops.append(Op(
            name="attn_context", kind="attention_context", m=q, n=v_dim, k=L, batch=B * H,
            flops=2 * B * H * q * L * v_dim,
            act_in_bytes=s_bytes + v_act_bytes, act_out_bytes=B * H * q * v_dim * self.ab,
            kv_read_bytes=tiles * B * streams * cached_tokens * v_cache,
            scratch_bytes=(tiles - 1) * v_act_bytes + scratch_naive,
            pe_format=fmt, fusion=fusion, heads_per_kv=g))
        return ops

    def kv_append(self, per_token_elems: int) -> Op:
        e = self.T * per_token_elems
        quantize = self.q.kv_bytes == 1
        return Op(name="kv_append", kind="elementwise", elements=e,
                  flops=e * ELEMENT_FLOPS["kv_quantize"] if quantize else 0,
                  act_in_bytes=e * self.ab, kv_write_bytes=e * self.q.kv_bytes,
                  note=f"write new tokens' K/V into the paged cache as {self.q.kv_format}")

    # -- attention blocks --
    def gqa_attention(self) -> list[Op]:
        s, T = self.s, self.T
        H, KV, d, dv = s.heads, s.kv_heads, s.head_dim, s.value_dim
        ops = self.linear("qkv_proj", T, (H + KV) * d + KV * dv, s.hidden, bias=s.attention_bias)
        if s.rope:
            e = T * (H + KV) * d
            ops.append(Op(name="rope", kind="rope", elements=e, flops=e * ELEMENT_FLOPS["rope"],
                          act_in_bytes=e * self.ab, act_out_bytes=e * self.ab))
        ops.append(self.kv_append(KV * (d + dv)))
        kvb = self.q.kv_bytes
        ops += self.attention_core(streams=KV, qk_dim=d, v_dim=dv, cached_tokens=self.step.prior,
                                   act_tokens=self.step.new, k_cache=d * kvb, v_cache=dv * kvb,
                                   k_act=d * self.ab, v_act=dv * self.ab,
                                   note="MHA" if KV == H else f"GQA: {H // KV} query heads share each K/V head")
        ops += self.linear("o_proj", T, s.hidden, H * dv, bias=s.attention_bias)
        return ops

    def mla_attention(self) -> list[Op]:
        """Multi-head latent attention (DeepSeek-V2/V3).

        The cache holds, per token and layer, the normalised latent ``c_kv`` (kv_lora_rank) and the
        shared RoPE key ``k_pe`` (qk_rope_head_dim). Naive form: ``kv_b_proj`` up-projects the latent of
        every attended token to per-head K (nope part) and V, then ordinary per-head attention with
        qk dim = nope + rope. Absorbed form: ``W_UK`` is applied to the query (``q_absorb``) and
        ``W_UV`` after attention (``v_absorb``), so attention runs on the latent directly: one K/V
        stream shared by all heads, qk dim = kv_lora_rank + rope, v dim = kv_lora_rank, and the
        latent tile serves as both K and V (read once, charged to the score op).
        """
        s, T, B = self.s, self.T, self.B
        H, h, kv, dr, dn, dv = s.heads, s.hidden, s.kv_lora_rank, s.qk_rope_head_dim, s.qk_nope_head_dim, s.value_dim
        ql = s.q_lora_rank
        ops: list[Op] = []
        if ql is not None:
            ops += self.linear("qkv_a_proj", T, ql + kv + dr, h, note="q_a_proj and kv_a_proj_with_mqa, fused")
            ops.append(self.norm("q_a_norm", T, ql))
            ops.append(self.norm("kv_a_norm", T, kv))
            ops += self.linear("q_b_proj", T, H * (dn + dr), ql)
        else:
            ops += self.linear("q_proj", T, H * (dn + dr), h)
            ops += self.linear("kv_a_proj", T, kv + dr, h)
            ops.append(self.norm("kv_a_norm", T, kv))
        e = T * (H + 1) * dr
        ops.append(Op(name="rope", kind="rope", elements=e, flops=e * ELEMENT_FLOPS["rope"],
                      act_in_bytes=e * self.ab, act_out_bytes=e * self.ab,
                      note="q_pe of every head and the shared k_pe"))
        ops.append(self.kv_append(kv + dr))
        kvb, prior, new, L = self.q.kv_bytes, self.step.prior, self.step.new, self.step.keys
        if self.mla_form == "naive":
            if kvb == 1 and prior:
                e = B * prior * (kv + dr)
                ops.append(Op(name="kv_dequant", kind="dequant", elements=e, flops=e * ELEMENT_FLOPS["kv_dequantize"],
                              fusion="kv_b_proj", note=f"{self.q.kv_format} latents -> {self.q.float_format} on load"))
            ops += self.linear("kv_b_proj", B * L, H * (dn + dv), kv, act_in=B * new * kv * self.ab,
                               kv_read=B * prior * (kv + dr) * kvb,
                               note="up-projects the latent of every attended token (cached ones from the KV cache)")
            ops += self.attention_core(streams=H, qk_dim=dn + dr, v_dim=dv, cached_tokens=0, act_tokens=L,
                                       k_cache=0, v_cache=0, k_act=(dn + dr) * self.ab, v_act=dv * self.ab,
                                       note="MLA naive form: per-head K/V from kv_b_proj")
            ops += self.linear("o_proj", T, h, H * dv)
        else:
            ops += self.linear("q_absorb", T, kv, dn, batch=H, note="W_UK (K half of kv_b_proj) applied to q_nope")
            ops += self.attention_core(streams=1, qk_dim=kv + dr, v_dim=kv, cached_tokens=prior, act_tokens=new,
                                       k_cache=(kv + dr) * kvb, v_cache=0, k_act=(kv + dr) * self.ab, v_act=0,
                                       note="MLA absorbed form: attention on the latent, one stream for all heads")
            ops += self.linear("v_absorb", T, dv, kv, batch=H, note="W_UV (V half of kv_b_proj) applied per head")
            ops += self.linear("o_proj", T, h, H * dv)
        return ops

    # -- feed-forward blocks --
    def activation(self, name: str, rows: int, inner: int, **extra) -> Op:
        e = rows * inner
        gated = self.s.activation == "swiglu"
        return Op(name=name, kind="activation", elements=e, flops=e * ELEMENT_FLOPS["swiglu" if gated else "gelu"],
                  act_in_bytes=(2 if gated else 1) * e * self.ab, act_out_bytes=e * self.ab, **extra)

    def dense_mlp(self, prefix: str, inner: int, **extra) -> list[Op]:
        s, T = self.s, self.T
        if s.activation == "swiglu":
            ops = self.linear(f"{prefix}gate_up_proj", T, 2 * inner, s.hidden, bias=s.mlp_bias)
            ops.append(self.activation(f"{prefix}act", T, inner))
            ops += self.linear(f"{prefix}down_proj", T, s.hidden, inner, bias=s.mlp_bias)
        else:
            ops = self.linear(f"{prefix}fc", T, inner, s.hidden, bias=s.mlp_bias)
            ops.append(self.activation(f"{prefix}act", T, inner))
            ops += self.linear(f"{prefix}proj", T, s.hidden, inner, bias=s.mlp_bias)
        return [op.model_copy(update=extra) for op in ops] if extra else ops

    def moe_mlp(self) -> list[Op]:
        s, T, h, mi = self.s, self.T, self.s.hidden, self.s.moe_intermediate
        load = ExpertLoad(T, s.experts, s.top_k, self.imbalance)
        A, act, mx = load.assignments, load.active, load.max_tokens
        ops = [Op(name="router", kind="router", m=T, n=s.experts, k=h, flops=2 * T * s.experts * h,
                  weight_bytes=s.experts * h * _FLOAT_BYTES + (s.experts * _FLOAT_BYTES if s.router_bias else 0),
                  act_in_bytes=T * h * self.ab, act_out_bytes=T * s.experts * _FLOAT_BYTES,
                  pe_format=self.q.float_format, weight_format=self.q.float_format, note="16-bit gate"),
               Op(name="router_topk", kind="elementwise", elements=T * s.experts,
                  flops=T * s.experts * ELEMENT_FLOPS["router_topk"], act_in_bytes=T * s.experts * _FLOAT_BYTES,
                  act_out_bytes=A * 8, note="scores, top-k ids and weights"),
               Op(name="moe_dispatch", kind="elementwise", elements=A * h, act_in_bytes=T * h * self.ab,
                  act_out_bytes=A * h * self.ab, note="gather each token once per chosen expert")]
        info = dict(expert_role="routed", experts_active=act, expert_tokens_max=mx, expert_tokens_mean=load.mean,
                    expert_tokens_total=A)
        n_up = (2 if s.activation == "swiglu" else 1) * mi
        for name, n, k in (("experts_gate_up", n_up, h), ("experts_down", h, mi)):
            if name == "experts_down":
                ops.append(self.activation("experts_act", A, mi, **info))
            elems = act * n * k
            if self.q.dequantizes_weights:
                ops.append(Op(name=f"{name}.dequant", kind="dequant", elements=elems,
                              flops=ELEMENT_FLOPS["weight_dequantize"] * elems,
                              weight_bytes=self.q.scale_bytes(elems), weight_format="fp16", fusion=name, **info))
            ops.append(Op(name=name, kind="gemm", m=mx, n=n, k=k, batch=act, flops=2 * A * n * k,
                          weight_bytes=self.q.weight_bytes(elems), act_in_bytes=A * k * self.ab,
                          act_out_bytes=A * n * self.ab, pe_format=self.q.gemm_pe_format,
                          weight_format=self.q.weight_format, **info,
                          note="one GEMM per active expert; m = busiest expert, flops = assigned tokens"))
        if s.shared_experts:
            ops += self.dense_mlp("shared_", s.shared_experts * mi, expert_role="shared",
                                  weight_sharing="shared expert: every token")
        combine = 2 * A * h + (T * h if s.shared_experts else 0)
        ops.append(Op(name="moe_combine", kind="elementwise", elements=A * h, flops=combine,
                      act_in_bytes=A * h * self.ab + (T * h * self.ab if s.shared_experts else 0),
                      act_out_bytes=T * h * self.ab, note="gate-weighted sum of the top-k outputs (+ shared)"))
        return ops

    def layer_ops(self, moe: bool) -> list[Op]:
        s, T = self.s, self.T
        ops = [self.norm("input_norm", T, s.hidden)]
        ops += self.mla_attention() if s.is_mla else self.gqa_attention()
        ops.append(self.residual("attn_residual"))
        ops.append(self.norm("post_attn_norm", T, s.hidden))
        ops += self.moe_mlp() if moe else self.dense_mlp("", s.intermediate)
        ops.append(self.residual("mlp_residual"))
        return ops


def _check(problems: list[str], cond: bool, text: str) -> None:
    if not cond:
        problems.append(text)


def build_graph(spec: ModelSpec, phase: Phase = "prefill", batch: int = 1, seq_len: int = 2048, *,
                prefill_chunk: int | None = None, quant: Quant | None = None,
                attention: Literal["naive", "flash"] = "flash", sram_bytes: int | None = None,
                moe_imbalance: float = 1.0, mla: Literal["auto", "naive", "absorbed"] = "auto",
                logits: Literal["last", "all"] = "last") -> Graph:
    """Operator graph of one phase.

    * ``phase="prefill"``: ``seq_len`` prompt tokens per sequence, processed in one step, or in chunks
      of ``prefill_chunk`` tokens, each attending to the chunks before it (read from the KV cache) and
      to itself (one step per chunk, in order; weights are read once per step).
    * ``phase="decode"``: one new token per sequence; ``seq_len`` tokens are already in the KV cache,
      so attention reads ``seq_len`` cached tokens and the new one (``seq_len + 1`` keys).
    * ``attention``: ``naive`` materialises the score matrix in HBM, ``flash`` keeps it on chip with
      tiles sized to ``sram_bytes`` (None: unbounded, K/V read once).
    * ``mla`` (MLA models only): ``auto`` builds the naive form for prefill and the absorbed form for
      decode, as vLLM and SGLang do.
    * ``logits``: ``last`` computes the lm_head for the last token of each sequence only (serving);
      ``all`` for every prompt token.
    * ``moe_imbalance``: max/mean tokens per expert (>= 1), see :class:`ExpertLoad`.

    Attention products are dense rectangles (new tokens x keys); causal masking is not used to skip
    work.
    """
    quant = quant or Quant()
    problems: list[str] = []
    _check(problems, phase in ("prefill", "decode"), f"phase: must be 'prefill' or 'decode', got {phase!r}")
    _check(problems, isinstance(batch, int) and batch >= 1, f"batch: must be an integer >= 1, got {batch!r}")
    _check(problems, isinstance(seq_len, int) and seq_len >= 1, f"seq_len: must be an integer >= 1, got {seq_len!r}")
    _check(problems, attention in ("naive", "flash"), f"attention: must be 'naive' or 'flash', got {attention!r}")
    _check(problems, mla in ("auto", "naive", "absorbed"), f"mla: must be 'auto', 'naive' or 'absorbed', got {mla!r}")
    _check(problems, logits in ("last", "all"), f"logits: must be 'last' or 'all', got {logits!r}")
    _check(problems, isinstance(moe_imbalance, (int, float)) and moe_imbalance >= 1.0,
           f"moe_imbalance: must be >= 1 (max/mean tokens per expert), got {moe_imbalance!r}")
    _check(problems, sram_bytes is None or (isinstance(sram_bytes, int) and sram_bytes >= 1),
           f"sram_bytes: must be a positive integer or None, got {sram_bytes!r}")
    if prefill_chunk is not None:
        _check(problems, phase == "prefill", f"prefill_chunk: only for phase 'prefill', got phase {phase!r}")
        _check(problems, isinstance(prefill_chunk, int) and prefill_chunk >= 1,
               f"prefill_chunk: must be an integer >= 1 or None, got {prefill_chunk!r}")
    if problems:
        raise ConfigError(problems)
    context = seq_len if phase == "prefill" else seq_len + 1
    if context > spec.max_positions:
        raise ConfigError(f"seq_len: context of {context} tokens exceeds {spec.name}'s max_positions "
                          f"({spec.max_positions})")

    if phase == "decode":
        steps = [_Step(0, 1, seq_len)]
    elif prefill_chunk is None or prefill_chunk >= seq_len:
        steps = [_Step(0, seq_len, 0)]
    else:
        steps = [_Step(i, min(prefill_chunk, seq_len - p), p) for i, p in enumerate(range(0, seq_len, prefill_chunk))]
    mla_form = None
    if spec.is_mla:
        mla_form = mla if mla != "auto" else ("naive" if phase == "prefill" else "absorbed")

    groups: list[LayerGroup] = []
    tile_rows = None
    chunked = len(steps) > 1
    for st in steps:
        last = st.index == len(steps) - 1
        logit_rows = batch * st.new if logits == "all" else (batch if last else 0)
        b = _Builder(spec, quant, batch, st, attention=attention, sram_bytes=sram_bytes, mla_form=mla_form,
                     imbalance=float(moe_imbalance), logit_rows=logit_rows)
        prefix = f"chunk{st.index}/" if chunked else ""
        groups.append(LayerGroup(name=f"{prefix}embedding", kind="embedding", count=1, step=st.index,
                                 ops=tuple(b.embedding_ops())))
        for kind, idx in (("dense", spec.dense_layers), ("moe", spec.moe_layers)):
            if idx:
                groups.append(LayerGroup(name=f"{prefix}{kind}", kind=kind, count=len(idx), layers=tuple(idx),
                                         step=st.index, ops=tuple(b.layer_ops(moe=kind == "moe"))))
        groups.append(LayerGroup(name=f"{prefix}head", kind="head", count=1, step=st.index, ops=tuple(b.head_ops())))
        tile_rows = b.tile_rows if tile_rows is None else tile_rows
    return Graph(model=spec.name, phase=phase, batch=batch, seq_len=seq_len, prefill_chunk=prefill_chunk,
                 steps=len(steps), tokens=batch * sum(st.new for st in steps), attention=attention,
                 mla_form=mla_form, sram_bytes=sram_bytes, flash_tile_rows=tile_rows, logits=logits,
                 moe_imbalance=float(moe_imbalance), quant=quant, groups=tuple(groups))
