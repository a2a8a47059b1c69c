"""Report of one serving scenario: ``report.json``, ``report.md`` and plots (roofline of the operators,
stacked latency breakdown per operator, energy by component), written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

from hwsim.report.atomic import write_atomically

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _finish(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def roofline_points(data: dict, peak_flops: float, peak_bw: float) -> list[dict]:
    """Each op of each phase as a roofline point: FLOP per HBM byte and achieved FLOP/s per die group."""
    pts = []
    for phase in ("prefill", "decode_first"):
        for o in data["phases"][phase]["ops"]:
            if not o["flops"] or not o["time_s"]:
                continue
            ai = o["flops"] / o["hbm_bytes"] if o["hbm_bytes"] else float("inf")
            pts.append({"phase": phase, "op": o["name"], "group": o["group"], "intensity": ai,
                        "flops_per_s": o["flops"] / o["time_s"], "bound": o["bound"]})
    return pts


def plot_roofline(data: dict, path: Path) -> None:
    peak, bw = data["peak_flops"], data["peak_memory_bytes_per_s"]
    pts = roofline_points(data, peak, bw)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [p["intensity"] for p in pts if p["intensity"] != float("inf")]
    lo, hi = (min(xs + [1.0]) / 2, max(xs + [peak / bw]) * 4)
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.loglog(grid, [min(peak, x * bw) for x in grid], color="black", label="roof (peak FLOP/s, HBM bandwidth)")
    for phase, marker, color in (("prefill", "o", "#4C72B0"), ("decode_first", "s", "#DD8452")):
        sel = [p for p in pts if p["phase"] == phase and p["intensity"] != float("inf")]
        ax.scatter([p["intensity"] for p in sel], [p["flops_per_s"] for p in sel], marker=marker, color=color,
                   label=phase.replace("_first", ""), zorder=3)
    ax.set_xlabel("arithmetic intensity (FLOP per HBM byte)")
    ax.set_ylabel("achieved FLOP/s (whole system)")
    ax.set_title(f"{data['model']} on {data['system']}: operators on the roofline")
    ax.legend(fontsize=8)
    _finish(fig, path)


def plot_breakdown(data: dict, path: Path, top: int = 16) -> None:
    rows = data["breakdown"][:top]
    names = [f"{r['group']}.{r['op']}" for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    y = list(range(len(rows)))[::-1]
    left = [0.0] * len(rows)
    # exposed time: communication, then the larger of compute and memory (the op's bound)
    parts = [("compute-bound", [r["time_s"] - r["comm_s"] if r["bound"] == "compute" else 0 for r in rows], "#4C72B0"),
             ("memory-bound", [r["time_s"] - r["comm_s"] if r["bound"] == "memory" else 0 for r in rows], "#DD8452"),
             ("communication", [r["comm_s"] for r in rows], "#8172B3")]
    for label, vals, color in parts:
        ax.barh(y, [v * 1e3 for v in vals], left=[x * 1e3 for x in left], label=label, color=color)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("time over the request (ms): prefill + all decode steps")
    ax.set_title("latency by operator")
    ax.legend(fontsize=8)
    _finish(fig, path)


def plot_energy(data: dict, path: Path) -> None:
    comps = data["energy_by_component_uj"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(list(comps), [v / 1e3 for v in comps.values()], color="#55A868")
    ax.set_ylabel("energy (mJ) over the request")
    ax.set_title("energy by component")
    ax.tick_params(axis="x", rotation=30)
    _finish(fig, path)


def power_timeline(data: dict) -> tuple[list[float], list[float], list[str]]:
    """Average power of each op in execution order: the prefill's ops, then one mean decode step
    (cost faces: energy / time of each op instance; ms from the request's start)."""
    t, starts, watts, names = 0.0, [], [], []
    for phase in ("prefill", "decode_first"):
        for o in data["phases"][phase]["ops"]:
            if o["time_s"] <= 0:
                continue
            starts.append(t * 1e3)
            watts.append(sum(o["energy_pj"].values()) * 1e-12 / o["time_s"])
            names.append(f"{phase}:{o['group']}.{o['name']}")
            t += o["time_s"]
    return starts, watts, names


def plot_power(data: dict, path: Path) -> None:
    starts, watts, _ = power_timeline(data)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.step(starts, watts, where="post", color="#C44E52")
    ax.set_xlabel("time (ms): prefill, then one decode step")
    ax.set_ylabel("power (W)")
    ax.set_title("power over time, op by op (whole system, dynamic)")
    _finish(fig, path)


def render_markdown(d: dict) -> str:
    lines = [f"# {d['model']} on {d['system']}", "",
             f"Batch {d['batch']}, prompt {d['prompt']} tokens, {d['generate']} generated tokens, {d['quant']}, "
             f"parallelism tp={d['tp']} pp={d['parallel']['pp']} (micro-batches {d['parallel']['micro_batches']}).", "",
             "| metric | value |", "| --- | --- |",
             f"| time to first token | {d['ttft_ms']:.4g} ms |",
             f"| time per output token | {d['tpot_ms']:.4g} ms |",
             f"| throughput | {d['tokens_per_s']:.4g} tokens/s (decode alone {d['decode_tokens_per_s']:.4g}) |",
             f"| energy per output token | {d['energy_per_token_mj']:.4g} mJ |",
             f"| average power | {d['average_power_w']:.4g} W |",
             f"| utilisation (GEMM FLOPs / peak x time) | {100 * d['utilization']:.3g} % |",
             f"| KV cache | {d['kv_cache']['bytes_per_token']:,} B/token, max batch {d['kv_cache']['max_batch']:,} |",
             "", "## Roofline", "", "![roofline](roofline.png)", "",
             "## Latency by operator", "", "| op | time ms | compute ms | memory ms | comm ms | bound |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for r in d["breakdown"]:
        lines.append(f"| {r['group']}.{r['op']} | {r['time_s'] * 1e3:.4g} | {r['compute_s'] * 1e3:.4g} | "
                     f"{r['memory_s'] * 1e3:.4g} | {r['comm_s'] * 1e3:.4g} | {r['bound']} |")
    lines += ["", "![latency breakdown](breakdown.png)", "", "## Energy by component", "",
              "| component | mJ |", "| --- | ---: |"]
    for k, v in d["energy_by_component_uj"].items():
        lines.append(f"| {k} | {v / 1e3:.4g} |")
    lines += ["", "![energy](energy.png)", "", "## Power over time", "",
              "Each op's energy over its time, in execution order (prefill, then one mean decode step).", "",
              "![power over time](power.png)"]
    if d.get("area"):
        from hwsim.report.area import area_markdown

        c = d.get("clock") or {}
        clock = ([f"PE logic depth {c['logic_depth']} gates ({c['reason']}): fmax {c['fmax_mhz']:.0f} MHz at "
                  f"{c['technology']} (FO4 {c['fo4_ps']:g} ps); configured {c['freq_mhz']:g} MHz"
                  + (" — **above fmax**" if c.get("warning") else " — reachable") + "."]
                 if c.get("checked") else [f"Not checked: {c.get('reason', 'no clock data')}."])
        lines += [""] + area_markdown(d["area"], clock)
        lines.append(f"\nLeakage: {d['area']['leakage_w']:.4g} W (placed logic x the table's W/mm²), included in "
                     "the energy above as `leakage`.")
    if d.get("technology"):
        from hwsim.report.technology import technology_markdown

        lines += [""] + technology_markdown(d["technology"])
    if d["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in d["warnings"]]
    return "\n".join(lines) + "\n"


def write_serve_report(data: dict, out_dir: str | Path) -> Path:
    """Write the report folder (atomically); returns its path."""

    def fill(tmp: Path) -> None:
        (tmp / "report.json").write_text(json.dumps(data, indent=2))
        plot_roofline(data, tmp / "roofline.png")
        plot_breakdown(data, tmp / "breakdown.png")
        plot_energy(data, tmp / "energy.png")
        plot_power(data, tmp / "power.png")
        if data.get("area"):
            from hwsim.report.area import plot_die_area

            plot_die_area(data["area"], tmp / "die_area.png", f"{data['system']}")
        (tmp / "report.md").write_text(render_markdown(data))

    return write_atomically(out_dir, fill)
