"""The mapper: its closed form against the systolic cost face, the search against every candidate it
tried and against fixed alternatives, the vectorised search against the per-mapping evaluation,
SRAM fit, HBM bytes against the compulsory traffic, roofline sanity, vector ops, formats, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.llm import build_graph, load_model
from hwsim.llm.graph import Op
from hwsim.mapping import evaluate_mapping, load_system, map_op, search_candidates
from hwsim.mapping.mapper import (
    DATAFLOWS, ORDERS, compute_cycles_closed_form, die_context, footprint_bytes, loop_factors,
)
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

from .conftest import gemm_op, small_die

A100 = load_system("a100_like")


def test_closed_form_equals_cost_face():
    """The search's vectorised fold sum equals gemm_cost's compute cycles (the reference)."""
    rng = np.random.default_rng(1)
    for df, (rows, cols) in itertools.product(DATAFLOWS, [(8, 8), (4, 16), (32, 64)]):
        cfg = SystolicConfig(rows=rows, cols=cols, dataflow=df)
        shapes = [tuple(int(x) for x in rng.integers(1, 300, 3)) for _ in range(12)] + [(1, 1, 1), (rows, cols, 1)]
        for m, n, k in shapes:
            assert compute_cycles_closed_form(df, rows, cols, m, n, k) == gemm_cost(cfg, m, n, k).compute_cycles
        arr = np.array(shapes, dtype=np.int64)
        got = compute_cycles_closed_form(df, rows, cols, arr[:, 0], arr[:, 1], arr[:, 2])
        assert list(got) == [gemm_cost(cfg, *s).compute_cycles for s in shapes]


def test_loop_factors_by_hand():
    # m outer, n, k inner, all with several trips: A re-read per n tile, B per m tile, C once
    assert loop_factors("mnk", 3, 4, 5) == (4, 3, 1)
    # k outermost, n innermost: the A tile (m, k) stays across n (once); B (k, n) is re-read per m
    # tile; C is visited once per k tile (partial sums written and read back)
    assert loop_factors("kmn", 3, 4, 5) == (1, 3, 5)
    # one K tile: the k loop vanishes, so "mnk" keeps the A row panel on chip across n
    assert loop_factors("mnk", 3, 4, 1) == (1, 3, 1)
    assert loop_factors("nmk", 3, 4, 1) == (4, 1, 1)
    assert loop_factors("mnk", 1, 1, 1) == (1, 1, 1)


OPS = [gemm_op(64, 96, 80), gemm_op(1, 512, 1024), gemm_op(200, 48, 300, batch=3), gemm_op(33, 70, 130),
       gemm_op(16, 256, 64, batch=12)]


@pytest.mark.parametrize("op", OPS, ids=lambda o: f"{o.batch}x{o.m}x{o.n}x{o.k}")
@pytest.mark.parametrize("units, sram", [(1, 1 << 20), (4, 64 << 10), (6, 1 << 20)])
def test_choice_is_never_slower_than_any_candidate(op, units, sram):
    die = small_die(units=units, sram_bytes=sram)
    cands = search_candidates(op, die)
    best = map_op(op, die, tie_tolerance=0.0)
    assert best.mapping["candidates"] == len(cands)
    assert best.time_s <= min(c["time_s"] for c in cands) * (1 + 1e-12)
    # with the default tie tolerance: within 0.1 % of the fastest, and no more bytes than it
    tied = map_op(op, die)
    fastest = min(cands, key=lambda c: c["time_s"])
    assert tied.time_s <= fastest["time_s"] * (1 + 1e-3) + 1e-15
    assert tied.hbm_bytes <= fastest["hbm_bytes"]
    # fixed alternatives: every single dataflow and every single loop order
    for df in DATAFLOWS:
        assert best.time_s <= map_op(op, die, dataflows=(df,), tie_tolerance=0.0).time_s * (1 + 1e-12)
    for order in ORDERS:
        assert best.time_s <= map_op(op, die, orders=(order,), tie_tolerance=0.0).time_s * (1 + 1e-12)


@pytest.mark.parametrize("op", OPS[:4], ids=lambda o: f"{o.batch}x{o.m}x{o.n}x{o.k}")
def test_search_agrees_with_evaluation(op):
    """A sample of the vectorised search's candidates, re-evaluated one by one through gemm_cost:
    same compute cycles, same bytes, same time."""
    die = small_die(units=4, sram_bytes=256 << 10)
    cands = search_candidates(op, die)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(cands), size=min(40, len(cands)), replace=False):
        c = cands[i]
        ev = evaluate_mapping(op, die, dataflow=c["dataflow"], grid=c["grid"], tile=c["tile"], order=c["order"])
        assert ev.mapping["compute_cycles"] == c["compute_cycles"]
        assert ev.hbm_bytes == c["hbm_bytes"]
        assert ev.time_s == pytest.approx(c["time_s"], rel=1e-12)
        assert ev.mapping["sram_footprint_bytes"] <= die.sram_bytes


def test_evaluation_pieces_sum_to_compute_cycles():
    die = small_die(units=6, sram_bytes=64 << 10)
    c = map_op(gemm_op(200, 48, 300, batch=3), die)
    ctx = die_context(die)
    total = 0
    for p in c.mapping["pieces"]:
        cfg = ctx.unit_config(c.mapping["dataflow"], "bf16")
        total += p["steps"] * p["batch"] * gemm_cost(cfg, p["m"], p["n"], p["k"]).compute_cycles
    assert total == c.mapping["compute_cycles"]
    assert c.compute_s == pytest.approx(total / 1e9)


def _gpt3_ops(phase):
    spec = load_model("gpt3-175b")
    seq = 2048 if phase == "prefill" else 2047
    return [op for _, op in build_graph(spec, phase, 4 if phase == "decode" else 1, seq,
                                         sram_bytes=A100.die.sram_bytes).ops()]


@pytest.mark.parametrize("name", ["a100_like", "h100_like", "tpuv4_like", "chiplet4"])
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_tiles_fit_and_traffic_is_at_least_compulsory(name, phase):
    die = load_system(name).die
    for op in _gpt3_ops(phase):
        c = map_op(op, die)
        assert c.time_s == pytest.approx(max(c.compute_s, c.memory_s) + c.fill_s)
        assert c.bound == ("compute" if c.compute_s >= c.memory_s else "memory")
        assert set(c.energy_pj) == {"mac", "sram", "dram", "vector"} and all(v >= 0 for v in c.energy_pj.values())
        if not op.is_gemm:
            continue
        m = c.mapping
        assert m["sram_footprint_bytes"] <= die.sram_bytes
        assert m["sram_footprint_bytes"] + 1 >= (footprint_bytes(m["tb"], m["tm"], m["tn"], m["tk"],
                                                            2, op.weight_bytes / (op.batch * op.k * op.n)
                                                            if op.kind == "gemm" else 2))
        assert c.hbm_bytes >= m["compulsory_bytes"]
        assert m["units_used"] <= die.units
        assert c.energy_pj["mac"] > 0


def test_traffic_equals_compulsory_when_everything_fits():
    die = small_die(units=4, sram_bytes=8 << 20)
    for op in OPS:
        c = map_op(op, die)
        compulsory = op.act_in_bytes + op.weight_bytes + op.act_out_bytes
        assert c.mapping["compulsory_bytes"] == compulsory
        assert c.hbm_bytes == compulsory
    # and a tiny SRAM forces re-reads
    tight = map_op(gemm_op(256, 256, 256), small_die(units=4, sram_bytes=16 << 10))
    assert tight.hbm_bytes > 3 * 256 * 256 * 2


def test_big_gemm_is_compute_bound():
    op = next(o for o in _gpt3_ops("prefill") if o.name == "fc")
    c = map_op(op, A100.die)
    assert c.bound == "compute"
    ideal = op.flops / A100.peak_flops("bf16")
    assert ideal <= c.compute_s <= ideal / 0.85  # the array keeps >= 85 % of its peak on a 2048-token GEMM


@pytest.mark.parametrize("name", ["a100_like", "h100_like", "tpuv4_like"])
def test_gemv_is_memory_bound_at_sustained_bandwidth(name):
    die = load_system(name).die
    op = next(o for o in _gpt3_ops("decode") if o.name == "qkv_proj").model_copy(
        update={"m": 1, "act_in_bytes": 12288 * 2, "act_out_bytes": 36864 * 2})
    c = map_op(op, die)
    assert c.bound == "memory"
    sustained = die_context(die).mem.bytes_per_s
    assert 0.9 * die.memory_bandwidth_bytes_per_s() <= sustained <= die.memory_bandwidth_bytes_per_s()
    assert c.time_s == pytest.approx(op.weight_bytes / sustained, rel=0.05)


def test_attention_traffic_is_the_graphs():
    """Attention products add no re-reads to the graph's own K/V/S/P traffic."""
    for op in _gpt3_ops("decode") + _gpt3_ops("prefill"):
        if op.kind == "attention_score":
            assert map_op(op, A100.die).hbm_bytes == op.act_in_bytes + op.kv_read_bytes + op.scratch_bytes
        if op.kind == "attention_context":
            p = op.batch * op.m * op.k * 2
            assert map_op(op, A100.die).hbm_bytes == (op.act_in_bytes - p + op.kv_read_bytes + op.scratch_bytes
                                                      + op.act_out_bytes)


def test_vector_op_by_hand():
    op = Op(name="input_norm", kind="norm", elements=2048 * 12288, flops=4 * 2048 * 12288,
            weight_bytes=12288 * 2, act_in_bytes=2048 * 12288 * 2, act_out_bytes=2048 * 12288 * 2)
    c = map_op(op, A100.die)
    ctx = die_context(A100.die)
    assert c.compute_s == pytest.approx(op.flops / (6912 * 1410e6))
    nbytes = op.weight_bytes + op.act_in_bytes + op.act_out_bytes
    assert c.hbm_bytes == nbytes and c.memory_s == pytest.approx(nbytes / ctx.mem.bytes_per_s)
    assert c.fill_s == pytest.approx(ctx.mem.latency_s)
    assert c.energy_pj["vector"] == pytest.approx(op.flops * (0.9 + 3.7) / 2)  # horowitz45 fp32 add, mult
    # a gather has no arithmetic but moves each element once; fused ops keep their tensors on chip
    gather = Op(name="moe_dispatch", kind="elementwise", elements=1000, act_in_bytes=2000, act_out_bytes=2000)
    assert map_op(gather, A100.die).mapping["ops"] == 1000
    fused = Op(name="attn_softmax", kind="softmax", elements=1000, flops=5000, act_in_bytes=2000,
               act_out_bytes=2000, fusion="flash_attention")
    assert map_op(fused, A100.die).hbm_bytes == 0
    override = A100.die.model_copy(update={"vector": A100.die.vector.model_copy(update={"ops_per_element": {"norm": 10}})})
    assert map_op(op, override).compute_s == pytest.approx(10 * op.elements / (6912 * 1410e6))


def test_format_rates_and_fallback():
    op16 = gemm_op(2048, 4096, 4096)
    op8 = gemm_op(2048, 4096, 4096, fmt="int8")
    opf8 = gemm_op(2048, 4096, 4096, fmt="fp8")
    c16, c8, cf8 = (map_op(o, A100.die) for o in (op16, op8, opf8))
    assert c8.mapping["macs_per_pe_per_cycle"] == 2 and c16.mapping["macs_per_pe_per_cycle"] == 1
    assert c8.compute_s < 0.6 * c16.compute_s  # two MACs per PE per cycle
    assert cf8.mapping["format"] == "bf16" and "fp8" in cf8.mapping["warnings"][0]
    h100 = load_system("h100_like").die
    hf8 = map_op(opf8, h100)
    assert hf8.mapping["format"] == "fp8" and not hf8.mapping["warnings"]
    no16 = small_die(formats={"bf16": 1}).model_copy(update={"formats": {"int8": 1}})
    with pytest.raises(ConfigError, match="no 2-byte format to fall back to"):
        no16.resolve_format("fp8")


def test_memo_and_names():
    op = gemm_op(64, 96, 80, name="first")
    a = map_op(op, A100.die)
    b = map_op(op.model_copy(update={"name": "second"}), A100.die)
    assert (a.name, b.name) == ("first", "second") and a.time_s == b.time_s
    b.mapping["tm"] = -1  # callers may edit what they get
    assert map_op(op, A100.die).mapping["tm"] != -1
    d = a.to_dict()
    assert d["name"] == "first" and d["mapping"]["engine"] == "systolic"


def test_errors():
    op = gemm_op(64, 96, 80)
    with pytest.raises(ConfigError, match="dataflows: unknown 'xs'; allowed: os, ws, is"):
        map_op(op, A100.die, dataflows=("xs",))
    with pytest.raises(ConfigError, match="orders: unknown 'mmk'"):
        map_op(op, A100.die, orders=("mmk",))
    with pytest.raises(ConfigError, match=r"tile\[1\]: must be in 1..64, got 65"):
        evaluate_mapping(op, A100.die, dataflow="ws", grid=(1, 1, 1), tile=(1, 65, 16, 16), order="mnk")
    with pytest.raises(ConfigError, match="grid: 1 x 16 x 16 units exceeds the die's 108 units"):
        evaluate_mapping(op, A100.die, dataflow="ws", grid=(1, 16, 16), tile=(1, 64, 96, 80), order="mnk")
    tiny = small_die(sram_bytes=1024)
    with pytest.raises(ConfigError, match="die.sram_bytes: 1024 is too small for the smallest tile of g"):
        map_op(gemm_op(64, 96, 80), tiny)
    with pytest.raises(ConfigError, match="tie_tolerance"):
        map_op(op, A100.die, tie_tolerance=-1)


def test_whole_graph_maps_quickly_enough_to_be_usable():
    """Not a timing test: the GPT-3 graphs map with a bounded number of candidates per op."""
    for op in _gpt3_ops("prefill"):
        if op.is_gemm:
            assert map_op(op, A100.die).mapping["candidates"] < 200_000
    assert math.isfinite(sum(map_op(op, A100.die).time_s for op in _gpt3_ops("decode")))
