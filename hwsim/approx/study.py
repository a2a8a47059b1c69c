"""One row per design: error metrics, hardware cost (synthesis + switching energy) and application
accuracy (int8 GEMMs of LLM shapes, MiniLM sentence embeddings)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hwsim.approx.designs import Design
from hwsim.pe.formats import get_format
from hwsim.pe.metrics import error_metrics
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.fl import gemm_fl

# int8 GEMMs of LLM shapes (slices of Llama-2-7B layers, sized to run in seconds): name, M, N, K
LLM_SHAPES = [
    ("qkv_proj: 16 tokens x 512 of 4096 outputs, K=4096", 16, 512, 4096),
    ("ffn_down: 16 tokens x 256 of 4096 outputs, K=11008", 16, 256, 11008),
    ("attn_scores: 64 queries x 256 keys, head dim 128", 64, 256, 128),
]


def systolic_config(design: Design, fmt_name: str = "int8") -> SystolicConfig:
    acc = "int32" if get_format(fmt_name).bits <= 8 else "int64"
    return SystolicConfig(rows=8, cols=8, dataflow="ws",
                          pe={"input": fmt_name, "accumulator": acc, "multiplier": design.config().model_dump()})


def rtl_name(design: Design, fmt_name: str) -> str:
    return "mult_" + re.sub(r"[^A-Za-z0-9]+", "_", design.label).strip("_") + f"_{fmt_name}"


def metrics_row(design: Design, fmt_name: str, samples: int | None = None) -> dict:
    return error_metrics(design.multiplier(fmt_name), samples=samples, name=design.label).to_dict()


def quantize_int8(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Symmetric int8 quantisation (per tensor, or per slice along ``axis``), values in [-127, 127]."""
    peak = np.abs(x).max(axis=axis, keepdims=axis is not None)
    scale = np.where(peak > 0, peak / 127.0, 1.0)
    return np.clip(np.rint(x / scale), -127, 127).astype(np.int64)


def llm_operands(m: int, n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 activations (normal with 1% outliers x8, per-tensor scale) and weights (normal, per-output-
    channel scale), as an LLM's linear layer sees them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k))
    x[rng.random((m, k)) < 0.01] *= 8
    w = rng.standard_normal((k, n)) * 0.02
    return quantize_int8(x), quantize_int8(w, axis=0)


def gemm_accuracy(design: Design, seed: int = 0) -> dict:
    """Output SNR (dB) and relative error of int8 LLM-shaped GEMMs through the systolic FL face."""
    cfg = systolic_config(design)
    exact_cfg = systolic_config(Design("exact"))
    rows = []
    for i, (name, m, n, k) in enumerate(LLM_SHAPES):
        a, b = llm_operands(m, n, k, seed + i)
        exact = gemm_fl(exact_cfg, a, b).astype(np.float64)
        approx = gemm_fl(cfg, a, b).astype(np.float64)
        noise = float(((approx - exact) ** 2).sum())
        signal = float((exact ** 2).sum())
        rows.append({"gemm": name, "m": m, "n": n, "k": k,
                     "snr_db": math.inf if noise == 0 else 10 * math.log10(signal / noise),
                     "relative_error": math.sqrt(noise / signal) if signal else 0.0})
    finite = [r["snr_db"] for r in rows if math.isfinite(r["snr_db"])]
    return {"shapes": rows, "mean_snr_db": float(np.mean(finite)) if finite else math.inf,
            "mean_relative_error": float(np.mean([r["relative_error"] for r in rows]))}


def workload_operand_pairs(seed: int = 0, pes: int = 64, steps: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Operand sequences as weight-stationary PEs see them: each of ``pes`` PEs holds one int8 weight
    while ``steps`` int8 activations of its row stream past (LLM-like operands, as in gemm_accuracy)."""
    a, b = llm_operands(steps, pes, pes, seed)
    acts = np.concatenate([a[:, p] for p in range(pes)])
    weights = np.repeat(np.array([b[p, p] for p in range(pes)]), steps)
    return acts, weights


@dataclass
class CostOptions:
    node: str = "45nm"
    toggle_samples: int = 20000
    seed: int = 0


def hardware_cost(design: Design, fmt_name: str, opts: CostOptions, calibration_fj: float) -> dict:
    """Synthesis (cells, transistors, depth), area and fmax at the node, and switching energy per
    multiply: transistor-weighted toggles of the synthesised netlist (zero-delay) x the calibrated fJ
    per transistor toggle, for uniform random operands and (int8) for weight-stationary LLM operands.
    Also checks the synthesised netlist against the FL face on every 8-bit operand pair."""
    from rtl.multiplier import multiplier_rtl
    from rtl.synth.flow import synthesize
    from rtl.synth.nodes import load_nodes
    from rtl.synth.toggle import energy_per_operation_pj, gate_netlist, random_operand_patterns, toggle_activity

    fmt = get_format(fmt_name)
    name = rtl_name(design, fmt_name)
    syn = synthesize(multiplier_rtl(design.kind, fmt, design.params), name)
    nodes = load_nodes()
    netlist = gate_netlist(multiplier_rtl(design.kind, fmt, design.params), name)
    mask = (1 << fmt.bits) - 1
    mult = design.multiplier(fmt_name)
    if fmt.bits <= 8:
        vals = np.arange(fmt.min_int, fmt.max_int + 1, dtype=np.int64)
        a, b = (x.ravel() for x in np.meshgrid(vals, vals, indexing="ij"))
    else:
        rng = np.random.default_rng(opts.seed)
        a = rng.integers(fmt.min_int, fmt.max_int + 1, 50_000)
        b = rng.integers(fmt.min_int, fmt.max_int + 1, 50_000)
    out, _ = netlist.evaluate({"a": a & mask, "b": b & mask})
    width = len(netlist.outputs["p"])
    want = mult.multiply(a, b) & ((1 << width) - 1)
    mismatches = int(np.count_nonzero(out["p"].astype(np.int64) != want))

    fj = calibration_fj * nodes.toggle_energy_scale(opts.node)
    ra, rb = random_operand_patterns(fmt_name, opts.toggle_samples, opts.seed)
    energy_random = energy_per_operation_pj(toggle_activity(netlist, {"a": ra, "b": rb}), fj)
    energy_workload = None
    if fmt.bits <= 8:
        wa, wb = workload_operand_pairs(opts.seed)
        energy_workload = energy_per_operation_pj(toggle_activity(netlist, {"a": wa & mask, "b": wb & mask}), fj)
    return {
        "design": name, "cells": syn.cells, "flip_flops": syn.flip_flops, "transistors": syn.transistors,
        "logic_depth": syn.logic_depth, "node": opts.node, "area_um2": nodes.area_mm2(syn.transistors, opts.node) * 1e6,
        "fmax_mhz": nodes.fmax_mhz(syn.logic_depth, opts.node), "energy_pj_random": energy_random,
        "energy_pj_workload": energy_workload, "netlist_checked_pairs": int(a.size),
        "netlist_mismatches": mismatches, "exhaustive_check": fmt.bits <= 8,
    }


def minilm_accuracy(design: Design, sentences: int | None = None) -> dict:
    """all-MiniLM-L6-v2 with every nn.Linear as an int8 GEMM (per-token activation scales, per-channel
    weight scales) through the systolic FL face with this multiplier: cosine of each sentence embedding
    to the fp32 model's, and the paraphrase/unrelated separation."""
    from hwsim.llm.minilm import PARAPHRASE_PAIRS, Int8Linear, eval_sentences, similarity_report

    cfg = systolic_config(design)
    sents = eval_sentences()
    pairs = PARAPHRASE_PAIRS
    if sentences is not None:
        sents = sents[:sentences]
        pairs = tuple(p for p in pairs if max(p) < len(sents)) or ((0, 1),)
    rep = similarity_report(Int8Linear(lambda a, b: gemm_fl(cfg, a, b), activation_scale="token"), sents, pairs)
    return {"sentences": rep["n_sentences"], "mean_cosine": rep["cosine_mean"], "min_cosine": rep["cosine_min"],
            "p5_cosine": rep["cosine_p5"], "separation": rep["separation"], "fp32_separation": rep["fp32"]["separation"]}
