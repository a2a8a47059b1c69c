"""RTL twins of the approximate multipliers are equivalent to their FL faces.

* 8-bit: every one of the 65,536 operand pairs, signed and unsigned, on the gate-level netlist Yosys
  synthesises from the twin (evaluated by rtl.synth.toggle's vectorised gate simulator: exhaustive in
  about a second per design, so CI runs it for every design).
* An independent simulator path: Amaranth's simulator on a fixed-seed random sample of every design.
* 16-bit: a 50,000-pair fixed-seed random sample on the netlist (slow: 16-bit synthesis).
* In the MAC PE: cocotb on Icarus over all 65,536 pairs for one design in CI, every design (and
  Verilator) in the slow set; and a systolic array with an approximate multiplier against the CL face.
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hwsim.approx.designs import DESIGNS_8, DESIGNS_16
from hwsim.pe.config import PEConfig
from hwsim.pe.formats import get_format
from hwsim.systolic.config import SystolicConfig
from rtl.cosim import runner
from rtl.cosim.amaranth_sim import cosim_amaranth
from rtl.multiplier import multiplier_rtl
from rtl.synth.toggle import gate_netlist

pytestmark = [pytest.mark.xdist_group("synth")]


def netlist_check(design, fmt_name, pairs=None, seed=0):
    fmt = get_format(fmt_name)
    netlist = gate_netlist(multiplier_rtl(design.kind, fmt, design.params), f"eq_{design.kind}_{fmt_name}")
    if pairs is None:
        vals = np.arange(fmt.min_int, fmt.max_int + 1)
        a, b = (x.ravel() for x in np.meshgrid(vals, vals, indexing="ij"))
    else:
        rng = np.random.default_rng(seed)
        a, b = rng.integers(fmt.min_int, fmt.max_int + 1, pairs), rng.integers(fmt.min_int, fmt.max_int + 1, pairs)
    mask = (1 << fmt.bits) - 1
    out, _ = netlist.evaluate({"a": a & mask, "b": b & mask})
    width = len(netlist.outputs["p"])
    want = design.multiplier(fmt_name).multiply(a, b) & ((1 << width) - 1)
    return int(a.size), int(np.count_nonzero(out["p"].astype(np.int64) != want))


@pytest.mark.parametrize("fmt", ["int8", "uint8"])
@pytest.mark.parametrize("design", DESIGNS_8, ids=lambda d: d.label)
def test_exhaustive_8bit_netlist(design, fmt):
    pairs, mismatches = netlist_check(design, fmt)
    assert pairs == 65536 and mismatches == 0


@pytest.mark.parametrize("design", DESIGNS_8, ids=lambda d: d.label)
def test_amaranth_simulation_sample(design):
    fmt = get_format("int8")
    dut = multiplier_rtl(design.kind, fmt, design.params)
    rng = np.random.default_rng(1)
    a = np.concatenate([[-128, -128, 127, 0, 1, -1], rng.integers(-128, 128, 600)])
    b = np.concatenate([[-128, 127, -128, 77, -1, 0], rng.integers(-128, 128, 600)])
    got = []

    async def bench(ctx):
        for x, y in zip(a, b):
            ctx.set(dut.a, int(x))
            ctx.set(dut.b, int(y))
            got.append(ctx.get(dut.p))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert np.array_equal(np.array(got), design.multiplier("int8").multiply(a, b))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["int16", "uint16"])
@pytest.mark.parametrize("design", DESIGNS_16, ids=lambda d: d.label)
def test_random_16bit_netlist(design, fmt):
    pairs, mismatches = netlist_check(design, fmt, pairs=50_000, seed=7)
    assert pairs == 50_000 and mismatches == 0


def test_approximate_pe_exhaustive_on_icarus():
    pe = PEConfig(input="int8", multiplier={"kind": "drum", "params": {"k": 4}})
    r = runner.cosim_pe(pe, "exhaustive", sim="icarus")
    assert r["pairs"] == 65536 and not r["mismatches"]


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS_8[1:], ids=lambda d: d.label)
def test_every_approximate_pe_exhaustive(request, design):
    pe = PEConfig(input="int8", multiplier=design.config().model_dump())
    sims = ["icarus", "verilator"] if request.config.getoption("--sim") == "both" else [request.config.getoption("--sim")]
    for sim in sims:
        r = runner.cosim_pe(pe, "exhaustive", sim=sim)
        assert r["pairs"] == 65536 and not r["mismatches"]


def test_systolic_array_with_approximate_multiplier_matches_cl():
    rng = np.random.default_rng(3)
    for kind, params in (("mitchell", {}), ("compressor", {"approx_columns": 6})):
        cfg = SystolicConfig(rows=3, cols=3, dataflow="os", pe={"input": "int8", "multiplier": {"kind": kind, "params": params}})
        ops = [(cfg.pe.random_operands((5, 7), rng), cfg.pe.random_operands((7, 4), rng))]
        for r in cosim_amaranth(cfg, ops):
            assert r["value_mismatches"] == r["cycle_mismatches"] == r["missing"] == 0 and r["c_matches_fl"]
