"""Switching activity from the Yosys gate netlist: the evaluator against the FL face, toggles by hand."""

import numpy as np
import pytest
from amaranth import Module, Mux, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.errors import ConfigError
from hwsim.pe.formats import get_format
from hwsim.pe.multiplier import MultiplierConfig, get_multiplier
from rtl.multiplier import ExactMultiplierRTL
from rtl.synth.flow import synthesize
from rtl.synth.toggle import (
    CMOS_TRANSISTORS, HOROWITZ_INT8_MULT_PJ, calibrate_toggle_energy, energy_per_operation_pj, gate_netlist,
    horowitz_int8_calibration_fj, multiplier_toggle_stats, parse_yosys_json, random_operand_patterns,
    toggle_activity,
)

pytestmark = [pytest.mark.xdist_group("synth")]


class AndXor(wiring.Component):
    """``y_and = x[0] & x[1]``, ``y_xor = x[0] ^ x[1]``."""

    def __init__(self):
        super().__init__({"x": In(unsigned(2)), "y_and": Out(1), "y_xor": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.y_and.eq(self.x[0] & self.x[1]), self.y_xor.eq(self.x[0] ^ self.x[1])]
        return m


class GateZoo(wiring.Component):
    """One output per gate function of a 3-bit input, and a constant output."""

    FUNCS = {
        "y_and": lambda a, b, s: a & b, "y_nand": lambda a, b, s: 1 - (a & b),
        "y_or": lambda a, b, s: a | b, "y_nor": lambda a, b, s: 1 - (a | b),
        "y_xor": lambda a, b, s: a ^ b, "y_xnor": lambda a, b, s: 1 - (a ^ b),
        "y_mux": lambda a, b, s: b if s else a, "y_not": lambda a, b, s: 1 - s,
    }

    def __init__(self):
        super().__init__({"x": In(unsigned(3)), "k": Out(unsigned(3))} | {name: Out(1) for name in self.FUNCS})

    def elaborate(self, platform):
        m = Module()
        a, b, s = self.x[0], self.x[1], self.x[2]
        m.d.comb += [
            self.y_and.eq(a & b), self.y_nand.eq(~(a & b)), self.y_or.eq(a | b), self.y_nor.eq(~(a | b)),
            self.y_xor.eq(a ^ b), self.y_xnor.eq(~(a ^ b)), self.y_mux.eq(Mux(s, b, a)), self.y_not.eq(~s),
            self.k.eq(0b101),
        ]
        return m


class Register(wiring.Component):
    def __init__(self):
        super().__init__({"d": In(unsigned(2)), "q": Out(unsigned(2))})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.q.eq(self.d)
        return m


def exact_netlist(fmt_name: str):
    return gate_netlist(ExactMultiplierRTL(get_format(fmt_name)), f"mult_exact_{fmt_name}")


def check_products(fmt_name: str, a: np.ndarray, b: np.ndarray) -> None:
    """Netlist output == the FL face's product as a 2w-bit pattern; ``a``, ``b`` are w-bit patterns."""
    fmt = get_format(fmt_name)
    out, _ = exact_netlist(fmt_name).evaluate({"a": a, "b": b})
    fl = get_multiplier(MultiplierConfig(kind="exact"), fmt, fmt).multiply(fmt.wrap(a), fmt.wrap(b))
    expected = fl & ((1 << 2 * fmt.bits) - 1)
    assert out["p"].dtype == np.uint64
    np.testing.assert_array_equal(out["p"].astype(np.int64), expected)


@pytest.mark.parametrize("fmt_name", ["int8", "uint8"])
def test_exact_8bit_all_pairs_match_fl(fmt_name):
    codes = np.arange(256, dtype=np.int64)
    check_products(fmt_name, np.repeat(codes, 256), np.tile(codes, 256))


@pytest.mark.slow
@pytest.mark.parametrize("fmt_name", ["int16", "uint16"])
def test_exact_16bit_random_pairs_match_fl(fmt_name):
    a, b = random_operand_patterns(fmt_name, 20000, seed=7)
    check_products(fmt_name, a, b)


def test_transistors_agree_with_yosys_stat():
    # the CMOS table must reproduce `stat -tech cmos` of the flow (int8 exact: 2,912 transistors seen)
    fmt = get_format("int8")
    netlist = exact_netlist("int8")
    synth = synthesize(ExactMultiplierRTL(fmt), "mult_exact_int8")
    assert netlist.cells_by_type == synth.cells_by_type
    assert netlist.transistors == synth.transistors


def test_every_gate_evaluates_its_truth_table():
    netlist = gate_netlist(GateZoo(), "gate_zoo")
    x = np.arange(8)
    out, values = netlist.evaluate({"x": x})
    assert values.shape == (netlist.num_nets, 8) and values.dtype == bool
    for name, func in GateZoo.FUNCS.items():
        expected = [func(v & 1, (v >> 1) & 1, (v >> 2) & 1) for v in range(8)]
        np.testing.assert_array_equal(out[name], expected, err_msg=name)
    np.testing.assert_array_equal(out["k"], [5] * 8)
    assert set(netlist.cells_by_type) <= set(CMOS_TRANSISTORS)


def test_toggles_counted_by_hand():
    netlist = gate_netlist(AndXor(), "and_xor")
    assert netlist.cells_by_type == {"$_AND_": 1, "$_XOR_": 1}
    # x:      0  1  3  2  0  3
    # x[0]:   0  1  1  0  0  1   -> 3 toggles
    # x[1]:   0  0  1  1  0  1   -> 3 toggles
    # and:    0  0  1  0  0  1   -> 3 toggles (x 6 transistors = 18)
    # xor:    0  1  0  1  0  0   -> 4 toggles (x 12 transistors = 48)
    stats = toggle_activity(netlist, {"x": np.array([0, 1, 3, 2, 0, 3])})
    assert (stats.samples, stats.transitions) == (6, 5)
    assert (stats.input_toggles, stats.cell_toggles, stats.total_toggles) == (6, 7, 13)
    assert stats.weighted_toggles == 66
    assert stats.weighted_toggles_per_transition == pytest.approx(66 / 5)
    assert stats.toggles_per_transition == pytest.approx(7 / 5)
    assert stats.by_cell_type == {"$_AND_": {"cells": 1, "toggles": 3, "weighted_toggles": 18},
                                  "$_XOR_": {"cells": 1, "toggles": 4, "weighted_toggles": 48}}
    assert energy_per_operation_pj(stats, 0.5) == pytest.approx(66 / 5 * 0.5e-3)
    # chunking the sequence changes nothing (chunk boundaries keep their transition)
    assert toggle_activity(netlist, {"x": np.array([0, 1, 3, 2, 0, 3])}, chunk=2).to_dict() == stats.to_dict()


def test_constant_inputs_give_zero_toggles():
    netlist = exact_netlist("int8")
    stats = toggle_activity(netlist, {"a": np.full(100, 0xA5), "b": np.full(100, 0x3C)})
    assert stats.total_toggles == stats.weighted_toggles == 0
    assert all(v["toggles"] == 0 for v in stats.by_cell_type.values())
    assert energy_per_operation_pj(stats, 0.2) == 0.0


def test_deterministic_and_calibrated():
    a1, b1 = random_operand_patterns("int8", 20000, seed=0)
    a2, b2 = random_operand_patterns("int8", 20000, seed=0)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    assert a1.min() >= 0 and a1.max() <= 255 and not np.array_equal(a1, b1)
    s1 = multiplier_toggle_stats("exact", "int8", 20000, seed=0)
    s2 = toggle_activity(exact_netlist("int8"), {"a": a1, "b": b1}, chunk=3001)
    assert s1.to_dict() == s2.to_dict() and np.array_equal(s1.net_toggles, s2.net_toggles)
    fj = horowitz_int8_calibration_fj()
    assert fj == calibrate_toggle_energy(s1.weighted_toggles_per_transition, HOROWITZ_INT8_MULT_PJ)
    assert 0.05 < fj < 1.0  # fJ per transistor toggle: a fraction of a femtojoule at 45 nm
    assert energy_per_operation_pj(s1, fj) == pytest.approx(0.2)
    # a random int8 multiply switches a sizeable part of the multiplier, but not all of it
    assert 0.2 < s1.weighted_toggles_per_transition / exact_netlist("int8").transistors < 0.6


def test_netlist_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSIM_CACHE_DIR", str(tmp_path))
    first = gate_netlist(AndXor(), "and_xor")
    assert not first.cached
    files = list((tmp_path / "synth").glob("and_xor-*.netlist.json"))
    assert len(files) == 1 and first.design_hash in files[0].name
    again = gate_netlist(AndXor(), "and_xor")
    assert again.cached and again.to_dict() == first.to_dict()


def test_sequential_design_is_rejected():
    with pytest.raises(ConfigError, match=r"register: toggle analysis supports purely combinational designs "
                                          r"mapped to .*; found other cells: \$_\w*DFF\w* x2"):
        gate_netlist(Register(), "register")


def test_input_errors_name_the_port_and_range():
    netlist = gate_netlist(AndXor(), "and_xor")
    with pytest.raises(ConfigError, match=r"inputs: missing port 'x'; ports of and_xor: x \(2 bits\)"):
        netlist.evaluate({})
    with pytest.raises(ConfigError, match=r"inputs: 'y' is not an input port of and_xor"):
        netlist.evaluate({"x": np.array([0]), "y": np.array([0])})
    with pytest.raises(ConfigError, match=r"inputs\['x'\]: values must be unsigned 2-bit patterns in \[0, 3\] "
                                          r"\(mask signed values with & 0x3\), got range \[-1, 1\]"):
        netlist.evaluate({"x": np.array([-1, 1])})
    with pytest.raises(ConfigError, match=r"inputs\['x'\]: must be a 1-D integer array"):
        netlist.evaluate({"x": np.array([0.5])})
    with pytest.raises(ConfigError, match=r"toggle counting needs at least 2 samples, got 1"):
        toggle_activity(netlist, {"x": np.array([3])})
    with pytest.raises(ConfigError, match=r"reference_pj: must be > 0 pJ, got -1"):
        calibrate_toggle_energy(100.0, -1)
    with pytest.raises(ConfigError, match=r"weighted_toggles_per_op: must be > 0, got 0"):
        calibrate_toggle_energy(0, 0.2)


def yosys_module(cells: dict, ports: dict) -> dict:
    return {"modules": {"top": {"ports": ports, "cells": cells}}}


def test_mux_semantics_and_structural_errors_from_json():
    # Y = S ? B : A, with net 5 fed by a NOT of S: written here so it does not depend on abc's mapping
    ports = {"a": {"direction": "input", "bits": [2]}, "b": {"direction": "input", "bits": [3]},
             "s": {"direction": "input", "bits": [4]}, "y": {"direction": "output", "bits": [6, "1"]}}
    cells = {"m": {"type": "$_MUX_", "connections": {"A": [2], "B": [3], "S": [5], "Y": [6]}},
             "n": {"type": "$_NOT_", "connections": {"A": [4], "Y": [5]}}}
    netlist = parse_yosys_json(yosys_module(cells, ports), "top")
    assert netlist.cell_types == ("$_NOT_", "$_MUX_")  # topological order
    sel = np.arange(8)
    out, _ = netlist.evaluate({"a": sel & 1, "b": (sel >> 1) & 1, "s": sel >> 2})
    expected = [((v & 1) if (v >> 2) else ((v >> 1) & 1)) | 2 for v in range(8)]  # S = ~s: s high selects A
    np.testing.assert_array_equal(out["y"], expected)

    loop = {"p": {"type": "$_AND_", "connections": {"A": [2], "B": [8], "Y": [7]}},
            "q": {"type": "$_OR_", "connections": {"A": [7], "B": [3], "Y": [8]}}}
    with pytest.raises(RuntimeError, match=r"top: combinational loop through 2 cells"):
        parse_yosys_json(yosys_module(loop, ports | {"y": {"direction": "output", "bits": [8]}}), "top")
    undriven = {"p": {"type": "$_AND_", "connections": {"A": [2], "B": [9], "Y": [6]}}}
    with pytest.raises(RuntimeError, match=r"top: net 9 \(input of cell \$_AND_\) has no driver"):
        parse_yosys_json(yosys_module(undriven, ports), "top")
