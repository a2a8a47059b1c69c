"""PNG plot of a latency vs injection-rate sweep (matplotlib, the style of :mod:`hwsim.report.plots`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hwsim.noc.sweep import SweepResult  # noqa: E402


def latency_curve(result: SweepResult, path: str | Path) -> Path:
    """Average and p99 packet latency against offered load, with the saturation throughput and the bounds."""
    path = Path(path)
    d = result.to_dict()
    pts = [p for p in d["points"] if p["avg_latency_cycles"] is not None]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    x = [p["injection_rate"] for p in pts]
    ax.plot(x, [p["avg_latency_cycles"] for p in pts], "o-", color="#4C72B0", label="average latency")
    ax.plot(x, [p["p99_latency_cycles"] for p in pts], "s--", color="#DD8452", label="p99 latency")
    over = [p for p in pts if p["saturated"]]
    if over:  # hollow rings: the network does not sustain these loads (latency grows with the run length)
        ax.scatter([p["injection_rate"] for p in over], [p["avg_latency_cycles"] for p in over], s=110,
                   facecolors="none", edgecolors="#C44E52", zorder=3, label="saturated point")
    ax.axvline(d["saturation_throughput"], color="#C44E52", linestyle=":",
               label=f"saturation throughput ({d['face']}): {d['saturation_throughput']:.3f}")
    if d["bisection_bound"] is not None:
        ax.axvline(d["bisection_bound"], color="gray", linestyle="-.", linewidth=1,
                   label=f"bisection bound: {d['bisection_bound']:.3f}")
    elif d["channel_bound"] != d["saturation_throughput"]:
        ax.axvline(d["channel_bound"], color="gray", linestyle="-.", linewidth=1,
                   label=f"channel-load bound: {d['channel_bound']:.3f}")
    if pts:
        zero = min(p["avg_latency_cycles"] for p in pts)
        ax.set_ylim(0, max(4 * zero, min(max(p["p99_latency_cycles"] for p in pts), 12 * zero)) * 1.05)
    ax.set_xlim(0, None)
    ax.set_xlabel("offered load (flits / node / cycle)")
    ax.set_ylabel("packet latency (cycles)")
    ax.set_title(f"{d['topology']} {d['size']}, {d['routing']}, {d['pattern']} traffic, {d['packet_flits']}-flit "
                 f"packets ({d['face']} face)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
