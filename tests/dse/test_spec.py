"""Sweep specs: parsing, path checks and pinned error messages."""

import pytest
import yaml

from hwsim.dse.space import Space, system_area
from hwsim.dse.spec import load_spec, parse_spec, split_path
from hwsim.errors import ConfigError

BASE = {"system": "chiplet4", "model": "llama-2-7b", "batch": 1, "prompt": 16, "generate": 2}


def _spec(tmp_path, **over):
    data = {"base": BASE, "parameters": [{"path": "die.unit.rows", "choices": [32, 64]}],
            "objectives": [{"metric": "tpot_ms"}], **over}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_bad_path_names_the_parameter_and_suggests(tmp_path):
    p = _spec(tmp_path, parameters=[{"path": "dies", "choices": [2]}, {"path": "die.units", "choices": [8]},
                                    {"path": "die.unit.rowz", "choices": [32]}])
    with pytest.raises(ConfigError) as e:
        load_spec(p)
    assert e.value.problems == [
        "parameters[2].path: 'die.unit.rowz' is not a field of the system (did you mean die.unit.rows?)"]


def test_bad_choice_value_and_metric(tmp_path):
    p = _spec(tmp_path, parameters=[{"path": "dies", "choices": [2, 0]}], objectives=[{"metric": "tpot"}],
              constraints=["area <= 3"])
    with pytest.raises(ConfigError) as e:
        load_spec(p)
    assert e.value.problems[0] == "parameters[0].choices[1] = 0: system.dies: Input should be greater than or equal to 1, got 0"
    assert e.value.problems[1].startswith("objectives[0].metric: 'tpot' is not a metric; allowed: ttft_ms, tpot_ms")
    assert e.value.problems[2].startswith("constraints[0]: 'area' is not a metric")


def test_schema_errors_name_the_path():
    with pytest.raises(ConfigError) as e:
        parse_spec({"base": BASE, "parameters": [{"path": "dies"}], "objectives": [{"metric": "tpot_ms",
                    "direction": "down"}], "constraints": ["area_mm2 < x"], "search": {"kind": "anneal"}})
    text = "\n".join(e.value.problems)
    assert "parameters.0: Value error, give exactly one of choices or range" in text or \
        "parameters[0]: give exactly one of choices or range" in text
    assert "objectives[0].direction" in text
    assert "search.kind" in text


def test_grid_ranges_and_scenario_paths(tmp_path):
    p = _spec(tmp_path, parameters=[
        {"path": "die.sram_bytes", "range": {"low": 8388608, "high": 33554432, "log": True}},
        {"path": "die.memory.dram.overrides.stacks", "range": {"low": 1, "high": 4, "step": 1}},
        {"path": "scenario.batch", "choices": [1, 4]},
        {"path": "die.unit.pe.multiplier.kind", "choices": ["exact", "drum"]}])
    spec, folder = load_spec(p)
    pts = spec.grid_points()
    assert len(pts) == 3 * 4 * 2 * 2
    assert pts[0] == {"die.sram_bytes": 8388608, "die.memory.dram.overrides.stacks": 1, "scenario.batch": 1,
                      "die.unit.pe.multiplier.kind": "exact"}
    space = Space(spec, folder)
    sysm, model, cfg = space.build(pts[-1])
    assert sysm.die.sram_bytes == 33554432 and sysm.die.memory.dram.overrides["stacks"] == 4
    assert sysm.package.hbm_stacks_per_die == 4
    assert cfg.batch == 4 and cfg.multiplier.kind == "drum" and sysm.die.unit.pe.multiplier.kind == "exact"


def test_dies_coupling_and_star_paths(tmp_path):
    spec = parse_spec({"base": {**BASE, "system": "chiplet4"}, "objectives": [{"metric": "area_mm2"}],
                       "parameters": [{"path": "dies", "choices": [1, 2, 8]}]})
    space = Space(spec)
    one, _, _ = space.build({"dies": 1})
    assert one.package is None
    eight, _, _ = space.build({"dies": 8})
    assert eight.package.dies == 8 and eight.package.topology == {"kind": "mesh", "rows": 2, "cols": 4}
    assert split_path("a.b[*].c[2]") == ["a", "b", "*", "c", 2]


def test_area_model_by_hand():
    from hwsim.mapping import load_system
    from hwsim.noc.area import network_area
    from hwsim.power import load_tech, unit_area
    from hwsim.power.die import default_utilization, memory_phy

    s = load_system("chiplet4")
    tech = load_tech(s.technology)
    a = system_area(s)
    # 2x2 mesh: every die has 2 links; a PHY on both ends of each link
    pkg = s.package.package_config(100.0).build()
    d2d = pkg.area()["total_phy_mm2"]
    assert d2d > 0
    placed = (16 * unit_area(s.die.unit, tech).total_mm2 + tech.sram_area_mm2(32 << 20)
              + s.die.vector.lanes * (tech.mult_area_um2("fp32") + tech.add_area_um2("fp32")) * 1e-6
              + network_area(s.package.noc, tech).total_mm2)
    hbm = memory_phy(s.die.memory.dram.config())["area_mm2"]
    die = placed / default_utilization() + d2d / 4 + hbm
    assert a["die_mm2"] == pytest.approx(die, rel=1e-12)
    assert a["area_mm2"] == pytest.approx(4 * die, rel=1e-12)
    parts = sum(v for k, v in a.items() if k not in ("area_mm2", "die_mm2"))
    assert parts == pytest.approx(a["area_mm2"], rel=1e-12)
    assert a["d2d_phy_mm2"] == pytest.approx(d2d, rel=1e-12)
    assert a["memory_phy_mm2"] == pytest.approx(4 * hbm, rel=1e-12)


def test_star_and_index_set_every_element():
    from hwsim.dse.space import _set
    from hwsim.dse.spec import check_path
    from hwsim.mapping import load_system

    d = {"links": [{"gbps": 1}, {"gbps": 2}], "x": {"y": [1, 2, 3]}}
    _set(d, split_path("links[*].gbps"), 9, "links[*].gbps")
    _set(d, split_path("x.y[1]"), 7, "x.y[1]")
    assert d == {"links": [{"gbps": 9}, {"gbps": 9}], "x": {"y": [1, 7, 3]}}
    assert check_path(load_system("chiplet4"), split_path("die.units[*]"), "system", "die.units[*]") == \
        "'die.units[*]': die.units is not a list"
