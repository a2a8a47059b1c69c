"""Transformer model specs parsed from Hugging Face ``config.json`` files, with parameter counts.

:class:`ModelSpec` is the architecture as hwsim needs it (sizes, attention kind, MoE and MLA
structure), built from a ``config.json`` dict by one parser per ``model_type``
(``llama``, ``mistral``, ``mixtral``, ``deepseek_v3``, ``gpt2``). Keys the parser does not use are
ignored, so a file taken from the Hub works as published; a missing or inconsistent key raises
:class:`~hwsim.errors.ConfigError` naming the key, the value and what is allowed.

:func:`load_model` reads ``workloads/models/<name>.json`` or any path.

Parameter counts (:meth:`ModelSpec.parameters`, :meth:`ModelSpec.active_parameters`) are exact
integers, broken down by component, and follow the Hugging Face module structure (every weight and
bias that the checkpoint stores for the main model; DeepSeek's multi-token-prediction module is not
part of the main model and is excluded).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hwsim.errors import ConfigError, config_error_from

MODELS_DIR = Path(__file__).resolve().parents[2] / "workloads" / "models"

Activation = Literal["swiglu", "gelu"]
Norm = Literal["rms", "layernorm"]


class ParameterCount(BaseModel):
    """A parameter count (number of scalar weights, not bytes) and its breakdown by component.

    Components: ``embedding`` (token table), ``position_embedding`` (learned positions, GPT-2 style),
    ``attention`` (all attention projections, their biases and MLA's internal norms), ``norms``
    (per-layer and final norms), ``mlp`` (dense feed-forward), ``router`` (MoE gates and their
    bias), ``experts_routed``, ``experts_shared``, ``lm_head`` (0 when tied to the embedding).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    total: int = Field(..., ge=0, description="scalar parameters")
    by_component: dict[str, int]


class ModelSpec(BaseModel):
    """A decoder-only transformer, as read from a Hugging Face ``config.json``.

    Sizes are element counts (not bytes). For MLA models (DeepSeek-V3) ``head_dim`` is the query/key
    head size ``qk_nope_head_dim + qk_rope_head_dim`` and ``kv_heads == heads`` (the naive form
    expands the latent to one K/V per head); the latent sizes are in the ``*_lora_rank`` fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(..., min_length=1, description="model name (file stem or _name_or_path)")
    model_type: Literal["llama", "mistral", "mixtral", "deepseek_v3", "gpt2"]
    hidden: int = Field(..., ge=1, description="model width d_model, elements")
    layers: int = Field(..., ge=1, description="decoder layers (MTP modules excluded)")
    heads: int = Field(..., ge=1, description="query heads")
    kv_heads: int = Field(..., ge=1, description="key/value heads (GQA groups); == heads for MHA and MLA")
    head_dim: int = Field(..., ge=1, description="query/key head size, elements")
    intermediate: int = Field(..., ge=1, description="dense feed-forward inner size, elements")
    vocab: int = Field(..., ge=1, description="vocabulary size, tokens")
    activation: Activation = Field(..., description="swiglu = SiLU-gated (3 matrices), gelu = plain (2)")
    norm: Norm = Field(..., description="rms = RMSNorm (weight only), layernorm (weight and bias)")
    tied_embeddings: bool = Field(..., description="lm_head shares the token-embedding matrix")
    rope: bool = Field(..., description="rotary position embeddings (else learned absolute positions)")
    rope_theta: float | None = Field(None, gt=0, description="RoPE base")
    rope_scaling: str | None = Field(None, description="RoPE scaling type (yarn, llama3, ...), recorded only")
    max_positions: int = Field(..., ge=1, description="max_position_embeddings / n_positions, tokens")
    sliding_window: int | None = Field(None, ge=1, description="Mistral sliding window, tokens (recorded)")
    attention_bias: bool = Field(False, description="biases on the attention projections")
    mlp_bias: bool = Field(False, description="biases on the feed-forward projections")
    # mixture of experts
    experts: int = Field(0, ge=0, description="routed experts per MoE layer (0: dense model)")
    top_k: int = Field(0, ge=0, description="routed experts per token")
    shared_experts: int = Field(0, ge=0, description="always-active shared experts per MoE layer")
    moe_intermediate: int = Field(0, ge=0, description="inner size of one expert, elements")
    moe_layers: tuple[int, ...] = Field((), description="indices of MoE layers (others are dense)")
    router_bias: bool = Field(False, description="per-expert routing bias (DeepSeek e_score_correction_bias)")
    # multi-head latent attention
    q_lora_rank: int | None = Field(None, ge=1, description="MLA query latent size (None: direct q_proj)")
    kv_lora_rank: int | None = Field(None, ge=1, description="MLA key/value latent size (None: not MLA)")
    qk_nope_head_dim: int | None = Field(None, ge=1, description="MLA per-head q/k part without RoPE")
    qk_rope_head_dim: int | None = Field(None, ge=1, description="MLA per-head q/k RoPE part (k part shared)")
    v_head_dim: int | None = Field(None, ge=1, description="value head size (MLA); None: head_dim")
    # recorded, not modelled
    mtp_layers: int = Field(0, ge=0, description="multi-token-prediction modules (excluded)")
    dtype: str | None = Field(None, description="checkpoint torch_dtype")
    checkpoint_quant: str | None = Field(None, description="quantization_config.quant_method of the checkpoint")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        problems = []
        if self.heads % self.kv_heads:
            problems.append(f"kv_heads: must divide heads ({self.heads}), got {self.kv_heads}")
        if self.experts:
            if not 1 <= self.top_k <= self.experts:
                problems.append(f"top_k: must be in 1..experts ({self.experts}), got {self.top_k}")
            if self.moe_intermediate < 1:
                problems.append(f"moe_intermediate: must be >= 1 for a MoE model, got {self.moe_intermediate}")
            bad = [i for i in self.moe_layers if not 0 <= i < self.layers]
            if bad:
                problems.append(f"moe_layers: indices must be in 0..{self.layers - 1}, got {bad}")
        elif self.moe_layers or self.top_k or self.shared_experts:
            problems.append("moe_layers/top_k/shared_experts: need experts >= 1, got experts 0")
        mla = (self.kv_lora_rank, self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim)
        if self.kv_lora_rank is not None and None in mla:
            problems.append("MLA: kv_lora_rank needs qk_nope_head_dim, qk_rope_head_dim and v_head_dim, "
                            f"got {mla}")
        if self.kv_lora_rank is not None and self.head_dim != self.qk_nope_head_dim + self.qk_rope_head_dim:
            problems.append(f"head_dim: must equal qk_nope_head_dim + qk_rope_head_dim for MLA, got {self.head_dim}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- structure ------------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def is_mla(self) -> bool:
        """Multi-head latent attention (DeepSeek-V2/V3)."""
        return self.kv_lora_rank is not None

    @property
    def value_dim(self) -> int:
        """Value head size, elements."""
        return self.v_head_dim if self.v_head_dim is not None else self.head_dim

    @property
    def group_size(self) -> int:
        """Query heads per key/value head (1 for MHA)."""
        return self.heads // self.kv_heads

    @property
    def dense_layers(self) -> tuple[int, ...]:
        """Indices of layers with a dense feed-forward."""
        moe = set(self.moe_layers)
        return tuple(i for i in range(self.layers) if i not in moe)

    def is_moe_layer(self, index: int) -> bool:
        return index in self.moe_layers

    @property
    def mlp_matrices(self) -> int:
        """Weight matrices per feed-forward: 3 for SwiGLU (gate, up, down), 2 for GELU (fc, proj)."""
        return 3 if self.activation == "swiglu" else 2

    # ---- parameter counts -----------------------------------------------------------------------
    def _attention_params(self) -> int:
        h, nh = self.hidden, self.heads
        if self.is_mla:
            dn, dr, dv, kv = self.qk_nope_head_dim, self.qk_rope_head_dim, self.value_dim, self.kv_lora_rank
            if self.q_lora_rank is not None:
                q = h * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * nh * (dn + dr)  # a, norm, b
            else:
                q = h * nh * (dn + dr)
            kv_a = h * (kv + dr) + kv  # kv_a_proj_with_mqa and kv_a_layernorm
            kv_b = kv * nh * (dn + dv)
            o = nh * dv * h
            return q + kv_a + kv_b + o
        d = self.head_dim
        out = (nh + 2 * self.kv_heads) * d
        params = h * out + nh * self.value_dim * h
        if self.attention_bias:
            params += out + h
        return params

    def _mlp_params(self, inner: int) -> int:
        params = self.mlp_matrices * self.hidden * inner
        if self.mlp_bias:
            params += (self.mlp_matrices - 1) * inner + self.hidden
        return params

    def _norm_params(self) -> int:
        """Parameters of one norm over ``hidden`` elements."""
        return self.hidden * (2 if self.norm == "layernorm" else 1)

    def _count(self, routed_experts_per_layer: int) -> ParameterCount:
        n_moe = len(self.moe_layers)
        n_dense = self.layers - n_moe
        parts = {
            "embedding": self.vocab * self.hidden,
            "position_embedding": 0 if self.rope else self.max_positions * self.hidden,
            "attention": self.layers * self._attention_params(),
            "norms": (2 * self.layers + 1) * self._norm_params(),
            "mlp": n_dense * self._mlp_params(self.intermediate),
            "router": n_moe * (self.experts * self.hidden + (self.experts if self.router_bias else 0)),
            "experts_routed": n_moe * routed_experts_per_layer * self._mlp_params(self.moe_intermediate),
            "experts_shared": n_moe * self.shared_experts * self._mlp_params(self.moe_intermediate),
            "lm_head": 0 if self.tied_embeddings else self.vocab * self.hidden,
        }
        return ParameterCount(total=sum(parts.values()), by_component=parts)

    def parameters(self) -> ParameterCount:
        """All parameters of the main model (each shared matrix counted once)."""
        return self._count(self.experts)

    def active_parameters(self) -> ParameterCount:
        """Parameters one token uses: everything except the routed experts it is not sent to.

        ``experts_routed`` counts ``top_k`` experts per MoE layer. The token-embedding table is in
        (``embedding``); DeepSeek quotes its "36.6 B activated" without it (37.55 B with it).
        """
        return self._count(self.top_k)

    def describe(self) -> str:
        """One line: name, size and the structure that matters for the graph."""
        attn = "MLA" if self.is_mla else ("MHA" if self.kv_heads == self.heads else f"GQA({self.kv_heads} kv)")
        shared = f" +{self.shared_experts} shared" if self.shared_experts else ""
        moe = (f", MoE {self.experts}x top-{self.top_k}{shared}"
               + f" in {len(self.moe_layers)}/{self.layers} layers") if self.is_moe else ""
        return (f"{self.name}: {self.parameters().total / 1e9:.2f} B params, {self.layers} layers, "
                f"d={self.hidden}, {self.heads} heads {attn}{moe}")


# ---- parsers: one per model_type ----------------------------------------------------------------

class _Reader:
    """Reads keys from a config dict, collecting one problem line per missing or wrong key."""

    def __init__(self, cfg: dict[str, Any], where: str):
        self.cfg, self.where, self.problems = cfg, where, []

    def req(self, key: str, kind: type = int) -> Any:
        if key not in self.cfg or self.cfg[key] is None:
            self.problems.append(f"{self.where}.{key}: required key is missing")
            return 1 if kind is int else None
        value = self.cfg[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.problems.append(f"{self.where}.{key}: must be an integer, got {value!r}")
            return 1
        return value

    def opt(self, key: str, default: Any = None) -> Any:
        value = self.cfg.get(key)
        return default if value is None else value


def _activation(act: str, where: str, problems: list[str]) -> Activation:
    gated = {"silu": "swiglu", "swish": "swiglu"}
    plain = {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast"}
    if act in gated:
        return gated[act]  # type: ignore[return-value]
    if act in plain:
        return "gelu"
    problems.append(f"{where}: unsupported activation {act!r}; allowed: {', '.join(sorted([*gated, *plain]))}")
    return "swiglu"


def _rope_scaling(cfg: dict[str, Any]) -> str | None:
    rs = cfg.get("rope_scaling")
    if isinstance(rs, dict):
        return str(rs.get("rope_type") or rs.get("type") or "unknown")
    return None


def _parse_llama_family(cfg: dict[str, Any], r: _Reader) -> dict[str, Any]:
    hidden, heads = r.req("hidden_size"), r.req("num_attention_heads")
    out = dict(
        hidden=hidden, layers=r.req("num_hidden_layers"), heads=heads,
        kv_heads=r.opt("num_key_value_heads", heads),
        head_dim=r.opt("head_dim", hidden // heads if heads else 1),
        intermediate=r.req("intermediate_size"), vocab=r.req("vocab_size"),
        activation=_activation(r.opt("hidden_act", "silu"), f"{r.where}.hidden_act", r.problems),
        norm="rms", tied_embeddings=bool(r.opt("tie_word_embeddings", False)), rope=True,
        rope_theta=float(r.opt("rope_theta", 10000.0)), rope_scaling=_rope_scaling(cfg),
        max_positions=r.req("max_position_embeddings"), sliding_window=r.opt("sliding_window"),
        attention_bias=bool(r.opt("attention_bias", False)), mlp_bias=bool(r.opt("mlp_bias", False)),
        dtype=r.opt("torch_dtype"),
    )
    if r.problems:
        return out
    if hidden % heads and "head_dim" not in cfg:
        r.problems.append(f"{r.where}.num_attention_heads: must divide hidden_size ({hidden}) "
                          f"when head_dim is absent, got {heads}")
    return out


def _parse_mixtral(cfg: dict[str, Any], r: _Reader) -> dict[str, Any]:
    out = _parse_llama_family(cfg, r)
    experts = r.req("num_local_experts")
    out.update(experts=experts, top_k=r.req("num_experts_per_tok"),
               moe_intermediate=out["intermediate"], moe_layers=tuple(range(out["layers"])))
    return out


def _parse_deepseek_v3(cfg: dict[str, Any], r: _Reader) -> dict[str, Any]:
    out = _parse_llama_family(cfg, r)
    nope, rope_dim = r.req("qk_nope_head_dim"), r.req("qk_rope_head_dim")
    layers = out["layers"]
    experts = r.opt("n_routed_experts", 0)
    first_dense = r.opt("first_k_dense_replace", 0)
    freq = r.opt("moe_layer_freq", 1)
    if not isinstance(freq, int) or freq < 1:
        r.problems.append(f"{r.where}.moe_layer_freq: must be an integer >= 1, got {freq!r}")
        freq = 1
    # modeling_deepseek.py: layer i is MoE iff n_routed_experts and i >= first_k_dense_replace and i % freq == 0
    moe_layers = tuple(i for i in range(layers) if experts and i >= first_dense and i % freq == 0)
    out.update(
        kv_heads=out["heads"], head_dim=nope + rope_dim,
        q_lora_rank=r.opt("q_lora_rank"), kv_lora_rank=r.req("kv_lora_rank"),
        qk_nope_head_dim=nope, qk_rope_head_dim=rope_dim, v_head_dim=r.req("v_head_dim"),
        experts=experts, top_k=r.opt("num_experts_per_tok", 0) if experts else 0,
        shared_experts=r.opt("n_shared_experts", 0) if experts else 0,
        moe_intermediate=r.opt("moe_intermediate_size", 0) if experts else 0,
        moe_layers=moe_layers, router_bias=r.opt("topk_method") == "noaux_tc",
        mtp_layers=r.opt("num_nextn_predict_layers", 0),
        checkpoint_quant=(cfg.get("quantization_config") or {}).get("quant_method"),
    )
    return out


def _parse_gpt2(cfg: dict[str, Any], r: _Reader) -> dict[str, Any]:
    hidden, heads = r.req("n_embd"), r.req("n_head")
    if not r.problems and hidden % heads:
        r.problems.append(f"{r.where}.n_head: must divide n_embd ({hidden}), got {heads}")
    return dict(
        hidden=hidden, layers=r.req("n_layer"), heads=heads, kv_heads=heads,
        head_dim=hidden // heads if heads else 1, intermediate=r.opt("n_inner", 4 * hidden),
        vocab=r.req("vocab_size"),
        activation=_activation(r.opt("activation_function", "gelu_new"), f"{r.where}.activation_function",
                               r.problems),
        norm="layernorm", tied_embeddings=bool(r.opt("tie_word_embeddings", True)), rope=False,
        max_positions=r.req("n_positions"), attention_bias=True, mlp_bias=True, dtype=r.opt("torch_dtype"),
    )


_PARSERS: dict[str, Callable[[dict[str, Any], _Reader], dict[str, Any]]] = {
    "llama": _parse_llama_family,
    "mistral": _parse_llama_family,
    "mixtral": _parse_mixtral,
    "deepseek_v3": _parse_deepseek_v3,
    "gpt2": _parse_gpt2,
}
SUPPORTED_MODEL_TYPES = tuple(sorted(_PARSERS))


def spec_from_config(cfg: dict[str, Any], name: str | None = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a Hugging Face ``config.json`` dict (extra keys are ignored)."""
    if not isinstance(cfg, dict):
        raise ConfigError(f"config.json: must be a JSON object, got {type(cfg).__name__}")
    label = name or str(cfg.get("_name_or_path") or "config")
    where = f"{label}"
    model_type = cfg.get("model_type")
    if model_type not in _PARSERS:
        raise ConfigError(f"{where}.model_type: unknown {model_type!r}; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    reader = _Reader(cfg, where)
    fields = _PARSERS[model_type](cfg, reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    try:
        return ModelSpec(name=label, model_type=model_type, **fields)
    except ValidationError as err:
        raise config_error_from(err, where) from None


def available_models() -> list[str]:
    """Names accepted by :func:`load_model` (files in ``workloads/models``)."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.json"))


def load_model(path_or_name: str | Path) -> ModelSpec:
    """Load a model spec from a ``config.json`` path, or by name from ``workloads/models/<name>.json``."""
    path = Path(path_or_name)
    if not path.is_file():
        if isinstance(path_or_name, str) and "/" not in path_or_name and not path_or_name.endswith(".json"):
            path = MODELS_DIR / f"{path_or_name}.json"
        if not path.is_file():
            raise ConfigError(f"model: no config file or known model {str(path_or_name)!r}; "
                              f"known models: {', '.join(available_models())}")
    try:
        cfg = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    name = path.stem if path.name != "config.json" else path.parent.name
    return spec_from_config(cfg, name=name)
