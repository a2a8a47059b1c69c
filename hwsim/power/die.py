"""Floorplan-free die and package area: a roll-up of every block, placed at a utilisation factor.

``die_mm2 = placed_mm2 / utilization + hard_mm2`` where

* **placed** blocks are standard cells and SRAM macros whose areas come from the technology table and
  synthesis: the systolic units (PE arrays + their operand SRAMs, :func:`hwsim.power.area.unit_area`),
  the shared on-die SRAM (``sram_area_mm2``), the vector unit (``lanes`` x one fp32 multiplier + one
  fp32 adder) and the NoC routers (:func:`hwsim.noc.area.network_area`). Placement leaves gaps
  (routing channels, power grid, filler): ``utilization`` is the fraction of the placed region the
  blocks cover (default: the node table's placement utilisation, ``rtl.synth`` ``nodes.yaml``, 0.7);
* **hard** blocks are edge PHYs with their own footprint, not scaled by utilisation: the D2D PHYs
  (link count x the link's shoreline x depth, :mod:`hwsim.chiplet`) and the host memory PHYs
  (``hwsim/power/data/phy/memory_phy.yaml``, per HBM stack or DRAM channel).

A package sums its dies (and a switch die). Clock distribution, I/O pads other than the PHYs, and
interposer area are not included.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from hwsim.errors import ConfigError
from hwsim.power.area import unit_area
from hwsim.power.tech import TechTable


@dataclass
class DieArea:
    """One die's area: ``placed`` and ``hard`` blocks in mm², and the utilisation the placed ones get."""

    name: str
    placed: dict[str, float]
    hard: dict[str, float]
    utilization: float
    notes: list[str] = field(default_factory=list)

    @property
    def placed_mm2(self) -> float:
        """Sum of the placed blocks, mm²."""
        return math.fsum(self.placed.values())

    @property
    def hard_mm2(self) -> float:
        """Sum of the hard (edge PHY) blocks, mm²."""
        return math.fsum(self.hard.values())

    @property
    def placement_overhead_mm2(self) -> float:
        """Area the placement leaves between the placed blocks: ``placed x (1/utilization - 1)``, mm²."""
        return self.placed_mm2 * (1.0 / self.utilization - 1.0)

    @property
    def die_mm2(self) -> float:
        """``placed / utilization + hard``, mm²."""
        return self.placed_mm2 / self.utilization + self.hard_mm2

    def components(self) -> dict[str, float]:
        """Every block and the placement overhead, mm² (they add up to :attr:`die_mm2`)."""
        out = dict(self.placed)
        out["placement overhead"] = self.placement_overhead_mm2
        out.update(self.hard)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "placed_mm2": dict(self.placed), "hard_mm2": dict(self.hard),
                "utilization": self.utilization, "placement_overhead_mm2": self.placement_overhead_mm2,
                "logic_mm2": self.placed_mm2, "phy_mm2": self.hard_mm2, "die_mm2": self.die_mm2,
                "notes": list(self.notes)}


def package_area(dies: list[DieArea], counts: list[int] | None = None, switch_mm2: float = 0.0) -> dict[str, Any]:
    """Package totals: each die (times its count) plus a switch die, mm²."""
    counts = counts or [1] * len(dies)
    per_die = [{**d.to_dict(), "count": c} for d, c in zip(dies, counts)]
    total = math.fsum(d.die_mm2 * c for d, c in zip(dies, counts)) + switch_mm2
    comps: dict[str, float] = {}
    for d, c in zip(dies, counts):
        for k, v in d.components().items():
            comps[k] = comps.get(k, 0.0) + v * c
    if switch_mm2:
        comps["switch die"] = switch_mm2
    return {"dies": per_die, "switch_mm2": switch_mm2, "total_mm2": total, "components_mm2": comps,
            "silicon_dies": sum(counts) + (1 if switch_mm2 else 0)}


# --- inputs ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def memory_phy_table() -> dict[str, Any]:
    """The host memory PHY table (``hwsim/power/data/phy/memory_phy.yaml``)."""
    text = resources.files("hwsim.power").joinpath("data/phy/memory_phy.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def memory_phy(dram) -> dict[str, Any]:
    """Host PHY area of a DRAM config (``DramConfig``): ``{'instances', 'per', 'mm2_each', 'area_mm2',
    'source', 'rule'}``. HBM: one PHY per stack; DDR/LPDDR: one per channel of every stack/DIMM."""
    table = memory_phy_table()["interfaces"]
    entry = table.get(dram.name)
    if entry is None:
        raise ConfigError(f"memory.dram: no host PHY area for {dram.name!r} (known: {', '.join(table)}); "
                          "set memory_phy_mm2 to give one")
    n = dram.stacks if entry["per"] == "stack" else dram.stacks * dram.channels
    return {"instances": n, "per": entry["per"], "mm2_each": float(entry["area_mm2"]),
            "area_mm2": n * float(entry["area_mm2"]), "source": entry["source"], "rule": entry["rule"]}


def default_utilization() -> float:
    """The node table's placement utilisation (``rtl.synth`` ``nodes.yaml``)."""
    from rtl.synth.nodes import load_nodes

    return load_nodes().utilization.value


def vector_area_mm2(lanes: int, tech: TechTable) -> float:
    """A vector unit of ``lanes`` fp32 lanes: one fp32 multiplier + one fp32 adder per lane, mm²."""
    return lanes * (tech.mult_area_um2("fp32") + tech.add_area_um2("fp32")) * 1e-6


def die_area(name: str, *, unit_cfg, units: int, tech: TechTable, shared_sram_bytes: int = 0,
             vector_lanes: int = 0, noc_mm2: float = 0.0, d2d_phy_mm2: float = 0.0, dram=None,
             memory_phy_mm2: float | None = None, utilization: float | None = None,
             pe_area_um2: float | None = None) -> DieArea:
    """A die of ``units`` systolic units (``unit_cfg``) with its shared SRAM, vector unit, NoC and PHYs.

    ``pe_area_um2`` replaces the table's PE estimate (e.g. by synthesis); ``memory_phy_mm2`` replaces
    the memory PHY table (total for the die)."""
    util = default_utilization() if utilization is None else utilization
    if not 0 < util <= 1:
        raise ConfigError(f"utilization: must be in (0, 1], got {util!r}")
    unit = unit_area(unit_cfg, tech, pe_area_um2=pe_area_um2)
    placed = {f"units: {k}": units * v for k, v in unit.components.items()}
    if shared_sram_bytes:
        placed["shared SRAM"] = tech.sram_area_mm2(shared_sram_bytes)
    if vector_lanes:
        placed["vector unit"] = vector_area_mm2(vector_lanes, tech)
    if noc_mm2:
        placed["NoC routers"] = noc_mm2
    hard: dict[str, float] = {}
    notes = []
    if d2d_phy_mm2:
        hard["D2D PHYs"] = d2d_phy_mm2
    if memory_phy_mm2 is not None:
        hard["memory PHYs"] = memory_phy_mm2
        notes.append(f"memory PHYs: {memory_phy_mm2:g} mm2 as configured")
    elif dram is not None:
        m = memory_phy(dram)
        hard["memory PHYs"] = m["area_mm2"]
        notes.append(f"memory PHYs: {m['instances']} x {m['mm2_each']:g} mm2 per {m['per']} ({dram.name}; "
                     f"{m['source']}: {m['rule']})")
    return DieArea(name=name, placed=placed, hard=hard, utilization=util, notes=notes)
