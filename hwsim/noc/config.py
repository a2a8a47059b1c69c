"""NoC configs: the network (:class:`NocConfig`) and the synthetic traffic offered to it (:class:`TrafficConfig`).

Units: times in cycles of the network clock (``freq_mhz``), buffers in flits, a flit is ``flit_bytes``
bytes, injection rates in flits per node per cycle. Both configs are frozen pydantic models with
unknown keys rejected; :meth:`NocConfig.parse` / :meth:`TrafficConfig.parse` turn validation errors
into a :class:`~hwsim.errors.ConfigError` with one line per problem (``noc.size: ...``).
"""

from __future__ import annotations

import math
import re
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hwsim.errors import ParsedConfig

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_SIZE_2D = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_SIZE_1D = re.compile(r"^\s*(\d+)\s*$")

TOPOLOGIES = ("mesh", "torus", "ring")
ROUTING_NAMES = ("xy", "west_first", "odd_even")
PATTERNS = ("uniform", "transpose", "bit_complement", "hotspot")
MAX_NODES = 4096


def parse_size(topology: str, size: str | int) -> tuple[int, int]:
    """``(cols, rows)`` of a size string: ``"8x8"`` (columns x rows) for mesh and torus, ``"16"`` for a ring
    (a ring of N is handled as N columns by 1 row). Raises ``ValueError`` with the allowed forms."""
    text = str(size)
    if topology == "ring":
        m = _SIZE_1D.match(text)
        if not m:
            raise ValueError(f"must be the node count N for a ring (e.g. '16'), got {text!r}")
        cols, rows = int(m.group(1)), 1
        if cols < 2:
            raise ValueError(f"a ring needs at least 2 nodes, got {text!r}")
    else:
        m = _SIZE_2D.match(text)
        if not m:
            raise ValueError(f"must be 'COLSxROWS' for a {topology} (e.g. '8x8'), got {text!r}")
        cols, rows = int(m.group(1)), int(m.group(2))
        if cols < 1 or rows < 1 or cols * rows < 2:
            raise ValueError(f"needs at least 2 nodes and every extent >= 1, got {text!r}")
        if topology == "torus" and min(cols, rows) < 2:
            raise ValueError(f"a torus needs every extent >= 2 (use a ring for one row), got {text!r}")
    if cols * rows > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes, got {text!r} ({cols * rows} nodes)")
    return cols, rows


class NocConfig(ParsedConfig, BaseModel):
    """An on-chip network of input-queued wormhole routers with virtual channels and credit flow control.

    Timing (in cycles; see docs/noc.md): a flit written into a router input buffer in cycle ``t`` can
    leave the router at the earliest in cycle ``t + router_cycles`` and is written into the next
    router's input buffer ``link_cycles`` later. Credits travel back in ``link_cycles``. A packet
    created in cycle ``c`` writes its head flit into its source router's local input buffer in cycle
    ``c`` (no injection delay) and its flits leave the destination router into the ejection port (no
    ejection delay after the router pipeline).
    """

    model_config = _FROZEN
    CONFIG_ROOT: ClassVar[str] = "noc"
    # field order matters: each validator sees the fields above it
    topology: Literal["mesh", "torus", "ring"] = Field("mesh", description="mesh, torus (2-D) or ring (bidirectional)")
    size: str = Field("4x4", description="'COLSxROWS' for mesh/torus (e.g. '8x8'), node count for a ring ('16')")
    routing: Literal["xy", "west_first", "odd_even"] = Field(
        "xy", description="xy = dimension order (X then Y; shortest direction on torus/ring rings); west_first, "
                          "odd_even = minimal adaptive turn models (mesh only)")
    unsafe_no_dateline: bool = Field(False, description="torus/ring only: let packets use every VC regardless of "
                                                        "the dateline (deadlock-prone; for watchdog tests)")
    router_cycles: int = Field(2, ge=1, le=64, description="router pipeline depth, cycles (buffer write to switch "
                                                           "traversal)")
    link_cycles: int = Field(1, ge=1, le=64, description="link (and credit) latency between routers, cycles")
    vcs: int = Field(2, ge=1, le=16, description="virtual channels per input port")
    vc_buffer_flits: int = Field(4, ge=1, le=256, description="buffer depth per virtual channel, flits")
    flit_bytes: int = Field(16, ge=1, le=4096, description="bytes per flit (link width)")
    freq_mhz: float = Field(1000.0, gt=0, le=100_000, allow_inf_nan=False, description="network clock, MHz")
    watchdog_cycles: int = Field(5000, ge=16, le=10**9, description="a DeadlockError is raised when the front flit "
                                                                   "of a virtual channel waits longer than this")

    @field_validator("size", mode="before")
    @classmethod
    def _size_text(cls, v):
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("size")
    @classmethod
    def _size_ok(cls, v: str, info: ValidationInfo) -> str:
        topology = info.data.get("topology")
        if topology is None:
            return v  # reported already
        parse_size(topology, v)  # ValueError -> "noc.size: ..."
        return v

    @field_validator("routing")
    @classmethod
    def _routing_fits(cls, v: str, info: ValidationInfo) -> str:
        topology = info.data.get("topology")
        if v != "xy" and topology is not None and topology != "mesh":
            raise ValueError(f"{v!r} is a mesh turn model; use 'xy' on a {topology}, got {v!r}")
        return v

    @field_validator("unsafe_no_dateline")
    @classmethod
    def _dateline_exists(cls, v: bool, info: ValidationInfo) -> bool:
        topology = info.data.get("topology")
        if v and topology == "mesh":
            raise ValueError("only a torus or a ring has a dateline, got True for a mesh")
        return v

    @field_validator("vcs")
    @classmethod
    def _dateline_vcs(cls, v: int, info: ValidationInfo) -> int:
        topology = info.data.get("topology")
        if topology in ("torus", "ring") and not info.data.get("unsafe_no_dateline", False) and v < 2:
            raise ValueError(f"a {topology} needs >= 2 virtual channels for its two dateline classes "
                             f"(or unsafe_no_dateline=True for deadlock tests), got {v}")
        return v

    @property
    def cols(self) -> int:
        """Routers along x (a ring's node count)."""
        return parse_size(self.topology, self.size)[0]

    @property
    def rows(self) -> int:
        """Routers along y (1 for a ring)."""
        return parse_size(self.topology, self.size)[1]

    @property
    def nodes(self) -> int:
        """Routers (= network interfaces = nodes)."""
        c, r = parse_size(self.topology, self.size)
        return c * r

    @property
    def dateline_classes(self) -> int:
        """VC classes a packet moves through on a ring dimension: 2 on torus/ring (before and after the
        dateline), 1 on a mesh or with ``unsafe_no_dateline``."""
        return 1 if self.topology == "mesh" or self.unsafe_no_dateline else 2

    @property
    def credit_round_trip_cycles(self) -> int:
        """Cycles from an upstream router sending a flit to getting its credit back at zero load:
        ``link_cycles + router_cycles + link_cycles``. With ``vc_buffer_flits`` below this, one packet
        cannot stream a flit per cycle and the zero-load closed form does not hold."""
        return self.router_cycles + 2 * self.link_cycles

    @property
    def period_ps(self) -> int:
        """Clock period in integer picoseconds."""
        return max(1, round(1_000_000 / self.freq_mhz))

    def packet_flits(self, size_bytes: int) -> int:
        """Flits of a packet of ``size_bytes`` payload bytes: ``max(1, ceil(size_bytes / flit_bytes))`` (the head
        flit carries payload; there is no separate header flit)."""
        return max(1, math.ceil(size_bytes / self.flit_bytes))


class TrafficConfig(ParsedConfig, BaseModel):
    """Synthetic traffic: every node injects packets by an independent Bernoulli process (seeded).

    ``injection_rate`` is the offered load in flits per node per cycle; a node creates a packet in a
    cycle with probability ``injection_rate / packet_flits``. Destinations:

    * ``uniform``: uniform over the other nodes;
    * ``transpose``: node (x, y) sends to (y, x) (square networks; nodes on the diagonal are silent);
    * ``bit_complement``: node i sends to N - 1 - i, i.e. (x, y) -> (cols-1-x, rows-1-y) (a node that
      maps to itself is silent);
    * ``hotspot``: with probability ``hotspot_fraction`` to one of ``hotspot_nodes`` (uniformly), otherwise
      uniform over the other nodes; a hotspot draw that hits the sender itself is redrawn uniformly.

    Packet size: ``packet_flits``, or ``packet_bytes`` (converted with the network's ``flit_bytes``);
    default 4 flits.
    """

    model_config = _FROZEN
    CONFIG_ROOT: ClassVar[str] = "traffic"
    pattern: Literal["uniform", "transpose", "bit_complement", "hotspot"] = Field("uniform", description="destination "
                                                                                 "pattern")
    injection_rate: float = Field(0.1, gt=0, le=1, allow_inf_nan=False, description="offered load, flits/node/cycle")
    packet_flits: int | None = Field(None, ge=1, le=4096, description="flits per packet")
    packet_bytes: int | None = Field(None, ge=1, le=1 << 24, description="bytes per packet (alternative to "
                                                                         "packet_flits)")
    hotspot_nodes: tuple[int, ...] = Field((0,), min_length=1, description="hotspot destinations (node ids)")
    hotspot_fraction: float = Field(0.1, ge=0, le=1, allow_inf_nan=False, description="share of packets sent to "
                                                                                      "the hotspots")
    seed: int = Field(0, ge=0, description="random seed (results are bit-identical for a seed)")

    @field_validator("packet_bytes")
    @classmethod
    def _one_size(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is not None and info.data.get("packet_flits") is not None:
            raise ValueError(f"give packet_flits or packet_bytes, not both, got packet_bytes={v}")
        return v

    @field_validator("hotspot_nodes")
    @classmethod
    def _nodes_nonnegative(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        bad = [n for n in v if n < 0]
        if bad:
            raise ValueError(f"node ids must be >= 0, got {bad[0]}")
        return v

    def flits(self, noc: NocConfig) -> int:
        """Flits per packet on ``noc``."""
        if self.packet_flits is not None:
            return self.packet_flits
        if self.packet_bytes is not None:
            return noc.packet_flits(self.packet_bytes)
        return 4
