"""The DRAM preset file keeps its promises (see its header, ``hwsim/memory/data/dram_presets.yaml``).

* every ``derived`` energy is re-derived here from the preset's ``energy_inputs`` (and the organisation
  and timings it names) with the rule stated in its ``sources`` note — the Micron TN-40-07 formulas
  (ACT/PRE ``VDD (IDD0 tRC - (IDD3N tRAS + IDD2N (tRC - tRAS)))``, read/write burst
  ``(IDD4R/W - IDD3N) VDD tBURST / bits``, refresh ``(IDD5B - IDD3N) VDD tRFC``, standby ``IDD3N VDD``),
  the HBM2E calibration to the published 3.9 pJ/bit, and the voltage / page / capacity scalings — and
  must equal the file's value to the precision it is written with (half a unit of its last digit);
* every config field has a ``sources`` entry naming an existing reference (or ``derived``) with a
  known kind, and derived values / assumptions say how in a note;
* a bad override is refused with a :class:`ConfigError` that names the field and the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hwsim.errors import ConfigError
from hwsim.memory.dram import DramConfig, DramEnergy, DramTiming, load_preset, preset_names
from hwsim.memory.dram.bench import mem_bench

PRESET_FILE = Path(__file__).resolve().parents[2] / "hwsim" / "memory" / "data" / "dram_presets.yaml"
TEXT = PRESET_FILE.read_text(encoding="utf-8")
DATA = yaml.safe_load(TEXT)
REFS = DATA["references"]
PRESETS = DATA["presets"]
KINDS = {"standard", "datasheet", "typical", "derived", "assumption"}


def written_tolerance(value: float) -> float:
    """Half a unit of the last digit the file writes (``3.61`` -> 0.005, ``51122.0`` -> 0.5)."""
    text = repr(float(value))
    decimals = 0 if text.endswith(".0") else len(text.split(".")[1])
    return 0.5 * 10.0 ** -decimals * (1 + 1e-9) + 1e-12


def within_rounding(derived: float, written: float) -> bool:
    return abs(derived - written) <= written_tolerance(written)


# --- the rules, applied to the raw inputs ------------------------------------------------------------
def tn4007(inp: dict) -> dict[str, float]:
    """Micron TN-40-07 for one device (mA x ns x V = pJ, mA x V = mW)."""
    v = inp["vdd_v"]
    return {
        "act_pre_pj": v * (inp["idd0_ma"] * inp["trc_ns"]
                           - (inp["idd3n_ma"] * inp["tras_ns"] + inp["idd2n_ma"] * (inp["trc_ns"] - inp["tras_ns"]))),
        "read_pj_per_bit": (inp["idd4r_ma"] - inp["idd3n_ma"]) * v * inp["burst_ns"] / inp["burst_bits"],
        "write_pj_per_bit": (inp["idd4w_ma"] - inp["idd3n_ma"]) * v * inp["burst_ns"] / inp["burst_bits"],
        "refresh_pj": (inp["idd5_ma"] - inp["idd3n_ma"]) * v * inp["trfc_ns"],
        "background_mw": inp["idd3n_ma"] * v,
    }


def pc_bits(cfg: dict) -> int:
    """Capacity of one pseudo channel (or channel), bits, from the raw organisation."""
    return cfg["bank_groups"] * cfg["banks_per_group"] * cfg["rows"] * cfg["columns"] * cfg["bus_width_bits"]


def derive_hbm2e() -> tuple[dict[str, float], float]:
    """Returns the derived energies and the unrounded read energy (the write rule builds on it)."""
    p = PRESETS["hbm2e"]
    cfg, inp = p["config"], p["energy_inputs"]
    dev = tn4007(inp)  # one 128-bit legacy channel of the dramsim3_hbm2 config
    # the note's rules: the reference's channel (16 banks x 32,768 rows x 64 columns x 128 bits = 4 Gb)
    # and a pseudo channel hold as many bits (refresh x 1); a pseudo channel is half of the channel's
    # standby current (background / 2); its ACT opens a 1 KB row, half of the 2 KB page the note
    # assigns to a legacy-mode (128-bit) channel (ACT/PRE / 2).
    # NB: the reference's own geometry, 64 columns x 128 bits, is a 1 KB row, not 2 KB; the factor 2
    # rests on the note's legacy-mode page size, not on that geometry (flagged, not changed here).
    assert pc_bits(cfg) == 16 * 32768 * 64 * 128
    row_bits = cfg["columns"] * cfg["bus_width_bits"]
    assert row_bits == 1024 * 8
    act = dev["act_pre_pj"] / 2
    refresh = dev["refresh_pj"]
    background = dev["background_mw"] / cfg["pseudo_channels"]
    assert inp["trp_ns"] == inp["trc_ns"] - inp["tras_ns"]
    # calibration: a full-bandwidth stream of one pseudo channel costs the published pJ/bit
    bits_per_s = cfg["data_rate_mtps"] * 1e6 * cfg["bus_width_bits"]
    trefi_s = cfg["timing"]["tREFI"]["ns"] * 1e-9
    read = (inp["published_pj_per_bit"] - act / row_bits - background * 1e-3 / bits_per_s * 1e12
            - refresh / (trefi_s * bits_per_s))
    write = read + (inp["idd4w_ma"] - inp["idd4r_ma"]) * inp["vdd_v"] * inp["burst_ns"] / inp["burst_bits"]
    return {"act_pre_pj": act, "read_pj_per_bit": read, "write_pj_per_bit": write, "refresh_pj": refresh,
            "background_mw": background}, read


def derive_ddr4() -> dict[str, float]:
    inp = PRESETS["ddr4"]["energy_inputs"]
    dev = tn4007(inp)  # one x8 die; burst_bits = 64 bits per die per BL8 burst
    dies = inp["dies"]
    cfg = PRESETS["ddr4"]["config"]
    assert dies * 8 == cfg["bus_width_bits"]  # x8 dies make up the 64-bit rank
    assert cfg["timing"]["tRFC"]["ns"] == inp["trfc_ns"] and cfg["timing"]["tRAS"]["ns"] == inp["tras_ns"]
    return {"act_pre_pj": dev["act_pre_pj"] * dies, "read_pj_per_bit": dev["read_pj_per_bit"],
            "write_pj_per_bit": dev["write_pj_per_bit"], "refresh_pj": dev["refresh_pj"] * dies,
            "background_mw": dev["background_mw"] * dies}


def derive_scaled(name: str) -> dict[str, float]:
    """hbm3 from hbm2e, lpddr5 from ddr4: CV^2 for energies, V for standby power (same current)."""
    inp = PRESETS[name]["energy_inputs"]
    base_name = inp["scale_from"]
    base = PRESETS[base_name]["config"]["energy"]  # the written (rounded) values, as the notes use them
    r = inp["vdd_v"] / inp["reference_vdd_v"]
    out = {k: base[k] * r * r for k in ("act_pre_pj", "read_pj_per_bit", "write_pj_per_bit", "refresh_pj")}
    out["background_mw"] = base["background_mw"] * r
    if name == "lpddr5":
        cfg, ref = PRESETS[name]["config"], PRESETS[base_name]["config"]
        # ACT/PRE energy per bit of row opened: 2 KB LPDDR5 page vs the DDR4 rank's 8 KB row
        assert inp["row_bytes"] == cfg["columns"] * cfg["bus_width_bits"] // 8
        assert inp["reference_row_bytes"] == ref["columns"] * ref["bus_width_bits"] // 8
        out["act_pre_pj"] *= inp["row_bytes"] / inp["reference_row_bytes"]
        # refresh energy per bit refreshed: one 8 Gb channel vs the 64 Gb module
        assert inp["capacity_ratio"] == pc_bits(cfg) / pc_bits(ref)
        out["refresh_pj"] *= inp["capacity_ratio"]
        # standby: one DDR4 die's IDD3N x VDD, at the LPDDR5 voltage
        d = PRESETS[base_name]["energy_inputs"]
        out["background_mw"] = d["idd3n_ma"] * d["vdd_v"] * r
    return out


def derived(name: str) -> dict[str, float]:
    if name == "hbm2e":
        return derive_hbm2e()[0]
    if name == "ddr4":
        return derive_ddr4()
    return derive_scaled(name)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_derived_energies_follow_their_rules(preset):
    written = PRESETS[preset]["config"]["energy"]
    sources = PRESETS[preset]["sources"]
    got = derived(preset)
    assert set(got) == set(written) == set(DramEnergy.model_fields)
    for key, value in got.items():
        assert sources[f"energy.{key}"]["kind"] == "derived"
        assert within_rounding(value, written[key]), f"{preset}.energy.{key}: derived {value!r}, file {written[key]!r}"


def test_the_rounding_check_is_not_vacuous():
    assert within_rounding(3.612, 3.61) and not within_rounding(3.62, 3.61)
    assert within_rounding(63669.375, 63669.0) and not within_rounding(63670.0, 63669.0)
    bad = dict(PRESETS["ddr4"]["energy_inputs"], idd4r_ma=169)
    assert not within_rounding(tn4007(bad)["read_pj_per_bit"], PRESETS["ddr4"]["config"]["energy"]["read_pj_per_bit"])


def test_hbm2e_stream_energy_matches_the_published_figure():
    """The calibration holds on the CL face: a long full-bandwidth HBM2E stream (one channel, ten
    tREFI, refreshes included) costs the published 3.9 pJ/bit (O'Connor et al., MICRO 2017) within 1 %."""
    target = PRESETS["hbm2e"]["energy_inputs"]["published_pj_per_bit"]
    r = mem_bench("hbm2e", "stream", requests=62_400, channels=1)
    assert r["refreshes"] >= 9 * 2
    assert r["energy_pj_per_bit"] == pytest.approx(target, rel=0.01)


# --- sources ------------------------------------------------------------------------------------------
def config_paths(cfg: dict) -> list[str]:
    paths = []
    for key, value in cfg.items():
        if key in ("timing", "energy"):
            paths += [f"{key}.{k}" for k in value]
        else:
            paths.append(key)
    return paths


MODEL_PATHS = ([f for f in DramConfig.model_fields if f not in ("timing", "energy")]
               + [f"timing.{f}" for f in DramTiming.model_fields] + [f"energy.{f}" for f in DramEnergy.model_fields])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_field_has_a_source(preset):
    p = PRESETS[preset]
    sources = p["sources"]
    paths = config_paths(p["config"])
    missing = [k for k in paths if k not in sources]
    assert not missing, f"{preset}: fields without a sources entry: {missing}"
    unknown = [k for k in sources if k not in MODEL_PATHS]
    assert not unknown, f"{preset}: sources for fields the config does not have: {unknown}"
    for key, src in sources.items():
        assert src["source"] in REFS or src["source"] == "derived", f"{preset}.{key}: unknown source {src['source']!r}"
        assert src["kind"] in KINDS, f"{preset}.{key}: unknown kind {src['kind']!r}"
        if src["kind"] in ("derived", "assumption") or src["source"] in ("derived", "hwsim"):
            assert src.get("note"), f"{preset}.{key}: a {src['kind']} value must say how in a note"
    pub = p["published_peak_gbps"]
    assert pub["source"] in REFS


def test_config_fields_are_exactly_the_model_fields():
    """Every preset writes every required field (optional ones: timing.tRTW), nothing more."""
    optional = {"timing.tRTW"}
    for name, p in PRESETS.items():
        assert set(config_paths(p["config"])) == set(MODEL_PATHS) - optional, name


def test_every_reference_is_cited():
    cited = set()
    for p in PRESETS.values():
        for src in list(p["sources"].values()) + [p["published_peak_gbps"]]:
            cited.add(src["source"])
            cited.update(r for r in REFS if r in src.get("note", ""))
    assert set(REFS) - cited == set()


def test_presets_load_and_aliases():
    assert preset_names() == sorted(PRESETS)
    for name in PRESETS:
        assert load_preset(name).name == name
    assert load_preset("DDR4-3200").name == "ddr4" and load_preset("hbm2").name == "hbm2e"


# --- bad overrides ------------------------------------------------------------------------------------
BAD = [
    ({"channels": 0}, "channels", "0"),
    ({"pseudo_channels": 17}, "pseudo_channels", "17"),
    ({"page_policy": "lazy"}, "page_policy", "'lazy'"),
    ({"address_mapping": "ro-ba-xx"}, "address_mapping", "'ro-ba-xx'"),
    ({"address_mapping": "ro-ro-ba-co-bg-st-pc-ch"}, "address_mapping", "ro"),
    ({"address_mapping": "ro-ba-co-bg"}, "address_mapping", "ch, pc"),
    ({"tck_ns": 0.7}, "tck_ns", "0.7"),
    ({"burst_length": 3}, "burst_length", "3"),
    ({"columns": 100}, "columns", "100"),
    ({"queue_depth": -3}, "queue_depth", "-3"),
    ({"refresh": "maybe"}, "refresh", "'maybe'"),
    ({"data_rate_mtps": float("nan")}, "data_rate_mtps", "nan"),
    ({"bogus": 1}, "bogus", "unknown key"),
]


@pytest.mark.parametrize("override, field, value", BAD, ids=[next(iter(o)) + str(i) for i, (o, _, _) in enumerate(BAD)])
def test_bad_override_names_field_and_value(override, field, value):
    with pytest.raises(ConfigError) as info:
        load_preset("hbm3", **override)
    text = str(info.value)
    assert field in text and value in text, text
    assert all(line.startswith("dram[hbm3]") for line in info.value.problems)


def test_bad_timing_names_the_timing():
    timing = {k: dict(v) for k, v in PRESETS["ddr4"]["config"]["timing"].items()}
    timing["tRCD"] = {"ns": -1}
    with pytest.raises(ConfigError, match=r"timing\.tRCD\.ns.*-1"):
        load_preset("ddr4", timing=timing)
    timing["tRCD"] = {}
    with pytest.raises(ConfigError, match=r"timing\.tRCD"):
        load_preset("ddr4", timing=timing)
    timing = {k: dict(v) for k, v in PRESETS["ddr4"]["config"]["timing"].items()}
    timing["tREFI"] = {"ns": 100}
    with pytest.raises(ConfigError, match=r"tREFI \(160 cycles\) must exceed tRFC \+ tRP"):
        load_preset("ddr4", timing=timing)


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ConfigError, match="unknown DRAM preset 'hbm9'; presets: ddr4, hbm2e, hbm3, lpddr5"):
        load_preset("hbm9")
