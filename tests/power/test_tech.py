"""The technology table against numbers pinned here from their publications, and its error messages."""

from __future__ import annotations

import math
from importlib import resources

import pytest
import yaml

from hwsim.errors import ConfigError
from hwsim.pe.formats import ACC_FORMATS, INPUT_FORMATS
from hwsim.power.tech import TechTable, load_tech, packaged_tech

# M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014; 45 nm, 0.9 V.
HOROWITZ_MULT = {  # format: (energy pJ, area µm²)
    "int8": (0.2, 282), "int32": (3.1, 3495), "fp16": (1.1, 1640), "fp32": (3.7, 7700),
}
HOROWITZ_ADD = {
    "int8": (0.03, 36), "int32": (0.1, 137), "fp16": (0.4, 1360), "fp32": (0.9, 4184),
}
HOROWITZ_CACHE_64BIT_PJ = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}
HOROWITZ_DRAM_64BIT_PJ = (1300.0, 2600.0)
MISTRY_CELL_UM2 = 0.346  # Intel 45 nm 6T SRAM cell, Mistry et al., IEDM 2007
NANGATE_DFF_X1_UM2 = 4.522  # NanGate 45 nm Open Cell Library, DFF_X1


@pytest.fixture(scope="module")
def tech() -> TechTable:
    return load_tech("horowitz45")


def packaged_data() -> dict:
    text = resources.files("hwsim.power").joinpath("data").joinpath("horowitz45.yaml").read_text("utf-8")
    return yaml.safe_load(text)


# --- published numbers ---------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", HOROWITZ_MULT)
def test_multiplier_numbers_are_horowitz(tech, fmt):
    energy, area = HOROWITZ_MULT[fmt]
    assert tech.mult_energy_pj(fmt) == energy
    assert tech.mult_area_um2(fmt) == area
    assert tech.mult[fmt].source == "horowitz2014"


@pytest.mark.parametrize("fmt", HOROWITZ_ADD)
def test_adder_numbers_are_horowitz(tech, fmt):
    energy, area = HOROWITZ_ADD[fmt]
    assert tech.add_energy_pj(fmt) == energy
    assert tech.add_area_um2(fmt) == area
    assert tech.add[fmt].source == "horowitz2014"


def test_table_metadata(tech):
    assert (tech.name, tech.node_nm, tech.supply_v) == ("horowitz45", 45, 0.9)
    assert "ISSCC 2014" in tech.references["horowitz2014"]
    assert "IEDM 2007" in tech.references["mistry2007"]


def test_every_number_has_a_source_and_derived_ones_a_rule(tech):
    for path, entry in tech.sourced():
        assert entry.source == "derived" or entry.source in tech.references, path
        if entry.source == "derived":
            assert entry.rule, path


@pytest.mark.parametrize("capacity", sorted(HOROWITZ_CACHE_64BIT_PJ))
def test_sram_energy_at_the_published_sizes(tech, capacity):
    assert tech.sram_access_energy_pj(capacity) == pytest.approx(HOROWITZ_CACHE_64BIT_PJ[capacity], rel=1e-12)
    assert tech.sram_energy_pj_per_byte(capacity) == pytest.approx(HOROWITZ_CACHE_64BIT_PJ[capacity] / 8,
                                                                   rel=1e-12)


def test_sram_energy_log_log_fit(tech):
    # geometric mid-point of 8 KB and 32 KB lies on the straight log-log line: sqrt(10 x 20) pJ
    assert tech.sram_access_energy_pj(16 * 1024) == pytest.approx(math.sqrt(10 * 20), rel=1e-12)
    # 64 KiB: 32 KiB x 2 = 32 KiB x 32^(1/5), so energy = 20 x 5^(1/5) on the 32 KB..1 MB segment
    assert tech.sram_access_energy_pj(64 * 1024) == pytest.approx(20 * 5 ** 0.2, rel=1e-12)
    # extrapolation with the end slopes: below 8 KB exponent 1/2, above 1 MB exponent log 5 / log 32
    assert tech.sram_access_energy_pj(2 * 1024) == pytest.approx(10 * 0.5, rel=1e-12)
    assert tech.sram_access_energy_pj(32 * 1024 * 1024) == pytest.approx(100 * 5, rel=1e-12)


def test_sram_energy_is_monotonic_in_size(tech):
    sizes = [2 ** e for e in range(6, 31)] + [3 * 1024, 48 * 1024, 1.5 * 1024 * 1024]
    sizes.sort()
    energies = [tech.sram_energy_pj_per_byte(s) for s in sizes]
    assert all(b > a for a, b in zip(energies, energies[1:]))


def test_dram_uses_the_midpoint_of_the_published_range(tech):
    lo, hi = HOROWITZ_DRAM_64BIT_PJ
    assert tech.dram_energy_pj_per_byte() == pytest.approx((lo + hi) / 2 / 8)
    assert tech.dram_energy_pj_per_byte() == 243.75


def test_sram_area_from_the_cell(tech):
    efficiency = tech.sram.array_efficiency.value
    assert tech.sram.cell_area_um2.value == MISTRY_CELL_UM2
    assert efficiency == 0.7
    expected_mm2 = 64 * 1024 * 8 * MISTRY_CELL_UM2 / efficiency / 1e6
    assert tech.sram_area_mm2(64 * 1024) == pytest.approx(expected_mm2, rel=1e-12)
    assert tech.sram_area_mm2(64 * 1024) == pytest.approx(0.25915, abs=1e-5)


# --- derived numbers, re-derived here from the published ones ----------------------------------------
def test_integer_multipliers_scale_with_width_squared(tech):
    e8, a8 = HOROWITZ_MULT["int8"]
    for fmt, width in (("int4", 4), ("int16", 16)):
        assert tech.mult_energy_pj(fmt) == pytest.approx(e8 * (width / 8) ** 2, rel=1e-12)
        assert tech.mult_area_um2(fmt) == pytest.approx(a8 * (width / 8) ** 2, rel=1e-12)
        assert tech.mult[fmt].source == "derived"


def test_wide_adders_scale_linearly(tech):
    e32, a32 = HOROWITZ_ADD["int32"]
    for fmt, width in (("int48", 48), ("int64", 64)):
        assert tech.add_energy_pj(fmt) == pytest.approx(e32 * width / 32, rel=1e-12)
        assert tech.add_area_um2(fmt) == pytest.approx(a32 * width / 32, rel=1e-12)


def test_bf16_multiplier_scaled_from_fp16_by_significand_squared(tech):
    e16, a16 = HOROWITZ_MULT["fp16"]
    assert tech.mult_energy_pj("bf16") == pytest.approx(e16 * (8 / 11) ** 2, rel=1e-3)
    assert tech.mult_area_um2("bf16") == pytest.approx(a16 * (8 / 11) ** 2, rel=1e-3)


def test_register_bit(tech):
    e32, a32 = HOROWITZ_ADD["int32"]
    assert tech.register_area_um2() == NANGATE_DFF_X1_UM2
    assert tech.register_area_um2(48) == pytest.approx(48 * NANGATE_DFF_X1_UM2)
    assert tech.register_energy_pj() == pytest.approx(NANGATE_DFF_X1_UM2 * e32 / a32, rel=1e-3)
    assert tech.register_energy_pj(40) == pytest.approx(40 * tech.register_energy_pj())


# --- look-ups ------------------------------------------------------------------------------------
def test_mac_energy_int8_int32(tech):
    """int8 multiply (0.2 pJ) + int32 accumulate (0.1 pJ). An int8 *add* would give 0.23 pJ, but an
    int8 x int8 MAC accumulates at int32 width, so the int32 adder is priced."""
    assert tech.mac_energy_pj("int8", "int32") == pytest.approx(0.2 + 0.1, rel=1e-12)
    assert tech.mac_energy_pj("fp16", "fp32") == pytest.approx(1.1 + 0.9, rel=1e-12)


def test_every_hwsim_format_has_a_price(tech):
    for fmt in INPUT_FORMATS:
        assert tech.mult_energy_pj(fmt) > 0 and tech.mult_area_um2(fmt) > 0
    for fmt in ACC_FORMATS:
        assert tech.add_energy_pj(fmt) > 0 and tech.add_area_um2(fmt) > 0


@pytest.mark.parametrize("unsigned", ["uint4", "uint8", "uint16"])
def test_unsigned_priced_like_signed(tech, unsigned):
    signed = unsigned[1:]
    assert tech.mult_energy_pj(unsigned) == tech.mult_energy_pj(signed)
    assert tech.mult_area_um2(unsigned) == tech.mult_area_um2(signed)


def test_unknown_format(tech):
    with pytest.raises(ConfigError) as err:
        tech.mult_energy_pj("fp8")
    assert err.value.problems == [
        "tech horowitz45: no multiplier entry for format 'fp8'; the table has "
        "int4, int8, int16, int32, fp16, bf16, fp32 (unsigned formats use the signed entry)"]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "64k"])
def test_bad_sram_capacity(tech, bad):
    with pytest.raises(ConfigError) as err:
        tech.sram_energy_pj_per_byte(bad)
    assert err.value.problems == [f"SRAM capacity: must be a finite number of bytes > 0, got {bad!r}"]


# --- loading -------------------------------------------------------------------------------------
def test_packaged_and_by_path_agree(tmp_path):
    assert "horowitz45" in packaged_tech()
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(packaged_data()))
    assert load_tech(path) == load_tech("horowitz45") == load_tech(str(path))


def test_default_is_horowitz45():
    assert load_tech().name == "horowitz45"


def test_direct_construction_checks_references():
    data = packaged_data()
    data["add"]["int8"]["source"] = "nobody"
    with pytest.raises(ValueError, match=r"add\.int8\.source: unknown reference 'nobody'"):
        TechTable(**data)


def _load_modified(tmp_path, edit) -> list[str]:
    data = packaged_data()
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_tech(path)
    return [line.replace(str(path), "FILE") for line in err.value.problems]


def test_error_negative_energy(tmp_path):
    def edit(d):
        d["mult"]["int8"]["energy_pj"] = -0.2
    assert _load_modified(tmp_path, edit) == [
        "FILE.mult.int8.energy_pj: Input should be greater than 0, got -0.2"]


def test_error_unknown_and_missing_keys(tmp_path):
    def edit(d):
        d["colour"] = "blue"
        d["add"]["int32"]["energy_nj"] = d["add"]["int32"].pop("energy_pj")
        del d["dram"]
    assert sorted(_load_modified(tmp_path, edit)) == sorted([
        "FILE.add.int32.energy_pj: required field is missing",
        "FILE.add.int32.energy_nj: unknown key (not a field of this config)",
        "FILE.dram: required field is missing",
        "FILE.colour: unknown key (not a field of this config)",
    ])


def test_error_unknown_reference(tmp_path):
    def edit(d):
        d["mult"]["int8"]["source"] = "horowitz2041"
    assert _load_modified(tmp_path, edit) == [
        "FILE.mult.int8.source: unknown reference; use 'derived' (with a rule) or one of: fo4_rule, "
        "hbm2e_preset, horowitz2014, hwsim, keckler2011, mistry2007, nangate45, oconnor2017, wikichip, "
        "got 'horowitz2041'"]


def test_error_derived_without_rule(tmp_path):
    def edit(d):
        del d["mult"]["int4"]["rule"]
    assert _load_modified(tmp_path, edit) == [
        "FILE.mult.int4.rule: required when source is 'derived': state how the value was derived, got None"]


def test_error_sram_points_out_of_order(tmp_path):
    def edit(d):
        d["sram"]["access_energy"]["points"].reverse()
    lines = _load_modified(tmp_path, edit)
    assert len(lines) == 1
    assert lines[0].startswith("FILE.sram.access_energy.points: capacity_bytes must increase strictly "
                               "from one point to the next, got [")


def test_error_efficiency_above_one(tmp_path):
    def edit(d):
        d["sram"]["array_efficiency"]["value"] = 1.5
    assert _load_modified(tmp_path, edit) == [
        "FILE.sram.array_efficiency.value: Input should be less than or equal to 1, got 1.5"]


def test_error_dram_value_outside_published_range(tmp_path):
    def edit(d):
        d["dram"]["access_energy_pj"]["value"] = 3000
    assert _load_modified(tmp_path, edit) == [
        "FILE.dram.published_range_pj: must contain access_energy_pj.value (3000 pJ), got [1300, 2600]"]


def test_error_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: horowitz45\nmult: {int8: [\n")
    with pytest.raises(ConfigError) as err:
        load_tech(path)
    (line,) = err.value.problems
    assert line.startswith(f"{path}: not valid YAML at line ")


def test_error_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError) as err:
        load_tech(path)
    assert err.value.problems == [f"{path}: a technology table must be a mapping of keys to values, got list"]


def test_error_unknown_table():
    with pytest.raises(ConfigError) as err:
        load_tech("horowitz7")
    assert err.value.problems == [
        "tech: 'horowitz7' is neither a packaged table (horowitz45, n16, n28, n5, n65, n7) nor an existing file"]
