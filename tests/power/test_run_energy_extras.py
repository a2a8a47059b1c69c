"""Energy of approximate-multiplier PEs and leakage in runs, against hand computation."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.approx.energy import multiplier_energy_ratio
from hwsim.pe.config import MultiplierConfig
from hwsim.power import gemm_energy, load_tech, unit_area
from hwsim.runner import run_config
from hwsim.system import RunConfig
from hwsim.systolic.config import SystolicConfig
from hwsim.systolic.cost import gemm_cost

TECH = load_tech("horowitz45")


def test_approximate_multiplier_scales_the_multiply_energy():
    exact = SystolicConfig(rows=8, cols=8, pe={"input": "int8", "accumulator": "int32"})
    approx = SystolicConfig(rows=8, cols=8, pe={"input": "int8", "accumulator": "int32",
                                                "multiplier": {"kind": "drum", "params": {"k": 4}}})
    stats = gemm_cost(exact, 16, 16, 16)
    e = gemm_energy(exact, stats, TECH).components["mac"]
    a = gemm_energy(approx, gemm_cost(approx, 16, 16, 16), TECH).components["mac"]
    ratio = multiplier_energy_ratio(MultiplierConfig(kind="drum", params={"k": 4}), "int8")
    assert 0.3 < ratio < 0.95
    assert e == pytest.approx(stats.macs * (0.2 + 0.1))  # Horowitz: int8 multiply 0.2 pJ, int32 add 0.1 pJ
    assert a == pytest.approx(stats.macs * (0.2 * ratio + 0.1))


def test_run_adds_leakage_of_the_unit_area_over_the_run_time():
    data = {"name": "leak", "unit": {"rows": 8, "cols": 8, "dataflow": "ws", "freq_mhz": 500},
            "workload": {"gemms": [{"name": "g", "m": 32, "n": 32, "k": 32}]}}
    res = run_config(RunConfig.model_validate(data), Path("."))
    cfg = res.config.unit
    area = unit_area(cfg, TECH).total_mm2
    cycles = res.layers[0].stats.cycles
    w_per_mm2 = TECH.node.leakage_w_per_mm2.value
    want_pj = w_per_mm2 * area * cycles / 500e6 * 1e12
    assert res.layers[0].energy.components["leakage"] == pytest.approx(want_pj)
    off = run_config(RunConfig.model_validate({**data, "leakage": False}), Path("."))
    assert "leakage" not in off.layers[0].energy.components


def test_package_run_leakage_includes_the_die_noc():
    """With a die NoC, every die leaks over its unit and its routers: dies x (unit + NoC) x W/mm2 x time."""
    from hwsim.noc.area import network_area
    from hwsim.noc.config import NocConfig

    noc = {"topology": "mesh", "size": "2x2", "flit_bytes": 16}
    data = {"name": "leakpkg", "unit": {"rows": 4, "cols": 4, "dataflow": "ws", "freq_mhz": 500},
            "package": {"dies": 2, "topology": "ring", "link": "ucie-advanced", "noc": noc},
            "workload": {"gemms": [{"name": "g", "m": 8, "n": 16, "k": 8, "split": "column"}]}}
    res = run_config(RunConfig.model_validate(data), Path("."))
    lr = res.layers[0]
    area = unit_area(RunConfig.model_validate(data).unit, TECH).total_mm2 + network_area(NocConfig(**noc), TECH).total_mm2
    die_s = (lr.stats.cycles - lr.stats.comm_cycles) / 500e6  # each die's own GEMM time
    want_pj = 2 * area * TECH.node.leakage_w_per_mm2.value * die_s * 1e12
    assert lr.energy.components["leakage"] == pytest.approx(want_pj, rel=1e-9)
