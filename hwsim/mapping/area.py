"""Area, leakage and clock of an LLM system (:class:`~hwsim.mapping.system.SystemSpec`).

Per die: the floorplan-free roll-up of :func:`hwsim.power.die.die_area` (units, shared SRAM, vector
unit, NoC routers, D2D PHYs, host memory PHYs, placement utilisation); the package sums the dies.
Leakage is the technology's W/mm² times the placed logic area (PHYs excluded). The clock check
synthesises the unit's PE (its RTL twin, integer formats only) and compares the fmax its logic depth
allows at the technology's FO4 with the configured clock.
"""

from __future__ import annotations

from typing import Any

from hwsim.power.die import DieArea, die_area, package_area


def _tech(name: str):
    from hwsim.power import load_tech

    return load_tech(name)


def _noc_mm2(sysm, tech) -> float:
    pkg = sysm.package
    if pkg is None or pkg.noc is None:
        return 0.0
    from hwsim.noc.area import network_area

    return network_area(pkg.noc, tech).total_mm2


def system_die_area(sysm) -> tuple[DieArea, dict[str, Any]]:
    """The system's die (all dies are identical) and the package's D2D figures."""
    tech = _tech(sysm.technology)
    die = sysm.die
    d2d_each, pkg_info = 0.0, {}
    if sysm.package is not None and sysm.dies > 1:
        pkg = sysm.package.package_config(1.0, name=f"{sysm.name}_package").build()
        a = pkg.area()
        d2d_each = max(r["phy_mm2"] for r in a["dies"])  # the busiest die (uniform: all equal)
        pkg_info = {"links": a["links"], "link": pkg.link.name, "switch_mm2": (a["switch"] or {}).get("area_mm2", 0.0),
                    "d2d_phy_mm2_per_die": [r["phy_mm2"] for r in a["dies"]]}
    d = die_area(f"{sysm.name} die", unit_cfg=die.unit, units=die.units, tech=tech,
                 shared_sram_bytes=die.sram_bytes, vector_lanes=die.vector.lanes, noc_mm2=_noc_mm2(sysm, tech),
                 d2d_phy_mm2=d2d_each, dram=die.memory.dram.config())
    return d, pkg_info


def system_area(sysm) -> dict[str, Any]:
    """Per-die and package area (mm²) and leakage (W) of ``sysm``."""
    tech = _tech(sysm.technology)
    d, info = system_die_area(sysm)
    out = package_area([d], [sysm.dies], info.get("switch_mm2", 0.0))
    out["package"] = info
    out["leakage_w"] = tech.leakage_w(d.placed_mm2) * sysm.dies
    out["technology"] = sysm.technology
    return out


def system_clock(sysm) -> dict[str, Any]:
    """The PE's reachable clock at the system's technology vs its configured clock
    (:func:`hwsim.power.clock.pe_clock`)."""
    from hwsim.power.clock import pe_clock

    return pe_clock(sysm.die.unit, _tech(sysm.technology), field="die.unit.freq_mhz")
