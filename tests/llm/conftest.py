"""Shared helpers for the LLM workload tests: raw config.json dicts and hand-written closed forms.

The closed forms read the published config.json keys directly (not ModelSpec), so they are an
independent reference for the parser, the parameter counts and the graph.
"""

import json
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "workloads" / "models"
NAMES = ("llama-2-7b", "llama-3-8b", "llama-2-70b", "mixtral-8x7b", "deepseek-v3", "gpt3-175b")


def raw(name: str) -> dict:
    return json.loads((MODELS / f"{name}.json").read_text())


def matmul_params_active(cfg: dict) -> tuple[int, int]:
    """(weights one token multiplies in GEMMs incl. lm_head and router, bias elements one token adds)."""
    t = cfg["model_type"]
    if t == "gpt2":
        h, n, inner, v = cfg["n_embd"], cfg["n_layer"], cfg["n_inner"], cfg["vocab_size"]
        per_layer = h * 3 * h + h * h + h * inner + inner * h
        return n * per_layer + v * h, n * (3 * h + h + inner + h)
    h, n, v = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads, inter = cfg["num_attention_heads"], cfg["intermediate_size"]
    if t == "deepseek_v3":
        ql, kv, dn, dr, dv = (cfg[k] for k in ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                                                 "v_head_dim"))
        attn = h * ql + ql * heads * (dn + dr) + h * (kv + dr) + kv * heads * (dn + dv) + heads * dv * h
        dense, mi, e = 3 * h * inter, cfg["moe_intermediate_size"], cfg["n_routed_experts"]
        moe = e * h + cfg["num_experts_per_tok"] * 3 * h * mi + cfg["n_shared_experts"] * 3 * h * mi
        k_dense = cfg["first_k_dense_replace"]
        return n * attn + k_dense * dense + (n - k_dense) * moe + v * h, 0
    kvh = cfg["num_key_value_heads"]
    d = h // heads
    attn = h * heads * d + 2 * h * kvh * d + heads * d * h
    if t == "mixtral":
        mlp = cfg["num_local_experts"] * h + cfg["num_experts_per_tok"] * 3 * h * inter
    else:
        mlp = 3 * h * inter
    return n * (attn + mlp) + v * h, 0


def attention_dims(cfg: dict) -> tuple[int, int, int, int]:
    """(layers, query heads, qk head dim, v head dim) of naive-form attention."""
    if cfg["model_type"] == "gpt2":
        return cfg["n_layer"], cfg["n_head"], cfg["n_embd"] // cfg["n_head"], cfg["n_embd"] // cfg["n_head"]
    heads = cfg["num_attention_heads"]
    if cfg["model_type"] == "deepseek_v3":
        return (cfg["num_hidden_layers"], heads, cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"],
                cfg["v_head_dim"])
    d = cfg["hidden_size"] // heads
    return cfg["num_hidden_layers"], heads, d, d


@pytest.fixture(scope="session")
def specs():
    from hwsim.llm.model import load_model
    return {name: load_model(name) for name in NAMES}
