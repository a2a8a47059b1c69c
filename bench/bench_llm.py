"""LLM serving speed: how long hwsim takes to evaluate whole models (mapper search included).

Targets from the issue: GPT-3 175B on a 4-die system, prefill 2048 + decode 128 tokens, under 60 s on
(GPT-3 has 2048 positions, so the run here is a 1920-token prompt + 128 generated = 2048;
the cost is the same to within the attention terms) on a 2-core machine (LLMCompass reports 16 minutes
for a comparable study); one Llama-2-7B decode step
under 1 s. The baseline measured in the same run is the operator graph build alone (no mapping).

    python bench/bench_llm.py
"""

from __future__ import annotations

import time

from hwsim.llm.graph import build_graph
from hwsim.llm.model import load_model
from hwsim.llm.serve import ServeConfig, serve


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    cases = [
        ("gpt3-175b", "chiplet4", ServeConfig(batch=1, prompt=1920, generate=128, quant={"scheme": "W4A16"})),
        ("llama-2-7b", "h100_like", ServeConfig(batch=1, prompt=512, generate=1)),
        ("llama-2-70b", "chiplet4", ServeConfig(batch=8, prompt=1024, generate=128, quant={"scheme": "W8A8"})),
        ("deepseek-v3", "chiplet4", ServeConfig(batch=1, prompt=1024, generate=64, quant={"scheme": "W4A16"})),
    ]
    print(f"{'model':>12} {'system':>10} {'graph s':>8} {'serve s (cold)':>14} {'serve s (warm)':>14} "
          f"{'cold/graph':>10} {'TTFT ms':>9} {'TPOT ms':>8}")
    for model, system, cfg in cases:
        spec = load_model(model)
        g_s, _ = timed(lambda: [build_graph(spec, "prefill", cfg.batch, cfg.prompt, quant=cfg.quant),
                                build_graph(spec, "decode", cfg.batch, cfg.prompt, quant=cfg.quant),
                                build_graph(spec, "decode", cfg.batch, cfg.prompt + cfg.generate - 1, quant=cfg.quant)])
        cold, r = timed(lambda: serve(model, system, cfg))
        warm, _ = timed(lambda: serve(model, system, cfg))
        print(f"{model:>12} {system:>10} {g_s:8.3f} {cold:14.3f} {warm:14.3f} {cold / g_s:10.1f} "
              f"{r.ttft_s * 1e3:9.2f} {r.tpot_s * 1e3:8.3f}")


if __name__ == "__main__":
    main()
