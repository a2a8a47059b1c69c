"""ModelSpec from published config.json files: parsing, errors, parameter counts.

References: hand-written closed forms over the raw config keys (below), and published totals:
Hugging Face safetensors counts for the Llama and Mixtral checkpoints (exact integers), DeepSeek's
"671B total / 37B activated" (technical report) and its README_WEIGHTS "36.6B activated
(including 0.9B for the output head)", GPT-3's "175.0B" (Brown et al. 2020, Table 2.1).
"""

import json

import pytest

from hwsim.errors import ConfigError
from hwsim.llm.model import SUPPORTED_MODEL_TYPES, available_models, load_model, spec_from_config

from .conftest import NAMES, raw


def closed_form_total(cfg: dict) -> int:
    """Every stored parameter of the main model, from the config keys (HF module structure)."""
    t = cfg["model_type"]
    if t == "gpt2":
        h, n, inner, v, pos = cfg["n_embd"], cfg["n_layer"], cfg["n_inner"], cfg["vocab_size"], cfg["n_positions"]
        attn = (h * 3 * h + 3 * h) + (h * h + h)
        mlp = (h * inner + inner) + (inner * h + h)
        return n * (attn + mlp + 4 * h) + v * h + pos * h + 2 * h  # tied head; two LayerNorms per layer
    h, n, v = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    heads = cfg["num_attention_heads"]
    embed_and_head = 2 * v * h + h  # untied, plus final RMSNorm
    if t == "deepseek_v3":
        ql, kv, dn, dr, dv = (cfg[k] for k in ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                                                 "v_head_dim"))
        attn = (h * ql + ql + ql * heads * (dn + dr)) + (h * (kv + dr) + kv) + kv * heads * (dn + dv) + heads * dv * h
        e, mi = cfg["n_routed_experts"], cfg["moe_intermediate_size"]
        moe = e * 3 * h * mi + cfg["n_shared_experts"] * 3 * h * mi + e * h + e  # + e_score_correction_bias
        dense = 3 * h * cfg["intermediate_size"]
        k = cfg["first_k_dense_replace"]
        return k * (attn + dense + 2 * h) + (n - k) * (attn + moe + 2 * h) + embed_and_head
    kvh = cfg["num_key_value_heads"]
    d = h // heads
    attn = 2 * h * heads * d + 2 * h * kvh * d
    inter = cfg["intermediate_size"]
    mlp = cfg["num_local_experts"] * (3 * h * inter) + cfg["num_local_experts"] * h if t == "mixtral" else 3 * h * inter
    return n * (attn + mlp + 2 * h) + embed_and_head


@pytest.mark.parametrize("name", NAMES)
def test_total_matches_closed_form(specs, name):
    assert specs[name].parameters().total == closed_form_total(raw(name))


@pytest.mark.parametrize("name, published", [
    ("llama-2-7b", 6_738_415_616),    # HF meta-llama/Llama-2-7b-hf
    ("llama-3-8b", 8_030_261_248),    # HF meta-llama/Meta-Llama-3-8B
    ("llama-2-70b", 68_976_648_192),  # HF meta-llama/Llama-2-70b-hf
    ("mixtral-8x7b", 46_702_792_704),  # HF mistralai/Mixtral-8x7B-v0.1
    ("deepseek-v3", 671_026_419_200),  # main model, MTP module excluded
])
def test_total_matches_published_exactly(specs, name, published):
    assert specs[name].parameters().total == published


def test_published_rounded_totals(specs):
    # tolerance: the published figures are rounded to 3 significant digits (0.5 % covers the rounding)
    assert specs["deepseek-v3"].parameters().total == pytest.approx(671e9, rel=0.005)
    assert specs["gpt3-175b"].parameters().total == 174_604_259_328
    assert specs["gpt3-175b"].parameters().total == pytest.approx(175.0e9, rel=0.005)
    assert specs["mixtral-8x7b"].parameters().total == pytest.approx(46.7e9, rel=0.005)


def test_active_parameters_moe(specs):
    mix = specs["mixtral-8x7b"].active_parameters()
    assert mix.total == 12_879_925_248
    assert mix.total == pytest.approx(12.9e9, rel=0.005)  # Mistral AI: "12.9B active parameters"
    ds = specs["deepseek-v3"].active_parameters()
    assert ds.total == 37_552_297_472
    # README_WEIGHTS: 36.6B activated including the 0.9B output head, i.e. without the input embedding
    assert ds.total - ds.by_component["embedding"] == pytest.approx(36.6e9, rel=0.002)
    assert ds.total == pytest.approx(37e9, rel=0.02)  # technical report "37B activated", rounded down
    # the routed part: top_k of the experts in each MoE layer
    spec = specs["deepseek-v3"]
    per_expert = 3 * spec.hidden * spec.moe_intermediate
    assert ds.by_component["experts_routed"] == 58 * 8 * per_expert
    assert spec.parameters().by_component["experts_routed"] == 58 * 256 * per_expert


@pytest.mark.parametrize("name", ["llama-2-7b", "llama-3-8b", "llama-2-70b", "gpt3-175b"])
def test_dense_models_active_equals_total(specs, name):
    assert specs[name].active_parameters() == specs[name].parameters()


@pytest.mark.parametrize("name", NAMES)
def test_breakdown_sums_to_total(specs, name):
    for count in (specs[name].parameters(), specs[name].active_parameters()):
        assert sum(count.by_component.values()) == count.total


def test_fields_from_config(specs):
    l2, l3, l70 = specs["llama-2-7b"], specs["llama-3-8b"], specs["llama-2-70b"]
    assert (l2.hidden, l2.layers, l2.heads, l2.kv_heads, l2.head_dim, l2.intermediate, l2.vocab) == \
        (4096, 32, 32, 32, 128, 11008, 32000)
    assert (l3.kv_heads, l3.group_size, l3.rope_theta, l3.max_positions) == (8, 4, 500000.0, 8192)
    assert (l70.kv_heads, l70.group_size) == (8, 8)
    assert (l2.activation, l2.norm, l2.tied_embeddings, l2.rope) == ("swiglu", "rms", False, True)
    g = specs["gpt3-175b"]
    assert (g.hidden, g.layers, g.heads, g.head_dim, g.intermediate, g.max_positions) == \
        (12288, 96, 96, 128, 49152, 2048)
    assert (g.activation, g.norm, g.tied_embeddings, g.rope, g.attention_bias) == \
        ("gelu", "layernorm", True, False, True)
    mx = specs["mixtral-8x7b"]
    assert (mx.experts, mx.top_k, mx.shared_experts, mx.moe_intermediate) == (8, 2, 0, 14336)
    assert mx.moe_layers == tuple(range(32)) and mx.dense_layers == ()


def test_deepseek_fields(specs):
    ds = specs["deepseek-v3"]
    assert ds.is_mla and ds.is_moe
    assert (ds.q_lora_rank, ds.kv_lora_rank, ds.qk_nope_head_dim, ds.qk_rope_head_dim, ds.v_head_dim) == \
        (1536, 512, 128, 64, 128)
    assert ds.head_dim == 192 and ds.value_dim == 128 and ds.kv_heads == 128
    assert (ds.experts, ds.top_k, ds.shared_experts, ds.moe_intermediate, ds.intermediate) == (256, 8, 1, 2048, 18432)
    assert ds.dense_layers == (0, 1, 2)  # first_k_dense_replace = 3
    assert ds.moe_layers == tuple(range(3, 61))
    assert (ds.vocab, ds.layers, ds.hidden, ds.mtp_layers, ds.checkpoint_quant) == (129280, 61, 7168, 1, "fp8")
    assert ds.router_bias and ds.rope_scaling == "yarn"


def test_moe_layer_freq():
    cfg = raw("deepseek-v3") | {"num_hidden_layers": 8, "first_k_dense_replace": 1, "moe_layer_freq": 2}
    spec = spec_from_config(cfg, "freq")
    assert spec.moe_layers == (2, 4, 6)  # i >= 1 and i % 2 == 0, as modeling_deepseek.py
    assert spec.dense_layers == (0, 1, 3, 5, 7)


def test_unknown_extra_keys_are_ignored():
    cfg = raw("llama-2-7b") | {"some_future_key": {"x": 1}, "another": [1, 2]}
    assert spec_from_config(cfg, "x").parameters().total == 6_738_415_616


def test_mistral_model_type_accepted():
    cfg = raw("llama-3-8b") | {"model_type": "mistral", "sliding_window": 4096, "rope_theta": 10000.0}
    spec = spec_from_config(cfg, "mistral-like")
    assert spec.model_type == "mistral" and spec.sliding_window == 4096


def test_unknown_model_type_error_lists_supported():
    with pytest.raises(ConfigError) as err:
        spec_from_config(raw("llama-2-7b") | {"model_type": "bert"}, "m")
    msg = str(err.value)
    assert "m.model_type: unknown 'bert'; supported: deepseek_v3, gpt2, llama, mistral, mixtral" == msg
    assert SUPPORTED_MODEL_TYPES == ("deepseek_v3", "gpt2", "llama", "mistral", "mixtral")


def test_missing_and_bad_keys():
    cfg = raw("llama-2-7b")
    del cfg["hidden_size"]
    with pytest.raises(ConfigError, match=r"m\.hidden_size: required key is missing"):
        spec_from_config(cfg, "m")
    with pytest.raises(ConfigError, match=r"kv_heads: must divide heads \(32\), got 5"):
        spec_from_config(raw("llama-2-7b") | {"num_key_value_heads": 5}, "m")
    with pytest.raises(ConfigError, match=r"m\.num_hidden_layers: must be an integer, got '32'"):
        spec_from_config(raw("llama-2-7b") | {"num_hidden_layers": "32"}, "m")
    with pytest.raises(ConfigError, match=r"m\.hidden_act: unsupported activation 'relu'"):
        spec_from_config(raw("llama-2-7b") | {"hidden_act": "relu"}, "m")


def test_load_by_name_and_path(tmp_path):
    assert set(NAMES) <= set(available_models())
    by_name = load_model("llama-3-8b")
    path = tmp_path / "Meta-Llama-3-8B" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(raw("llama-3-8b")))
    by_path = load_model(path)
    assert by_path.name == "Meta-Llama-3-8B"
    assert by_path.model_copy(update={"name": by_name.name}) == by_name
    with pytest.raises(ConfigError, match="no config file or known model 'llama-9'; known models: deepseek-v3"):
        load_model("llama-9")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_model(bad)


def test_spec_is_frozen(specs):
    with pytest.raises(Exception):
        specs["llama-2-7b"].hidden = 1
