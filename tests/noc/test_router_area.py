"""Router area and clock (hwsim.noc.area): roll-ups against hand computation, synthesis figures against
the RTL's register count, monotonicity in VCs, flit width and ports, the fmax warning and bad input.

Synthesis results are cached (``~/.cache/hwsim`` or ``$HWSIM_CACHE_DIR``); the configs here are few and
small (P <= 5, W <= 256) so a cold run costs tens of seconds."""

import math

import pytest
import yaml
from importlib import resources

from hwsim.errors import ConfigError
from hwsim.noc.area import (
    buffer_bits, logic_area_mm2, network_area, router_area, router_synthesis, router_timing, synth_node_of,
    vc_state_bits,
)
from hwsim.noc.config import NocConfig
from hwsim.power.tech import load_tech, parse_tech
from rtl.synth import load_nodes

pytestmark = [pytest.mark.xdist_group("synth")]

MESH = NocConfig()  # 4x4 mesh, 5 ports, 2 VCs x 4 flits, 16-byte flits, router_cycles 2
H45, N7 = load_tech("horowitz45"), load_tech("n7")


def test_buffer_and_state_bits_by_hand():
    assert buffer_bits(MESH) == 5 * 2 * 4 * 128
    assert buffer_bits(NocConfig(topology="ring", size="8", vcs=3, vc_buffer_flits=6, flit_bytes=4)) == 3 * 3 * 6 * 32
    # per input VC: state 2 + port clog2(5)=3 + out VC clog2(2)=1 + pointers 2 x clog2(4)=4 -> 10;
    # per output VC: credits clog2(5)=3 + busy 1 -> 4; 5 ports x 2 VCs x 14
    assert vc_state_bits(MESH) == 140
    # ring, 1 VC (no dateline), 1-flit buffers: 2 + 2 + 0 + 0 and 1 + 1 -> 6 per VC, 3 VCs
    ring = NocConfig(topology="ring", size="4", vcs=1, vc_buffer_flits=1, unsafe_no_dateline=True)
    assert vc_state_bits(ring) == 3 * 6


def test_router_area_roll_up_by_hand():
    a = router_area(MESH, H45)
    syn = router_synthesis(MESH)
    reg = H45.registers.area_um2_per_bit.value  # NanGate45 DFF_X1, 4.522 um2
    assert a.components["input_buffers"] == pytest.approx(5120 * reg * 1e-6, rel=1e-12)
    assert a.components["vc_state"] == pytest.approx(140 * reg * 1e-6, rel=1e-12)
    util = load_nodes().utilization.value
    for key in ("switch_allocator", "crossbar"):
        want = syn[key].transistors / 3.33e6  # cell area: the die roll-up applies the utilisation
        assert a.components[key] == pytest.approx(want, rel=1e-12)
        # same density in both tables at 45 nm: rtl.synth's conversion is this over the utilisation
        assert a.components[key] / util == pytest.approx(load_nodes().area_mm2(syn[key].transistors, "45nm"),
                                                         rel=1e-12)
    assert a.total_mm2 == pytest.approx(math.fsum(a.components.values()))
    assert a.tech == "horowitz45"


def test_synthesis_matches_the_rtl_structure():
    syn = router_synthesis(MESH, core=True)
    # priority masks: P input arbiters of V bits + P output arbiters of P bits; the crossbar has no registers
    assert syn["switch_allocator"].flip_flops == 5 * 2 + 5 * 5
    assert syn["crossbar"].flip_flops == 0
    # a 5:1 AND-OR mux: one AND level, three OR levels
    assert syn["crossbar"].logic_depth == 4
    core = syn["sa_st_core"]
    assert max(syn["switch_allocator"].logic_depth, syn["crossbar"].logic_depth) <= core.logic_depth
    assert core.logic_depth <= syn["switch_allocator"].logic_depth + syn["crossbar"].logic_depth
    # crossbar: at least one AND and one OR-tree share per data bit and input
    assert syn["crossbar"].transistors >= 5 * 5 * 128 * 4


def test_network_area_is_routers_times_nodes():
    noc = NocConfig(size="3x2")
    net, one = network_area(noc, N7), router_area(noc, N7)
    assert net.total_mm2 == pytest.approx(6 * one.total_mm2)
    assert net.components["crossbar (x6 routers)"] == pytest.approx(6 * one.components["crossbar"])


def test_area_grows_with_vcs_and_flit_width_and_shrinks_with_node():
    base = router_area(MESH, H45)
    more_vcs = router_area(NocConfig(vcs=4), H45)
    wider = router_area(NocConfig(flit_bytes=32), H45)
    for key in ("input_buffers", "vc_state", "switch_allocator"):
        assert more_vcs.components[key] > base.components[key]
    assert more_vcs.components["crossbar"] == base.components["crossbar"]  # crossbar is P x P x W only
    for key in ("input_buffers", "crossbar"):
        assert wider.components[key] > base.components[key]
    assert wider.components["switch_allocator"] == base.components["switch_allocator"]
    assert router_area(MESH, N7).total_mm2 < base.total_mm2 / 10


def test_timing_critical_stage_and_fmax():
    nodes = load_nodes()
    t = router_timing(MESH, "45nm")
    assert t["ports"] == 5 and t["vcs"] == 2 and t["flit_bits"] == 128
    assert t["logic_depth"] == max(t["allocator_depth"], t["crossbar_depth"])
    assert t["critical_stage"] == "switch_allocator"
    assert t["fmax_mhz"] == pytest.approx(nodes.fmax_mhz(t["logic_depth"], "45nm"))
    assert t["warning"] is None  # 1000 MHz default is reachable at 45 nm by this estimate
    t7 = router_timing(MESH, N7)  # a tech table: its own FO4 (the same 5.9 ps as nodes.yaml's 7nm)
    assert t7["node"] == "n7" and t7["fmax_mhz"] > t["fmax_mhz"]
    assert t7["fmax_mhz"] == pytest.approx(router_timing(MESH, "7nm")["fmax_mhz"], rel=1e-12)
    t28 = router_timing(MESH, load_tech("n28"))  # no nodes.yaml entry: the table's FO4 still times it
    assert t7["fmax_mhz"] > t28["fmax_mhz"] > t["fmax_mhz"]
    single = router_timing(NocConfig(router_cycles=1), "45nm")
    assert single["critical_stage"] == "switch_allocator+crossbar"
    assert t["logic_depth"] <= single["logic_depth"] <= single["series_depth_bound"]
    assert single["series_depth_bound"] == single["allocator_depth"] + single["crossbar_depth"]


def test_more_ports_and_vcs_give_deeper_allocation():
    ring = router_timing(NocConfig(topology="ring", size="8"), "45nm")
    mesh = router_timing(MESH, "45nm")
    mesh4 = router_timing(NocConfig(vcs=4), "45nm")
    assert ring["ports"] == 3
    assert ring["allocator_depth"] < mesh["allocator_depth"] < mesh4["allocator_depth"]
    assert ring["crossbar_depth"] < mesh["crossbar_depth"]
    assert ring["fmax_mhz"] > mesh["fmax_mhz"] > mesh4["fmax_mhz"]


def test_warning_when_the_clock_is_too_fast():
    fmax = router_timing(MESH, "45nm")["fmax_mhz"]
    fast = router_timing(NocConfig(freq_mhz=round(fmax * 1.1)), "45nm")
    assert fast["warning"].startswith(f"noc.freq_mhz {round(fmax * 1.1)} is above the router's estimated fmax")
    assert "45nm" in fast["warning"] and "switch_allocator" in fast["warning"]
    at = router_timing(NocConfig(freq_mhz=math.floor(fmax)), "45nm")
    assert at["warning"] is None
    single = router_timing(NocConfig(freq_mhz=round(fmax * 1.1), router_cycles=1), "45nm")
    assert "router_cycles >= 2" in single["warning"]


def test_tech_to_node_mapping():
    assert synth_node_of(H45) == "45nm" and synth_node_of(N7) == "7nm" and synth_node_of(load_tech("n16")) == "16nm"
    with pytest.raises(ConfigError, match=r"^tech: table 'n28' is at 28nm"):
        synth_node_of(load_tech("n28"))
    # n28 has no nodes.yaml entry but its own sourced density prices the area
    assert logic_area_mm2(1_000_000, load_tech("n28")) == pytest.approx(1 / 9.25)


def test_bad_input_names_the_field():
    with pytest.raises(ConfigError, match="^noc:"):
        router_area({"topology": "mesh"}, H45)
    with pytest.raises(ConfigError, match="^tech:"):
        router_area(MESH, "horowitz45")
    with pytest.raises(ConfigError, match="^node:"):
        router_timing(MESH, "3nm")
    data = yaml.safe_load(resources.files("hwsim.power").joinpath("data/horowitz45.yaml").read_text())
    data.pop("node")
    with pytest.raises(ConfigError, match="node.logic_density_mtr_per_mm2"):
        router_area(MESH, parse_tech(data))
