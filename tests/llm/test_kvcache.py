"""Paged KV cache sizing against closed forms from the raw config keys."""

import math

import pytest

from hwsim.errors import ConfigError
from hwsim.llm.graph import Quant, build_graph
from hwsim.llm.kvcache import KVCache, kv_bytes_per_token_per_layer

from .conftest import NAMES, raw

GIB = 2**30


def closed_form_bytes_per_token_layer(cfg: dict, element_bytes: int) -> int:
    if cfg["model_type"] == "deepseek_v3":  # MLA: latent + shared RoPE key
        return (cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"]) * element_bytes
    if cfg["model_type"] == "gpt2":
        return 2 * cfg["n_embd"] * element_bytes  # MHA: K and V of every head
    d = cfg["hidden_size"] // cfg["num_attention_heads"]
    return 2 * cfg["num_key_value_heads"] * d * element_bytes


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kv_dtype, element_bytes", [(None, 2), ("int8", 1)])
def test_bytes_per_token(specs, name, kv_dtype, element_bytes):
    cache = KVCache(spec=specs[name], capacity_bytes=GIB, quant=Quant(kv_dtype=kv_dtype))
    expect = closed_form_bytes_per_token_layer(raw(name), element_bytes)
    assert cache.bytes_per_token_per_layer == expect == kv_bytes_per_token_per_layer(specs[name], element_bytes)
    assert cache.bytes_per_token == specs[name].layers * expect


def test_known_sizes(specs):
    # Llama-2-7B: 0.5 MiB per token in fp16; Llama-3-8B (GQA 8): 128 KiB; DeepSeek-V3 (MLA): 1152 B x 61 layers
    assert KVCache(spec=specs["llama-2-7b"], capacity_bytes=0).bytes_per_token == 512 * 1024
    assert KVCache(spec=specs["llama-3-8b"], capacity_bytes=0).bytes_per_token == 128 * 1024
    assert KVCache(spec=specs["deepseek-v3"], capacity_bytes=0).bytes_per_token == 1152 * 61


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("context, block", [(2048, 16), (1000, 16), (1, 32), (1500, 128)])
def test_max_batch(specs, name, context, block):
    cap = 80 * GIB
    cache = KVCache(spec=specs[name], capacity_bytes=cap, block_tokens=block)
    per_token = specs[name].layers * closed_form_bytes_per_token_layer(raw(name), 2)
    per_block = block * per_token
    per_seq = math.ceil(context / block) * per_block
    assert cache.bytes_per_sequence(context) == per_seq
    assert cache.max_batch(context) == (cap // per_block) // math.ceil(context / block)
    assert cache.max_batch(context) * per_seq <= cap
    n = cache.max_batch(context)
    if n:
        cache.check_batch(n, context)  # fits
    with pytest.raises(ConfigError):
        cache.check_batch(n + 1, context)


def test_impossible_batch_message(specs):
    cache = KVCache(spec=specs["llama-2-7b"], capacity_bytes=40 * GIB)
    with pytest.raises(ConfigError) as err:
        cache.check_batch(100, 4096)
    assert str(err.value) == (
        "batch: 100 sequences of 4096 tokens need 214,748,364,800 B of KV cache (2,147,483,648 B each: "
        "256 blocks of 16 tokens x 524,288 B/token for llama-2-7b in bf16), but capacity_bytes is "
        "42,949,672,960 B; max batch at this context is 20")
    with pytest.raises(ConfigError, match="context_tokens: 5000 exceeds llama-2-7b's max_positions"):
        cache.max_batch(5000)
    with pytest.raises(ConfigError, match="batch: must be an integer >= 1, got 0"):
        cache.check_batch(0, 10)


def test_graph_kv_write_matches_cache(specs):
    """The graph writes exactly the cache's bytes per token for every new token."""
    for name in ("llama-3-8b", "deepseek-v3"):
        spec = specs[name]
        cache = KVCache(spec=spec, capacity_bytes=GIB)
        g = build_graph(spec, "prefill", 2, 300)
        assert g.total("kv_write_bytes") == 2 * 300 * cache.bytes_per_token
