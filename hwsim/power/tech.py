"""Technology tables: energy per action (pJ) and area per unit (µm², mm²), loaded from YAML.

A table is data (``hwsim/power/data/<name>.yaml``); this module types it and answers look-ups.
Every number in a table names its source: a key of the table's ``references`` or ``derived``
together with the ``rule`` that derived it. Models never price their own actions: they count them
(:mod:`hwsim.systolic.result`) and :mod:`hwsim.power.energy` multiplies the counts by this table.
"""

from __future__ import annotations

import functools
import math
import os
import re
from bisect import bisect_right
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator,
)

from hwsim.errors import ConfigError, config_error_from

DERIVED = "derived"
_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _positive(description: str) -> Any:
    return Field(..., gt=0, allow_inf_nan=False, description=description)


class _Sourced(BaseModel):
    """Base of every sourced entry: ``source`` is a key of ``references``, or ``derived`` with a ``rule``."""

    model_config = _FROZEN
    source: str = Field(..., min_length=1, description="a key of references, or 'derived'")
    rule: str | None = Field(None, validate_default=True,
                             description="how a derived value was obtained (required if derived)")

    @field_validator("source")
    @classmethod
    def _known_reference(cls, v: str, info: ValidationInfo) -> str:
        refs = (info.context or {}).get("references")
        if refs is not None and v != DERIVED and v not in refs:
            raise ValueError(f"unknown reference; use {DERIVED!r} (with a rule) or one of: "
                             f"{', '.join(sorted(refs)) or '(no references)'}")
        return v

    @field_validator("rule")
    @classmethod
    def _rule_stated(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None and info.data.get("source") == DERIVED:
            raise ValueError(f"required when source is {DERIVED!r}: state how the value was derived")
        if v is not None and not v.strip():
            raise ValueError("must state the rule, not be empty")
        return v


class UnitEntry(_Sourced):
    """An arithmetic unit: energy per operation (pJ) and area (µm²)."""

    energy_pj: float = _positive("energy per operation, pJ")
    area_um2: float = _positive("area of one unit, µm²")


class SourcedValue(_Sourced):
    """One sourced scalar; its unit is in the key that holds it."""

    value: float = _positive("the value, in the unit named by its key")


class SourcedFraction(_Sourced):
    """One sourced fraction in (0, 1]."""

    value: float = Field(..., gt=0, le=1, description="a fraction in (0, 1]")


class SramPoint(BaseModel):
    model_config = _FROZEN
    capacity_bytes: float = _positive("SRAM capacity, bytes")
    access_energy_pj: float = _positive("energy of one access of access_bits, pJ")


class SramEnergy(_Sourced):
    """Access energy versus capacity: a power law per segment between the points (log-log linear)."""

    points: list[SramPoint] = Field(..., min_length=2, description="(capacity, access energy) points")

    @field_validator("points")
    @classmethod
    def _increasing(cls, v: list[SramPoint]) -> list[SramPoint]:
        caps = [p.capacity_bytes for p in v]
        if any(b <= a for a, b in zip(caps, caps[1:])):
            raise ValueError("capacity_bytes must increase strictly from one point to the next")
        return v


class SramTable(BaseModel):
    model_config = _FROZEN
    access_bits: int = Field(..., ge=1, le=4096, description="bits per access the energies refer to")
    access_energy: SramEnergy
    cell_area_um2: SourcedValue
    array_efficiency: SourcedFraction


class DramTable(BaseModel):
    model_config = _FROZEN
    access_bits: int = Field(..., ge=1, le=4096, description="bits per access the energy refers to")
    access_energy_pj: SourcedValue
    published_range_pj: tuple[float, float] | None = Field(None, description="published (low, high), pJ")

    @field_validator("published_range_pj")
    @classmethod
    def _contains_value(cls, v: tuple[float, float] | None,
                        info: ValidationInfo) -> tuple[float, float] | None:
        chosen = info.data.get("access_energy_pj")
        if v is not None and chosen is not None and not v[0] <= chosen.value <= v[1]:
            raise ValueError(f"must contain access_energy_pj.value ({chosen.value:g} pJ)")
        return v


class RegisterTable(BaseModel):
    model_config = _FROZEN
    area_um2_per_bit: SourcedValue
    energy_pj_per_bit: SourcedValue


class ScalingRule(BaseModel):
    """How a table was derived from another one: energies x ``energy_factor``, areas x ``area_factor``."""

    model_config = _FROZEN
    base: str = Field(..., min_length=1, description="the packaged table the entries were scaled from")
    energy_factor: SourcedValue
    area_factor: SourcedValue


class NodeParams(BaseModel):
    """Node-level figures: density, gate speed, wires/NoC, off-chip links, DRAM and leakage, each sourced."""

    model_config = _FROZEN
    logic_density_mtr_per_mm2: SourcedValue
    fo4_ps: SourcedValue
    wire_pj_per_bit_mm: SourcedValue
    noc_hop_mm: SourcedValue
    noc_pj_per_byte_hop: SourcedValue
    hbm_pj_per_bit: SourcedValue
    dram_activate_pj: SourcedValue
    leakage_w_per_mm2: SourcedValue
    d2d_pj_per_bit: SourcedValue | None = None


def _unit_key(fmt_name: str) -> str:
    """Table key of a number format: unsigned formats are priced like signed ones of the same width."""
    return "int" + fmt_name[4:] if fmt_name.startswith("uint") else fmt_name


class TechTable(BaseModel):
    """A technology: arithmetic energies/areas, SRAM and DRAM access energies, SRAM and register areas.

    Energies are in pJ, areas in µm² (per unit) or mm² (SRAM macros). Format names are hwsim's
    (:mod:`hwsim.pe.formats`); ``uint8`` uses the ``int8`` entry, and so on.
    """

    model_config = _FROZEN
    name: str = Field(..., min_length=1)
    description: str = ""
    node_nm: float = _positive("process node, nm")
    supply_v: float = _positive("supply voltage the energies refer to, V")
    references: dict[str, str] = Field(..., description="citation key -> full citation")
    mult: dict[str, UnitEntry] = Field(..., min_length=1, description="multipliers by operand format")
    add: dict[str, UnitEntry] = Field(..., min_length=1, description="adders by format")
    sram: SramTable
    dram: DramTable
    registers: RegisterTable
    scaling: ScalingRule | None = Field(None, description="how a derived node was scaled from its base table")
    node: NodeParams | None = Field(None, description="node-level figures (density, FO4, NoC, D2D, HBM, leakage)")

    @model_validator(mode="after")
    def _sources_cited(self, info: ValidationInfo) -> "TechTable":
        if info.context is not None:  # load_tech passes the references: checked field by field
            return self
        bad = [f"{path}.source: unknown reference {s.source!r}" for path, s in self.sourced()
               if s.source != DERIVED and s.source not in self.references]
        if bad:
            raise ValueError("; ".join(bad))
        return self

    def sourced(self) -> list[tuple[str, _Sourced]]:
        """Every sourced entry with its dotted path, e.g. ``("mult.int8", UnitEntry(...))``."""
        out: list[tuple[str, _Sourced]] = [(f"mult.{k}", v) for k, v in self.mult.items()]
        out += [(f"add.{k}", v) for k, v in self.add.items()]
        out += [("sram.access_energy", self.sram.access_energy),
                ("sram.cell_area_um2", self.sram.cell_area_um2),
                ("sram.array_efficiency", self.sram.array_efficiency),
                ("dram.access_energy_pj", self.dram.access_energy_pj),
                ("registers.area_um2_per_bit", self.registers.area_um2_per_bit),
                ("registers.energy_pj_per_bit", self.registers.energy_pj_per_bit)]
        if self.scaling is not None:
            out += [("scaling.energy_factor", self.scaling.energy_factor),
                    ("scaling.area_factor", self.scaling.area_factor)]
        if self.node is not None:
            for key in NodeParams.model_fields:
                entry = getattr(self.node, key)
                if entry is not None:
                    out.append((f"node.{key}", entry))
        return out

    # --- node-level figures ----------------------------------------------------------------------
    def node_value(self, key: str) -> float:
        """A node-level figure (``node.<key>.value``, e.g. ``"leakage_w_per_mm2"``, ``"fo4_ps"``)."""
        entry = getattr(self.node, key, None) if self.node is not None else None
        if entry is None:
            have = [k for k in NodeParams.model_fields if self.node is not None and getattr(self.node, k) is not None]
            raise ConfigError(f"tech {self.name}: no node.{key} figure; the table has "
                              f"{', '.join(have) or 'no node section'}")
        return entry.value

    def leakage_w(self, area_mm2: float) -> float:
        """Leakage power of ``area_mm2`` of logic at this node, W (``node.leakage_w_per_mm2`` x area)."""
        return self.node_value("leakage_w_per_mm2") * area_mm2

    # --- arithmetic ------------------------------------------------------------------------------
    def _unit(self, table: dict[str, UnitEntry], kind: str, fmt_name: str) -> UnitEntry:
        entry = table.get(_unit_key(fmt_name)) if isinstance(fmt_name, str) else None
        if entry is None:
            raise ConfigError(f"tech {self.name}: no {kind} entry for format {fmt_name!r}; the table has "
                              f"{', '.join(table)} (unsigned formats use the signed entry)")
        return entry

    def mult_energy_pj(self, fmt_name: str) -> float:
        """Energy of one multiply of two ``fmt_name`` operands, pJ."""
        return self._unit(self.mult, "multiplier", fmt_name).energy_pj

    def add_energy_pj(self, acc_fmt_name: str) -> float:
        """Energy of one add at ``acc_fmt_name`` width (the accumulator format of a MAC), pJ."""
        return self._unit(self.add, "adder", acc_fmt_name).energy_pj

    def mac_energy_pj(self, input_fmt: str, acc_fmt: str) -> float:
        """Energy of one multiply-accumulate: multiply at the input format + add at the accumulator
        format, pJ (int8/int32: 0.2 + 0.1 = 0.3 pJ with horowitz45)."""
        return self.mult_energy_pj(input_fmt) + self.add_energy_pj(acc_fmt)

    def mult_area_um2(self, fmt_name: str) -> float:
        """Area of one multiplier for ``fmt_name`` operands, µm²."""
        return self._unit(self.mult, "multiplier", fmt_name).area_um2

    def add_area_um2(self, acc_fmt_name: str) -> float:
        """Area of one adder at ``acc_fmt_name`` width, µm²."""
        return self._unit(self.add, "adder", acc_fmt_name).area_um2

    # --- registers -------------------------------------------------------------------------------
    def register_energy_pj(self, bits: int = 1) -> float:
        """Energy of writing ``bits`` flip-flops once, pJ."""
        return bits * self.registers.energy_pj_per_bit.value

    def register_area_um2(self, bits: int = 1) -> float:
        """Area of ``bits`` flip-flops, µm²."""
        return bits * self.registers.area_um2_per_bit.value

    # --- memories --------------------------------------------------------------------------------
    def sram_access_energy_pj(self, capacity_bytes: float) -> float:
        """Energy of one ``sram.access_bits``-wide access to an SRAM of ``capacity_bytes``, pJ.

        Fit: between two table points, a power law ``E = E_i (C / C_i) ** s_i`` with
        ``s_i = log(E_{i+1} / E_i) / log(C_{i+1} / C_i)`` (a straight line in log-log); below the
        first point the first segment's law is extended, above the last point the last segment's.
        Exact at the table points.
        """
        cap = _capacity(capacity_bytes)
        pts = self.sram.access_energy.points
        caps = [p.capacity_bytes for p in pts]
        i = min(max(bisect_right(caps, cap) - 1, 0), len(pts) - 1)  # anchor: last point <= cap
        j = min(i, len(pts) - 2)  # segment whose slope applies
        slope = (math.log(pts[j + 1].access_energy_pj / pts[j].access_energy_pj)
                 / math.log(caps[j + 1] / caps[j]))
        return pts[i].access_energy_pj * (cap / caps[i]) ** slope

    def sram_energy_pj_per_byte(self, capacity_bytes: float) -> float:
        """Energy per byte read or written in an SRAM of ``capacity_bytes``, pJ/byte
        (:meth:`sram_access_energy_pj` divided by the access width in bytes)."""
        return self.sram_access_energy_pj(capacity_bytes) / (self.sram.access_bits / 8)

    def sram_area_mm2(self, capacity_bytes: float) -> float:
        """Area of an SRAM macro of ``capacity_bytes``: bits x cell area / array efficiency, mm²."""
        bits = _capacity(capacity_bytes) * 8
        return bits * self.sram.cell_area_um2.value / self.sram.array_efficiency.value * 1e-6

    def dram_energy_pj_per_byte(self) -> float:
        """Energy per byte moved to or from DRAM, pJ/byte."""
        return self.dram.access_energy_pj.value / (self.dram.access_bits / 8)


def _capacity(capacity_bytes: float) -> float:
    if (isinstance(capacity_bytes, bool) or not isinstance(capacity_bytes, (int, float))
            or not math.isfinite(capacity_bytes) or capacity_bytes <= 0):
        raise ConfigError(f"SRAM capacity: must be a finite number of bytes > 0, got {capacity_bytes!r}")
    return float(capacity_bytes)


# --- loading -------------------------------------------------------------------------------------
_DATA = "data"
_BARE_NAME = re.compile(r"[A-Za-z0-9_\-]+")


def packaged_tech() -> list[str]:
    """Names of the technology tables shipped with hwsim (``load_tech(name)`` loads them)."""
    folder = resources.files("hwsim.power").joinpath(_DATA)
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_tech(name_or_path: str | os.PathLike[str] = "horowitz45") -> TechTable:
    """Load a technology table: a packaged name (``"horowitz45"``) or a path to a YAML file.

    Raises :class:`hwsim.errors.ConfigError` with one line per problem, each naming the key.
    Tables are frozen, so one parsed copy is shared per file content (parsing YAML is slow).
    """
    text, label = _read(name_or_path)
    return _load_text(text, label)


@functools.lru_cache(maxsize=32)
def _load_text(text: str, label: str) -> TechTable:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{label}: not valid YAML{where}: {problem}") from None
    return parse_tech(data, root=label)


def parse_tech(data: object, root: str = "tech") -> TechTable:
    """Validate already-parsed table data (a mapping); ``root`` prefixes the error lines."""
    if not isinstance(data, dict):
        raise ConfigError(f"{root}: a technology table must be a mapping of keys to values, "
                          f"got {type(data).__name__}")
    refs = data.get("references")
    context = {"references": frozenset(refs) if isinstance(refs, dict) else None}
    try:
        return TechTable.model_validate(data, context=context)
    except ValidationError as err:
        raise config_error_from(err, root=root) from None


def _read(name_or_path: str | os.PathLike[str]) -> tuple[str, str]:
    """(text, label for messages) of a packaged table or a file."""
    spec = os.fspath(name_or_path)
    if isinstance(name_or_path, str) and _BARE_NAME.fullmatch(spec):
        packaged = resources.files("hwsim.power").joinpath(_DATA).joinpath(f"{spec}.yaml")
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8"), f"{spec}.yaml"
    path = Path(spec)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8"), spec
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{spec}: cannot read the technology table: {err}") from None
    raise ConfigError(f"tech: {spec!r} is neither a packaged table ({', '.join(packaged_tech())}) "
                      f"nor an existing file")
