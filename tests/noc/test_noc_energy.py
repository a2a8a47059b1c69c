"""NoC energy: counters x the technology table, by hand, and the closed-form transfer against the CL
face's counters of the same transfer."""

import math

import pytest

from hwsim.noc.area import router_area
from hwsim.noc.cl import run_trace_cl
from hwsim.noc.config import NocConfig
from hwsim.noc.energy import flit_energy_pj, noc_energy_pj, transfer_energy_pj
from hwsim.noc.traffic import as_trace
from hwsim.power.tech import load_tech

NOC = NocConfig(topology="mesh", size="4x4", vcs=2, vc_buffer_flits=4, flit_bytes=16)


@pytest.mark.parametrize("tech_name", ["horowitz45", "n7"])
def test_flit_energy_by_hand(tech_name):
    tech = load_tech(tech_name)
    e = flit_energy_pj(NOC, tech)
    reg = tech.registers.energy_pj_per_bit.value
    assert e["link"] == pytest.approx(16 * tech.node_value("noc_pj_per_byte_hop"), rel=1e-12)
    assert e["buffer_write"] == e["buffer_read"] == pytest.approx(128 * reg, rel=1e-12)
    span = math.sqrt(router_area(NOC, tech).components["crossbar"])
    assert e["crossbar"] == pytest.approx(128 * tech.node_value("wire_pj_per_bit_mm") * span, rel=1e-12)
    assert 0 < e["crossbar"] < e["link"]  # a crossbar is much shorter than a 1 mm hop


def test_node_scaling_lowers_every_action():
    a, b = flit_energy_pj(NOC, load_tech("horowitz45")), flit_energy_pj(NOC, load_tech("n7"))
    assert all(b[k] < a[k] for k in a)


def test_transfer_matches_the_cl_counters():
    """One 1 KiB message corner to corner on the 4x4 mesh (6 hops): the closed form's counters are the
    CL face's, so the energies are equal."""
    tech = load_tech("n7")
    src, dst, nbytes = 0, 15, 1024
    flits = NOC.packet_flits(nbytes)
    res = run_trace_cl(NOC, as_trace(NOC, [(0, src, dst, nbytes)]))
    hops = 3 + 3  # corner to corner on a 4x4 mesh, XY
    assert res.stats["flit_hops"] == flits * hops
    cl = noc_energy_pj(res.stats, NOC, tech)
    closed = transfer_energy_pj(NOC, tech, flits * NOC.flit_bytes, hops)
    for k in cl:
        assert cl[k] == pytest.approx(closed[k], rel=1e-12), k
