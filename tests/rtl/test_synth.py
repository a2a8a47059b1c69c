"""Yosys synthesis: flip-flop counts against the RTL's register bits, the cache, the node table."""

import pytest

from hwsim.systolic.config import SystolicConfig
from rtl.synth import load_nodes, synth_block

pytestmark = [pytest.mark.xdist_group("synth")]


def pe_register_bits(in_bits: int, acc_bits: int) -> int:
    """a and b pipeline registers with valid bits, the partial sum with its valid bit."""
    return 2 * (in_bits + 1) + acc_bits + 1


def test_pe_int8_synthesis_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSIM_CACHE_DIR", str(tmp_path))
    cfg = SystolicConfig(rows=1, cols=1, dataflow="ws", pe={"input": "int8", "accumulator": "int32"})
    r = synth_block("pe", cfg)
    assert not r.cached
    assert r.flip_flops == pe_register_bits(8, 32) == r.cells_by_type["$_DFF_P_"]
    assert r.cells == sum(r.cells_by_type.values())
    assert 4000 < r.transistors < 20000 and 20 < r.logic_depth < 200
    again = synth_block("pe", cfg)
    assert again.cached and again.to_dict() | {"cached": False} == r.to_dict()


def test_node_table_conversions():
    nodes = load_nodes()
    n45 = nodes.node("45nm")
    assert nodes.area_mm2(3_330_000, "45nm") == pytest.approx(1 / nodes.utilization.value)
    period_ps = (60 * nodes.gate_delay_fo4.value + nodes.register_overhead_fo4.value) * n45.fo4_ps
    assert nodes.fmax_mhz(60, "45nm") == pytest.approx(1e6 / period_ps)
    # denser and faster nodes give smaller, faster blocks
    assert nodes.area_mm2(10_000, "7nm") < nodes.area_mm2(10_000, "16nm") < nodes.area_mm2(10_000, "45nm")
    assert nodes.fmax_mhz(60, "5nm") > nodes.fmax_mhz(60, "7nm") > nodes.fmax_mhz(60, "45nm")
    for node in nodes.nodes.values():
        assert node.density_source and node.fo4_source


@pytest.mark.slow
@pytest.mark.parametrize("fmt, acc", [("int4", "int32"), ("int8", "int32"), ("int16", "int48")])
def test_pe_widths(fmt, acc):
    cfg = SystolicConfig(rows=1, cols=1, pe={"input": fmt, "accumulator": acc})
    r = synth_block("pe", cfg)
    bits = int(fmt.removeprefix("int"))
    assert r.flip_flops == pe_register_bits(bits, int(acc.removeprefix("int")))


@pytest.mark.slow
@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_array_4x4(dataflow):
    r = synth_block("array", SystolicConfig(rows=4, cols=4, dataflow=dataflow))
    pe = synth_block("pe", SystolicConfig(rows=1, cols=1, dataflow=dataflow))
    # every PE's partial sum (32 bits + valid) is live; at most every PE register survives, plus the
    # skew buffers (1+2+3 stages of 9 bits per streamed port) and, for OS, the c_out register and FSM
    skew = 6 * 9 * (2 if dataflow == "os" else 1)
    extra = 4 * 33 + 8 if dataflow == "os" else 0
    assert 16 * 33 <= r.flip_flops <= 16 * pe.flip_flops + skew + extra
    assert r.transistors > 16 * pe.transistors * 0.7


def test_keyed_cache_skips_the_build_and_tells_parameters_apart(tmp_path, monkeypatch):
    from rtl.stream import StreamFIFO
    from rtl.synth import flow

    monkeypatch.setenv("HWSIM_CACHE_DIR", str(tmp_path))
    built = []

    def build(width):
        built.append(width)
        return StreamFIFO(width, 2)

    r1 = flow.synthesize_keyed("t_fifo", {"width": 8}, lambda: build(8))
    flow._KEYED.clear()  # a new process: only the disk entry is left
    r2 = flow.synthesize_keyed("t_fifo", {"width": 8}, lambda: build(8))
    assert built == [8] and r2.cached and not r1.cached and r2.transistors == r1.transistors
    r3 = flow.synthesize_keyed("t_fifo", {"width": 9}, lambda: build(9))  # other parameters: another entry
    assert built == [8, 9] and not r3.cached and r3.transistors > r1.transistors
