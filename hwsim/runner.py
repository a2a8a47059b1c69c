"""Runs a :class:`~hwsim.system.RunConfig`: every layer on the chosen face, then energy and area."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwsim.core import Clock, Tracer
from hwsim.power import gemm_energy, load_tech, unit_area
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

    def to_dict(self) -> dict:
        return {
            "name": self.layer.name, "m": self.layer.m, "n": self.layer.n, "k": self.layer.k,
            "count": self.layer.count, **self.stats.to_dict(), "energy": self.energy.to_dict(),
            "values_match_fl": self.values_match_fl, "wall_s": self.wall_s,
        }


@dataclass
class RunResult:
    config: RunConfig
    layers: list[LayerResult]
    area: object  # hwsim.power.AreaBreakdown
    freq_mhz: float  # actual frequency of the integer clock period
    warnings: list[str] = field(default_factory=list)
    clock: dict | None = None  # synthesis timing estimate: fmax_mhz, logic_depth, node

    def totals(self) -> dict:
        """Whole-workload figures (each layer weighted by its ``count``)."""
        cycles = sum(lr.stats.cycles * lr.layer.count for lr in self.layers)
        stall = sum(lr.stats.stall_cycles * lr.layer.count for lr in self.layers)
        macs = sum(lr.stats.macs * lr.layer.count for lr in self.layers)
        energy: dict[str, float] = {}
        for lr in self.layers:
            for comp, pj in lr.energy.components.items():
                energy[comp] = energy.get(comp, 0.0) + pj * lr.layer.count
        energy_pj = sum(energy.values())
        time_s = cycles / (self.freq_mhz * 1e6)
        pes = self.config.unit.rows * self.config.unit.cols
        return {
            "cycles": cycles, "stall_cycles": stall, "time_s": time_s, "macs": macs,
            "utilization": macs / (pes * cycles) if cycles else 0.0,
            "tops": 2 * macs / time_s / 1e12 if time_s else 0.0,
            "energy_pj": energy_pj, "energy_by_component_pj": energy,
            "average_power_w": energy_pj * 1e-12 / time_s if time_s else 0.0,
            "area_mm2": self.area.total_mm2,
        }

    def peak_memory_bytes_per_s(self) -> float | None:
        """Peak bandwidth of the memory feeding the unit (None: ideal supply, no roofline)."""
        if self.config.memory is not None:
            return self.config.memory.dram.config().peak_bandwidth_bytes_per_s
        port = self.config.unit.memory_port
        if port is None:
            return None
        return port.bandwidth_bytes_per_cycle * self.freq_mhz * 1e6

    def roofline(self) -> dict | None:
        """Each layer as a point: arithmetic intensity (ops per byte from memory) and achieved ops/s,
        under the roofs of peak compute (2 ops per MAC per PE per cycle) and peak memory bandwidth."""
        peak_bw = self.peak_memory_bytes_per_s()
        if peak_bw is None:
            return None
        peak_ops = 2 * self.config.unit.rows * self.config.unit.cols * self.freq_mhz * 1e6
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
            "roofline": self.roofline(),
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
    results: list[LayerResult] = []
    warnings: list[str] = []
    for i, layer in enumerate(layers):
        t0 = time.perf_counter()
        match = None
        if cfg.face == "cl":
            rng = np.random.default_rng(cfg.seed + i)
            a = unit.pe.random_operands((layer.m, layer.k), rng)
            b = unit.pe.random_operands((layer.k, layer.n), rng)
            run = simulate_gemm_cl(unit, a, b, trace=tracer, offchip=cfg.memory)
            c, stats = run.c, run.stats
            match = bool(np.array_equal(c, gemm_fl(unit, a, b)))
            if tracer is not None:
                tracer.offset_ps += stats.cycles * period_ps
        else:
            stats = gemm_cost(unit, layer.m, layer.n, layer.k, accounting=cfg.accounting, offchip=cfg.memory)
        warnings += [f"{layer.name}: {w}" for w in stats.warnings]
        results.append(LayerResult(layer, stats, gemm_energy(unit, stats, tech, dram), match, time.perf_counter() - t0))
        if progress is not None:
            progress(i + 1, len(layers), layer.name)
    area, clock = _area_and_clock(cfg, tech, warnings)
    return RunResult(cfg, results, area, 1e6 / period_ps, warnings, clock)


def _area_and_clock(cfg: RunConfig, tech, warnings: list[str]):
    """Table-based area, or (area_model: synthesis) the PE's synthesised area and clock limit."""
    unit = cfg.unit
    if cfg.area_model == "table":
        return unit_area(unit, tech), None
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


def _rel(base: Path, p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else base / path
