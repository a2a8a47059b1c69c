"""Technology tables, energy per action and area roll-up.

Models count actions (:class:`hwsim.systolic.result.GemmStats`); a :class:`TechTable` prices them:

>>> from hwsim.power import load_tech, gemm_energy, unit_area
>>> tech = load_tech("horowitz45")
>>> round(tech.mac_energy_pj("int8", "int32"), 3)
0.3
"""

from hwsim.power.area import AreaBreakdown, pe_register_bits, unit_area
from hwsim.power.energy import EnergyBreakdown, gemm_energy, leakage_energy_pj
from hwsim.power.tech import TechTable, load_tech, packaged_tech, parse_tech

__all__ = [
    "AreaBreakdown", "EnergyBreakdown", "TechTable", "gemm_energy", "leakage_energy_pj", "load_tech", "packaged_tech",
    "parse_tech", "pe_register_bits", "unit_area",
]
