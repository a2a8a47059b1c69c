"""Runs a :class:`~hwsim.system.RunConfig`: every layer on the chosen face, then energy and area."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hwsim.core import Clock, Tracer
from hwsim.power import AreaBreakdown, EnergyBreakdown, gemm_energy, load_tech, unit_area
from hwsim.power.trace import power_trace
from hwsim.system import Layer, RunConfig, resolve_layers
from hwsim.systolic.cl import simulate_gemm_cl
from hwsim.systolic.cost import gemm_cost
from hwsim.systolic.fl import gemm_fl
from hwsim.systolic.result import GemmStats


@dataclass
class LayerResult:
    layer: Layer
    stats: GemmStats
    energy: object  # hwsim.power.EnergyBreakdown
    values_match_fl: bool | None  # CL face only: the simulated C equals the FL face's C
    wall_s: float
    comm: dict | None = None  # with a package: the split, dies used and the collective after the dies

    def to_dict(self) -> dict:
        return {
            "name": self.layer.name, "m": self.layer.m, "n": self.layer.n, "k": self.layer.k,
            "count": self.layer.count, **self.stats.to_dict(), "energy": self.energy.to_dict(),
            "values_match_fl": self.values_match_fl, "wall_s": self.wall_s, "comm": self.comm,
        }


@dataclass
class RunResult:
    config: RunConfig
    layers: list[LayerResult]
    area: object  # hwsim.power.AreaBreakdown
    freq_mhz: float  # actual frequency of the integer clock period
    warnings: list[str] = field(default_factory=list)
    clock: dict | None = None  # synthesis timing estimate: fmax_mhz, logic_depth, node
    package: dict | None = None  # with a package: its config, area and link figures
    power: dict | None = None  # face cl: power over time (hwsim.power.trace), layers back to back
    technology: list | None = None  # every technology number used, with its source
    die_area: dict | None = None  # hwsim.power.die: the die roll-up and package totals (mm²)

    def totals(self) -> dict:
        """Whole-workload figures (each layer weighted by its ``count``)."""
        cycles = sum(lr.stats.cycles * lr.layer.count for lr in self.layers)
        stall = sum(lr.stats.stall_cycles * lr.layer.count for lr in self.layers)
        comm = sum(lr.stats.comm_cycles * lr.layer.count for lr in self.layers)
        macs = sum(lr.stats.macs * lr.layer.count for lr in self.layers)
        energy: dict[str, float] = {}
        for lr in self.layers:
            for comp, pj in lr.energy.components.items():
                energy[comp] = energy.get(comp, 0.0) + pj * lr.layer.count
        energy_pj = sum(energy.values())
        time_s = cycles / (self.freq_mhz * 1e6)
        pes = self.config.unit.rows * self.config.unit.cols * self.config.dies
        return {
            "cycles": cycles, "stall_cycles": stall, "comm_cycles": comm, "time_s": time_s, "macs": macs,
            "dies": self.config.dies,
            "utilization": macs / (pes * cycles) if cycles else 0.0,
            "tops": 2 * macs / time_s / 1e12 if time_s else 0.0,
            "energy_pj": energy_pj, "energy_by_component_pj": energy,
            "average_power_w": energy_pj * 1e-12 / time_s if time_s else 0.0,
            "area_mm2": self.area.total_mm2,
        }

    def peak_memory_bytes_per_s(self) -> float | None:
        """Peak bandwidth of the memory feeding the unit(s) (None: ideal supply, no roofline); every die
        of a package has its own."""
        if self.config.memory is not None:
            return self.config.memory.dram.config().peak_bandwidth_bytes_per_s * self.config.dies
        port = self.config.unit.memory_port
        if port is None:
            return None
        return port.bandwidth_bytes_per_cycle * self.freq_mhz * 1e6 * self.config.dies

    def roofline(self) -> dict | None:
        """Each layer as a point: arithmetic intensity (ops per byte from memory) and achieved ops/s,
        under the roofs of peak compute (2 ops per MAC per PE per cycle) and peak memory bandwidth."""
        peak_bw = self.peak_memory_bytes_per_s()
        if peak_bw is None:
            return None
        peak_ops = 2 * self.config.unit.rows * self.config.unit.cols * self.freq_mhz * 1e6 * self.config.dies
        ridge = peak_ops / peak_bw
        points = []
        for lr in self.layers:
            st = lr.stats
            ops = 2 * st.macs
            moved = sum(st.port_bytes.values())
            seconds = st.cycles / (self.freq_mhz * 1e6)
            ai = ops / moved if moved else float("inf")
            points.append({
                "name": lr.layer.name, "ops": ops, "bytes": moved, "intensity_ops_per_byte": ai,
                "ops_per_s": ops / seconds if seconds else 0.0, "roof_ops_per_s": min(peak_ops, ai * peak_bw),
                "bound": "memory" if ai < ridge else "compute",
                "stall_fraction": st.stall_cycles / st.cycles if st.cycles else 0.0,
            })
        return {"peak_ops_per_s": peak_ops, "peak_bytes_per_s": peak_bw, "ridge_ops_per_byte": ridge,
                "layers": points}

    def to_dict(self) -> dict:
        return {
            "name": self.config.name, "config": self.config.model_dump(mode="json"),
            "freq_mhz": self.freq_mhz, "totals": self.totals(), "area": self.area.to_dict(),
            "layers": [lr.to_dict() for lr in self.layers], "warnings": self.warnings, "clock": self.clock,
            "roofline": self.roofline(), "package": self.package, "power_trace": self.power,
            "technology": self.technology, "die_area": self.die_area,
        }


def run_config(cfg: RunConfig, base_dir: Path, progress: Callable[[int, int, str], None] | None = None,
               tracer: Tracer | None = None) -> RunResult:
    """Evaluate every layer; ``progress(done, total, layer_name)`` is called after each layer.
    With the CL face and a ``tracer``, layers are traced one after another on one timeline."""
    layers = resolve_layers(cfg, base_dir)
    tech = load_tech(cfg.technology if not cfg.technology.endswith((".yaml", ".yml"))
                     else str(_rel(base_dir, cfg.technology)))
    unit = cfg.unit
    period_ps = Clock.period_from_mhz(unit.freq_mhz)
    dram = cfg.memory.dram.config() if cfg.memory is not None else None
    leak_area = None  # a die's logic that leaks: the unit and its NoC routers (None: no leakage)
    if cfg.leakage and tech.node is not None and tech.node.leakage_w_per_mm2 is not None:
        leak_area = unit_area(unit, tech).total_mm2
        if cfg.package is not None and cfg.package.noc is not None:
            from hwsim.noc.area import network_area

            leak_area += network_area(cfg.package.noc, tech).total_mm2
    energy_of = lambda st: gemm_energy(unit, st, tech, dram, leakage=leak_area is not None,  # noqa: E731
                                       area_mm2=leak_area)
    package = None  # for the collectives (topology and links); its area is the die roll-up's (_die_roll_up)
    if cfg.package is not None:
        package = cfg.package.package_config(unit_area(unit, tech).total_mm2, name=f"{cfg.name}_package").build()
    results: list[LayerResult] = []
    warnings: list[str] = []
    power_traces: list = []  # face cl: (layer, PowerTrace) on one timeline, layers back to back
    for i, layer in enumerate(layers):
        t0 = time.perf_counter()
        if cfg.package is not None:
            lr = _package_layer(cfg, layer, i, tech, dram, package, tracer, period_ps, energy_of)
            warnings += [f"{layer.name}: {w}" for w in lr.stats.warnings]
            lr.wall_s = time.perf_counter() - t0
            results.append(lr)
            if progress is not None:
                progress(i + 1, len(layers), layer.name)
            continue
        match = None
        if cfg.face == "cl":
            rng = np.random.default_rng(cfg.seed + i)
            a = unit.pe.random_operands((layer.m, layer.k), rng)
            b = unit.pe.random_operands((layer.k, layer.n), rng)
            run = simulate_gemm_cl(unit, a, b, trace=tracer, offchip=cfg.memory,
                                   activity_window=cfg.power_window_cycles)
            c, stats = run.c, run.stats
            match = bool(np.array_equal(c, gemm_fl(unit, a, b)))
            power_traces.append((layer.name, power_trace(unit, run, tech, dram, leakage_area_mm2=leak_area)))
            if tracer is not None:
                tracer.offset_ps += stats.cycles * period_ps
        else:
            stats = gemm_cost(unit, layer.m, layer.n, layer.k, accounting=cfg.accounting, offchip=cfg.memory)
        warnings += [f"{layer.name}: {w}" for w in stats.warnings]
        results.append(LayerResult(layer, stats, energy_of(stats), match, time.perf_counter() - t0))
        if progress is not None:
            progress(i + 1, len(layers), layer.name)
    area, clock = _area_and_clock(cfg, tech, warnings)
    area, die_area, pkg_info = _die_roll_up(cfg, tech, area, package, dram, warnings)
    if cfg.package is not None:
        _block_checks(cfg, tech, pkg_info, warnings)
    result = RunResult(cfg, results, area, 1e6 / period_ps, warnings, clock, pkg_info)
    result.die_area = die_area
    from hwsim.report.technology import technology_rows

    result.technology = technology_rows(tech, dram)
    if power_traces:
        result.power = _join_traces(power_traces, period_ps)
    return result


def _join_traces(traces, period_ps: int) -> dict:
    """Layers' power traces back to back on one timeline (each layer run once): window start times
    (µs), watts per component, and which layer each window belongs to."""
    comps = sorted({c for _, tr in traces for c in tr.energy_pj})
    t0, times, layers, watts = 0.0, [], [], {c: [] for c in comps}
    for name, tr in traces:
        w = tr.watts()
        n = len(tr.start_cycles)
        times += (t0 + tr.start_cycles * period_ps * 1e-6).tolist()
        layers += [name] * n
        for c in comps:
            watts[c] += (w[c].tolist() if c in w else [0.0] * n)
        t0 += tr.end_cycle * period_ps * 1e-6
    return {"window_cycles": traces[0][1].window_cycles, "time_us": times, "end_us": t0, "layer": layers,
            "watts": watts}


def _package_layer(cfg: RunConfig, layer: Layer, index: int, tech, dram, package, tracer, period_ps: int,
                   energy_of) -> LayerResult:
    """One layer split over the package's dies (:mod:`hwsim.parallel`): each distinct shard shape is
    evaluated once on the chosen face; time = slowest die + the collective (cost face: alpha-beta;
    CL face: the message-level simulation); energy = all dies + D2D links."""
    from hwsim.chiplet.run import run_collective
    from hwsim.parallel import assemble, collective_of, shards

    unit = cfg.unit
    parts = shards(layer.m, layer.n, layer.k, layer.split, cfg.dies)
    by_shape: dict[tuple[int, int, int], GemmStats] = {}
    match = None
    if cfg.face == "cl":
        rng = np.random.default_rng(cfg.seed + index)
        a = unit.pe.random_operands((layer.m, layer.k), rng)
        b = unit.pe.random_operands((layer.k, layer.n), rng)
        outputs = []
        for sh in parts:  # every die simulated: its own operands
            run = simulate_gemm_cl(unit, a[:, sh.k0 : sh.k1], b[sh.k0 : sh.k1, sh.n0 : sh.n1], offchip=cfg.memory)
            outputs.append((sh, run.c))
            by_shape.setdefault(sh.shape, run.stats)
        match = bool(np.array_equal(assemble(unit, outputs, layer.m, layer.n, layer.split), gemm_fl(unit, a, b)))
    else:
        for sh in parts:
            if sh.shape not in by_shape:
                by_shape[sh.shape] = gemm_cost(unit, *sh.shape, accounting=cfg.accounting, offchip=cfg.memory)
    die_stats = [by_shape[sh.shape] for sh in parts]
    slowest = max(die_stats, key=lambda st: st.cycles)
    energy: dict[str, float] = {}
    for st in die_stats:
        for comp, pj in energy_of(st).components.items():
            energy[comp] = energy.get(comp, 0.0) + pj
    need = collective_of(layer.m, layer.n, layer.split, unit)
    comm = {"split": layer.split, "dies_used": len(parts), "collective": None, "bytes": 0, "time_ps": 0,
            "cycles": 0, "energy_pj": 0.0}
    if need is not None:
        name, nbytes = need
        algo = cfg.package.allreduce if name == "allreduce" else None
        res = run_collective(name, package, nbytes, algo=algo, face="sim" if cfg.face == "cl" else "cost",
                             chunk_bytes=cfg.package.chunk_bytes)
        time_ps = float(res.time_ps)
        comm.update(collective=name, algo=res.algo, bytes=nbytes, link_time_ps=time_ps,
                    energy_pj=res.wire_bits * res.energy_pj_per_bit, algbw_gbps=res.algbw_gbps,
                    busbw_gbps=res.busbw_gbps)
        pk = cfg.package
        if pk.noc is not None:  # the die's NoC carries its D2D payload to/from the PHY, pipelined with the links
            from hwsim.parallel import die_noc_cycles

            per_die = math.ceil(res.hop_bytes / cfg.dies)
            leg = die_noc_cycles(pk.noc, pk.unit_node, pk.phy(), per_die, pk.noc_packet_bytes,
                                 face="cl" if cfg.face == "cl" else "cost")
            noc_ps = Clock.period_from_mhz(pk.noc.freq_mhz)
            time_ps = max(time_ps, leg["drain_cycles"] * noc_ps) + leg["leg_cycles"] * noc_ps
            comm.update(noc_bytes_per_die=per_die, noc_drain_ps=leg["drain_cycles"] * noc_ps,
                        noc_leg_ps=leg["leg_cycles"] * noc_ps, noc_hops=leg["hops"])
            if tech.node is not None:  # NoC energy: links, buffers and crossbars of the leg, both ways, every die
                from hwsim.noc.energy import transfer_energy_pj

                parts = transfer_energy_pj(pk.noc, tech, per_die, leg["hops"])
                comm["noc_energy_by_component_pj"] = {k: 2 * v * cfg.dies for k, v in parts.items()}
                comm["noc_energy_pj"] = sum(comm["noc_energy_by_component_pj"].values())
        comm.update(time_ps=time_ps, cycles=math.ceil(time_ps / period_ps))
    energy["d2d"] = comm["energy_pj"]
    for comp, pj in comm.get("noc_energy_by_component_pj", {}).items():
        energy[comp] = pj
    stats = replace(
        slowest, m=layer.m, n=layer.n, k=layer.k, cycles=slowest.cycles + comm["cycles"],
        comm_cycles=comm["cycles"], dies=cfg.dies, macs=sum(st.macs for st in die_stats),
        pe_busy_cycles=sum(st.pe_busy_cycles for st in die_stats), folds=sum(st.folds for st in die_stats),
        sram_reads=_sum_dicts(st.sram_reads for st in die_stats),
        sram_writes=_sum_dicts(st.sram_writes for st in die_stats),
        port_bytes=_sum_dicts(st.port_bytes for st in die_stats),
        dram=_sum_dicts(st.dram for st in die_stats) if slowest.dram is not None else None,
        warnings=sorted({w for st in die_stats for w in st.warnings}),
    )
    if tracer is not None:
        tracer.offset_ps += stats.cycles * period_ps
    return LayerResult(layer, stats, EnergyBreakdown(energy, tech.name), match, 0.0, comm)


def _sum_dicts(dicts) -> dict:
    out: dict = {}
    for d in dicts:
        for key, v in d.items():
            out[key] = out.get(key, 0) + v
    return out


def _package_info(cfg: RunConfig, compute_mm2: float, warnings: list[str]) -> dict:
    """The package built with each die's real area (``compute_mm2``: the die without its D2D PHYs), so
    that ``Package.area()``'s totals match the die roll-up and its shoreline-vs-perimeter check sees
    the real die; plus the topology and link figures."""
    pkg = cfg.package.package_config(compute_mm2, name=f"{cfg.name}_package").build()
    a = pkg.area()
    warnings += a["warnings"]
    link = pkg.link
    return {"dies": cfg.dies, "topology": pkg.topology.model_dump(mode="json"), "link": link.name,
            "link_bandwidth_gbps": link.bandwidth_gbps, "link_latency_ns": link.latency_ps / 1000,
            "energy_pj_per_bit": link.energy_pj_per_bit, "links": a["links"], "area": a,
            "allreduce": cfg.package.allreduce}


def _die_roll_up(cfg: RunConfig, tech, unit_bd, package, dram, warnings: list[str]):
    """The run's die (:func:`hwsim.power.die.die_area`: the unit, the die NoC's routers, the D2D PHYs
    and the memory section's host PHY, placed at the node's utilisation), the package total and the
    package info (:func:`_package_info`); the run's area breakdown becomes the package's components.
    ``package``: the run's built package (its D2D PHY areas do not depend on the die area)."""
    from hwsim.power.die import die_area, package_area

    noc_mm2 = 0.0
    if cfg.package is not None and cfg.package.noc is not None:
        from hwsim.noc.area import network_area

        noc_mm2 = network_area(cfg.package.noc, tech).total_mm2
    synth_pe = unit_bd.pe_area_um2 if cfg.area_model == "synthesis" else None
    rows = package.area()["dies"] if package is not None else []
    d2d = max((r["phy_mm2"] for r in rows), default=0.0)  # the busiest die (uniform topologies: every die)
    die = die_area(f"{cfg.name} die", unit_cfg=cfg.unit, units=1, tech=tech, noc_mm2=noc_mm2, d2d_phy_mm2=d2d,
                   dram=dram, pe_area_um2=synth_pe)
    pkg_info = _package_info(cfg, die.die_mm2 - d2d, warnings) if package is not None else None
    switch = ((pkg_info["area"].get("switch") or {}).get("area_mm2", 0.0)) if pkg_info else 0.0
    total = package_area([die], [cfg.dies], switch)
    return AreaBreakdown(total["components_mm2"], unit_bd.pe_area_um2, unit_bd.tech), total, pkg_info


def _block_checks(cfg: RunConfig, tech, pkg_info: dict, warnings: list[str]) -> None:
    """Clock and width checks of the package's blocks: the die NoC's router (fmax from synthesis at the
    table's FO4) and the D2D adapter (can the die side feed the link?)."""
    from hwsim.chiplet.adapter import package_adapter_check

    pk = cfg.package
    checks: dict = {}
    if pk.noc is not None and tech.node is not None:
        from hwsim.noc.area import router_timing

        checks["noc_router"] = router_timing(pk.noc, tech)
        if checks["noc_router"]["warning"]:
            warnings.append(checks["noc_router"]["warning"])
    checks["d2d_adapter"] = package_adapter_check(cfg)
    warnings += checks["d2d_adapter"]["warnings"]
    pkg_info["checks"] = checks


def _area_and_clock(cfg: RunConfig, tech, warnings: list[str]):
    """Table-based area, or (area_model: synthesis) the PE's synthesised area and clock limit."""
    unit = cfg.unit
    if cfg.area_model == "table":
        return unit_area(unit, tech), _table_clock(cfg, tech, warnings)
    from rtl.synth import load_nodes, synth_block

    nodes = load_nodes()
    nodes.node(cfg.node)
    syn = synth_block("pe", unit)
    fmax = nodes.fmax_mhz(syn.logic_depth, cfg.node)
    if unit.freq_mhz > fmax:
        warnings.append(f"unit.freq_mhz {unit.freq_mhz:g} is above the PE's estimated fmax {fmax:.0f} MHz at "
                        f"{cfg.node} (logic depth {syn.logic_depth} gates): the logic cannot run this fast unpipelined")
    clock = {"fmax_mhz": fmax, "logic_depth": syn.logic_depth, "node": cfg.node, "pe_transistors": syn.transistors,
             "pe_flip_flops": syn.flip_flops, "design": syn.design}
    return unit_area(unit, tech, pe_area_um2=nodes.area_mm2(syn.transistors, cfg.node) * 1e6), clock


def _table_clock(cfg: RunConfig, tech, warnings: list[str]) -> dict | None:
    """The PE's clock limit in the table area model (:func:`hwsim.power.clock.pe_clock`: its RTL twin's
    logic depth at the technology table's FO4); None when it cannot be checked (no RTL twin for float
    formats, or no node figures)."""
    from hwsim.power.clock import pe_clock

    clock = pe_clock(cfg.unit, tech)
    if not clock["checked"]:
        return None
    if clock["warning"]:
        warnings.append(clock["warning"])
    return clock


def _rel(base: Path, p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else base / path
