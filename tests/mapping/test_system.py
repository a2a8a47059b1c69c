"""System presets against their published figures, and the errors of bad system files (pinned)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hwsim.errors import ConfigError
from hwsim.mapping import load_system, parse_system, system_names
from hwsim.mapping.system import SYSTEMS_DIR

PRESETS = ["a100_like", "h100_like", "tpuv4_like", "chiplet4"]

# Published figures, written here from the sources (NVIDIA A100/H100 whitepapers and datasheets,
# Jouppi et al. ISCA 2023), independently of the YAML files: (format -> dense FLOP/s, bytes/s).
PUBLISHED = {
    "a100_like": ({"bf16": 312e12, "fp16": 312e12, "int8": 624e12}, 1555e9),
    "h100_like": ({"bf16": 989e12, "fp16": 989e12, "int8": 1979e12, "fp8": 1979e12}, 3.35e12),
    "tpuv4_like": ({"bf16": 275e12, "int8": 275e12}, 1200e9),
    "chiplet4": ({"bf16": 4 * 2 * 16 * 64 * 64 * 1.5e9, "int8": 4 * 2 * 16 * 64 * 64 * 2 * 1.5e9}, 4 * 4 * 819.2e9),
}


def test_presets_are_listed():
    assert set(PRESETS) <= set(system_names())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_peaks_match_published(name):
    s = load_system(name)
    flops, bw = PUBLISHED[name]
    for fmt, value in flops.items():
        assert s.peak_flops(fmt) == pytest.approx(value, rel=0.005), fmt  # rounding of the published figure
        assert s.published.peak_flops[fmt] == pytest.approx(value, rel=1e-9)  # the file cites the same number
    assert s.peak_memory_bytes_per_s() == pytest.approx(bw, rel=0.005)
    assert s.published.memory_bytes_per_s == pytest.approx(bw, rel=1e-9)
    assert s.memory_capacity_bytes() == pytest.approx(s.published.memory_bytes, rel=0.005)


def test_a100_unit_mapping():
    """One SM = one 32x32 unit: 1024 MACs per cycle at 1410 MHz."""
    s = load_system("a100_like")
    assert (s.die.units, s.die.unit.rows * s.die.unit.cols, s.die.unit.freq_mhz) == (108, 1024, 1410)
    assert s.die.sram_bytes == 40 * 2**20


@pytest.mark.parametrize("name", PRESETS)
def test_dram_overrides_are_consistent(name):
    """The data-rate/tCK overrides keep whole beats per clock and a simulated clock within 0.1 % of
    the nominal one, so the DRAM model's own peak equals the published figure too."""
    cfg = load_system(name).die.memory.dram.config()
    assert abs(cfg.clock_rounding_error) < 1e-3
    assert cfg.simulated_peak_bandwidth_bytes_per_s == pytest.approx(cfg.peak_bandwidth_bytes_per_s, rel=1e-3)


@pytest.mark.parametrize("name", PRESETS)
def test_every_number_has_a_source(name):
    data = yaml.safe_load((SYSTEMS_DIR / f"{name}.yaml").read_text())
    parse_system(data, name)  # raises on a missing source
    assert all(isinstance(c, str) and len(c) > 10 for c in data["sources"].values())


def test_chiplet_package():
    s = load_system("chiplet4")
    assert s.dies == 4 and s.package.dies == 4 and s.package.link == "ucie-advanced"
    assert s.package.topology == {"kind": "mesh", "rows": 2, "cols": 2} and s.package.noc is not None
    assert s.peak_flops("bf16") == 4 * s.die.peak_flops("bf16")


def test_unsupported_format_falls_back_to_slowest_two_byte():
    s = load_system("a100_like")
    fmt, rate, warn = s.die.resolve_format("fp8")
    assert (fmt, rate) == ("bf16", 1.0) and "fp8" in warn
    assert s.peak_flops("fp8") == s.peak_flops("bf16")
    assert s.die.resolve_format(None)[0] == "bf16"


def test_load_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((SYSTEMS_DIR / "a100_like.yaml").read_text())
    assert load_system(str(path)).name == "a100_like"
    assert load_system(load_system("a100_like")).name == "a100_like"


def _bad(tmp_path: Path, edit) -> str:
    data = yaml.safe_load((SYSTEMS_DIR / "a100_like.yaml").read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_system(path)
    return str(err.value)


def _set(path: str, value):
    def edit(data):
        *parents, last = path.split(".")
        for p in parents:
            data = data[p]
        data[last] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set("die.bogus", 1), "bad.die.bogus: unknown key (not a field of this config)"),
    (_set("die.units", 0), "bad.die.units: Input should be greater than or equal to 1, got 0"),
    (_set("dies", 4), "bad: package: required when dies > 1 (dies = 4), got none"),
    (_set("die.formats", {"bf16": 1, "fp4": 2}),
     "bad.die.formats: unknown format(s) 'fp4'; allowed: int4, int8, int16, uint4, uint8, uint16, fp16, bf16, fp8"),
    (_set("die.formats", {"int8": 2}), "bad.die: formats must list the unit's pe.input 'bf16', got int8"),
    (_set("die.formats", {"bf16": 0}), "bad.die.formats: MACs per PE per cycle must be finite and > 0, got bf16=0"),
    (_set("die.unit.memory_port", {"bandwidth_bytes_per_cycle": 64}),
     "bad.die: unit.memory_port must be left out (the die's memory section feeds the units)"),
    (_set("die.memory.dram.overrides", {"stacks": 5, "data_rate_mtps": 2430}),
     "data_rate_mtps x tck_ns / 1000 (beats per clock) must be a whole number >= 1, got 1.51875"),
    (_set("die.vector.ops_per_element", {"gemm": 2}),
     "bad.die.vector.ops_per_element: unknown op kind(s) 'gemm'; allowed: softmax, norm, rope, activation"),
    (_set("die.vector.ops_per_element", {"softmax": 8}),
     "bad.sources: no source for die.vector.ops_per_element.softmax = 8 (cite it, or a parent path)"),
    (_set("sources.die.nonsense", "x"), None),
])
def test_bad_system_files(tmp_path, edit, message):
    if message is None:  # a source key that names no field
        def edit(data):
            data["sources"]["die.nonsense"] = "some citation text"
        message = "bad.sources.die.nonsense: names no field of the file"
    text = _bad(tmp_path, edit)
    assert message in text, text


def test_package_dies_must_match(tmp_path):
    data = yaml.safe_load((SYSTEMS_DIR / "chiplet4.yaml").read_text())
    data["package"].update(dies=2, topology="ring")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"bad: package.dies: must equal dies \(4\), got 2"):
        load_system(path)


def test_unknown_system_names_the_presets():
    with pytest.raises(ConfigError, match=r"system: 'nope' is neither a preset \(a100_like, chiplet4, h100_like, "
                                          r"tpuv4_like.*\) nor an existing file"):
        load_system("nope")


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml:.*YAML syntax error"):
        load_system(path)
