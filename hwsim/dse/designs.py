"""The chosen designs of a sweep, evaluated again in full for the report: for each objective, the best
design meeting every constraint (:func:`hwsim.dse.analysis.best_designs`), de-duplicated. Each is
re-run from its stored config (the cost faces, a fraction of a second) to get what the results table
does not keep: every op's roofline point, the latency split (compute / memory / communication, prefill
and decode), the energy by component and the area by component.

Figures: ``roofline.png`` (every design's roof and its ops), ``latency.png`` (stacked time per design),
``energy.png`` (stacked energy per output token by component) and ``area.png`` (stacked area by
component, :data:`hwsim.dse.space.AREA_PARTS`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from hwsim.dse import analysis
from hwsim.dse.spec import SweepSpec

MAX_DESIGNS = 6
COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]


def chosen_designs(rows: list[dict], spec: SweepSpec) -> list[tuple[str, dict]]:
    """``(why, row)`` for each objective's best feasible design, each design once (at most
    :data:`MAX_DESIGNS`)."""
    out, seen = [], {}
    for metric, per in analysis.best_designs(rows, spec).items():
        r = per.get("all constraints")
        if r is None:
            continue
        if r["key"] in seen:
            seen[r["key"]][0].append(metric)
            continue
        seen[r["key"]] = ([metric], r)
        out.append(seen[r["key"]])
    return [(f"best {', '.join(ms)}", r) for ms, r in out[:MAX_DESIGNS]]


def label(row: dict, spec: SweepSpec) -> str:
    return ", ".join(f"{p.label}={row[p.label]}" for p in spec.parameters)


def evaluate_full(row: dict, spec: SweepSpec, folder: str | Path) -> dict:
    """The serving result (``ServeResult.to_dict()``) of a stored row, re-run from its stored config."""
    from hwsim.dse.space import Space
    from hwsim.llm.serve import serve

    space = Space(spec, folder)
    sysm, model, cfg = space.build({}, resolved=json.loads(row["config"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return serve(model, sysm, cfg).to_dict()


def _fig_png(fig) -> bytes:
    from hwsim.dse.report import _fig_png as png

    return png(fig)


def figures(designs: list[tuple[str, dict, dict]], spec: SweepSpec) -> dict[str, bytes]:
    """``designs``: (why, row, full result) -> the four figures as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwsim.dse.space import AREA_PARTS, area_metrics
    from hwsim.llm.report import roofline_points

    out: dict[str, bytes] = {}
    names = [f"D{i + 1}" for i in range(len(designs))]
    # roofline: each design's roof and its ops (prefill o, decode s)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    xs_all = []
    for (why, row, d), name, color in zip(designs, names, COLORS):
        peak, bw = d["peak_flops"], d["peak_memory_bytes_per_s"]
        pts = [p for p in roofline_points(d, peak, bw) if np.isfinite(p["intensity"])]
        xs_all += [p["intensity"] for p in pts] + [peak / bw]
        for phase, marker in (("prefill", "o"), ("decode_first", "s")):
            sel = [p for p in pts if p["phase"] == phase]
            ax.scatter([p["intensity"] for p in sel], [p["flops_per_s"] for p in sel], marker=marker, s=14,
                       color=color, alpha=0.7, zorder=3)
    lo, hi = min(xs_all + [1.0]) / 2, max(xs_all) * 4
    grid = np.geomspace(lo, hi, 200)
    for (why, row, d), name, color in zip(designs, names, COLORS):
        peak, bw = d["peak_flops"], d["peak_memory_bytes_per_s"]
        ax.loglog(grid, np.minimum(peak, grid * bw), color=color, lw=1.2, label=f"{name}: {why}")
    ax.set_xlabel("arithmetic intensity (FLOP per HBM byte)")
    ax.set_ylabel("achieved FLOP/s (whole system)")
    ax.set_title("chosen designs on their rooflines (o prefill ops, s decode ops)")
    ax.legend(fontsize=7)
    out["roofline.png"] = _fig_png(fig)
    # latency: prefill and one decode step, each split into exposed compute / memory / communication
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 * len(designs) + 2), sharey=True)
    y = np.arange(len(designs))[::-1]
    for ax, phase, title in ((axes[0], "prefill", "time to first token (ms)"),
                             (axes[1], "decode", "time per output token (ms)")):
        parts = {"compute-bound": [], "memory-bound": [], "communication": []}
        for _, _, d in designs:
            ops = d["phases"]["prefill"]["ops"] if phase == "prefill" else \
                d["phases"]["decode_first"]["ops"] + d["phases"]["decode_last"]["ops"]
            w = 1.0 if phase == "prefill" else 0.5  # decode: mean of the first and last step
            comm = sum(o["comm_s"] for o in ops) * w
            comp = sum(o["time_s"] - o["comm_s"] for o in ops if o["bound"] == "compute") * w
            mem = sum(o["time_s"] - o["comm_s"] for o in ops if o["bound"] != "compute") * w
            parts["compute-bound"].append(comp * 1e3)
            parts["memory-bound"].append(mem * 1e3)
            parts["communication"].append(comm * 1e3)
        left = np.zeros(len(designs))
        for (lab, vals), color in zip(parts.items(), ("#4C72B0", "#DD8452", "#8172B3")):
            ax.barh(y, vals, left=left, color=color, label=lab)
            left += np.array(vals)
        ax.set_title(title, fontsize=9)
    axes[0].set_yticks(y, names)
    axes[1].legend(fontsize=7)
    fig.suptitle("latency of the chosen designs (ops' exposed time by what bounds them)", fontsize=10)
    out["latency.png"] = _fig_png(fig)
    # energy per output token by component; area by component
    comps = sorted({k for _, _, d in designs for k in d["energy_by_component_uj"]})
    per_token = [[d["energy_by_component_uj"].get(c, 0.0) / 1e3 / (d["batch"] * d["generate"]) for _, _, d in designs]
                 for c in comps]
    out["energy.png"] = _stacked(names, comps, per_token, plt.cm.tab20, "energy per output token (mJ)",
                                 "energy of the chosen designs by component")
    areas = [area_metrics(d["area"]) for _, _, d in designs]
    out["area.png"] = _stacked(names, [k.removesuffix("_mm2") for k in AREA_PARTS],
                               [[a[k] for a in areas] for k in AREA_PARTS], plt.cm.tab10, "package area (mm²)",
                               "area of the chosen designs by component")
    return out


def _stacked(names: list[str], labels: list[str], series: list[list[float]], cmap, xlabel: str, title: str) -> bytes:
    """Horizontal bars, one per design (``names``), stacked by ``series`` (one list per label; all-zero
    series left out)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 2))
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for i, (lab, vals) in enumerate(zip(labels, series)):
        vals = np.asarray(vals, dtype=float)
        if not vals.any():
            continue
        ax.barh(y, vals, left=left, label=lab, color=cmap(i % cmap.N))
        left += vals
    ax.set_yticks(y, names)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    return _fig_png(fig)
