"""DRAM / HBM configuration: organisation, timings, controller policy and energy per action.

One frozen :class:`DramConfig` describes a memory system (all its stacks or DIMM channels). Timings
are given in the data file in ns, in clock cycles (``ck``, i.e. tCK), or both (the larger applies,
like JEDEC's ``max(4nCK, 7.5 ns)``); :meth:`DramConfig.cycles` converts them to integer controller
clock cycles (ceil). Presets with their sources live in ``hwsim/memory/data/dram_presets.yaml``
(:func:`load_preset`).

The controller clock is the DRAM command clock CK (period tCK). Simulation time is integer
picoseconds, so the simulated period is ``round(tck_ns * 1000)`` ps (:attr:`DramConfig.period_ps`);
timings in ns are converted with that rounded period, so every simulated delay is at least the
nanosecond minimum. :attr:`DramConfig.clock_rounding_error` is the relative error of the period.
"""

from __future__ import annotations

import copy
import functools

import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hwsim.errors import ConfigError, config_error_from

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: address-mapping field names, with the organisation level each one indexes
MAPPING_FIELDS = {
    "st": "stacks",
    "ch": "channels",
    "pc": "pseudo_channels",
    "bg": "bank_groups",
    "ba": "banks_per_group",
    "ro": "rows",
    "co": "column blocks (columns / burst_length)",
}
#: default mapping, MSB to LSB: consecutive transactions go to consecutive channels, then pseudo
#: channels, then stacks, then bank groups (so a stream alternates bank groups at tCCD_S), then
#: columns of the open rows, then banks, then rows.
DEFAULT_MAPPING = "ro-ba-co-bg-st-pc-ch"


class TimingSpec(BaseModel):
    """One timing parameter: ``ns`` (nanoseconds), ``ck`` (clock cycles, tCK) or both (max of the two)."""

    model_config = _FROZEN
    ns: float | None = Field(None, ge=0, le=1e7, allow_inf_nan=False, description="minimum time, ns")
    ck: int | None = Field(None, ge=0, le=1 << 24, description="minimum clock cycles (nCK)")

    @model_validator(mode="after")
    def _one_given(self) -> "TimingSpec":
        if self.ns is None and self.ck is None:
            raise ValueError("give ns, ck or both")
        return self

    def cycles(self, period_ps: int) -> int:
        """Integer cycles of a ``period_ps`` clock: ``max(ck, ceil(ns * 1000 / period_ps))``."""
        n = 0 if self.ck is None else self.ck
        if self.ns is not None:
            exact = self.ns * 1000.0 / period_ps
            n = max(n, math.ceil(exact - 1e-9))
        return n


def _t(description: str) -> Any:
    return Field(..., description=description)


class DramTiming(BaseModel):
    """JEDEC timing parameters (names as in the standards; each a :class:`TimingSpec`)."""

    model_config = _FROZEN
    tRCD: TimingSpec = _t("ACT to RD/WR, same bank")
    tRP: TimingSpec = _t("PRE to ACT, same bank (also PREA to REF/ACT)")
    tCL: TimingSpec = _t("CAS (read) latency: RD to first data beat")
    tCWL: TimingSpec = _t("CAS write latency: WR to first write-data beat")
    tRAS: TimingSpec = _t("ACT to PRE, same bank")
    tRC: TimingSpec = _t("ACT to ACT, same bank")
    tRRD_S: TimingSpec = _t("ACT to ACT, different bank group (same rank / pseudo channel)")
    tRRD_L: TimingSpec = _t("ACT to ACT, same bank group")
    tFAW: TimingSpec = _t("window in which at most 4 ACTs may issue (per rank / pseudo channel)")
    tCCD_S: TimingSpec = _t("RD to RD or WR to WR, different bank group")
    tCCD_L: TimingSpec = _t("RD to RD or WR to WR, same bank group")
    tWR: TimingSpec = _t("write recovery: end of write data to PRE, same bank")
    tRTP: TimingSpec = _t("RD to PRE, same bank")
    tWTR_S: TimingSpec = _t("end of write data to RD, different bank group")
    tWTR_L: TimingSpec = _t("end of write data to RD, same bank group")
    tRTW: TimingSpec | None = Field(
        None, description="RD to WR command spacing; default tCL + burst + 2 - tCWL (2-cycle bus turnaround)")
    tRFC: TimingSpec = _t("all-bank REF to the next ACT/REF")
    tREFI: TimingSpec = _t("average interval between REF commands")


class DramEnergy(BaseModel):
    """Energy per action of one pseudo channel (or channel where there are none); sources in the preset file."""

    model_config = _FROZEN
    act_pre_pj: float = Field(..., ge=0, allow_inf_nan=False, description="one ACT + its PRE, pJ")
    read_pj_per_bit: float = Field(..., ge=0, allow_inf_nan=False, description="RD: array, datapath and I/O, pJ/bit")
    write_pj_per_bit: float = Field(..., ge=0, allow_inf_nan=False, description="WR: I/O, datapath and array, pJ/bit")
    refresh_pj: float = Field(..., ge=0, allow_inf_nan=False, description="one all-bank REF of a pseudo channel, pJ")
    background_mw: float = Field(..., ge=0, allow_inf_nan=False, description="standby power per pseudo channel, mW")


@dataclass(frozen=True)
class TimingCycles:
    """The timings in integer controller cycles (plus the burst length on the data bus)."""

    burst: int
    RCD: int
    RP: int
    CL: int
    CWL: int
    RAS: int
    RC: int
    RRD_S: int
    RRD_L: int
    FAW: int
    CCD_S: int
    CCD_L: int
    WR: int
    RTP: int
    WTR_S: int
    WTR_L: int
    RTW: int
    RFC: int
    REFI: int


def _pos(description: str, le: int = 1 << 30, ge: int = 1) -> Any:
    return Field(..., ge=ge, le=le, description=description)


class DramConfig(BaseModel):
    """A DRAM / HBM memory system: stacks -> channels -> pseudo channels -> bank groups -> banks.

    A *pseudo channel* (HBM2/HBM3 pseudo-channel mode) has its own banks and data bus; the pseudo
    channels of one channel share its command buses. DDR4 and LPDDR5 have ``pseudo_channels: 1``
    (a DDR4 rank is modelled as the single pseudo channel of its channel). ``stacks`` counts HBM
    stacks (or identical DIMMs / packages); addresses interleave over all of them.
    """

    model_config = _FROZEN
    name: str = Field("custom", min_length=1, description="label (the preset name)")
    stacks: int = _pos("HBM stacks (or DIMMs / packages)", 64)
    channels: int = _pos("channels per stack", 1024)
    pseudo_channels: int = _pos("pseudo channels per channel (1 = none)", 16)
    bank_groups: int = _pos("bank groups per pseudo channel", 64)
    banks_per_group: int = _pos("banks per bank group", 64)
    rows: int = _pos("rows per bank", 1 << 24)
    columns: int = _pos("column addresses per row; one column is bus_width_bits wide", 1 << 16)
    bus_width_bits: int = _pos("data bus width of one pseudo channel, bits", 4096, 4)
    burst_length: int = _pos("beats per RD/WR burst (BL)", 64)
    data_rate_mtps: float = Field(..., gt=0, le=100_000, allow_inf_nan=False,
                                  description="data rate per pin, MT/s (= Mbit/s per pin)")
    tck_ns: float = Field(..., gt=0, le=100, allow_inf_nan=False, description="command clock period tCK, ns")
    timing: DramTiming
    separate_row_column_bus: bool = Field(
        False, description="True (HBM): one row command (ACT/PRE/PREA/REF) and one column command (RD/WR) "
                           "may issue per cycle per channel; False: one command per cycle")
    page_policy: Literal["open", "closed"] = Field(
        "open", description="open: rows stay open until a conflict or refresh; closed: RD/WR with "
                            "auto-precharge unless another queued request hits the same row")
    address_mapping: str = Field(DEFAULT_MAPPING, description="fields from MSB to LSB, e.g. ro-ba-co-bg-st-pc-ch")
    queue_depth: int = _pos("request queue entries per pseudo channel", 4096)
    refresh: bool = Field(True, description="issue all-bank refresh every tREFI")
    energy: DramEnergy

    @field_validator("address_mapping")
    @classmethod
    def _mapping_syntax(cls, v: str) -> str:
        fields = v.split("-")
        unknown = [f for f in fields if f not in MAPPING_FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}; fields are "
                             f"{', '.join(MAPPING_FIELDS)} (MSB to LSB, separated by '-'), got {v!r}")
        dup = sorted({f for f in fields if fields.count(f) > 1})
        if dup:
            raise ValueError(f"field(s) {', '.join(dup)} appear more than once, got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "DramConfig":
        problems = []
        beats = self.data_rate_mtps * self.tck_ns / 1000.0
        if abs(beats - round(beats)) > 1e-6 or round(beats) < 1:
            problems.append(f"data_rate_mtps x tck_ns / 1000 (beats per clock) must be a whole number >= 1, "
                            f"got {beats:g} ({self.data_rate_mtps:g} MT/s, tCK {self.tck_ns:g} ns)")
        elif self.burst_length % round(beats):
            problems.append(f"burst_length must be a multiple of the {round(beats)} beats per clock, "
                            f"got {self.burst_length}")
        if self.columns % self.burst_length:
            problems.append(f"columns must be a multiple of burst_length ({self.burst_length}), got {self.columns}")
        if (self.bus_width_bits * self.burst_length) % 8:
            problems.append(f"bus_width_bits x burst_length must be whole bytes, got "
                            f"{self.bus_width_bits} x {self.burst_length}")
        if self.period_ps < 1:
            problems.append(f"tck_ns must be at least 0.0005 ns (1 ps after rounding), got {self.tck_ns!r}")
        fields = self.address_mapping.split("-")
        missing = [f for f in MAPPING_FIELDS if f not in fields and self.field_count(f) > 1]
        if missing:
            problems.append(f"address_mapping lacks field(s) {', '.join(missing)} (their counts are > 1), "
                            f"got {self.address_mapping!r}")
        if not problems:
            c = self.cycles()
            if c.REFI <= c.RFC + c.RP:
                problems.append(f"timing.tREFI ({c.REFI} cycles) must exceed tRFC + tRP ({c.RFC + c.RP} cycles)")
            if c.RC < c.RAS:
                problems.append(f"timing.tRC ({c.RC} cycles) must be >= tRAS ({c.RAS} cycles)")
            if c.CCD_L < c.CCD_S:
                problems.append(f"timing.tCCD_L ({c.CCD_L} cycles) must be >= tCCD_S ({c.CCD_S} cycles)")
            if c.RRD_L < c.RRD_S:
                problems.append(f"timing.tRRD_L ({c.RRD_L} cycles) must be >= tRRD_S ({c.RRD_S} cycles)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- derived quantities ----------------------------------------------------------------------
    @property
    def period_ps(self) -> int:
        """Controller (command) clock period, integer ps: ``round(tck_ns * 1000)``."""
        return int(round(self.tck_ns * 1000.0))

    @property
    def clock_rounding_error(self) -> float:
        """Relative error of the integer-ps period: ``period_ps / (tck_ns * 1000) - 1``."""
        return self.period_ps / (self.tck_ns * 1000.0) - 1.0

    @property
    def beats_per_clock(self) -> int:
        return round(self.data_rate_mtps * self.tck_ns / 1000.0)

    @property
    def burst_cycles(self) -> int:
        """Clock cycles one burst occupies the data bus: ``burst_length / beats_per_clock``."""
        return self.burst_length // self.beats_per_clock

    @property
    def transaction_bytes(self) -> int:
        """Bytes of one RD/WR burst of one pseudo channel: ``bus_width_bits * burst_length / 8``."""
        return self.bus_width_bits * self.burst_length // 8

    @property
    def row_bytes(self) -> int:
        """Page (row) size of one pseudo channel, bytes."""
        return self.columns * self.bus_width_bits // 8

    @property
    def banks(self) -> int:
        """Banks per pseudo channel."""
        return self.bank_groups * self.banks_per_group

    @property
    def total_pseudo_channels(self) -> int:
        return self.stacks * self.channels * self.pseudo_channels

    @property
    def total_channels(self) -> int:
        return self.stacks * self.channels

    @property
    def capacity_bytes(self) -> int:
        return self.total_pseudo_channels * self.banks * self.rows * self.row_bytes

    @property
    def peak_bandwidth_bytes_per_s(self) -> float:
        """Nominal peak: data rate per pin x bus width x pseudo channels / 8, bytes/s."""
        return self.data_rate_mtps * 1e6 * self.bus_width_bits * self.total_pseudo_channels / 8.0

    @property
    def simulated_peak_bandwidth_bytes_per_s(self) -> float:
        """Peak on the integer-ps clock: one burst per ``burst_cycles`` per pseudo channel, bytes/s."""
        return self.transaction_bytes * self.total_pseudo_channels / (self.burst_cycles * self.period_ps * 1e-12)

    def field_count(self, field: str) -> int:
        """Number of values of an address-mapping field (``co`` counts column blocks of one burst)."""
        return {"st": self.stacks, "ch": self.channels, "pc": self.pseudo_channels, "bg": self.bank_groups,
                "ba": self.banks_per_group, "ro": self.rows, "co": self.columns // self.burst_length}[field]

    def cycles(self) -> TimingCycles:
        """All timings in integer controller cycles (ceil of ns / period, at least the ck minimum)."""
        p = self.period_ps
        t = self.timing
        burst = self.burst_cycles
        cl, cwl = t.tCL.cycles(p), t.tCWL.cycles(p)
        rtw = t.tRTW.cycles(p) if t.tRTW is not None else max(1, cl + burst + 2 - cwl)
        return TimingCycles(
            burst=burst, RCD=t.tRCD.cycles(p), RP=t.tRP.cycles(p), CL=cl, CWL=cwl, RAS=t.tRAS.cycles(p),
            RC=t.tRC.cycles(p), RRD_S=t.tRRD_S.cycles(p), RRD_L=t.tRRD_L.cycles(p), FAW=t.tFAW.cycles(p),
            CCD_S=t.tCCD_S.cycles(p), CCD_L=t.tCCD_L.cycles(p), WR=t.tWR.cycles(p), RTP=t.tRTP.cycles(p),
            WTR_S=t.tWTR_S.cycles(p), WTR_L=t.tWTR_L.cycles(p), RTW=rtw, RFC=t.tRFC.cycles(p),
            REFI=t.tREFI.cycles(p))


# --- presets -------------------------------------------------------------------------------------
_DATA_PACKAGE = "hwsim.memory"
_PRESET_FILE = "dram_presets.yaml"
ALIASES = {"ddr4-3200": "ddr4", "lpddr5-6400": "lpddr5", "hbm2": "hbm2e"}


def preset_data() -> dict:
    """The parsed preset file (``references`` and ``presets``); a fresh copy each call."""
    return copy.deepcopy(_preset_data())


@functools.lru_cache(maxsize=1)
def _preset_data() -> dict:
    text = resources.files(_DATA_PACKAGE).joinpath("data").joinpath(_PRESET_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def preset_names() -> list[str]:
    return sorted(_preset_data()["presets"])


def parse_config(data: object, root: str = "dram") -> DramConfig:
    """Validate a config mapping; errors become one :class:`ConfigError` line per problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{root}: a DRAM config must be a mapping of keys to values, got {type(data).__name__}")
    try:
        return DramConfig.model_validate(data)
    except ValidationError as err:
        raise config_error_from(err, root=root) from None


def load_preset(name: str, **overrides: Any) -> DramConfig:
    """A packaged preset (``hbm2e``, ``hbm3``, ``ddr4``, ``lpddr5``), optionally with top-level fields
    replaced (e.g. ``page_policy="closed"``, ``stacks=6``)."""
    if not isinstance(name, str):
        raise ConfigError(f"preset: must be a name ({', '.join(preset_names())}), got {name!r}")
    key = ALIASES.get(name.lower(), name.lower())
    presets = _preset_data()["presets"]  # read-only here: the config mapping is copied below
    if key not in presets:
        raise ConfigError(f"preset: unknown DRAM preset {name!r}; presets: {', '.join(sorted(presets))}")
    data = copy.deepcopy(presets[key]["config"])
    data.update(overrides)
    return parse_config(data, root=f"dram[{key}]")


def load_config(path: str | os.PathLike[str]) -> DramConfig:
    """A DRAM config from a YAML file: a full config, or ``{preset: NAME, ...overrides}``."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the DRAM config: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if isinstance(data, dict) and "preset" in data:
        rest = {k: v for k, v in data.items() if k != "preset"}
        return load_preset(data["preset"], **rest)
    return parse_config(data, root=str(path))
