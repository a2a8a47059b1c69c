"""The clock a block can reach: its RTL twin's logic depth (Yosys ``ltp``, cached synthesis) at a
technology table's FO4 delay, checked against the configured clock."""

from __future__ import annotations

from typing import Any

from hwsim.errors import ConfigError


def fmax_mhz(logic_depth: int, fo4_ps: float) -> float:
    """Highest clock of a stage of ``logic_depth`` gate levels: one period holds the levels (each
    ``gate_delay_fo4`` FO4) plus the register overhead (``rtl.synth`` ``nodes.yaml``), MHz."""
    from rtl.synth.nodes import load_nodes

    return load_nodes().fmax_mhz_at_fo4(logic_depth, fo4_ps)


def pe_clock(unit, tech, field: str = "unit.freq_mhz") -> dict[str, Any]:
    """The PE of ``unit`` (a SystolicConfig) at ``tech``'s FO4 vs ``unit.freq_mhz``:
    ``{'checked', 'fmax_mhz', 'logic_depth', 'pe_transistors', 'fo4_ps', 'node', 'freq_mhz',
    'warning' | None, 'reason'}``; ``checked`` is False (with the ``reason``) when the table has no FO4
    or the PE has no RTL twin (float formats). ``field`` names the clock in the warning."""
    from rtl.synth import synth_block

    out: dict[str, Any] = {"freq_mhz": unit.freq_mhz, "node": tech.name, "technology": tech.name, "warning": None}
    try:
        fo4 = tech.node_value("fo4_ps")
    except ConfigError as err:
        return {**out, "checked": False, "reason": "; ".join(err.problems)}
    if not unit.pe.in_fmt.is_int:
        return {**out, "checked": False, "fo4_ps": fo4,
                "reason": f"the PE's {unit.pe.input} datapath has no RTL twin (integer formats only)"}
    syn = synth_block("pe", unit)  # cached by the PE's parameters, in this process and on disk
    fmax = fmax_mhz(syn.logic_depth, fo4)
    out.update(checked=True, fmax_mhz=fmax, logic_depth=syn.logic_depth, pe_transistors=syn.transistors, fo4_ps=fo4,
               reason=f"PE ({unit.pe.input}, {unit.pe.multiplier.kind} multiplier, {unit.dataflow}) synthesised")
    if unit.freq_mhz > fmax:
        out["warning"] = (f"{field} {unit.freq_mhz:g} is above the PE's estimated fmax {fmax:.0f} MHz at "
                          f"{tech.name} (logic depth {syn.logic_depth} gates x FO4 {fo4:g} ps): the logic cannot "
                          "run this fast unpipelined")
    return out
