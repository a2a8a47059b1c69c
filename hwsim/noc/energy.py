"""NoC energy: the action counters of both faces (:data:`hwsim.noc.result.NOC_STATS`) priced with a
technology table.

Per flit of ``W = 8 x flit_bytes`` bits:

* **link** (one router-to-router traversal): ``flit_bytes x node.noc_pj_per_byte_hop`` (the node's
  wire energy over one hop's length, ``noc_hop_mm``);
* **buffer** write and read: ``W x registers.energy_pj_per_bit`` each (input buffers are flip-flops,
  as :func:`hwsim.noc.area.router_area` prices them);
* **crossbar** traversal: ``W x node.wire_pj_per_bit_mm x span`` with ``span`` the side of the
  crossbar's synthesised cell area, ``sqrt(crossbar mm²)`` (a flit crosses the crossbar's wires once;
  the AND-OR select logic's own switching is not counted).

Allocation (arbiter toggles) and clocking are not priced.
"""

from __future__ import annotations

import math

from hwsim.noc.area import flit_bits, router_area
from hwsim.noc.config import NocConfig
from hwsim.power.tech import TechTable


def flit_energy_pj(noc: NocConfig, tech: TechTable) -> dict[str, float]:
    """Energy of one flit's actions, pJ: ``link`` (one hop), ``buffer_write``, ``buffer_read``,
    ``crossbar`` (one traversal)."""
    w = flit_bits(noc)
    reg = tech.registers.energy_pj_per_bit.value
    span_mm = math.sqrt(router_area(noc, tech).components["crossbar"])
    return {"link": noc.flit_bytes * tech.node_value("noc_pj_per_byte_hop"),
            "buffer_write": w * reg, "buffer_read": w * reg,
            "crossbar": w * tech.node_value("wire_pj_per_bit_mm") * span_mm}


def noc_energy_pj(stats: dict[str, int], noc: NocConfig, tech: TechTable) -> dict[str, float]:
    """A run's NoC energy by component, pJ, from its counters (``flit_hops``, ``buffer_writes``,
    ``buffer_reads``, ``router_traversals``)."""
    e = flit_energy_pj(noc, tech)
    return {"noc_links": stats["flit_hops"] * e["link"],
            "noc_buffers": stats["buffer_writes"] * e["buffer_write"] + stats["buffer_reads"] * e["buffer_read"],
            "noc_crossbars": stats["router_traversals"] * e["crossbar"]}


def transfer_energy_pj(noc: NocConfig, tech: TechTable, nbytes: int, hops: int) -> dict[str, float]:
    """Energy of moving ``nbytes`` over a ``hops``-hop route: ``ceil(nbytes / flit_bytes)`` flits, each
    crossing ``hops`` links and ``hops + 1`` routers (a buffer write, read and crossbar traversal in
    each), pJ by component (the counters a trace of it gives, priced as :func:`noc_energy_pj`)."""
    flits = -(-int(nbytes) // noc.flit_bytes)
    routers = hops + 1
    return noc_energy_pj({"flit_hops": flits * hops, "buffer_writes": flits * routers,
                          "buffer_reads": flits * routers, "router_traversals": flits * routers}, noc, tech)
