"""Area of the systolic unit: a roll-up of component areas from a technology table.

``PE = multiplier (input format) + adder (accumulator format) + registers``, times ``rows x cols``;
plus the A, B and C SRAMs at their configured capacities. Register rule: a PE holds two
input-width operand registers (WS/IS: the stationary operand and the forwarded streamed one; OS: the
two forwarded operands) and one accumulator-width partial-sum/accumulator register. Wiring, control,
clock tree and the memory port are not included. An approximate multiplier (integer formats) is
priced at the table's multiplier area times its synthesised transistor count over the exact one's
(:func:`hwsim.approx.energy.multiplier_area_ratio`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.power.tech import TechTable
from hwsim.systolic.config import SystolicConfig


@dataclass
class AreaBreakdown:
    """Area by component, in mm², and the area of one PE in µm²."""

    components: dict[str, float]
    pe_area_um2: float
    tech: str = ""

    @property
    def total_mm2(self) -> float:
        """Sum of the components, mm²."""
        return math.fsum(self.components.values())

    def to_dict(self) -> dict:
        return {"tech": self.tech, "components_mm2": dict(self.components), "pe_area_um2": self.pe_area_um2,
                "total_mm2": self.total_mm2}


def pe_register_bits(cfg: SystolicConfig) -> int:
    """Flip-flop bits in one PE: 2 x input width + accumulator width."""
    return 2 * cfg.pe.in_fmt.bits + cfg.pe.acc_fmt.bits


def unit_area(cfg: SystolicConfig, tech: TechTable, pe_area_um2: float | None = None) -> AreaBreakdown:
    """Area of the unit ``cfg`` (PE array and operand/result SRAMs) priced by ``tech``, mm².

    ``pe_area_um2`` replaces the table's multiplier + adder + register estimate of one PE, e.g. by the
    area Yosys synthesis gives the PE's RTL twin (``rtl.synth``)."""
    pes = cfg.rows * cfg.cols
    if pe_area_um2 is not None:
        components = {"pe_array (synthesis)": pes * pe_area_um2 * 1e-6}
        for op in ("a", "b", "c"):
            components[f"sram_{op}"] = tech.sram_area_mm2(cfg.sram.kib(op) * 1024)
        return AreaBreakdown(components=components, pe_area_um2=pe_area_um2, tech=tech.name)
    mult_um2 = tech.mult_area_um2(cfg.pe.input)
    if cfg.pe.multiplier.kind != "exact" and cfg.pe.in_fmt.is_int:
        from hwsim.approx.energy import multiplier_area_ratio

        mult_um2 *= multiplier_area_ratio(cfg.pe.multiplier, cfg.pe.input)
    add_um2 = tech.add_area_um2(cfg.pe.accumulator)
    reg_um2 = tech.register_area_um2(pe_register_bits(cfg))
    components = {
        "pe_multipliers": pes * mult_um2 * 1e-6,
        "pe_adders": pes * add_um2 * 1e-6,
        "pe_registers": pes * reg_um2 * 1e-6,
    }
    for op in ("a", "b", "c"):
        components[f"sram_{op}"] = tech.sram_area_mm2(cfg.sram.kib(op) * 1024)
    return AreaBreakdown(components=components, pe_area_um2=mult_um2 + add_um2 + reg_um2, tech=tech.name)
