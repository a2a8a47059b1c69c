"""Energy per multiply and area of any multiplier design, for the cost models (mapper, LLM runs, area).

The switching-activity estimate of the approximate-multiplier study (:mod:`hwsim.approx.study`):
the design's RTL twin is synthesised with Yosys (cached on disk by :mod:`rtl.synth.flow`), its
gate netlist is simulated on uniform random operands, and transistor-weighted toggles become energy.
Cost models use it as a *ratio* to the exact multiplier of the same format, applied to the
technology table's multiply energy, so every design is priced on the table's anchor (Horowitz 45 nm:
an exact int8 multiply is 0.2 pJ). Area likewise: the ratio of the design's synthesised transistors to
the exact multiplier's, applied to the table's multiplier area. Both are cached on disk (keyed by the
design, the format and a hash of the RTL sources), so a new process does not regenerate Verilog."""

from __future__ import annotations

import functools
import json

from hwsim.pe.config import MultiplierConfig


@functools.lru_cache(maxsize=64)
def _toggle_energy(kind: str, params_json: str, fmt_name: str, samples: int, seed: int) -> float:
    """Transistor-weighted toggles per multiply (memoised, and on disk beside the synthesis cache)."""
    import hashlib

    from rtl.synth.flow import FLOW_VERSION, cache_dir, read_cache, rtl_source_digest, write_cache

    key = hashlib.sha256(json.dumps([FLOW_VERSION, rtl_source_digest(), kind, params_json, fmt_name, samples, seed])
                         .encode()).hexdigest()[:16]
    path = cache_dir() / f"toggle_energy-{kind}-{fmt_name}-{key}.json"
    data = read_cache(path)
    if data is not None and isinstance(data.get("toggles_per_op"), (int, float)):
        return float(data["toggles_per_op"])
    value = _toggle_energy_uncached(kind, params_json, fmt_name, samples, seed)
    write_cache(path, {"toggles_per_op": value})
    return value


def _toggle_energy_uncached(kind: str, params_json: str, fmt_name: str, samples: int, seed: int) -> float:
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


@functools.lru_cache(maxsize=64)
def _transistors(kind: str, params_json: str, fmt_name: str) -> int:
    from rtl.multiplier import multiplier_rtl
    from rtl.synth.flow import synthesize_keyed
    from hwsim.pe.formats import get_format

    params = json.loads(params_json)
    return synthesize_keyed(f"mult_{kind}_{fmt_name}", {"kind": kind, "params": params, "format": fmt_name},
                            lambda: multiplier_rtl(kind, get_format(fmt_name), params)).transistors


def multiplier_area_ratio(multiplier: MultiplierConfig, fmt_name: str) -> float:
    """Synthesised transistors of ``multiplier`` / of the exact multiplier, same format (1.0 for the
    exact design). Integer formats only."""
    if multiplier.kind == "exact":
        return 1.0
    mine = _transistors(multiplier.kind, json.dumps(dict(multiplier.params), sort_keys=True), fmt_name)
    return mine / _transistors("exact", "{}", fmt_name)
