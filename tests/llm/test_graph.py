"""The operator graph against closed forms written from the raw config keys.

* prefill GEMM FLOPs = 2 x (weights a token multiplies) x tokens + bias adds + attention products,
  exactly, for every model (the attention term: 2 x B x H x S x L x (d_qk + d_v) per layer);
* decode KV-cache bytes; flash vs naive HBM traffic; chunked prefill vs one step; the MoE load
  model; quantisation bytes and PE formats; errors.
"""

import math
from fractions import Fraction

import pytest

from hwsim.errors import ConfigError
from hwsim.llm.graph import (ELEMENT_FLOPS, GEMM_KINDS, ExpertLoad, Quant, build_graph, flash_tile_footprint_bytes,
                             flash_tile_rows)

from .conftest import NAMES, attention_dims, matmul_params_active, raw


def attention_flops(cfg, batch, new, keys):
    layers, heads, dk, dv = attention_dims(cfg)
    return layers * 2 * batch * heads * new * keys * (dk + dv)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch, seq", [(1, 512), (3, 1024)])
def test_prefill_gemm_flops_closed_form(specs, name, batch, seq):
    cfg = raw(name)
    g = build_graph(specs[name], "prefill", batch, seq, logits="all", attention="naive")
    weights, biases = matmul_params_active(cfg)
    tokens = batch * seq
    assert g.tokens == tokens
    assert g.gemm_flops() == 2 * weights * tokens + biases * tokens + attention_flops(cfg, batch, seq, seq)
    # logits for the last token only: the lm_head runs on batch rows instead of batch x seq
    last = build_graph(specs[name], "prefill", batch, seq, logits="last", attention="naive")
    vocab_h = specs[name].vocab * specs[name].hidden
    assert g.gemm_flops() - last.gemm_flops() == 2 * (tokens - batch) * vocab_h


@pytest.mark.parametrize("name", NAMES)
def test_prefill_flops_near_rule_of_thumb(specs, name):
    """Without attention, prefill GEMM FLOPs are ~2 x active params x tokens (norms, biases, embedding
    lookups are the difference; within 3 %)."""
    spec = specs[name]
    g = build_graph(spec, "prefill", 1, 256, logits="all")
    linear = g.total("flops", {"gemm", "router"})
    active = spec.active_parameters()
    assert linear == pytest.approx(2 * (active.total - active.by_component["embedding"]) * 256, rel=0.03)


def test_graph_structure(specs):
    g = build_graph(specs["gpt3-175b"], "decode", 2, 100)
    assert [(grp.kind, grp.count) for grp in g.groups] == [("embedding", 1), ("dense", 96), ("head", 1)]
    ds = build_graph(specs["deepseek-v3"], "decode", 2, 100)
    assert [(grp.kind, grp.count, grp.layers[:1]) for grp in ds.groups] == [
        ("embedding", 1, ()), ("dense", 3, (0,)), ("moe", 58, (3,)), ("head", 1, ())]
    score = next(op for _, op in g.ops() if op.kind == "attention_score")
    assert (score.m, score.n, score.k, score.batch) == (1, 101, 128, 2 * 96)  # per head: batch = seqs x heads
    kinds = {op.kind for _, op in ds.ops()}
    assert kinds >= {"gemm", "attention_score", "attention_context", "softmax", "norm", "rope", "activation",
                     "embedding", "router", "elementwise"}
    for _, op in ds.ops():
        assert (op.m is not None) == (op.kind in GEMM_KINDS)
        if op.is_gemm:
            assert op.pe_format is not None


@pytest.mark.parametrize("name, per_token_layer", [
    ("llama-2-7b", 2 * 32 * 128 * 2), ("llama-3-8b", 2 * 8 * 128 * 2), ("llama-2-70b", 2 * 8 * 128 * 2),
    ("mixtral-8x7b", 2 * 8 * 128 * 2), ("gpt3-175b", 2 * 96 * 128 * 2), ("deepseek-v3", (512 + 64) * 2)])
def test_decode_kv_bytes(specs, name, per_token_layer):
    spec, batch, ctx = specs[name], 8, 1000
    g = build_graph(spec, "decode", batch, ctx)  # flash with unbounded SRAM: K/V read once
    assert g.total("kv_read_bytes") == batch * ctx * spec.layers * per_token_layer
    assert g.total("kv_write_bytes") == batch * 1 * spec.layers * per_token_layer
    naive = build_graph(spec, "decode", batch, ctx, attention="naive")
    assert naive.total("kv_read_bytes") == g.total("kv_read_bytes")
    int8 = build_graph(spec, "decode", batch, ctx, quant=Quant(kv_dtype="int8"))
    assert int8.total("kv_read_bytes") * 2 == g.total("kv_read_bytes")
    dq = [op for _, op in int8.ops() if op.name == "kv_dequant"]
    assert dq and all(op.flops == ELEMENT_FLOPS["kv_dequantize"] * op.elements for op in dq)


def test_decode_attention_shapes_mla_absorbed(specs):
    ds = specs["deepseek-v3"]
    g = build_graph(ds, "decode", 4, 4095)
    assert g.mla_form == "absorbed"
    ops = {op.name: op for op in g.groups[1].ops}
    assert (ops["attn_score"].k, ops["attn_score"].n, ops["attn_score"].heads_per_kv) == (576, 4096, 128)
    assert (ops["attn_context"].n, ops["attn_context"].k) == (512, 4096)
    assert (ops["q_absorb"].batch, ops["q_absorb"].n, ops["q_absorb"].k) == (128, 512, 128)
    assert (ops["v_absorb"].batch, ops["v_absorb"].n, ops["v_absorb"].k) == (128, 128, 512)
    assert "kv_b_proj" not in ops
    # absorbed vs naive decode: same weights, the naive one up-projects the whole context every step
    naive = build_graph(ds, "decode", 4, 4095, mla="naive")
    kvb = next(op for op in naive.groups[1].ops if op.name == "kv_b_proj")
    assert kvb.m == 4 * 4096 and kvb.kv_read_bytes == 4 * 4095 * 576 * 2
    assert naive.total("weight_bytes") == g.total("weight_bytes")
    assert naive.gemm_flops() > 10 * g.gemm_flops()


def test_flash_tile_rows_brute_force():
    for sram, dk, dv in [(64 * 1024, 128, 128), (192 * 1024, 128, 128), (256 * 1024, 576, 512), (10**6, 192, 128)]:
        t = flash_tile_rows(sram, dk, dv)
        # documented footprint: 16-bit Q, K, V tiles + fp32 S/P tile, fp32 O accumulator, fp32 max and sum
        assert flash_tile_footprint_bytes(t, dk, dv) == 2 * t * dk + 2 * t * (dk + dv) + 4 * t * t + 4 * t * dv + 8 * t
        assert flash_tile_footprint_bytes(t, dk, dv) <= sram < flash_tile_footprint_bytes(t + 1, dk, dv)
    with pytest.raises(ConfigError, match=r"sram_bytes: 100 is too small for one flash tile with head dims 128/128; "
                                          r"need >= 1292"):
        flash_tile_rows(100, 128, 128)


@pytest.mark.parametrize("name", ["llama-2-7b", "llama-3-8b"])
def test_flash_vs_naive_hbm_traffic(specs, name):
    spec, batch, seq, sram = specs[name], 2, 2048, 128 * 1024
    layers, heads, kvh, d = spec.layers, spec.heads, spec.kv_heads, spec.head_dim
    naive = build_graph(spec, "prefill", batch, seq, attention="naive")
    ideal = build_graph(spec, "prefill", batch, seq, attention="flash")  # unbounded SRAM
    tiled = build_graph(spec, "prefill", batch, seq, attention="flash", sram_bytes=sram)
    s_matrix = batch * heads * seq * seq * 2  # one 16-bit score matrix, all heads
    # naive writes S, softmax reads S and writes P, the context product reads P: 4 matrices per layer
    assert naive.hbm_bytes() - ideal.hbm_bytes() == layers * 4 * s_matrix
    assert naive.total("scratch_bytes") == layers * 4 * s_matrix
    # flash re-reads K and V once per query tile; rows per K/V head = new tokens x query heads per group
    br = flash_tile_rows(sram, d, d)
    assert tiled.flash_tile_rows == br
    tiles = math.ceil(seq * (heads // kvh) / br)
    kv_bytes = batch * kvh * seq * 2 * d * 2  # K and V of the new tokens (activations), 16-bit
    assert tiled.total("scratch_bytes") == layers * (tiles - 1) * kv_bytes
    assert naive.hbm_bytes() - tiled.hbm_bytes() == layers * (4 * s_matrix - (tiles - 1) * kv_bytes)
    assert naive.gemm_flops() == tiled.gemm_flops()


def test_flash_decode_rereads_cache_per_query_tile(specs):
    ds = specs["deepseek-v3"]
    sram = 128 * 1024
    g = build_graph(ds, "decode", 2, 999, sram_bytes=sram)
    br = flash_tile_rows(sram, 576, 512)
    assert g.flash_tile_rows == br
    tiles = math.ceil(128 / br)  # one new token x 128 heads share the latent stream
    assert tiles > 1
    assert g.total("kv_read_bytes") == tiles * 2 * 999 * 61 * 576 * 2


@pytest.mark.parametrize("name", ["llama-3-8b", "mixtral-8x7b", "gpt3-175b"])
@pytest.mark.parametrize("chunk", [512, 700])
def test_chunked_prefill_totals(specs, name, chunk):
    spec, batch, seq = specs[name], 2, 2048
    cfg = raw(name)
    one = build_graph(spec, "prefill", batch, seq)
    ch = build_graph(spec, "prefill", batch, seq, prefill_chunk=chunk)
    starts = list(range(0, seq, chunk))
    sizes = [min(chunk, seq - p) for p in starts]
    assert ch.steps == len(starts) and ch.tokens == one.tokens
    # weight GEMMs see the same tokens: equal FLOPs
    assert ch.total("flops", {"gemm", "router"}) == one.total("flops", {"gemm", "router"})
    # each chunk attends to the chunks before it and to itself
    assert ch.total("flops", {"attention_score", "attention_context"}) == sum(
        attention_flops(cfg, batch, c, p + c) for p, c in zip(starts, sizes))
    # every token's K/V is written once; earlier chunks are read back from the cache
    assert ch.total("kv_write_bytes") == one.total("kv_write_bytes")
    per_token = 2 * spec.kv_heads * spec.head_dim * 2 * spec.layers
    assert ch.total("kv_read_bytes") == batch * sum(starts) * per_token
    # the layer weights are read once per chunk
    layer_w = lambda g: sum(op.weight_bytes * grp.count for grp, op in g.ops() if grp.kind in ("dense", "moe"))
    assert layer_w(ch) == len(starts) * layer_w(one)
    # only the last chunk computes logits (for the last token of each sequence)
    assert sum(1 for _, op in ch.ops() if op.name == "lm_head") == 1


def test_chunked_prefill_mla_reprojects_prior_latents(specs):
    ds, batch, seq, chunk = specs["deepseek-v3"], 1, 1024, 256
    one = build_graph(ds, "prefill", batch, seq)
    ch = build_graph(ds, "prefill", batch, seq, prefill_chunk=chunk)
    starts = list(range(0, seq, chunk))
    extra_rows = batch * sum(starts)  # naive MLA up-projects the cached latents of earlier chunks again
    up = 2 * 512 * 128 * (128 + 128)  # flops per row of kv_b_proj
    linear = {"gemm", "router"}
    assert ch.total("flops", linear) - one.total("flops", linear) == ds.layers * extra_rows * up


def test_moe_imbalance_scales_busiest_expert(specs):
    mix = specs["mixtral-8x7b"]
    tokens = 4096
    mean = Fraction(tokens * 2, 8)
    flops = None
    for f, expect in [(1.0, 1024), (1.5, 1536), (2.0, 2048), (3.0, 3072), (10.0, 4096)]:  # capped at all tokens
        g = build_graph(mix, "prefill", 1, tokens, moe_imbalance=f)
        up = next(op for _, op in g.ops() if op.name == "experts_gate_up")
        assert up.expert_tokens_max == up.m == min(tokens, math.ceil(f * mean)) == expect
        assert (up.experts_active, up.batch, up.expert_tokens_total, up.expert_tokens_mean) == (8, 8, 8192, 1024.0)
        assert up.flops == 2 * 8192 * (2 * 14336) * 4096  # assigned tokens, independent of the imbalance
        flops = flops or g.total("flops")
        assert g.total("flops") == flops


def test_expert_load_small_batches():
    # decode, one token: exactly top_k experts, one token each
    one = ExpertLoad(tokens=1, experts=256, top_k=8, imbalance=1.0)
    assert (one.active, one.max_tokens, one.assignments) == (8, 1, 8)
    # 32 tokens: expected distinct experts under uniform random top-8 routing, rounded up
    expected = 256 * (1 - Fraction(248, 256) ** 32)
    load = ExpertLoad(tokens=32, experts=256, top_k=8, imbalance=1.0)
    assert load.active == math.ceil(expected) == 164
    assert load.max_tokens == math.ceil(Fraction(256, 164)) == 2  # the active experts carry all assignments
    assert ExpertLoad(tokens=32, experts=256, top_k=8, imbalance=4.0).max_tokens == 4


def test_moe_decode_weights_read(specs):
    ds = specs["deepseek-v3"]
    g = build_graph(ds, "decode", 1, 100)
    up = next(op for _, op in g.ops() if op.name == "experts_gate_up")
    assert up.experts_active == 8 and up.weight_bytes == 8 * 2 * 2048 * 7168 * 2
    shared = next(op for _, op in g.ops() if op.name == "shared_gate_up_proj")
    assert shared.expert_role == "shared" and shared.weight_sharing == "shared expert: every token"


@pytest.mark.parametrize("name", ["llama-2-7b", "mixtral-8x7b", "deepseek-v3"])
def test_w4a16_weight_bytes_quarter_of_w16(specs, name):
    spec = specs[name]
    kw = dict(phase="decode", batch=1, seq_len=64)
    w16 = build_graph(spec, **kw, quant=Quant(scheme="W16A16"))
    w4 = build_graph(spec, **kw, quant=Quant(scheme="W4A16"))
    w8 = build_graph(spec, **kw, quant=Quant(scheme="W8A8"))
    ops16 = {(grp.name, op.name): op for grp, op in w16.ops()}
    checked = 0
    for grp, op in w4.ops():
        if op.kind == "gemm" and op.weight_format == "int4":
            ref = ops16[(grp.name, op.name)]
            assert op.weight_bytes * 4 == ref.weight_bytes
            checked += 1
    assert checked >= 4
    # dequant ops: 2 element ops per weight, fp16 scales per 128 weights as their weight bytes
    deq = [(grp, op) for grp, op in w4.ops() if op.kind == "dequant"]
    assert len(deq) == checked
    for grp, op in deq:
        target = ops16[(grp.name, op.fusion)]
        assert op.elements == target.weight_bytes // 2
        assert op.flops == 2 * op.elements and op.weight_bytes == math.ceil(op.elements / 128) * 2
    # every weight stored quantized: exactly a quarter (half for W8A8)
    allq = dict(phase="decode", batch=1, seq_len=64)
    q16 = build_graph(spec, **allq, quant=Quant(quantize_embeddings=True))
    q4 = build_graph(spec, **allq, quant=Quant(scheme="W4A16", quantize_embeddings=True))
    gemm_w = lambda g: g.total("weight_bytes", {"gemm"})
    assert gemm_w(q4) * 4 == gemm_w(q16)
    for grp, op in w8.ops():
        if op.kind == "gemm":
            ref = ops16[(grp.name, op.name)]
            assert op.weight_bytes * (2 if op.weight_format == "int8" else 1) == ref.weight_bytes


def test_pe_formats():
    ds_quant = {"W16A16": ("bf16", "bf16"), "W8A8": ("int8", "int8"), "W4A16": ("bf16", "int4"), "FP8": ("fp8", "fp8")}
    for scheme, (pe, wf) in ds_quant.items():
        q = Quant(scheme=scheme)
        assert (q.gemm_pe_format, q.weight_format) == (pe, wf)
    assert Quant(scheme="W4A16", float_format="fp16").gemm_pe_format == "fp16"
    assert (Quant(scheme="W8A8").act_bytes, Quant(scheme="FP8").act_bytes, Quant(scheme="W4A16").act_bytes) == (1, 1, 2)
    assert Quant(scheme="FP8", kv_dtype="int8").kv_bytes == 1 and Quant().kv_format == "bf16"


def test_fp8_is_labelled_unsupported(specs):
    g = build_graph(specs["llama-3-8b"], "decode", 1, 10, quant=Quant(scheme="FP8"))
    assert g.pe_formats() == {"fp8": False, "bf16": True}  # weight GEMMs fp8; attention and lm_head bf16
    w8 = build_graph(specs["llama-3-8b"], "decode", 1, 10, quant=Quant(scheme="W8A8"))
    assert w8.pe_formats() == {"int8": True, "bf16": True}


def test_errors(specs):
    spec = specs["llama-2-7b"]
    cases = [
        (dict(phase="train"), "phase: must be 'prefill' or 'decode', got 'train'"),
        (dict(batch=0), "batch: must be an integer >= 1, got 0"),
        (dict(moe_imbalance=0.5), "moe_imbalance: must be >= 1 (max/mean tokens per expert), got 0.5"),
        (dict(phase="decode", prefill_chunk=128), "prefill_chunk: only for phase 'prefill', got phase 'decode'"),
        (dict(attention="paged"), "attention: must be 'naive' or 'flash', got 'paged'"),
        (dict(seq_len=4097), "seq_len: context of 4097 tokens exceeds llama-2-7b's max_positions (4096)"),
        (dict(phase="decode", seq_len=4096), "seq_len: context of 4097 tokens exceeds"),
        (dict(sram_bytes=64), "sram_bytes: 64 is too small for one flash tile"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ConfigError) as err:
            build_graph(spec, **kwargs)
        assert msg in str(err.value)
    with pytest.raises(Exception):
        Quant(scheme="W2A16")


def test_graph_is_fast(specs):
    import time
    t0 = time.perf_counter()
    g = build_graph(specs["deepseek-v3"], "prefill", 1, 32768, prefill_chunk=512, sram_bytes=228 * 1024)
    assert g.steps == 64 and len(g.groups) == 64 * 4
    assert time.perf_counter() - t0 < 5.0
