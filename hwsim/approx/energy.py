"""Energy per multiply of any multiplier design, for the cost models (mapper, LLM runs).

The switching-activity estimate of the approximate-multiplier study (:mod:`hwsim.approx.study`):
the design's RTL twin is synthesised with Yosys (cached on disk by :mod:`rtl.synth.flow`), its
gate netlist is simulated on uniform random operands, and transistor-weighted toggles become energy.
Cost models use it as a *ratio* to the exact multiplier of the same format, applied to the
technology table's multiply energy, so every design is priced on the table's anchor (Horowitz 45 nm:
an exact int8 multiply is 0.2 pJ)."""

from __future__ import annotations

import functools
import json

from hwsim.pe.config import MultiplierConfig


@functools.lru_cache(maxsize=64)
def _toggle_energy(kind: str, params_json: str, fmt_name: str, samples: int, seed: int) -> float:
    from hwsim.approx.designs import Design
    from hwsim.approx.study import rtl_name
    from rtl.multiplier import multiplier_rtl
    from rtl.synth.toggle import energy_per_operation_pj, gate_netlist, random_operand_patterns, toggle_activity
    from hwsim.pe.formats import get_format

    design = Design(kind, json.loads(params_json))
    fmt = get_format(fmt_name)
    netlist = gate_netlist(multiplier_rtl(kind, fmt, design.params), rtl_name(design, fmt_name))
    a, b = random_operand_patterns(fmt_name, samples, seed)
    return energy_per_operation_pj(toggle_activity(netlist, {"a": a, "b": b}), 1.0)


def multiplier_energy_ratio(multiplier: MultiplierConfig, fmt_name: str, samples: int = 4000, seed: int = 0) -> float:
    """Energy of one multiply with ``multiplier`` / with the exact multiplier, same format and
    operands (1.0 for the exact design). Integer formats only (the approximate designs are integer)."""
    if multiplier.kind == "exact":
        return 1.0
    mine = _toggle_energy(multiplier.kind, json.dumps(dict(multiplier.params), sort_keys=True), fmt_name, samples, seed)
    exact = _toggle_energy("exact", "{}", fmt_name, samples, seed)
    return mine / exact
