"""HBM / DRAM model: config and presets, address mapping, a cycle-level (CL) FR-FCFS controller face,
an analytical cost face, energy per action, and a traffic bench.

>>> from hwsim.memory.dram import load_preset
>>> load_preset("hbm3").peak_bandwidth_bytes_per_s / 1e9
819.2
"""

from hwsim.memory.dram.config import (
    DEFAULT_MAPPING, DramConfig, DramEnergy, DramTiming, TimingCycles, TimingSpec, load_config, load_preset,
    parse_config, preset_names,
)
from hwsim.memory.dram.cost import DramCost, TrafficPattern, dram_cost
from hwsim.memory.dram.energy import DramEnergyBreakdown, energy
from hwsim.memory.dram.mapping import AddressMapping, DramAddressError
from hwsim.memory.dram.system import DramSystem

__all__ = [
    "DEFAULT_MAPPING", "AddressMapping", "DramAddressError", "DramConfig", "DramCost", "DramEnergy",
    "DramEnergyBreakdown", "DramSystem", "DramTiming", "TimingCycles", "TimingSpec", "TrafficPattern",
    "dram_cost", "energy", "load_config", "load_preset", "parse_config", "preset_names",
]
