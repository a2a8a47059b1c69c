"""What ``hwsim noc ...`` does, kept out of :mod:`hwsim.cli` (which only declares the options)."""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import ValidationError
from rich.table import Table

from hwsim.errors import ConfigError, format_validation_error
from hwsim.noc.config import NocConfig, TrafficConfig
from hwsim.noc.sweep import SweepResult, sweep

# config field -> CLI flag, so errors name what the user typed
_FLAGS = {
    "topology": "--topology", "size": "--size", "routing": "--routing", "vcs": "--vcs",
    "vc_buffer_flits": "--buffer-flits", "router_cycles": "--router-cycles", "link_cycles": "--link-cycles",
    "flit_bytes": "--flit-bytes", "pattern": "--pattern", "packet_flits": "--packet-flits",
    "hotspot_nodes": "--hotspot-nodes", "hotspot_fraction": "--hotspot-fraction", "seed": "--seed",
}


def _flag_lines(err: ValidationError) -> list[str]:
    lines = []
    for line in format_validation_error(err):
        path, _, rest = line.partition(": ")
        field = path.split(".")[0].split("[")[0]
        lines.append(f"{_FLAGS.get(field, path)}: {rest}")
    return lines


def parse_rates(text: str | None) -> list[float] | None:
    """``"0.05,0.1,0.2"`` -> floats in (0, 1] (offered loads, flits/node/cycle); None -> None (default rates)."""
    if text is None:
        return None
    rates, problems = [], []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            problems.append(f"--rates: {part!r} is not a number (give comma-separated flits/node/cycle, e.g. "
                            f"0.05,0.1), got {text!r}")
            continue
        if not (math.isfinite(value) and 0 < value <= 1):
            problems.append(f"--rates: every rate must be in (0, 1] flits/node/cycle, got {part}")
            continue
        rates.append(value)
    if problems:
        raise ConfigError(problems)
    if not rates:
        raise ConfigError(f"--rates: give at least one rate, got {text!r}")
    return rates


def configs_from_flags(topology: str, size: str, routing: str, pattern: str, vcs: int, buffer_flits: int,
                       router_cycles: int, link_cycles: int, packet_flits: int, hotspot_nodes: str | None,
                       hotspot_fraction: float, seed: int, rates: str | None = None,
                       ) -> tuple[NocConfig, TrafficConfig, list[float] | None]:
    """Both configs and the rate list from CLI values; every problem is reported at once, named by its flag."""
    problems: list[str] = []
    rate_list = None
    try:
        rate_list = parse_rates(rates)
    except ConfigError as e:
        problems += e.problems
    noc = traffic = None
    try:
        noc = NocConfig(topology=topology, size=size, routing=routing, vcs=vcs, vc_buffer_flits=buffer_flits,
                        router_cycles=router_cycles, link_cycles=link_cycles)
    except ValidationError as e:
        problems += _flag_lines(e)
    hot: tuple[int, ...] = (0,)
    if hotspot_nodes is not None:
        try:
            hot = tuple(int(x) for x in hotspot_nodes.split(","))
        except ValueError:
            problems.append(f"--hotspot-nodes: give comma-separated node ids, got {hotspot_nodes!r}")
    try:
        traffic = TrafficConfig(pattern=pattern, packet_flits=packet_flits, hotspot_nodes=hot,
                                hotspot_fraction=hotspot_fraction, seed=seed)
    except ValidationError as e:
        problems += _flag_lines(e)
    if noc is not None and traffic is not None:
        if pattern == "transpose" and noc.cols != noc.rows:
            problems.append(f"--pattern: 'transpose' needs a square network, got --size {size}")
        bad = [h for h in traffic.hotspot_nodes if h >= noc.nodes]
        if pattern == "hotspot" and bad:
            problems.append(f"--hotspot-nodes: node ids must be in [0, {noc.nodes}), got {bad[0]}")
    if problems:
        raise ConfigError(problems)
    return noc, traffic, rate_list


def run_sweep(noc: NocConfig, traffic: TrafficConfig, rates: list[float] | None, face: str, warmup: int,
              measure: int, progress: Callable[[int, int, str], None] | None = None) -> SweepResult:
    problems = [f"--{name}: must be an integer >= {lo}, got {v}" for name, v, lo in
                (("warmup", warmup, 0), ("measure", measure, 1)) if v < lo]
    if problems:
        raise ConfigError(problems)
    return sweep(noc, traffic, rates, face=face, warmup_cycles=warmup, measure_cycles=measure, progress=progress)


def _num(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def sweep_table(result: SweepResult) -> Table:
    d = result.to_dict()
    t = Table(title=f"{d['topology']} {d['size']}, {d['routing']} routing, {d['pattern']} traffic, "
                    f"{d['packet_flits']}-flit packets ({d['face']} face)")
    for col in ("offered", "accepted", "avg lat", "p50", "p95", "p99", "max link util", "saturated"):
        t.add_column(col, justify="right")
    for p in d["points"]:
        t.add_row(f"{p['injection_rate']:.4g}", f"{p['accepted_throughput']:.4f}", _num(p["avg_latency_cycles"], ".2f"),
                  _num(p["p50_latency_cycles"], ".1f"),
                  _num(p["p95_latency_cycles"], ".1f"), _num(p["p99_latency_cycles"], ".1f"),
                  f"{p['max_link_utilisation']:.3f}", "yes" if p["saturated"] else "")
    return t


def sweep_summary(result: SweepResult) -> str:
    d = result.to_dict()
    text = (f"rates and throughputs in flits/node/cycle, latencies in cycles. Saturation throughput "
            f"({d['face']} face): {d['saturation_throughput']:.4f}")
    if d["face"] == "cl":
        text += (f" (largest stable load; unstable at {d['saturation_upper']:.4f}; accepted under overload "
                 f"{d['aggregate_saturation_throughput']:.4f})")
    text += f"; channel-load bound {d['channel_bound']:.4f}"
    if d["bisection_bound"] is not None:
        text += f"; bisection bound {d['bisection_bound']:.4f}"
    return text
