"""Area and reachable clock of a NoC router, from Yosys synthesis of its RTL twins plus a technology table.

A router of a :class:`~hwsim.noc.config.NocConfig` has ``P`` ports (5 on a mesh or torus: local, east,
west, north, south; 3 on a ring: local, cw, ccw), ``V = vcs`` virtual channels per input port and flits of
``W = 8 x flit_bytes`` bits.

Area (:func:`router_area`, mm²) is the sum of

* ``input_buffers``: ``P x V x vc_buffer_flits x W`` bits held in flip-flops, priced at the table's
  register area (``tech.register_area_um2(bits)``, e.g. NanGate45's DFF_X1 in ``horowitz45``). Only the
  payload bits are counted (no head/tail or VC-id sideband), and the buffers' write decoders and read
  multiplexers are not included.
* ``vc_state``: the per-VC control registers, also at the register area (:func:`vc_state_bits`): per
  input VC a 2-bit state (idle, routing, waiting for a VC, active), the output port (``clog2 P`` bits),
  the output VC (``clog2 V``) and the read and write pointers of its circular buffer
  (``2 x clog2 vc_buffer_flits``); per output VC a credit counter (``clog2(vc_buffer_flits + 1)``) and a
  busy bit.
* ``switch_allocator`` and ``crossbar``: transistors of :class:`rtl.noc.SwitchAllocator` (P, V) and
  :class:`rtl.noc.Crossbar` (P, W) from :func:`rtl.synth.synthesize`, at the table's logic density
  divided by the placement utilisation: ``transistors / (node.logic_density_mtr_per_mm2 x 1e6) /
  utilization`` (utilisation from ``rtl.synth``'s node table, ``nodes.yaml``). For the nodes both tables
  have (45, 16, 7, 5 nm) the densities are the same, so this equals ``load_nodes().area_mm2`` at the
  matching node; it also prices ``n28`` and ``n65``, which ``nodes.yaml`` lacks.

Not included: the VC allocator, route computation, the link drivers and repeaters, clock tree and the
wires between routers (no sourced wire-area figure is in the tables; :func:`network_area` says so). A
mesh's edge and corner routers are priced as full ``P``-port routers (an upper bound).

Clock (:func:`router_timing`): the logic depth (Yosys ``ltp``, 2-input gate levels) of the deepest stage,
turned into fmax by ``rtl.synth``'s node table. With ``router_cycles >= 2`` switch allocation and switch
traversal sit in different pipeline stages, so the critical stage is the deeper of the two. With
``router_cycles == 1`` they are in series in one cycle: the grant selects the crossbar's multiplexers.
That path is measured on :class:`rtl.noc.RouterCore` (the allocator driving the crossbar); the sum of the
two depths is reported beside it as the bound it never exceeds. Buffer write, route computation and VC
allocation are taken to fit in the other stages (or to be off the critical path, as with lookahead
routing and speculative VC allocation).

Tech table to synthesis node: a :class:`~hwsim.power.tech.TechTable` maps to the ``nodes.yaml`` node named
``f"{tech.node_nm:g}nm"`` (``horowitz45`` -> ``45nm``, ``n7`` -> ``7nm``); :func:`synth_node_of` raises
:class:`~hwsim.errors.ConfigError` for tables whose node ``nodes.yaml`` lacks (``n28``, ``n65``).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from hwsim.errors import ConfigError
from hwsim.noc.config import NocConfig
from hwsim.power.area import AreaBreakdown
from hwsim.power.tech import TechTable

if TYPE_CHECKING:
    from rtl.synth import SynthResult

__all__ = [
    "buffer_bits", "flit_bits", "logic_area_mm2", "network_area", "router_area", "router_ports",
    "router_synthesis", "router_timing", "synth_node_of", "vc_state_bits",
]


def _noc(noc: object) -> NocConfig:
    if not isinstance(noc, NocConfig):
        raise ConfigError(f"noc: must be a NocConfig (hwsim.noc.config), got {type(noc).__name__}")
    return noc


def _tech(tech: object) -> TechTable:
    if not isinstance(tech, TechTable):
        raise ConfigError(f"tech: must be a TechTable (hwsim.power.tech.load_tech), got {type(tech).__name__}")
    return tech


def _clog2(n: int) -> int:
    return max(0, math.ceil(math.log2(n))) if n > 1 else 0


def router_ports(noc: NocConfig) -> int:
    """Ports of one router, local port included: 5 on a mesh or torus, 3 on a ring
    (as :class:`hwsim.noc.topology.Topology`)."""
    return 3 if _noc(noc).topology == "ring" else 5


def flit_bits(noc: NocConfig) -> int:
    """Bits per flit: ``8 x flit_bytes``."""
    return 8 * _noc(noc).flit_bytes


def buffer_bits(noc: NocConfig) -> int:
    """Input-buffer bits of one router: ``ports x vcs x vc_buffer_flits x flit bits``."""
    return router_ports(noc) * noc.vcs * noc.vc_buffer_flits * flit_bits(noc)


def vc_state_bits(noc: NocConfig) -> int:
    """VC control-register bits of one router (see the module docstring for the fields)."""
    P, V, D = router_ports(noc), noc.vcs, noc.vc_buffer_flits
    per_input_vc = 2 + _clog2(P) + _clog2(V) + 2 * _clog2(D)
    per_output_vc = _clog2(D + 1) + 1
    return P * V * (per_input_vc + per_output_vc)


def _synth(block: str, ports: int, vcs: int, width: int) -> SynthResult:
    """One block's synthesis, cached by its parameters in this process and on disk
    (:func:`rtl.synth.synthesize_keyed`: a repeat costs neither Verilog generation nor Yosys)."""
    from rtl.noc import Crossbar, RouterCore, SwitchAllocator
    from rtl.synth.flow import synthesize_keyed

    if block == "switch_allocator":
        return synthesize_keyed(f"noc_sw_alloc_p{ports}_v{vcs}", {}, lambda: SwitchAllocator(ports, vcs))
    if block == "crossbar":
        return synthesize_keyed(f"noc_crossbar_p{ports}_w{width}", {}, lambda: Crossbar(ports, width))
    return synthesize_keyed(f"noc_sa_st_core_p{ports}_v{vcs}_w{width}", {}, lambda: RouterCore(ports, vcs, width))


def router_synthesis(noc: NocConfig, core: bool | None = None) -> dict[str, SynthResult]:
    """Synthesis of the router's switch allocator and crossbar (cached on disk by
    :func:`rtl.synth.synthesize` and per process here); with ``core`` (default: when ``router_cycles == 1``)
    also the allocator driving the crossbar (``sa_st_core``). Treat the results as read-only."""
    P, V, W = router_ports(noc), noc.vcs, flit_bits(noc)
    out = {"switch_allocator": _synth("switch_allocator", P, V, 0), "crossbar": _synth("crossbar", P, 0, W)}
    if core if core is not None else noc.router_cycles == 1:
        out["sa_st_core"] = _synth("sa_st_core", P, V, W)
    return out


def logic_area_mm2(transistors: int, tech: TechTable) -> float:
    """Cell area of ``transistors`` of logic at ``tech``'s node, mm²: transistors / (the table's
    ``node.logic_density_mtr_per_mm2`` x 1e6). Like the register-priced buffers it excludes placement
    gaps: the die roll-up (:func:`hwsim.power.die.die_area`) divides every placed block by the
    utilisation once."""
    density = _tech(tech).node_value("logic_density_mtr_per_mm2")
    return transistors / (density * 1e6)


def router_area(noc: NocConfig, tech: TechTable) -> AreaBreakdown:
    """Area of one router of ``noc`` priced with ``tech``, mm² by component (``pe_area_um2`` is 0: no PE).

    ``input_buffers`` = :func:`buffer_bits` x register area; ``vc_state`` = :func:`vc_state_bits` x
    register area; ``switch_allocator`` and ``crossbar`` = their synthesised transistors at the table's
    logic density (:func:`logic_area_mm2`)."""
    noc, tech = _noc(noc), _tech(tech)
    syn = router_synthesis(noc, core=False)
    components = {
        "input_buffers": tech.register_area_um2(buffer_bits(noc)) * 1e-6,
        "vc_state": tech.register_area_um2(vc_state_bits(noc)) * 1e-6,
        "switch_allocator": logic_area_mm2(syn["switch_allocator"].transistors, tech),
        "crossbar": logic_area_mm2(syn["crossbar"].transistors, tech),
    }
    return AreaBreakdown(components=components, pe_area_um2=0.0, tech=tech.name)


def network_area(noc: NocConfig, tech: TechTable) -> AreaBreakdown:
    """Area of every router of ``noc``: ``nodes`` x :func:`router_area`, by component, mm².

    Link wires are excluded: the tables hold wire energy per bit-mm and a hop length, but no sourced
    wire pitch or repeater area."""
    noc = _noc(noc)
    one = router_area(noc, tech)
    n = noc.nodes
    return AreaBreakdown(components={f"{k} (x{n} routers)": v * n for k, v in one.components.items()},
                         pe_area_um2=0.0, tech=one.tech)


def synth_node_of(tech: TechTable) -> str:
    """The ``nodes.yaml`` node of a technology table: ``f"{tech.node_nm:g}nm"`` (``horowitz45`` -> ``45nm``)."""
    from rtl.synth import load_nodes

    tech = _tech(tech)
    name = f"{tech.node_nm:g}nm"
    known = load_nodes().nodes
    if name not in known:
        raise ConfigError(f"tech: table {tech.name!r} is at {name}, which rtl.synth's node table (nodes.yaml) "
                          f"lacks; give one of {', '.join(known)} as the node")
    return name


def router_timing(noc: NocConfig, node: str | TechTable) -> dict:
    """Logic depth of the router's critical stage, its fmax at ``node`` and a warning when
    ``noc.freq_mhz`` is above it.

    ``node`` is a ``nodes.yaml`` node (``"45nm"``, ``"7nm"``) or a technology table (its own
    ``node.fo4_ps``; ``node`` in the result is then the table's name). Returns ``node``, ``ports``, ``vcs``, ``flit_bits``, ``router_cycles``,
    ``allocator_depth``, ``crossbar_depth``, ``critical_stage`` and ``logic_depth`` (see the module
    docstring: the deeper stage for ``router_cycles >= 2``; the measured allocator-plus-crossbar path for
    ``router_cycles == 1``, with ``series_depth_bound`` = the sum of the two), ``fmax_mhz``, ``freq_mhz``
    and ``warning`` (a string, or None when the clock is reachable)."""
    from rtl.synth import load_nodes

    noc = _noc(noc)
    nodes = load_nodes()
    fo4 = None
    if isinstance(node, TechTable):  # the table's own FO4 (every table has one, n28/n65 included)
        fo4, node = node.node_value("fo4_ps"), node.name
    elif not isinstance(node, str) or node not in nodes.nodes:
        raise ConfigError(f"node: must be a technology node of nodes.yaml ({', '.join(nodes.nodes)}) or a "
                          f"TechTable, got {node!r}")
    syn = router_synthesis(noc)
    sa, xb = syn["switch_allocator"].logic_depth, syn["crossbar"].logic_depth
    out = {"node": node, "ports": router_ports(noc), "vcs": noc.vcs, "flit_bits": flit_bits(noc),
           "router_cycles": noc.router_cycles, "allocator_depth": sa, "crossbar_depth": xb}
    if noc.router_cycles >= 2:
        depth = max(sa, xb)
        stage = "switch_allocator" if sa >= xb else "crossbar"
    else:
        depth = syn["sa_st_core"].logic_depth
        stage = "switch_allocator+crossbar"
        out["series_depth_bound"] = sa + xb
    fmax = nodes.fmax_mhz(depth, node) if fo4 is None else nodes.fmax_mhz_at_fo4(depth, fo4)
    warning = None
    if noc.freq_mhz > fmax:
        warning = (f"noc.freq_mhz {noc.freq_mhz:g} is above the router's estimated fmax {fmax:.0f} MHz at {node} "
                   f"(critical stage {stage}, logic depth {depth} gates, router_cycles {noc.router_cycles})"
                   + ("; router_cycles >= 2 would put allocation and traversal in separate stages"
                      if noc.router_cycles == 1 else ""))
    out.update(critical_stage=stage, logic_depth=depth, fmax_mhz=fmax, freq_mhz=noc.freq_mhz, warning=warning)
    return out
