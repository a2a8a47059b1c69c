"""Technology nodes n65, horowitz45 (45 nm), n28, n16, n7, n5: sources, re-derived scaling rules, trends.

The Stillmaker-Baas coefficients and the published figures are typed here from the publications (not read
from the tables), and every derived number of every table is recomputed from them.
"""

from __future__ import annotations

import pytest

from hwsim.power import load_tech, packaged_tech

SERIES = ["n65", "horowitz45", "n28", "n16", "n7", "n5"]  # coarse to fine

# Stillmaker & Baas, Integration 58 (2017): energy E(V) = a V^2 + b V + c per node.
STILLMAKER = {65: (3.755, -4.398, 1.975), 45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471),
              22: (0.373, -0.1582, 0.04104), 16: (0.2958, -0.1241, 0.03024), 7: (0.1776, -0.09097, 0.02447)}


def stillmaker(node: int, v: float) -> float:
    a, b, c = STILLMAKER[node]
    return a * v * v + b * v + c


E45 = stillmaker(45, 0.9)  # Horowitz's 45 nm tables are at 0.9 V
EXPECTED_ENERGY_FACTOR = {
    "n65": stillmaker(65, 1.0) / E45,
    "n28": (0.6 * stillmaker(32, 0.9) + 0.4 * stillmaker(22, 0.9)) / E45,
    "n16": stillmaker(16, 0.8) / E45,
    "n7": stillmaker(7, 0.7) / E45,
    "n5": 0.7 * stillmaker(7, 0.7) / E45,  # TSMC: N5 30 % less power than N7 at iso-speed
}
WIKICHIP_DENSITY = {"horowitz45": 3.33, "n16": 28.88, "n7": 91.2, "n5": 171.3}  # MTr/mm2
STILLMAKER_AREA_FROM_45 = {"n65": 1.5, "n28": 0.6 * 0.46 + 0.4 * 0.21}
IEDM_SRAM_CELL_UM2 = {"horowitz45": 0.346, "n16": 0.07, "n7": 0.027, "n5": 0.021}
KECKLER_WIRE_PJ_PER_BIT_MM_40NM_0V9 = 310 / (256 * 10)


@pytest.fixture(scope="module")
def tables():
    return {name: load_tech(name) for name in SERIES}


def test_nodes_are_packaged():
    assert set(SERIES) <= set(packaged_tech())


@pytest.mark.parametrize("name", SERIES)
def test_every_number_cites_a_source_or_states_a_rule(tables, name):
    tech = tables[name]
    assert tech.node is not None
    for path, entry in tech.sourced():
        assert entry.source == "derived" or entry.source in tech.references, (name, path)
        if entry.source in ("derived", "hwsim"):
            assert entry.rule and entry.rule.strip(), (name, path)


@pytest.mark.parametrize("name", [n for n in SERIES if n != "horowitz45"])
def test_scaling_rules_reproduce_every_derived_number(tables, name):
    base, tech = tables["horowitz45"], tables[name]
    ef = EXPECTED_ENERGY_FACTOR[name]
    density = WIKICHIP_DENSITY.get(name) or 3.33 / STILLMAKER_AREA_FROM_45[name]
    af = 3.33 / density
    assert tech.scaling.base == "horowitz45"
    assert tech.scaling.energy_factor.value == pytest.approx(ef, rel=1e-3)
    assert tech.scaling.area_factor.value == pytest.approx(af, rel=1e-3)
    assert tech.node.logic_density_mtr_per_mm2.value == pytest.approx(density, rel=1e-3)
    for kind in ("mult", "add"):
        for fmt, entry in getattr(base, kind).items():
            mine = getattr(tech, kind)[fmt]
            assert mine.energy_pj == pytest.approx(entry.energy_pj * ef, rel=2e-3), (kind, fmt)
            assert mine.area_um2 == pytest.approx(entry.area_um2 * af, rel=2e-3), (kind, fmt)
    for cap in (4096, 8192, 65536, 1 << 20, 1 << 24):
        assert tech.sram_access_energy_pj(cap) == pytest.approx(base.sram_access_energy_pj(cap) * ef, rel=2e-3)
    assert tech.register_energy_pj() == pytest.approx(base.register_energy_pj() * ef, rel=2e-3)
    assert tech.register_area_um2() == pytest.approx(base.register_area_um2() * af, rel=2e-3)
    cell = IEDM_SRAM_CELL_UM2.get(name) or 0.346 * af
    assert tech.sram.cell_area_um2.value == pytest.approx(cell, rel=2e-3)
    assert tech.dram_energy_pj_per_byte() == base.dram_energy_pj_per_byte()


@pytest.mark.parametrize("name", SERIES)
def test_node_figures_rederived(tables, name):
    tech = tables[name]
    v = tech.supply_v
    wire = KECKLER_WIRE_PJ_PER_BIT_MM_40NM_0V9 * (v / 0.9) ** 2
    assert tech.node_value("wire_pj_per_bit_mm") == pytest.approx(wire, rel=2e-3)
    assert tech.node_value("noc_pj_per_byte_hop") == pytest.approx(8 * wire * tech.node_value("noc_hop_mm"), rel=2e-3)
    density = tech.node_value("logic_density_mtr_per_mm2")
    assert tech.node_value("leakage_w_per_mm2") == pytest.approx(density * 1e6 * 2e-9, rel=2e-3)
    assert tech.node_value("hbm_pj_per_bit") == 3.9  # O'Connor et al., MICRO 2017
    assert tech.node_value("dram_activate_pj") == 414.0  # hbm2e preset
    if tech.node_nm > 30:  # planar: FO4 ~ 1/3 ns per um of drawn gate
        assert tech.node_value("fo4_ps") == pytest.approx(tech.node_nm / 3, rel=2e-3)
    if tech.node_nm <= 16:
        assert tech.node_value("d2d_pj_per_bit") == 0.25  # UCIe advanced package, <= 16 GT/s


def test_finfet_fo4_agrees_with_the_synthesis_node_table(tables):
    from rtl.synth.nodes import load_nodes

    nodes = load_nodes()
    for name, key in (("horowitz45", "45nm"), ("n16", "16nm"), ("n7", "7nm"), ("n5", "5nm")):
        assert tables[name].node_value("fo4_ps") == nodes.node(key).fo4_ps
        assert tables[name].node_value("logic_density_mtr_per_mm2") == nodes.node(key).density_mtr_per_mm2


def test_trends_energy_and_fo4_fall_density_rises(tables):
    seq = [tables[n] for n in SERIES]
    assert [t.node_nm for t in seq] == sorted((t.node_nm for t in seq), reverse=True)
    for key in ("mult_energy_pj", "add_energy_pj"):
        values = [getattr(t, key)("int8") for t in seq]
        assert all(b < a for a, b in zip(values, values[1:])), key
    for probe in (lambda t: t.sram_access_energy_pj(65536), lambda t: t.register_energy_pj(),
                  lambda t: t.node_value("fo4_ps"), lambda t: t.mult_area_um2("fp16"),
                  lambda t: t.sram_area_mm2(1 << 20)):
        values = [probe(t) for t in seq]
        assert all(b < a for a, b in zip(values, values[1:])), values
    noc = [t.node_value("noc_pj_per_byte_hop") for t in seq]  # wire energy follows V^2 only: never rises
    assert all(b <= a for a, b in zip(noc, noc[1:])) and noc[-1] < noc[0]
    density = [t.node_value("logic_density_mtr_per_mm2") for t in seq]
    assert all(b > a for a, b in zip(density, density[1:]))


def test_missing_node_figure_is_a_readable_error(tables):
    from hwsim.errors import ConfigError

    with pytest.raises(ConfigError, match="no node.d2d_pj_per_bit figure"):
        tables["horowitz45"].node_value("d2d_pj_per_bit")
    assert tables["n7"].leakage_w(2.0) == pytest.approx(2 * tables["n7"].node_value("leakage_w_per_mm2"))


def test_gemm_leakage_against_hand_computation():
    from hwsim.power import gemm_energy, unit_area
    from hwsim.systolic.config import SystolicConfig
    from hwsim.systolic.cost import gemm_cost

    tech = load_tech("n7")
    cfg = SystolicConfig(rows=16, cols=16, dataflow="ws", freq_mhz=1500.0)
    stats = gemm_cost(cfg, m=128, n=64, k=96)
    without = gemm_energy(cfg, stats, tech)
    with_leak = gemm_energy(cfg, stats, tech, leakage=True)
    assert "leakage" not in without.components
    # by hand: n7 leakage 91.2e6 transistors/mm2 x 2 nW = 0.1824 W/mm2; area from the table; t = cycles / f
    area_mm2 = unit_area(cfg, tech).total_mm2
    seconds = stats.cycles / 1.5e9
    assert with_leak.components["leakage"] == pytest.approx(0.1824 * area_mm2 * seconds * 1e12, rel=1e-3)
    assert with_leak.total_pj == pytest.approx(without.total_pj + with_leak.components["leakage"], rel=1e-12)
    given = gemm_energy(cfg, stats, tech, leakage=True, area_mm2=2.0)
    assert given.components["leakage"] == pytest.approx(0.1824 * 2.0 * seconds * 1e12, rel=1e-3)
