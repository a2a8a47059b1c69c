"""PNG plots of a run: per-layer cycles (compute vs stall), utilisation and energy breakdown."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _names(layers: list[dict]) -> list[str]:
    return [f"{lay['name']}" + (f" x{lay['count']}" if lay["count"] > 1 else "") for lay in layers]


def _finish(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def layer_cycles(data: dict, path: Path) -> Path:
    layers = data["layers"]
    names = _names(layers)
    compute = [lay["compute_cycles"] for lay in layers]
    stall = [lay["stall_cycles"] for lay in layers]
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(layers) + 3), 4))
    x = range(len(layers))
    ax.bar(x, compute, label="compute (fill + stream + drain)", color="#4C72B0")
    ax.bar(x, stall, bottom=compute, label="stall (waiting for operands)", color="#DD8452")
    comm = [lay.get("comm_cycles", 0) for lay in layers]
    if any(comm):
        ax.bar(x, comm, bottom=[c + s for c, s in zip(compute, stall)], label="die-to-die communication",
               color="#8172B3")
    ax.set_xticks(list(x), names, rotation=45, ha="right")
    ax.set_ylabel("cycles per run of the layer")
    ax.set_title(f"{data['name']}: cycles per layer")
    ax.legend()
    return _finish(fig, path)


def utilization(data: dict, path: Path) -> Path:
    layers = data["layers"]
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(layers) + 3), 4))
    x = range(len(layers))
    ax.bar(x, [100 * lay["utilization"] for lay in layers], color="#55A868", label="utilisation")
    ax.plot(list(x), [100 * lay["mapping_efficiency"] for lay in layers], "o", color="#C44E52",
            label="mapping efficiency")
    ax.set_xticks(list(x), _names(layers), rotation=45, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of PEs")
    ax.set_title(f"{data['name']}: PE utilisation (MACs / PEs x cycles)")
    ax.legend()
    return _finish(fig, path)


def energy_breakdown(data: dict, path: Path) -> Path:
    layers = data["layers"]
    comps = list(data["totals"]["energy_by_component_pj"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(max(9, 0.6 * len(layers) + 6), 4),
                                  gridspec_kw={"width_ratios": [3, 1]})
    x = list(range(len(layers)))
    bottom = [0.0] * len(layers)
    colours = plt.cm.tab10.colors
    for ci, comp in enumerate(comps):
        vals = [lay["energy"]["components_pj"].get(comp, 0.0) * lay["count"] / 1e6 for lay in layers]
        ax.bar(x, vals, bottom=bottom, label=comp, color=colours[ci % 10])
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_xticks(x, _names(layers), rotation=45, ha="right")
    ax.set_ylabel("energy (µJ, all repetitions)")
    ax.set_title("energy by layer and component")
    ax.legend(fontsize=8)
    totals = data["totals"]["energy_by_component_pj"]
    whole = sum(totals.values()) or 1.0
    shares = [100 * totals[c] / whole for c in comps]
    ax2.barh(comps, shares, color=[colours[i % 10] for i in range(len(comps))])
    for y, v in enumerate(shares):
        ax2.text(v + 1, y, f"{v:.1f} %", va="center", fontsize=8)
    ax2.set_xlim(0, 115)
    ax2.invert_yaxis()
    ax2.set_xlabel("% of workload energy")
    ax2.set_title("whole workload")
    return _finish(fig, path)


def roofline(data: dict, path: Path) -> Path | None:
    """Log-log roofline: achieved ops/s of each layer against its arithmetic intensity."""
    rf = data.get("roofline")
    if not rf:
        return None
    import numpy as np

    pts = rf["layers"]
    finite = [p["intensity_ops_per_byte"] for p in pts if np.isfinite(p["intensity_ops_per_byte"])] or [rf["ridge_ops_per_byte"]]
    lo = min(min(finite), rf["ridge_ops_per_byte"]) / 4
    hi = max(max(finite), rf["ridge_ops_per_byte"]) * 4
    x = np.logspace(np.log10(lo), np.log10(hi), 200)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.loglog(x, np.minimum(rf["peak_ops_per_s"], x * rf["peak_bytes_per_s"]) / 1e12, color="black", linewidth=1.5,
              label=f"roof: {rf['peak_ops_per_s'] / 1e12:.3g} TOPS, {rf['peak_bytes_per_s'] / 1e9:.3g} GB/s")
    ax.axvline(rf["ridge_ops_per_byte"], color="gray", linestyle=":", linewidth=1)
    for p in pts:
        xi = p["intensity_ops_per_byte"] if np.isfinite(p["intensity_ops_per_byte"]) else hi
        colour = "#DD8452" if p["bound"] == "memory" else "#4C72B0"
        ax.scatter(xi, p["ops_per_s"] / 1e12, color=colour, zorder=3)
        ax.annotate(p["name"], (xi, p["ops_per_s"] / 1e12), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.scatter([], [], color="#DD8452", label="memory-bound layer")
    ax.scatter([], [], color="#4C72B0", label="compute-bound layer")
    ax.set_xlabel("arithmetic intensity (ops per byte from memory)")
    ax.set_ylabel("achieved TOPS")
    ax.set_title(f"{data['name']}: roofline")
    ax.legend(fontsize=8)
    return _finish(fig, path)




def power_over_time(data: dict, path: Path) -> Path | None:
    """Stacked power per component over time (face cl runs); nothing for the cost face."""
    pt = data.get("power_trace")
    if not pt:
        return None
    t = pt["time_us"]
    comps = [c for c, v in pt["watts"].items() if any(v)]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.stackplot(t, [pt["watts"][c] for c in comps], labels=comps, step="post")
    ax.set_xlabel("time (µs), layers back to back")
    ax.set_ylabel("power (W)")
    ax.set_title(f"{data['name']}: power over time ({pt['window_cycles']}-cycle windows)")
    ax.legend(fontsize=7, loc="upper right")
    return _finish(fig, path)


def area_breakdown(data: dict, path: Path) -> Path:
    """Area by component (mm²), largest first."""
    comps = sorted(data["area"]["components_mm2"].items(), key=lambda kv: -kv[1])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(comps) + 1.5))
    y = list(range(len(comps)))[::-1]
    ax.barh(y, [v for _, v in comps], color="#64B5CD")
    ax.set_yticks(y, [k for k, _ in comps], fontsize=8)
    ax.set_xlabel("area (mm²)")
    ax.set_title(f"{data['name']}: area by component, total {data['area']['total_mm2']:.3g} mm²")
    return _finish(fig, path)


PLOTS = {"layer_cycles.png": layer_cycles, "utilization.png": utilization, "energy_breakdown.png": energy_breakdown,
         "roofline.png": roofline, "power_over_time.png": power_over_time, "area_breakdown.png": area_breakdown}
