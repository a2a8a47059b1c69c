"""Area, leakage and clock of an LLM system (:class:`~hwsim.mapping.system.SystemSpec`).

Per die: the floorplan-free roll-up of :func:`hwsim.power.die.die_area` (units, shared SRAM, vector
unit, NoC routers, D2D PHYs, host memory PHYs, placement utilisation); the package sums the dies.
Leakage is the technology's W/mm² times the placed logic area (PHYs excluded). The clock check
synthesises the unit's PE (its RTL twin, integer formats only) and compares the fmax its logic depth
allows at the technology's FO4 with the configured clock.
"""

from __future__ import annotations

from typing import Any

from hwsim.errors import ConfigError
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


_PE_DEPTH: dict[tuple[str, str], tuple[int, int] | None] = {}


def _pe_depth(unit) -> tuple[int, int] | None:
    """(logic depth, transistors) of the unit's PE from synthesis (None: no RTL twin); per PE design."""
    from rtl.synth import synth_block

    key = (unit.pe.model_dump_json(), unit.dataflow)
    if key not in _PE_DEPTH:
        if not unit.pe.in_fmt.is_int:
            _PE_DEPTH[key] = None
        else:
            syn = synth_block("pe", unit)
            _PE_DEPTH[key] = (syn.logic_depth, syn.transistors)
    return _PE_DEPTH[key]


def fmax_mhz(logic_depth: int, fo4_ps: float) -> float:
    """Highest clock of a stage of ``logic_depth`` gate levels: one period holds the levels (each
    ``gate_delay_fo4`` FO4) plus the register overhead (``rtl.synth`` ``nodes.yaml``), MHz."""
    from rtl.synth.nodes import load_nodes

    return load_nodes().fmax_mhz_at_fo4(logic_depth, fo4_ps)


def system_clock(sysm) -> dict[str, Any]:
    """The PE's reachable clock at the system's technology vs its configured clock:
    ``{'checked', 'fmax_mhz', 'logic_depth', 'freq_mhz', 'fo4_ps', 'warning' | None, 'reason'}``."""
    tech = _tech(sysm.technology)
    unit = sysm.die.unit
    out: dict[str, Any] = {"freq_mhz": unit.freq_mhz, "technology": sysm.technology, "warning": None}
    try:
        fo4 = tech.node_value("fo4_ps")
    except ConfigError as err:
        return {**out, "checked": False, "reason": "; ".join(err.problems)}
    r = _pe_depth(unit)
    if r is None:
        return {**out, "checked": False, "fo4_ps": fo4,
                "reason": f"the PE's {unit.pe.input} datapath has no RTL twin (integer formats only)"}
    depth, transistors = r
    fmax = fmax_mhz(depth, fo4)
    out.update(checked=True, fmax_mhz=fmax, logic_depth=depth, pe_transistors=transistors, fo4_ps=fo4,
               reason=f"PE ({unit.pe.input}, {unit.pe.multiplier.kind} multiplier, {unit.dataflow}) synthesised")
    if unit.freq_mhz > fmax:
        out["warning"] = (f"die.unit.freq_mhz {unit.freq_mhz:g} is above the PE's estimated fmax {fmax:.0f} MHz at "
                          f"{sysm.technology} (logic depth {depth} gates x FO4 {fo4:g} ps): the logic cannot run "
                          "this fast unpipelined")
    return out
