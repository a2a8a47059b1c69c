"""GEMM energy and unit area, checked against sums written out by hand from the stats and the
published per-action numbers (pinned here, not read back from the table)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.pe.config import PEConfig
from hwsim.power import EnergyBreakdown, gemm_energy, load_tech, unit_area
from hwsim.systolic.cl import run_gemm_cl
from hwsim.systolic.config import MemoryPortConfig, SramConfig, SystolicConfig
from hwsim.systolic.cost import gemm_cost

# Horowitz ISSCC 2014 (45 nm): pJ per operation, µm² per unit, pJ per 64-bit access.
INT8_MULT_PJ, INT32_ADD_PJ, FP16_MULT_PJ, FP32_ADD_PJ = 0.2, 0.1, 1.1, 0.9
INT8_MULT_UM2, INT32_ADD_UM2, FP32_ADD_UM2 = 282, 137, 4184
SRAM_8K_PJ, SRAM_32K_PJ, SRAM_1M_PJ = 10.0, 20.0, 100.0
DRAM_PJ_PER_BYTE = (1300 + 2600) / 2 / 8  # mid-point of 1.3-2.6 nJ per 64 bits
# Derived values as written in horowitz45.yaml (rules re-checked in test_tech.py).
REG_PJ_PER_BIT = 0.0033
DFF_UM2 = 4.522
BF16_MULT_UM2 = 867.4
SRAM_CELL_UM2, ARRAY_EFFICIENCY = 0.346, 0.7
# 64 KiB = 32 KiB x 32^(1/5) on the 32 KB..1 MB segment, where energy grows by 100/20 = 5 per x32:
SRAM_64K_PJ_PER_BYTE = SRAM_32K_PJ * 5 ** 0.2 / 8


@pytest.fixture(scope="module")
def tech():
    return load_tech("horowitz45")


def test_small_ws_gemm_by_hand(tech):
    cfg = SystolicConfig(rows=4, cols=4, dataflow="ws")  # int8 operands, int32 accumulator, 64 KiB SRAMs
    m, n, k = 8, 6, 5
    s = gemm_cost(cfg, m, n, k)
    assert s.macs == m * n * k == 240

    mac = s.macs * (INT8_MULT_PJ + INT32_ADD_PJ)
    # WS: per MAC, the forwarded A register (8 bits) and the psum register (32 bits); plus each B word
    # (read once from SRAM) written into its PE's stationary register (8 bits).
    registers = (s.macs * (8 + 32) + s.sram_reads["b"] * 8) * REG_PJ_PER_BIT
    sram_a = (s.sram_reads["a"] + s.sram_writes["a"]) * 1 * SRAM_64K_PJ_PER_BYTE
    sram_b = (s.sram_reads["b"] + s.sram_writes["b"]) * 1 * SRAM_64K_PJ_PER_BYTE
    sram_c = (s.sram_reads["c"] + s.sram_writes["c"]) * 4 * SRAM_64K_PJ_PER_BYTE
    port = (s.port_bytes["a"] + s.port_bytes["b"]) * DRAM_PJ_PER_BYTE

    e = gemm_energy(cfg, s, tech)
    expected = {"mac": mac, "registers": registers, "sram_a": sram_a, "sram_b": sram_b, "sram_c": sram_c,
                "memory_port": port}
    assert e.components == pytest.approx(expected, rel=1e-12)
    assert list(e.components) == list(expected)
    assert e.total_pj == pytest.approx(mac + registers + sram_a + sram_b + sram_c + port, rel=1e-12)
    assert e.tech == "horowitz45" and e.warnings == []


def test_os_gemm_registers_and_sram_sizes_at_the_table_points(tech):
    """fp16 x fp16 -> fp32, SRAMs of exactly 8 KiB, 32 KiB and 1 MiB, a finite memory port."""
    cfg = SystolicConfig(rows=4, cols=4, dataflow="os", pe=PEConfig(input="fp16", accumulator="fp32"),
                         sram=SramConfig(a_kib=8, b_kib=32, c_kib=1024),
                         memory_port=MemoryPortConfig(bandwidth_bytes_per_cycle=4, latency_cycles=3))
    s = gemm_cost(cfg, 6, 5, 7)
    e = gemm_energy(cfg, s, tech)
    assert e.components["mac"] == pytest.approx(s.macs * (FP16_MULT_PJ + FP32_ADD_PJ), rel=1e-12)
    # OS: both operands are forwarded (2 x 16 bits) and the accumulator updated (32 bits); nothing stationary
    assert e.components["registers"] == pytest.approx(s.macs * (16 + 16 + 32) * REG_PJ_PER_BIT, rel=1e-12)
    assert e.components["sram_a"] == pytest.approx(
        (s.sram_reads["a"] + s.sram_writes["a"]) * 2 * SRAM_8K_PJ / 8, rel=1e-12)
    assert e.components["sram_b"] == pytest.approx(
        (s.sram_reads["b"] + s.sram_writes["b"]) * 2 * SRAM_32K_PJ / 8, rel=1e-12)
    assert e.components["sram_c"] == pytest.approx(
        (s.sram_reads["c"] + s.sram_writes["c"]) * 4 * SRAM_1M_PJ / 8, rel=1e-12)
    assert e.components["memory_port"] == pytest.approx(sum(s.port_bytes.values()) * DRAM_PJ_PER_BYTE)


def test_is_gemm_stationary_operand_is_a(tech):
    cfg = SystolicConfig(rows=4, cols=4, dataflow="is")
    s = gemm_cost(cfg, 5, 9, 6)
    e = gemm_energy(cfg, s, tech)
    assert e.components["registers"] == pytest.approx(
        (s.macs * (8 + 32) + s.sram_reads["a"] * 8) * REG_PJ_PER_BIT, rel=1e-12)


def test_int4_words_are_half_a_byte(tech):
    cfg = SystolicConfig(rows=4, cols=4, dataflow="ws", pe=PEConfig(input="int4", accumulator="int32"))
    s = gemm_cost(cfg, 8, 8, 8)
    e = gemm_energy(cfg, s, tech)
    assert e.components["sram_a"] == pytest.approx(
        (s.sram_reads["a"] + s.sram_writes["a"]) * 0.5 * SRAM_64K_PJ_PER_BYTE, rel=1e-12)
    assert e.components["mac"] == pytest.approx(s.macs * (INT8_MULT_PJ / 4 + INT32_ADD_PJ), rel=1e-12)


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_cost_and_cl_faces_give_the_same_energy(tech, dataflow):
    cfg = SystolicConfig(rows=3, cols=4, dataflow=dataflow,
                         memory_port=MemoryPortConfig(bandwidth_bytes_per_cycle=8, latency_cycles=2))
    rng = np.random.default_rng(7)
    a = cfg.pe.random_operands((7, 5), rng)
    b = cfg.pe.random_operands((5, 6), rng)
    _, cl_stats = run_gemm_cl(cfg, a, b)
    cost_stats = gemm_cost(cfg, 7, 6, 5)
    assert gemm_energy(cfg, cl_stats, tech).components == gemm_energy(cfg, cost_stats, tech).components


def test_average_power_is_energy_over_time(tech):
    assert EnergyBreakdown({"x": 1000.0}).average_power_w(cycles=1000, freq_mhz=1000) == pytest.approx(1e-3)
    cfg = SystolicConfig(rows=4, cols=4, dataflow="ws", freq_mhz=500)
    s = gemm_cost(cfg, 16, 16, 16)
    e = gemm_energy(cfg, s, tech)
    seconds = s.cycles / 500e6
    assert e.average_power_w(s.cycles, cfg.freq_mhz) == pytest.approx(e.total_pj * 1e-12 / seconds, rel=1e-12)


@pytest.mark.parametrize("cycles, freq, line", [
    (0, 1000, "cycles: must be > 0 to average power over, got 0"),
    (10, 0, "freq_mhz: must be > 0, got 0"),
])
def test_average_power_rejects_nonpositive(cycles, freq, line):
    with pytest.raises(ConfigError) as err:
        EnergyBreakdown({"x": 1.0}).average_power_w(cycles, freq)
    assert err.value.problems == [line]


def test_stats_of_another_array_are_rejected(tech):
    s = gemm_cost(SystolicConfig(rows=8, cols=8, dataflow="ws"), 4, 4, 4)
    with pytest.raises(ConfigError) as err:
        gemm_energy(SystolicConfig(rows=4, cols=4, dataflow="ws"), s, tech)
    assert err.value.problems == [
        "gemm_energy: the stats are for a 8x8 ws array, the config describes a 4x4 ws array"]


def test_energy_to_dict_is_json(tech):
    cfg = SystolicConfig(rows=4, cols=4)
    e = gemm_energy(cfg, gemm_cost(cfg, 4, 4, 4), tech)
    d = json.loads(json.dumps(e.to_dict()))
    assert d["total_pj"] == pytest.approx(e.total_pj)
    assert d["components_pj"] == pytest.approx(e.components)
    assert d["tech"] == "horowitz45"


# --- area ------------------------------------------------------------------------------------------
def test_default_unit_area_by_hand(tech):
    cfg = SystolicConfig(rows=4, cols=4)  # int8 x int8 -> int32, 64 KiB A/B/C SRAMs
    pe_um2 = INT8_MULT_UM2 + INT32_ADD_UM2 + (8 + 8 + 32) * DFF_UM2
    sram_mm2 = 64 * 1024 * 8 * SRAM_CELL_UM2 / ARRAY_EFFICIENCY / 1e6
    a = unit_area(cfg, tech)
    assert a.pe_area_um2 == pytest.approx(636.056, rel=1e-12) == pytest.approx(pe_um2)
    assert a.components == pytest.approx({
        "pe_multipliers": 16 * INT8_MULT_UM2 / 1e6, "pe_adders": 16 * INT32_ADD_UM2 / 1e6,
        "pe_registers": 16 * 48 * DFF_UM2 / 1e6, "sram_a": sram_mm2, "sram_b": sram_mm2, "sram_c": sram_mm2,
    }, rel=1e-12)
    assert a.total_mm2 == pytest.approx(16 * pe_um2 / 1e6 + 3 * sram_mm2, rel=1e-12)


def test_bf16_unit_area_by_hand(tech):
    cfg = SystolicConfig(rows=8, cols=16, pe=PEConfig(input="bf16", accumulator="fp32"),
                         sram=SramConfig(a_kib=32, b_kib=16, c_kib=128))
    pe_um2 = BF16_MULT_UM2 + FP32_ADD_UM2 + (16 + 16 + 32) * DFF_UM2
    cell_mm2_per_kib = 1024 * 8 * SRAM_CELL_UM2 / ARRAY_EFFICIENCY / 1e6
    a = unit_area(cfg, tech)
    assert a.total_mm2 == pytest.approx(128 * pe_um2 / 1e6 + (32 + 16 + 128) * cell_mm2_per_kib, rel=1e-12)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["total_mm2"] == pytest.approx(a.total_mm2) and d["pe_area_um2"] == pytest.approx(pe_um2)


def test_approximate_multiplier_area_is_the_synthesised_ratio():
    """An approximate multiplier costs the table's multiplier area x its transistors / the exact one's."""
    from hwsim.approx.energy import multiplier_area_ratio
    from hwsim.systolic.config import SystolicConfig
    from rtl.synth import synth_block

    tech = load_tech("horowitz45")
    exact = SystolicConfig(rows=4, cols=4, pe={"input": "int8", "accumulator": "int32"})
    drum = SystolicConfig(rows=4, cols=4, pe={"input": "int8", "accumulator": "int32", "multiplier": {"kind": "drum"}})
    t_exact = synth_block("multiplier", exact).transistors
    t_drum = synth_block("multiplier", drum).transistors
    assert 0 < t_drum < t_exact
    assert multiplier_area_ratio(drum.pe.multiplier, "int8") == t_drum / t_exact
    a, b = unit_area(exact, tech), unit_area(drum, tech)
    assert b.components["pe_multipliers"] == pytest.approx(a.components["pe_multipliers"] * t_drum / t_exact, rel=1e-12)
    assert {k: v for k, v in b.components.items() if k != "pe_multipliers"} == \
        {k: v for k, v in a.components.items() if k != "pe_multipliers"}
