"""Die-to-die (D2D) links: UCIe-like PHY presets, link-level retry, and a cycle-level link.

A link is ``modules`` UCIe modules ganged together. Each module has ``lanes_per_module`` data lanes per
direction at ``data_rate_gtps``, so the link moves

    bandwidth_gbps = lanes_per_module x modules x data_rate_gtps / 8     (GB/s = 1e9 bytes/s, per direction)

in each direction at once (full duplex). A payload of ``n`` bytes is serialised at that rate and arrives
``latency_ns`` (one way: Tx + Rx adapter and PHY) after its last byte left.

Retry on bit errors (go-back-N, as PCIe/UCIe link-level retry)
-----------------------------------------------------------------
Data travels in flits of ``flit_bytes``; each flit crosses the wire with ``b = 8 x flit_bytes`` bits and is
corrupted with probability

    p = 1 - (1 - ber)^b.

The receiver checks each flit's CRC; a corrupted flit is NAKed and the sender goes back to it: the flits
it sent during the round trip ``R = 2 x latency`` (flit out, NAK back) are discarded and replayed. Each
corrupted transmission therefore costs the flit slot ``t_f = flit_bytes / bandwidth`` plus ``R`` of wire
time. Flits are retried until they get through, so a flit needs ``X`` extra attempts with ``X`` geometric,
``E[X] = p / (1 - p)``, and the expected goodput (payload share of the wire time) is

    g = t_f / (t_f + E[X] (t_f + R)) = (1 - p) / (1 + p W),     W = R / t_f.

The cost face uses ``bandwidth x g``. The CL face (:class:`D2DLinkCL`) draws each flit's attempts from a
seeded RNG and delays the message by ``X (t_f + R)``. With ``ber = 0``, ``g = 1`` and both faces are exact.
The replay window is charged as busy wire (the go-back-N sender keeps transmitting flits that are then
discarded), so the energy counts ``1 / g`` wire bits per payload bit; a partial last flit is counted as a
full flit for errors and replay. Flit headers/CRC bytes are not modelled (the whole flit is payload).

Presets with a source for every number live in ``hwsim/chiplet/data/d2d_links.yaml``
(:func:`load_link`); ``load_link("custom", **fields)`` builds a link from fields alone.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any, ClassVar, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from hwsim.core import Channel, Clock, Component, PortDir, PortSpec, Simulation
from hwsim.errors import ConfigError, ParsedConfig

__all__ = [
    "D2DLinkCL", "D2DLinkConfig", "LinkRun", "flit_error_probability", "goodput_factor", "link_preset_data",
    "link_preset_names", "load_link", "run_link_cl", "sample_flit_failures",
]


class D2DLinkConfig(ParsedConfig, BaseModel):
    """One die-to-die link (``modules`` UCIe-like modules). Bandwidths are per direction."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    CONFIG_ROOT: ClassVar[str] = "link"
    name: str = Field("custom", min_length=1, description="label (the preset name)")
    package: Literal["standard", "advanced", "custom"] = Field(
        "custom", description="UCIe package class (informational): standard (2D) or advanced (2.5D)")
    lanes_per_module: int = Field(..., ge=1, le=4096, description="data lanes per direction in one module")
    modules: int = Field(1, ge=1, le=256, description="modules ganged into this link")
    data_rate_gtps: float = Field(..., gt=0, le=1024, allow_inf_nan=False, description="data rate per lane, GT/s")
    latency_ns: float = Field(..., ge=0, le=1e5, allow_inf_nan=False,
                              description="one-way latency (Tx + Rx adapter and PHY), ns; simulated to 1 ps")
    energy_pj_per_bit: float = Field(..., ge=0, le=1e3, allow_inf_nan=False, description="energy per bit moved, pJ")
    module_shoreline_mm: float = Field(..., gt=0, le=100, allow_inf_nan=False,
                                       description="die-edge length one module occupies, mm")
    phy_depth_mm: float = Field(..., gt=0, le=100, allow_inf_nan=False,
                                description="depth of the module's PHY (bump field) into the die, mm")
    flit_bytes: int = Field(256, ge=1, le=1 << 16, description="flit size, bytes (unit of CRC and retry)")
    ber: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False, description="raw bit error rate (0 = error free)")

    @classmethod
    def parse(cls, data: Mapping, root: str = "link") -> "D2DLinkConfig":
        """Validate a mapping; raise :class:`ConfigError` with one readable line per problem."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{root}: a link must be a preset name or a mapping of fields, got {data!r}")
        return super().parse(data, root)

    # --- bandwidth ---------------------------------------------------------------------------------
    @property
    def bandwidth_gbps(self) -> float:
        """Raw bandwidth per direction, GB/s (1e9 bytes/s): lanes x modules x GT/s / 8."""
        return float(self.bandwidth_fraction_gbps)

    @property
    def bandwidth_fraction_gbps(self) -> Fraction:
        """:attr:`bandwidth_gbps` as an exact fraction (what the simulations use)."""
        return Fraction(self.lanes_per_module * self.modules) * Fraction(self.data_rate_gtps) / 8

    @property
    def module_bandwidth_gbps(self) -> float:
        """Raw bandwidth of one module per direction, GB/s."""
        return self.lanes_per_module * self.data_rate_gtps / 8

    @property
    def bytes_per_ps(self) -> Fraction:
        """Raw bandwidth per direction in bytes per picosecond (exact)."""
        return self.bandwidth_fraction_gbps / 1000

    @property
    def shoreline_density_gbps_per_mm(self) -> float:
        """Bandwidth of both directions per mm of die edge, GB/s/mm (as UCIe publishes it)."""
        return 2 * self.module_bandwidth_gbps / self.module_shoreline_mm

    @property
    def areal_density_gbps_per_mm2(self) -> float:
        """Bandwidth of both directions per mm2 of PHY area, GB/s/mm2."""
        return 2 * self.module_bandwidth_gbps / (self.module_shoreline_mm * self.phy_depth_mm)

    # --- geometry ----------------------------------------------------------------------------------
    @property
    def shoreline_mm(self) -> float:
        """Die-edge length the link's modules occupy on each of the two dies, mm."""
        return self.modules * self.module_shoreline_mm

    @property
    def phy_area_mm2(self) -> float:
        """PHY area the link occupies on each of the two dies, mm2: modules x shoreline x depth."""
        return self.modules * self.module_shoreline_mm * self.phy_depth_mm

    # --- time and retry ----------------------------------------------------------------------------
    @property
    def latency_ps(self) -> int:
        """One-way latency in integer ps: ``round(latency_ns x 1000)``."""
        return int(round(self.latency_ns * 1000))

    @property
    def replay_round_trip_ps(self) -> int:
        """Go-back-N round trip R = 2 x latency (flit to the receiver, NAK back), ps."""
        return 2 * self.latency_ps

    @property
    def flit_time_ps(self) -> Fraction:
        """Serialisation time of one flit, t_f = flit_bytes / bandwidth, ps (exact)."""
        return Fraction(self.flit_bytes) / self.bytes_per_ps

    @property
    def flit_error_probability(self) -> float:
        """p = 1 - (1 - ber)^(8 x flit_bytes): probability that one flit transmission is corrupted."""
        return flit_error_probability(self.ber, 8 * self.flit_bytes)

    @property
    def replay_window_flits(self) -> float:
        """W = R / t_f: flit slots lost to one go-back-N replay besides the corrupted flit's own slot."""
        return float(self.replay_round_trip_ps / self.flit_time_ps)

    @property
    def goodput_factor(self) -> float:
        """Expected payload share of the wire time, g = (1 - p) / (1 + p W) (1 at ber = 0)."""
        return goodput_factor(self.flit_error_probability, self.replay_window_flits)

    @property
    def effective_bandwidth_gbps(self) -> float:
        """Bandwidth after retries, GB/s per direction: bandwidth x g."""
        return self.bandwidth_gbps * self.goodput_factor

    @property
    def effective_bytes_per_ps(self) -> Fraction:
        """Bandwidth after retries in bytes per ps (the exact value of the float g; = raw at ber = 0)."""
        g = self.goodput_factor
        return self.bytes_per_ps if g == 1.0 else self.bytes_per_ps * Fraction(g)

    def with_modules(self, modules: int) -> "D2DLinkConfig":
        """The same link with ``modules`` modules (validated)."""
        return D2DLinkConfig.parse({**self.model_dump(), "modules": modules})

    def summary(self) -> dict[str, Any]:
        """Derived figures in one flat dict (for reports and ``--json``)."""
        return {"name": self.name, "modules": self.modules, "bandwidth_gbps": self.bandwidth_gbps,
                "effective_bandwidth_gbps": self.effective_bandwidth_gbps, "latency_ns": self.latency_ns,
                "energy_pj_per_bit": self.energy_pj_per_bit, "shoreline_mm": self.shoreline_mm,
                "phy_area_mm2": self.phy_area_mm2, "shoreline_density_gbps_per_mm": self.shoreline_density_gbps_per_mm,
                "flit_error_probability": self.flit_error_probability, "goodput_factor": self.goodput_factor}


def flit_error_probability(ber: float, bits: int) -> float:
    """Probability that a ``bits``-bit flit has at least one bit error: ``1 - (1 - ber)^bits``
    (computed as ``-expm1(bits log1p(-ber))``, accurate for tiny ``ber``)."""
    if not 0 <= ber < 1:
        raise ConfigError(f"ber: must be in [0, 1), got {ber!r}")
    return 0.0 if ber == 0 else -math.expm1(bits * math.log1p(-ber))


def goodput_factor(p: float, window_flits: float) -> float:
    """Go-back-N goodput ``(1 - p) / (1 + p W)`` for flit error probability ``p`` and replay window
    ``W = R / t_f`` flits."""
    return (1.0 - p) / (1.0 + p * window_flits)


def sample_flit_failures(rng: np.random.Generator, flits: int, p: float) -> int:
    """Corrupted transmissions while ``flits`` flits get through: the sum of one geometric draw per flit
    (attempts until success, minus one). 0 without drawing when ``p = 0``."""
    if p <= 0 or flits <= 0:
        return 0
    return int((rng.geometric(1.0 - p, size=flits) - 1).sum())


# --- presets ---------------------------------------------------------------------------------------
_PRESET_FILE = "d2d_links.yaml"


@functools.lru_cache(maxsize=1)
def _preset_data() -> dict:
    text = resources.files("hwsim.chiplet").joinpath("data").joinpath(_PRESET_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def link_preset_data() -> dict:
    """The parsed preset file (``references`` and ``presets``); a fresh copy each call."""
    return copy.deepcopy(_preset_data())


def link_preset_names() -> list[str]:
    """Preset names, plus ``custom`` (a link from fields alone)."""
    return sorted(_preset_data()["presets"]) + ["custom"]


def load_link(name: str | Mapping | D2DLinkConfig = "ucie-advanced", root: str = "link", **overrides: Any) -> D2DLinkConfig:
    """A link: a preset name (``ucie-standard``, ``ucie-advanced``) with optional field overrides, ``custom``
    with every field given as an override, a mapping (``{preset: NAME, ...}`` or all fields), or a config."""
    if isinstance(name, D2DLinkConfig):
        return D2DLinkConfig.parse({**name.model_dump(), **overrides}, root) if overrides else name
    if isinstance(name, Mapping):
        data = dict(name)
        if "preset" in data:
            preset = data.pop("preset")
            return load_link(preset, root, **{**data, **overrides})
        return D2DLinkConfig.parse({**data, **overrides}, root)
    if not isinstance(name, str):
        raise ConfigError(f"{root}: must be a preset name ({', '.join(link_preset_names())}) or a mapping, got {name!r}")
    key = name.lower()
    if key == "custom":
        return D2DLinkConfig.parse({"name": "custom", **overrides}, root)
    presets = _preset_data()["presets"]
    if key not in presets:
        raise ConfigError(f"{root}: must be a D2D link preset ({', '.join(link_preset_names())}) or a mapping of "
                          f"fields, got {name!r}")
    return D2DLinkConfig.parse({**presets[key]["config"], **overrides}, root)


# --- CL face ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkMessage:
    """What travels on a :class:`D2DLinkCL`: ``nbytes`` of payload and an optional value."""

    nbytes: int
    payload: object = None


class D2DLinkCL(Component):
    """One direction of a D2D link at picosecond resolution, with go-back-N retry on flit errors.

    Takes :class:`LinkMessage` s from ``tx_in`` in order, holds the wire for the message's serialisation
    plus ``X (t_f + R)`` for its ``X`` corrupted flit transmissions (drawn per flit from the seeded RNG),
    and delivers it on ``rx_out``, whose channel carries the link's one-way latency. The clock must have
    a 1 ps period.
    """

    PORTS: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("tx_in", PortDir.IN, "messages to send (LinkMessage)"),
        PortSpec("rx_out", PortDir.OUT, "messages delivered, after the channel's latency"),
    )
    STATS: ClassVar[dict[str, str]] = {
        "messages": "messages", "payload_bytes": "bytes", "flits": "flits (first transmissions)",
        "flit_errors": "corrupted flit transmissions (= replays)", "busy_ps": "ps the wire is held",
        "wire_bits": "bits the wire carries: payload, replayed flits and replay windows at line rate",
    }

    def __init__(self, sim: Simulation, name: str, clock: Clock, cfg: D2DLinkConfig, seed: int = 0):
        if clock.period_ps != 1:
            raise ConfigError(f"{name}: D2DLinkCL needs a 1 ps clock, got {clock.period_ps} ps")
        super().__init__(sim, name, clock)
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self._p = cfg.flit_error_probability
        self._bytes_per_ps = cfg.bytes_per_ps

    def transmission_ps(self, nbytes: int) -> tuple[int, int]:
        """(wire time in ps, corrupted flit transmissions) for one message: ``ceil((n + X flit_bytes) /
        bandwidth) + X R``."""
        flits = -(-nbytes // self.cfg.flit_bytes)
        errors = sample_flit_failures(self.rng, flits, self._p)
        wire_bytes = nbytes + errors * self.cfg.flit_bytes
        return math.ceil(wire_bytes / self._bytes_per_ps) + errors * self.cfg.replay_round_trip_ps, errors

    def run(self):
        while True:
            msg = yield self.tx_in.get()
            start = self.env.now
            busy, errors = self.transmission_ps(msg.nbytes)
            yield self.env.timeout(busy)
            s = self.stats
            s.add("messages")
            s.add("payload_bytes", msg.nbytes)
            s.add("flits", -(-msg.nbytes // self.cfg.flit_bytes))
            s.add("flit_errors", errors)
            s.add("busy_ps", busy)
            s.add("wire_bits", 8 * (msg.nbytes + errors * self.cfg.flit_bytes)
                  + round(errors * self.cfg.replay_round_trip_ps * self._bytes_per_ps * 8))
            self.span("busy:tx", start, self.env.now, bytes=msg.nbytes, flit_errors=errors)
            yield from self.rx_out.put(msg)

    def line_trace(self) -> str:
        s = self.stats
        return f"{self.name}@{self.env.now}ps msgs={s['messages']} errors={s['flit_errors']}"


@dataclass(frozen=True)
class LinkRun:
    """Result of :func:`run_link_cl`: time of the last delivery and the link's counters."""

    time_ps: int
    flits: int
    flit_errors: int
    payload_bytes: int
    wire_bits: int
    busy_ps: int
    payload_ps: float

    @property
    def goodput(self) -> float:
        """Measured payload share of the wire time: payload serialisation time / busy time."""
        return self.payload_ps / self.busy_ps if self.busy_ps else 1.0


def run_link_cl(cfg: D2DLinkConfig, message_bytes: list[int] | tuple[int, ...], seed: int = 0) -> LinkRun:
    """Send messages back to back through one :class:`D2DLinkCL`; return when the last one arrives."""
    sim = Simulation(name="d2d-link")
    clk = sim.clock("ps", 1)
    link = D2DLinkCL(sim, "link", clk, cfg, seed=seed)
    tx = Channel(sim.env, clk, "tx", capacity=None)
    rx = Channel(sim.env, clk, "rx", capacity=None, latency_cycles=cfg.latency_ps)
    link.connect("tx_in", tx)
    link.connect("rx_out", rx)
    for n in message_bytes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ConfigError(f"message_bytes: every message must be an integer >= 1 byte, got {n!r}")
        tx.deliver(LinkMessage(int(n)))
    last = {"t": 0}

    def sink():
        for _ in message_bytes:
            yield rx.get()
            last["t"] = sim.now_ps

    sim.env.process(sink())
    sim.run()
    s = link.stats
    return LinkRun(last["t"], s["flits"], s["flit_errors"], s["payload_bytes"], s["wire_bits"], s["busy_ps"],
                   float(s["payload_bytes"] / cfg.bytes_per_ps))
