"""Energy of a GEMM on the systolic unit: the unit's action counts priced by a technology table.

Nothing here models hardware behaviour: every term is a count from :class:`GemmStats` (or a fixed
per-action bit width from the config) times a :class:`TechTable` price.

Components (pJ):

* ``mac``: ``stats.macs`` x (multiply at the input format, scaled for an approximate multiplier by
  its toggle-estimated energy relative to the exact design, + add at the accumulator format).
* ``registers``: flip-flop bits written x energy per bit. Rule: every MAC writes one input-width
  register per *streamed* operand the PE passes on (WS/IS: 1, OS: 2) and one accumulator-width
  partial-sum register; every stationary word (WS: B, IS: A; counted by its SRAM reads) is written
  once into its PE's register. Shift hops while the stationary tile is loaded and while OS results
  drain are not counted.
* ``sram_a`` / ``sram_b`` / ``sram_c``: (reads + writes) words x bytes per word x pJ/byte of an
  SRAM of that operand's configured capacity (``cfg.sram.a_kib`` ...). A/B words are
  ``cfg.pe.in_fmt.bits`` wide (int4: half a byte), C words accumulator-wide.
* ``memory_port``: bytes over the memory port (``sum(stats.port_bytes.values())``) x DRAM pJ/byte
  of the technology table, when the unit has a simple memory port.
* ``dram_act_pre`` / ``dram_read`` / ``dram_write`` / ``dram_refresh`` / ``dram_background``: when
  the unit is fed from a DRAM/HBM model (``stats.dram`` set and ``dram`` given), its action counts
  priced by that device's own energy table (:func:`hwsim.memory.dram.energy.energy`; background power
  over the GEMM's time) instead of ``memory_port``.

* ``leakage`` (only with ``leakage=True``): the unit's area (:func:`hwsim.power.area.unit_area`, or
  ``area_mm2``) x the table's ``node.leakage_w_per_mm2`` x the GEMM's time (``stats.cycles`` at
  ``cfg.freq_mhz``), in pJ.

Not included: leakage unless asked for, clock tree, idle PEs, control, and the C results' trip back to DRAM (the stats
do not count it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hwsim.errors import ConfigError
from hwsim.power.tech import TechTable
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.dataflow import get_dataflow
from hwsim.systolic.result import GemmStats


@dataclass
class EnergyBreakdown:
    """Energy by component, in pJ, with the name of the technology table that priced it."""

    components: dict[str, float]
    tech: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def total_pj(self) -> float:
        """Sum of the components, pJ."""
        return math.fsum(self.components.values())

    def average_power_w(self, cycles: int, freq_mhz: float) -> float:
        """Average power over ``cycles`` clock cycles at ``freq_mhz``: energy / time, W."""
        if isinstance(cycles, bool) or not isinstance(cycles, (int, float)) or not cycles > 0:
            raise ConfigError(f"cycles: must be > 0 to average power over, got {cycles!r}")
        if isinstance(freq_mhz, bool) or not isinstance(freq_mhz, (int, float)) or not freq_mhz > 0:
            raise ConfigError(f"freq_mhz: must be > 0, got {freq_mhz!r}")
        seconds = cycles / (freq_mhz * 1e6)
        return self.total_pj * 1e-12 / seconds

    def to_dict(self) -> dict:
        return {"tech": self.tech, "components_pj": dict(self.components), "total_pj": self.total_pj,
                "warnings": list(self.warnings)}


def register_bits_written(cfg: SystolicConfig, stats: GemmStats) -> int:
    """Flip-flop bits written during the GEMM under the rule in the module docstring."""
    df = get_dataflow(cfg.dataflow)
    in_bits, acc_bits = cfg.pe.in_fmt.bits, cfg.pe.acc_fmt.bits
    per_mac = len(df.streamed) * in_bits + acc_bits
    stationary_words = stats.sram_reads[df.stationary] if df.stationary else 0
    return stats.macs * per_mac + stationary_words * in_bits


def _check_match(cfg: SystolicConfig, stats: GemmStats) -> None:
    mine = (cfg.rows, cfg.cols, cfg.dataflow)
    theirs = (stats.rows, stats.cols, stats.dataflow)
    if mine != theirs:
        raise ConfigError(f"gemm_energy: the stats are for a {theirs[0]}x{theirs[1]} {theirs[2]} array, "
                          f"the config describes a {mine[0]}x{mine[1]} {mine[2]} array")


def leakage_energy_pj(tech: TechTable, area_mm2: float, cycles: int, freq_mhz: float) -> float:
    """Leakage energy of ``area_mm2`` at ``tech`` over ``cycles`` at ``freq_mhz``: W/mm² x mm² x s, in pJ."""
    return tech.leakage_w(area_mm2) * cycles / (freq_mhz * 1e6) * 1e12


def gemm_energy(cfg: SystolicConfig, stats: GemmStats, tech: TechTable, dram=None, *, leakage: bool = False,
                area_mm2: float | None = None) -> EnergyBreakdown:
    """Energy of one GEMM (``stats`` from any face of the unit ``cfg``) priced by ``tech``, pJ.

    ``dram`` (a :class:`~hwsim.memory.dram.DramConfig`): the device that fed the unit; its energy table
    prices ``stats.dram``. ``leakage=True`` adds a ``leakage`` component: ``area_mm2`` (default: the
    unit's :func:`unit_area`) x ``tech``'s leakage per mm² x the GEMM's time; the table needs a ``node``
    section."""
    _check_match(cfg, stats)
    in_bytes = cfg.pe.in_fmt.bits / 8
    acc_bytes = cfg.pe.acc_fmt.bits / 8
    word_bytes = {"a": in_bytes, "b": in_bytes, "c": acc_bytes}

    components = {
        "mac": stats.macs * mac_energy_pj(cfg, tech),
        "registers": tech.register_energy_pj(register_bits_written(cfg, stats)),
    }
    for op in ("a", "b", "c"):
        words = stats.sram_reads.get(op, 0) + stats.sram_writes.get(op, 0)
        capacity_bytes = cfg.sram.kib(op) * 1024
        components[f"sram_{op}"] = words * word_bytes[op] * tech.sram_energy_pj_per_byte(capacity_bytes)
    if stats.dram is not None:
        if dram is None:
            raise ConfigError("gemm_energy: the stats count DRAM actions; pass the DramConfig that fed the unit (dram=)")
        from hwsim.memory.dram.energy import energy as dram_energy

        d = dram_energy(dram, stats.dram, stats.dram["duration_ps"])
        components.update({f"dram_{key}": pj for key, pj in d.components.items()})
    else:
        components["memory_port"] = sum(stats.port_bytes.values()) * tech.dram_energy_pj_per_byte()

    if leakage:
        if area_mm2 is None:
            from hwsim.power.area import unit_area

            area_mm2 = unit_area(cfg, tech).total_mm2
        components["leakage"] = leakage_energy_pj(tech, area_mm2, stats.cycles, cfg.freq_mhz)

    return EnergyBreakdown(components=components, tech=tech.name, warnings=[])


def mac_energy_pj(cfg: SystolicConfig, tech: TechTable) -> float:
    """One MAC of the unit's PE: the table's multiply at the input format — scaled, for an approximate
    multiplier, by its switching energy relative to the exact design of the same format (its RTL twin's
    toggle estimate, :func:`hwsim.approx.energy.multiplier_energy_ratio`) — plus the accumulator add, pJ."""
    mult = tech.mult_energy_pj(cfg.pe.input)
    if cfg.pe.multiplier.kind != "exact":
        from hwsim.approx.energy import multiplier_energy_ratio

        mult *= multiplier_energy_ratio(cfg.pe.multiplier, cfg.pe.input)
    return mult + tech.add_energy_pj(cfg.pe.accumulator)
