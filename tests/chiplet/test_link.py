"""D2D links: presets reproduce their published figures and cite a source for every field; config errors;
go-back-N retry: the CL face's retry count against the closed form (statistical bound), BER = 0 exact."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from pydantic import ValidationError

from hwsim.chiplet.link import (
    D2DLinkConfig, flit_error_probability, goodput_factor, link_preset_data, link_preset_names, load_link,
    run_link_cl, sample_flit_failures,
)
from hwsim.errors import ConfigError, format_validation_error

PRESETS = ["ucie-standard", "ucie-advanced"]


# --- presets ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PRESETS)
def test_every_field_has_a_known_source(name):
    data = link_preset_data()
    preset = data["presets"][name]
    assert set(preset["sources"]) == set(D2DLinkConfig.model_fields)
    for fld, src in preset["sources"].items():
        assert src["source"] in data["references"] or src["source"] == "derived", (fld, src)
        assert src["kind"] in {"standard", "published", "derived", "assumption"}, (fld, src)
        if src["kind"] in {"derived", "assumption"}:
            assert src.get("note"), f"{name}.{fld}: a derived or assumed value states its rule"
    for fig in preset["published"].values():
        assert fig["source"] in data["references"]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_reproduce_published_figures(name):
    link = load_link(name)
    pub = link_preset_data()["presets"][name]["published"]
    assert link.shoreline_density_gbps_per_mm == pytest.approx(pub["shoreline_density_gbps_per_mm"]["value"], rel=1e-3)
    assert link.energy_pj_per_bit == pub["energy_pj_per_bit"]["value"]
    if "areal_density_gbps_per_mm2" in pub:
        assert link.areal_density_gbps_per_mm2 == pytest.approx(pub["areal_density_gbps_per_mm2"]["value"], rel=1e-3)


def test_preset_bandwidths_by_hand():
    std, adv = load_link("ucie-standard"), load_link("ucie-advanced")
    assert std.bandwidth_gbps == 16 * 32 / 8 == 64.0      # x16 at 32 GT/s, per direction
    assert adv.bandwidth_gbps == 64 * 32 / 8 == 256.0     # x64 at 32 GT/s
    assert adv.flit_time_ps == 1000 and std.flit_time_ps == 4000  # 256 B flit
    assert adv.latency_ps == 2000 and adv.replay_round_trip_ps == 4000
    four = adv.with_modules(4)
    assert four.bandwidth_gbps == 1024.0 and four.shoreline_mm == pytest.approx(4 * 0.3888)
    assert four.phy_area_mm2 == pytest.approx(4 * 0.3888 * 0.9756)


def test_custom_link_and_overrides():
    custom = load_link("custom", lanes_per_module=32, data_rate_gtps=16, latency_ns=1.5, energy_pj_per_bit=0.4,
                       module_shoreline_mm=0.3, phy_depth_mm=0.8)
    assert custom.name == "custom" and custom.bandwidth_gbps == 64.0 and custom.latency_ps == 1500
    assert load_link("ucie-advanced", modules=2, ber=1e-12).bandwidth_gbps == 512.0
    assert load_link({"preset": "ucie-standard", "modules": 2}).bandwidth_gbps == 128.0
    assert link_preset_names() == ["ucie-advanced", "ucie-standard", "custom"]


def test_link_errors_name_field_and_allowed_values():
    with pytest.raises(ConfigError) as e:
        load_link("ucie-ultra")
    assert e.value.problems == ["link: must be a D2D link preset (ucie-advanced, ucie-standard, custom) or a mapping "
                                "of fields, got 'ucie-ultra'"]
    with pytest.raises(ConfigError) as e:
        load_link("custom", lanes_per_module=16)
    assert "link.data_rate_gtps: required field is missing" in e.value.problems
    with pytest.raises(ConfigError) as e:
        load_link("ucie-advanced", ber=1.0, modules=0, wires=3)
    assert e.value.problems == ["link.modules: Input should be greater than or equal to 1, got 0",
                                "link.ber: Input should be less than 1, got 1.0",
                                "link.wires: unknown key (not a field of this config)"]
    with pytest.raises(ValidationError) as e:
        D2DLinkConfig(lanes_per_module=0, data_rate_gtps=-1, latency_ns=1, energy_pj_per_bit=1,
                      module_shoreline_mm=1, phy_depth_mm=1)
    assert format_validation_error(e.value, "l") == ["l.lanes_per_module: Input should be greater than or equal to 1, "
                                                     "got 0", "l.data_rate_gtps: Input should be greater than 0, got -1"]


# --- retry: closed form -------------------------------------------------------------------------------
def test_flit_error_probability_closed_form():
    assert flit_error_probability(0.0, 2048) == 0.0
    assert flit_error_probability(1e-6, 2048) == pytest.approx(1 - (1 - 1e-6) ** 2048, rel=1e-12)
    assert flit_error_probability(1e-18, 2048) == pytest.approx(2048e-18, rel=1e-9)  # no cancellation at tiny BER
    link = load_link("ucie-advanced", ber=1e-5)
    p = 1 - (1 - 1e-5) ** 2048
    assert link.flit_error_probability == pytest.approx(p, rel=1e-12)
    assert link.replay_window_flits == 4.0  # R = 4 ns, t_f = 1 ns
    assert link.goodput_factor == pytest.approx((1 - p) / (1 + 4 * p), rel=1e-12)
    assert goodput_factor(0.0, 10.0) == 1.0 and load_link("ucie-advanced").goodput_factor == 1.0


def test_ber_zero_is_exact():
    link = load_link("ucie-advanced")
    sizes = [256, 1000, 4096, 1]
    r = run_link_cl(link, sizes, seed=3)
    busy = sum(math.ceil(Fraction(n) / link.bytes_per_ps) for n in sizes)
    assert r.flit_errors == 0 and r.busy_ps == busy and r.time_ps == busy + link.latency_ps
    assert r.wire_bits == 8 * sum(sizes)  # 1000 B and 1 B still take whole ps on the wire (3907 and 4 ps)
    assert r.goodput == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("ber, seed", [(1e-5, 0), (5e-6, 1), (2e-4, 2)])
def test_cl_retry_rate_matches_closed_form(ber, seed):
    """X = corrupted transmissions while N flits get through is a sum of N geometric variables:
    E[X] = N p / (1 - p), Var[X] = N p / (1 - p)^2. The CL count must lie within 5 sigma; the time is then
    exactly N t_f + X (t_f + R) (+ latency), and the measured goodput is g within its own 5-sigma band."""
    link = load_link("ucie-advanced", ber=ber)
    n_flits = 40_000
    r = run_link_cl(link, [64 * 256] * (n_flits // 64), seed=seed)  # 625 messages of 64 flits
    p = link.flit_error_probability
    mean, sd = n_flits * p / (1 - p), math.sqrt(n_flits * p) / (1 - p)
    assert abs(r.flit_errors - mean) <= 5 * sd, (r.flit_errors, mean, sd)
    t_f, rtt = int(link.flit_time_ps), link.replay_round_trip_ps
    assert r.busy_ps == n_flits * t_f + r.flit_errors * (t_f + rtt)
    assert r.time_ps == r.busy_ps + link.latency_ps
    g = link.goodput_factor
    g_sd = 5 * sd * (t_f + rtt) / (n_flits * t_f) * g  # first-order propagation of the 5-sigma band of X
    assert abs(r.goodput - g) <= g_sd


def test_retry_is_deterministic_per_seed():
    link = load_link("ucie-standard", ber=1e-5)
    a, b, c = (run_link_cl(link, [4096] * 500, seed=s) for s in (7, 7, 8))
    assert a == b and a != c


def test_sample_flit_failures_mean():
    rng = np.random.default_rng(0)
    p = 0.1
    draws = [sample_flit_failures(rng, 1000, p) for _ in range(200)]
    mean, sd = 1000 * p / (1 - p), math.sqrt(1000 * p) / (1 - p) / math.sqrt(200)
    assert abs(np.mean(draws) - mean) <= 5 * sd
    assert sample_flit_failures(rng, 1000, 0.0) == 0
