"""Multi-die packages: dies, a topology of D2D links between them, shortest-path routing and area.

Each die is a node (its on-chip network is not modelled here). Adjacent dies are joined by one D2D link
(one preset, ``modules_per_edge`` modules) that works in both directions at once. Topologies (one strategy
object each, chosen by ``topology.kind``):

* ``mesh`` (rows x cols): die ``i`` sits at row ``i // cols``, column ``i % cols``; links to its 2-4 grid
  neighbours; routing is dimension order (XY): first along the row to the target column, then along
  the column.
* ``ring``: die ``i`` links to ``i +- 1 (mod p)``; routing takes the shorter way round (clockwise, towards
  higher indices, on a tie).
* ``full``: every pair of dies has its own link; routes are one hop.
* ``switch``: every die links to one central switch die (node ``p``), which forwards with its own
  ``latency_ns``; every route is die -> switch -> die.

Area: each die pays ``modules_per_edge x module_shoreline_mm x phy_depth_mm`` of PHY for every link it
terminates (the switch die too); the package area is the sum of die areas (compute + PHY) plus the
switch die. Dies are taken as squares when their D2D shoreline is compared with their perimeter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hwsim.chiplet.link import D2DLinkConfig, load_link
from hwsim.errors import ConfigError, ParsedConfig

__all__ = [
    "DieConfig", "FullTopology", "MeshTopology", "Package", "PackageConfig", "RingTopology", "SwitchTopology",
    "folded_line_order",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class DieConfig(BaseModel):
    """One die: a name, its compute area and the HBM stacks beside it (reported, not modelled here)."""

    model_config = _FROZEN
    name: str = Field(..., min_length=1, description="die label")
    area_mm2: float = Field(..., gt=0, le=2000, allow_inf_nan=False, description="compute (non-PHY) area, mm2")
    hbm_stacks: int = Field(0, ge=0, le=64, description="HBM stacks attached to this die")


def folded_line_order(count: int) -> list[int]:
    """A ring over a line of ``count`` nodes with hops of at most 2, every directed line link used by at
    most one ring edge: even positions left to right, then odd positions right to left
    (``0, 2, 4, ..., 5, 3, 1``)."""
    return list(range(0, count, 2)) + [i for i in range(count - 1, 0, -1) if i % 2 == 1]


def _hamiltonian_grid(rows: int, cols: int) -> list[tuple[int, int]]:
    """A Hamiltonian cycle of a rows x cols grid graph with ``rows`` even and ``cols >= 2``: row 0 left to
    right, rows 1..rows-1 snaking over columns cols-1..1, then column 0 back up."""
    cells = [(0, c) for c in range(cols)]
    for r in range(1, rows):
        span = range(cols - 1, 0, -1) if r % 2 == 1 else range(1, cols)
        cells += [(r, c) for c in span]
    cells += [(r, 0) for r in range(rows - 1, 0, -1)]
    return cells


class _TopologyBase(BaseModel):
    model_config = _FROZEN

    def switch_node(self, dies: int) -> int | None:
        """Node id of the switch die, or None."""
        return None

    def node_count(self, dies: int) -> int:
        return dies

    def edges(self, dies: int) -> list[tuple[int, int]]:  # pragma: no cover - abstract
        """Undirected links ``(u, v)`` with ``u < v`` (node ids; the switch is node ``dies``)."""
        raise NotImplementedError

    def path(self, src: int, dst: int, dies: int) -> list[int]:  # pragma: no cover - abstract
        """Nodes of the route from ``src`` to ``dst``, both included."""
        raise NotImplementedError

    def ring_order(self, dies: int) -> list[int]:
        """Dies in the order a ring algorithm visits them (each die once)."""
        return list(range(dies))

    def check(self, dies: int) -> list[str]:
        """Problems with this topology for ``dies`` dies (field-qualified lines)."""
        return []


class MeshTopology(_TopologyBase):
    """2-D mesh of ``rows x cols`` dies, dimension-order (XY) routing."""

    kind: Literal["mesh"] = "mesh"
    rows: int = Field(..., ge=1, le=1024, description="die rows")
    cols: int = Field(..., ge=1, le=1024, description="die columns")

    def check(self, dies):
        if self.rows * self.cols != dies:
            return [f"topology.rows x topology.cols must equal the number of dies ({dies}), "
                    f"got {self.rows} x {self.cols} = {self.rows * self.cols}"]
        return []

    def coords(self, die: int) -> tuple[int, int]:
        return divmod(die, self.cols)

    def die_at(self, row: int, col: int) -> int:
        return row * self.cols + col

    def edges(self, dies):
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                d = self.die_at(r, c)
                if c + 1 < self.cols:
                    out.append((d, d + 1))
                if r + 1 < self.rows:
                    out.append((d, d + self.cols))
        return out

    def path(self, src, dst, dies):
        (r, c), (rt, ct) = self.coords(src), self.coords(dst)
        nodes = [src]
        while c != ct:
            c += 1 if ct > c else -1
            nodes.append(self.die_at(r, c))
        while r != rt:
            r += 1 if rt > r else -1
            nodes.append(self.die_at(r, c))
        return nodes

    def ring_order(self, dies):
        """A Hamiltonian cycle (all hops 1) when rows or cols is even (and both >= 2); a folded line on a
        1 x n or n x 1 mesh (hops <= 2); otherwise a row snake closed by a multi-hop link back to die 0."""
        rows, cols = self.rows, self.cols
        if rows == 1 or cols == 1:
            return folded_line_order(dies)
        if rows % 2 == 0:
            return [self.die_at(r, c) for r, c in _hamiltonian_grid(rows, cols)]
        if cols % 2 == 0:
            return [self.die_at(r, c) for c, r in _hamiltonian_grid(cols, rows)]
        return [self.die_at(r, c if r % 2 == 0 else cols - 1 - c) for r in range(rows) for c in range(cols)]


class RingTopology(_TopologyBase):
    """Dies on a bidirectional ring; shortest way round, clockwise on a tie."""

    kind: Literal["ring"] = "ring"

    def edges(self, dies):
        return sorted({(min(i, (i + 1) % dies), max(i, (i + 1) % dies)) for i in range(dies)})

    def path(self, src, dst, dies):
        cw = (dst - src) % dies
        step = 1 if cw <= dies - cw else -1
        nodes = [src]
        while nodes[-1] != dst:
            nodes.append((nodes[-1] + step) % dies)
        return nodes


class FullTopology(_TopologyBase):
    """Every pair of dies has a direct link."""

    kind: Literal["full"] = "full"

    def edges(self, dies):
        return [(u, v) for u in range(dies) for v in range(u + 1, dies)]

    def path(self, src, dst, dies):
        return [src, dst]


class SwitchTopology(_TopologyBase):
    """A central switch die (node ``p``) linked to every die; it forwards after ``latency_ns``."""

    kind: Literal["switch"] = "switch"
    latency_ns: float = Field(5.0, ge=0, le=1e5, allow_inf_nan=False,
                              description="switch traversal latency (input to output port), ns")
    area_mm2: float = Field(20.0, ge=0, le=2000, allow_inf_nan=False, description="switch die area, mm2 (PHY excluded)")

    def switch_node(self, dies):
        return dies

    def node_count(self, dies):
        return dies + 1

    def edges(self, dies):
        return [(d, dies) for d in range(dies)]

    def path(self, src, dst, dies):
        return [src, dies, dst]


Topology = Annotated[Union[MeshTopology, RingTopology, FullTopology, SwitchTopology], Field(discriminator="kind")]
TOPOLOGY_KINDS = ("mesh", "ring", "full", "switch")


class PackageConfig(ParsedConfig, BaseModel):
    """A package of dies joined by D2D links in one topology.

    ``link`` is a preset name (``ucie-advanced``), a mapping (``{preset: ucie-standard, ber: 1e-9}`` or all
    fields) or a :class:`D2DLinkConfig`; every edge uses it with ``modules_per_edge`` modules (default:
    the link's own ``modules``).
    """

    model_config = _FROZEN
    CONFIG_ROOT: ClassVar[str] = "package"
    name: str = Field("package", min_length=1, description="label")
    dies: list[DieConfig] = Field(..., min_length=2, max_length=4096, description="the dies (ranks), in rank order")
    topology: Topology = Field(..., description="mesh (rows, cols), ring, full or switch (latency_ns, area_mm2)")
    link: D2DLinkConfig = Field(..., description="D2D link of every edge")
    modules_per_edge: int | None = Field(None, ge=1, le=256, description="modules per edge (default: link.modules)")

    @field_validator("link", mode="before")
    @classmethod
    def _link_from_preset(cls, v: Any) -> Any:
        if isinstance(v, D2DLinkConfig):
            return v
        try:
            return load_link(v, root="link")
        except ConfigError as e:
            raise ValueError("; ".join(p.removeprefix("link: ").removeprefix("link.") for p in e.problems)) from None

    @model_validator(mode="after")
    def _consistent(self) -> "PackageConfig":
        problems = self.topology.check(len(self.dies))
        names = [d.name for d in self.dies]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            problems.append(f"dies: names must be unique, got duplicates {', '.join(map(repr, dup))}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def uniform(cls, ranks: int, topology: str | Mapping = "ring", link: Any = "ucie-advanced",
                die_area_mm2: float = 100.0, hbm_stacks: int = 0, modules_per_edge: int | None = None,
                mesh_rows: int | None = None, name: str = "package") -> "PackageConfig":
        """``ranks`` identical dies ``die0 ..``; ``topology`` a kind name or a mapping. A mesh without
        ``mesh_rows`` takes the most square factorisation (rows <= cols)."""
        if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 2:
            raise ConfigError(f"ranks: must be an integer >= 2, got {ranks!r}")
        if isinstance(topology, str):
            if topology not in TOPOLOGY_KINDS:
                raise ConfigError(f"topology: must be one of {', '.join(TOPOLOGY_KINDS)}, got {topology!r}")
            topo: dict[str, Any] = {"kind": topology}
            if topology == "mesh":
                rows = mesh_rows if mesh_rows is not None else max(r for r in range(1, math.isqrt(ranks) + 1)
                                                                    if ranks % r == 0)
                if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1 or ranks % rows:
                    raise ConfigError(f"mesh_rows: must be a divisor of ranks ({ranks}), got {rows!r}")
                topo.update(rows=rows, cols=ranks // rows)
        else:
            topo = dict(topology)
        return cls.parse({"name": name, "topology": topo, "link": link, "modules_per_edge": modules_per_edge,
                          "dies": [{"name": f"die{i}", "area_mm2": die_area_mm2, "hbm_stacks": hbm_stacks}
                                   for i in range(ranks)]})

    @property
    def edge_link(self) -> D2DLinkConfig:
        """The link of every edge, with ``modules_per_edge`` modules."""
        if self.modules_per_edge is None or self.modules_per_edge == self.link.modules:
            return self.link
        return self.link.with_modules(self.modules_per_edge)

    def build(self) -> "Package":
        return Package(self)


@dataclass(frozen=True)
class Hop:
    """One link traversal of a route: directed link ``(src, dst)`` and the forwarding delay (ps) of the
    node it arrives at (the switch latency, or 0 at a die)."""

    src: int
    dst: int
    node_delay_ps: int


class Package:
    """A built package: nodes, directed links, cached routes, area. Node ids: dies ``0..p-1``, switch ``p``."""

    def __init__(self, cfg: PackageConfig):
        self.cfg = cfg
        self.dies = len(cfg.dies)
        self.topology = cfg.topology
        self.link = cfg.edge_link
        self.switch = self.topology.switch_node(self.dies)
        self.switch_latency_ps = (int(round(self.topology.latency_ns * 1000))
                                  if isinstance(self.topology, SwitchTopology) else 0)
        self.edges = self.topology.edges(self.dies)
        self.directed_links = [(u, v) for u, v in self.edges] + [(v, u) for u, v in self.edges]
        self._routes: dict[tuple[int, int], tuple[Hop, ...]] = {}

    @property
    def ranks(self) -> int:
        return self.dies

    def neighbours(self, node: int) -> list[int]:
        return sorted({v for u, v in self.directed_links if u == node})

    def route(self, src: int, dst: int) -> tuple[Hop, ...]:
        """Hops of the deterministic shortest route from die ``src`` to die ``dst`` (cached)."""
        key = (src, dst)
        hops = self._routes.get(key)
        if hops is None:
            nodes = self.topology.path(src, dst, self.dies) if src != dst else [src]
            hops = tuple(Hop(a, b, self.switch_latency_ps if b == self.switch else 0) for a, b in zip(nodes, nodes[1:]))
            self._routes[key] = hops
        return hops

    def hops(self, src: int, dst: int) -> int:
        return len(self.route(src, dst))

    def route_latency_ps(self, src: int, dst: int) -> int:
        """Latency of the route without serialisation: hops x link latency + switch delays, ps."""
        r = self.route(src, dst)
        return len(r) * self.link.latency_ps + sum(h.node_delay_ps for h in r)

    def ring_order(self) -> list[int]:
        return self.topology.ring_order(self.dies)

    # --- area --------------------------------------------------------------------------------------
    def degree(self, node: int) -> int:
        return sum(1 for u, v in self.edges if node in (u, v))

    def area(self) -> dict[str, Any]:
        """Per-die and package area: compute + PHY (mm2), D2D shoreline (mm) and its share of the perimeter
        of a square die; ``warnings`` when the shoreline exceeds the perimeter."""
        link = self.link
        rows, warnings = [], []
        for i, die in enumerate(self.cfg.dies):
            deg = self.degree(i)
            shore = deg * link.shoreline_mm
            perimeter = 4 * math.sqrt(die.area_mm2)
            rows.append({"name": die.name, "links": deg, "compute_mm2": die.area_mm2,
                         "phy_mm2": deg * link.phy_area_mm2, "area_mm2": die.area_mm2 + deg * link.phy_area_mm2,
                         "shoreline_mm": shore, "shoreline_fraction": shore / perimeter, "hbm_stacks": die.hbm_stacks})
            if shore > perimeter:
                warnings.append(f"dies[{i}] ({die.name}): D2D shoreline {shore:.3g} mm exceeds the perimeter "
                                f"{perimeter:.3g} mm of a square {die.area_mm2:g} mm2 die")
        switch = None
        if self.switch is not None:
            deg = self.dies
            shore = deg * link.shoreline_mm
            switch = {"links": deg, "compute_mm2": self.topology.area_mm2, "phy_mm2": deg * link.phy_area_mm2,
                      "area_mm2": self.topology.area_mm2 + deg * link.phy_area_mm2, "shoreline_mm": shore}
        total = sum(r["area_mm2"] for r in rows) + (switch["area_mm2"] if switch else 0.0)
        phy = sum(r["phy_mm2"] for r in rows) + (switch["phy_mm2"] if switch else 0.0)
        return {"dies": rows, "switch": switch, "total_area_mm2": total, "total_phy_mm2": phy,
                "links": len(self.edges), "hbm_stacks": sum(d.hbm_stacks for d in self.cfg.dies),
                "warnings": warnings}
