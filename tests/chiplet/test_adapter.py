"""D2D adapter check (hwsim.chiplet.adapter): needed die-side width, the ratio, NoC-bound links, the
package-run wrapper on real RunConfig fields, and bad input."""

import pytest

from hwsim.chiplet.adapter import d2d_adapter_check, package_adapter_check
from hwsim.chiplet.link import load_link
from hwsim.errors import ConfigError
from hwsim.noc.config import NocConfig
from hwsim.system import RunConfig


def test_needed_width_by_hand():
    # ucie-advanced: 64 lanes x 32 GT/s / 8 = 256 GB/s per direction
    r = d2d_adapter_check("ucie-advanced", die_clock_mhz=1000)
    assert r["link_bandwidth_gbps"] == 256.0
    assert r["needed_adapter_bytes"] == 256  # 256e9 B/s / 1e9 cycles/s
    assert r["adapter_bytes"] is None and r["ratio"] is None and r["adapter_ok"] and r["warnings"] == []
    # ucie-standard: 16 x 32 / 8 = 64 GB/s; at 1.5 GHz 64000 / 1500 = 42.67 -> 43 bytes
    r = d2d_adapter_check(load_link("ucie-standard"), die_clock_mhz=1500, adapter_bytes=43)
    assert r["needed_adapter_bytes"] == 43
    assert r["ratio"] == pytest.approx(64 / (1.5 * 43)) and r["ratio"] <= 1 and r["adapter_ok"]
    narrow = d2d_adapter_check("ucie-standard", die_clock_mhz=1500, adapter_bytes=42)
    assert narrow["ratio"] == pytest.approx(64 / (1.5 * 42)) and narrow["ratio"] > 1 and not narrow["adapter_ok"]
    assert narrow["deliverable_gbps"] == pytest.approx(1.5 * 42)
    assert narrow["warnings"] and narrow["warnings"][0].startswith("D2D adapter: 42 bytes per cycle at 1500 MHz")
    assert "needs >= 43 bytes" in narrow["warnings"][0]


def test_exact_fit_is_not_flagged():
    # 2 modules of ucie-standard = 128 GB/s; 128 bytes at 1000 MHz is exactly enough
    r = d2d_adapter_check(load_link("ucie-standard", modules=2), die_clock_mhz=1000, adapter_bytes=128)
    assert r["ratio"] == 1.0 and r["adapter_ok"] and r["needed_adapter_bytes"] == 128


def test_noc_bound_link():
    noc = NocConfig(flit_bytes=16, freq_mhz=1000)  # 16 GB/s per channel
    r = d2d_adapter_check("ucie-advanced", noc=noc)
    assert r["die_clock_mhz"] == 1000 and r["adapter_bytes"] == 16  # NoC clock and flit width by default
    assert r["noc_bandwidth_gbps"] == 16.0 and r["noc_bound"]
    assert r["deliverable_gbps"] == 16.0 and r["ratio"] == 16.0
    assert any(w.startswith("NoC-bound D2D link: noc.flit_bytes 16 at noc.freq_mhz 1000") for w in r["warnings"])
    assert any("flits of >= 256 bytes" in w and "6.2% of its rate" in w for w in r["warnings"])
    # a NoC wide and fast enough is not the bottleneck
    wide = d2d_adapter_check("ucie-standard", noc=NocConfig(flit_bytes=64, freq_mhz=1000))
    assert not wide["noc_bound"] and wide["adapter_ok"] and wide["warnings"] == []
    assert wide["deliverable_gbps"] == 64.0
    # two links through one PHY node double the demand
    two = d2d_adapter_check("ucie-standard", noc=NocConfig(flit_bytes=64, freq_mhz=1000), links=2)
    assert two["noc_bound"] and two["deliverable_gbps"] == 32.0


def run_config(noc=None, modules=None, freq=1000):
    pk = {"dies": 4, "topology": "ring", "link": "ucie-standard"}
    if noc is not None:
        pk["noc"] = noc
    if modules is not None:
        pk["modules_per_edge"] = modules
    return RunConfig.model_validate({"name": "pkg", "unit": {"rows": 4, "cols": 4, "freq_mhz": freq},
                                     "package": pk, "workload": {"gemms": [{"name": "g", "m": 8, "n": 8, "k": 8}]}})


def test_package_run_uses_its_link_noc_and_clock():
    # no NoC: the unit clock, width only reported
    r = package_adapter_check(run_config(freq=800))
    assert r["die_clock_mhz"] == 800 and r["needed_adapter_bytes"] == 80 and r["noc_bandwidth_gbps"] is None
    # modules_per_edge changes the link the run uses: 3 x 64 GB/s
    r = package_adapter_check(run_config(modules=3, noc={"flit_bytes": 128, "freq_mhz": 1000}))
    assert r["link_bandwidth_gbps"] == 192.0 and r["noc_bandwidth_gbps"] == 128.0 and r["noc_bound"]
    assert r["adapter_bytes"] == 128 and r["needed_adapter_bytes"] == 192
    with pytest.raises(ConfigError, match="^package:"):
        package_adapter_check(RunConfig.model_validate(
            {"name": "x", "unit": {"rows": 4, "cols": 4}, "workload": {"gemms": [{"name": "g", "m": 8, "n": 8, "k": 8}]}}))


@pytest.mark.parametrize("kwargs, field", [
    ({"link": "ucie-advanced"}, "die_clock_mhz"),
    ({"link": "ucie-advanced", "die_clock_mhz": 0}, "die_clock_mhz"),
    ({"link": "ucie-advanced", "die_clock_mhz": float("nan")}, "die_clock_mhz"),
    ({"link": "ucie-advanced", "die_clock_mhz": 1000, "adapter_bytes": 0}, "adapter_bytes"),
    ({"link": "ucie-advanced", "die_clock_mhz": 1000, "adapter_bytes": 2.5}, "adapter_bytes"),
    ({"link": "ucie-advanced", "noc": {"flit_bytes": 16}}, "noc"),
    ({"link": "ucie-advanced", "die_clock_mhz": 1000, "links": 0}, "links"),
    ({"link": "ucie-ultra", "die_clock_mhz": 1000}, "link"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}:"):
        d2d_adapter_check(**kwargs)
