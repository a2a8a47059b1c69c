"""``hwsim run`` with a package: GEMMs split tensor-parallel over dies, collectives over D2D links.

References are computed here: the even split (largest shard = ceil), the alpha-beta formulas of ring
all-reduce / all-gather on a package whose ring edges are single links (UCIe advanced: 256 GB/s per
direction, 2 ns), link energy = bytes over links x 8 x 0.3 pJ/bit, and the FL face on the whole layer.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.power import load_tech, unit_area
from hwsim.runner import run_config
from hwsim.system import RunConfig, load_run_config
from hwsim.systolic.cost import gemm_cost

ALPHA_PS = 2000  # ucie-advanced latency
BYTES_PER_PS = 0.256  # 256 GB/s
PJ_PER_BIT = 0.3


def config(face: str = "cost", topology="ring", dies: int = 4, gemms=None, **unit) -> RunConfig:
    gemms = gemms or [
        {"name": "col", "m": 16, "n": 70, "k": 24, "split": "column"},
        {"name": "gather", "m": 9, "n": 33, "k": 20, "split": "column_gather"},
        {"name": "row", "m": 12, "n": 16, "k": 50, "split": "row"},
        {"name": "one", "m": 8, "n": 8, "k": 8, "split": "none"},
    ]
    return RunConfig.model_validate({
        "name": "pkg", "unit": {"rows": 4, "cols": 4, "dataflow": "ws", "freq_mhz": 1000, **unit},
        "package": {"dies": dies, "topology": topology, "link": "ucie-advanced"},
        "face": face, "workload": {"gemms": gemms}})


def ring_allreduce_ps(p: int, n: int) -> float:
    return 2 * (p - 1) * ALPHA_PS + 2 * (p - 1) / p * n / BYTES_PER_PS


def ring_allgather_ps(p: int, n: int) -> float:
    return (p - 1) * ALPHA_PS + (p - 1) / p * n / BYTES_PER_PS


@pytest.mark.parametrize("topology", ["ring", {"kind": "mesh", "rows": 2, "cols": 2}, "full"])
def test_cost_face_layer_time_is_slowest_die_plus_alpha_beta(topology):
    cfg = config(topology=topology)
    res = run_config(cfg, Path("."))
    p = 4
    by_name = {lr.layer.name: lr for lr in res.layers}
    unit = cfg.unit
    # column: largest shard ceil(n/p) columns, no communication
    col = by_name["col"]
    assert col.stats.cycles == gemm_cost(unit, 16, math.ceil(70 / p), 24).cycles
    assert col.stats.comm_cycles == 0 and col.comm["collective"] is None and col.comm["dies_used"] == 4
    # column + all-gather of C in int8 (1 byte per element)
    g = by_name["gather"]
    t = ring_allgather_ps(p, 9 * 33)
    assert g.comm["collective"] == "all-gather" and g.comm["bytes"] == 9 * 33
    assert g.comm["time_ps"] == pytest.approx(t, abs=1)
    assert g.stats.cycles == gemm_cost(unit, 9, math.ceil(33 / p), 20).cycles + math.ceil(g.comm["time_ps"] / 1000)
    # row: K split, all-reduce of int32 partial sums (4 bytes per element)
    r = by_name["row"]
    nbytes = 12 * 16 * 4
    assert r.comm["collective"] == "allreduce" and r.comm["bytes"] == nbytes
    assert r.comm["time_ps"] == pytest.approx(ring_allreduce_ps(p, nbytes), abs=1)
    assert r.stats.cycles == gemm_cost(unit, 12, 16, math.ceil(50 / p)).cycles + r.stats.comm_cycles
    # ring all-reduce moves 2(p-1)/p n bytes out of every rank, each over one link
    assert r.energy.components["d2d"] == pytest.approx(2 * (p - 1) * nbytes * 8 * PJ_PER_BIT)
    # none: one die does everything
    one = by_name["one"]
    assert one.comm["dies_used"] == 1 and one.stats.cycles == gemm_cost(unit, 8, 8, 8).cycles
    # every MAC is counted once, over all dies; utilisation is over all dies' PEs
    for lr in res.layers:
        assert lr.stats.macs == lr.layer.m * lr.layer.n * lr.layer.k
        assert lr.stats.utilization == lr.stats.macs / (16 * 4 * lr.stats.cycles)
    t = res.totals()
    assert t["dies"] == 4 and t["comm_cycles"] == sum(lr.stats.comm_cycles for lr in res.layers)
    assert t["cycles"] == sum(lr.stats.cycles for lr in res.layers)


def test_package_area_is_dies_plus_phys():
    cfg = config(topology={"kind": "mesh", "rows": 2, "cols": 2})
    res = run_config(cfg, Path("."))
    one = unit_area(cfg.unit, load_tech("horowitz45")).total_mm2
    phy = res.package["area"]["total_phy_mm2"]
    from rtl.synth import load_nodes

    util = load_nodes().utilization.value  # the unit is placed at the node's utilisation; PHYs are hard blocks
    assert res.area.total_mm2 == pytest.approx(4 * one / util + phy, rel=1e-12)
    d = res.die_area
    assert d["total_mm2"] == pytest.approx(res.area.total_mm2, rel=1e-12) and d["dies"][0]["count"] == 4
    assert d["dies"][0]["die_mm2"] == pytest.approx(one / util + phy / 4, rel=1e-12)
    assert sum(d["components_mm2"].values()) == pytest.approx(d["total_mm2"], rel=1e-12)
    assert res.package["links"] == 4 and phy > 0  # a 2x2 mesh has 4 links, 2 per die
    assert res.package["link_bandwidth_gbps"] == 256.0 and res.package["link_latency_ns"] == 2.0


def test_cl_face_values_assemble_to_the_whole_layer_and_time_agrees():
    cl = run_config(config(face="cl"), Path("."))
    cost = run_config(config(face="cost"), Path("."))
    for a, b in zip(cl.layers, cost.layers):
        assert a.values_match_fl is True, a.layer.name  # shards concatenated / partial sums reduced == FL
        assert a.stats.cycles - a.stats.comm_cycles == b.stats.cycles - b.stats.comm_cycles  # ideal supply: exact
        if b.comm["collective"]:
            # simulated collective vs alpha-beta: uneven shards differ by at most a few ps per transfer
            assert abs(a.comm["time_ps"] - b.comm["time_ps"]) <= 0.01 * b.comm["time_ps"]


def test_fp16_row_split_reduces_in_die_order():
    cfg = config(face="cl", pe={"input": "fp16", "accumulator": "fp32"},
                 gemms=[{"name": "row", "m": 5, "n": 6, "k": 40, "split": "row"}])
    res = run_config(cfg, Path("."))  # fp32 partial sums added in die order (may round unlike one array)
    assert res.layers[0].comm["bytes"] == 5 * 6 * 4 and res.layers[0].comm["dies_used"] == 4


def test_split_needs_a_package_and_bad_package_names_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nunit: {rows: 4, cols: 4}\nworkload: {gemms: [{name: a, m: 4, n: 4, k: 4, split: row}]}\n")
    with pytest.raises(ConfigError, match=r"split.*needs a package"):
        load_run_config(bad)
    bad.write_text("name: x\nunit: {rows: 4, cols: 4}\npackage: {dies: 3, topology: {kind: mesh, rows: 2, cols: 2}}\n"
                   "workload: {gemms: [{name: a, m: 4, n: 4, k: 4}]}\n")
    with pytest.raises(ConfigError, match="package"):
        load_run_config(bad)
    bad.write_text("name: x\nunit: {rows: 4, cols: 4}\npackage: {dies: 4, link: ucie-ultra}\n"
                   "workload: {gemms: [{name: a, m: 4, n: 4, k: 4}]}\n")
    with pytest.raises(ConfigError, match="ucie-ultra"):
        load_run_config(bad)


def test_more_dies_than_columns_leaves_dies_idle():
    cfg = config(dies=8, gemms=[{"name": "narrow", "m": 4, "n": 3, "k": 8, "split": "column"}])
    lr = run_config(cfg, Path(".")).layers[0]
    assert lr.comm["dies_used"] == 3 and lr.stats.macs == 4 * 3 * 8
    assert np.isclose(lr.stats.utilization, 96 / (16 * 8 * lr.stats.cycles))


def test_die_noc_carries_the_d2d_payload_and_both_faces_agree():
    """Each die's 4x4 NoC (32 B flits, 1 GHz: 32 GB/s, slower than the 256 GB/s link) moves its D2D bytes
    between the compute tile (node 0) and the PHY (node 15, 6 hops): the ring all-reduce becomes NoC-bound.
    drain = H (R + L) + R + F - 1 + 1 cycles for F flits per direction; comm = max(link, drain) + one packet's leg."""
    gemms = [{"name": "row", "m": 16, "n": 64, "k": 32, "split": "row"}]
    res = {}
    for face in ("cost", "cl"):
        cfg = RunConfig.model_validate({
            "name": "pkg", "unit": {"rows": 4, "cols": 4, "dataflow": "ws", "freq_mhz": 1000},
            "package": {"dies": 4, "topology": "ring", "link": "ucie-advanced",
                        "noc": {"topology": "mesh", "size": "4x4", "flit_bytes": 32, "vcs": 2, "vc_buffer_flits": 8}},
            "face": face, "workload": {"gemms": gemms}})
        res[face] = run_config(cfg, Path(".")).layers[0]
    n = 16 * 64 * 4
    per_die = 2 * 3 * n // 4  # ring all-reduce: every die sends (and receives) 2(p-1)/p n bytes
    flits = per_die // 32
    drain = 6 * (2 + 1) + 2 + flits - 1 + 1
    leg = 6 * (2 + 1) + 2 + 256 // 32 - 1
    for face, lr in res.items():
        c = lr.comm
        assert c["noc_bytes_per_die"] == per_die and c["noc_hops"] == 6
        assert c["noc_drain_ps"] == drain * 1000, face
        assert c["time_ps"] == max(c["link_time_ps"], drain * 1000) + leg * 1000
        assert c["time_ps"] > c["link_time_ps"]  # NoC-bound
    assert res["cl"].values_match_fl is True
    # NoC energy, both directions, every die: flits x (6 links + 7 routers' buffer write, read and
    # crossbar), each priced per flit by the horowitz45 table (hwsim.noc.energy)
    from hwsim.noc.config import NocConfig
    from hwsim.noc.energy import flit_energy_pj
    from hwsim.power import load_tech

    e = flit_energy_pj(NocConfig(size="4x4", flit_bytes=32, vcs=2, vc_buffer_flits=8), load_tech("horowitz45"))
    comps = res["cost"].energy.components
    assert comps["noc_links"] == pytest.approx(2 * 4 * flits * 6 * e["link"], rel=1e-12)
    assert comps["noc_buffers"] == pytest.approx(2 * 4 * flits * 7 * (e["buffer_write"] + e["buffer_read"]), rel=1e-12)
    assert comps["noc_crossbars"] == pytest.approx(2 * 4 * flits * 7 * e["crossbar"], rel=1e-12)
    assert comps["noc_links"] == pytest.approx(2 * per_die * 6 * load_tech("horowitz45").node_value("noc_pj_per_byte_hop") * 4)


def test_die_noc_nodes_are_checked():
    with pytest.raises(Exception, match="phy_node"):
        RunConfig.model_validate({
            "name": "pkg", "unit": {"rows": 4, "cols": 4},
            "package": {"dies": 2, "noc": {"topology": "mesh", "size": "2x2"}, "phy_node": 9},
            "workload": {"gemms": [{"name": "a", "m": 4, "n": 4, "k": 4}]}})


def test_package_area_report_matches_the_die_roll_up():
    """The package info's area (Package.area(), whose shoreline check uses the die) is built with the
    rolled-up die: its per-die area equals the roll-up's die, and its total the package total."""
    res = run_config(config(topology={"kind": "mesh", "rows": 2, "cols": 2}), Path("."))
    a, d = res.package["area"], res.die_area
    assert [r["area_mm2"] for r in a["dies"]] == pytest.approx([d["dies"][0]["die_mm2"]] * 4, rel=1e-12)
    assert a["total_area_mm2"] == pytest.approx(d["total_mm2"], rel=1e-12)
