"""System description for the mapper: dies of systolic units with an on-die SRAM, a vector unit and
off-chip DRAM/HBM, optionally several dies in a package. Loaded from ``examples/systems/<name>.yaml``.

A system file states where every number comes from (``sources``: field path -> citation; a citation
for a parent path covers its fields) and may state the published figures it must reproduce
(``published``: peak FLOP/s per format, memory bandwidth and capacity), which the tests compare with
:meth:`SystemSpec.peak_flops` and :meth:`SystemSpec.peak_memory_bytes_per_s`.

Peak compute of a die: ``2 x units x rows x cols x formats[fmt] x freq`` FLOP/s (a MAC is 2 FLOPs).
Peak memory bandwidth of a die: the DRAM config's nominal peak (data rate x bus width x pseudo channels).
"""

from __future__ import annotations

import math
import warnings as _warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hwsim.errors import ConfigError, config_error_from
from hwsim.memory.offchip import OffChipConfig
from hwsim.pe.formats import INPUT_FORMATS
from hwsim.system import PackageSection, read_yaml
from hwsim.systolic.config import SystolicConfig

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: PE formats a die may list: hwsim.pe's input formats plus fp8 (no bit-accurate fp8 PE yet; the
#: cost face prices an fp8 GEMM like an int8 one: 1 byte per operand, same cycles).
FORMATS = (*INPUT_FORMATS, "fp8")
#: bytes per element of each format (int4 packs two per byte)
FORMAT_BYTES = {"int4": 0.5, "uint4": 0.5, "int8": 1, "uint8": 1, "fp8": 1, "int16": 2, "uint16": 2,
                "fp16": 2, "bf16": 2}

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS_DIR = ROOT / "examples" / "systems"


class VectorSpec(BaseModel):
    """The die's vector unit, which runs every non-GEMM op (norms, softmax, RoPE, activations, residual
    adds, (de)quantisation, gathers).

    Throughput: ``lanes x ops_per_lane_per_cycle x freq_mhz`` operations per second. The operations an
    op needs are the graph's own count (``op.flops`` = elements x the per-element cost in
    :data:`hwsim.llm.graph.ELEMENT_FLOPS`: RMSNorm 4, LayerNorm 7, softmax 5, RoPE 3 per element (6 per
    pair), SwiGLU 5, GELU 8, residual add 1, KV (de)quantise 2, int4 weight dequantise 2, router top-k 5,
    MoE combine 2), and at least one per element (a gather or a copy moves each element once).
    ``ops_per_element`` overrides that count per op kind (e.g. ``{softmax: 8}``).
    """

    model_config = _FROZEN
    lanes: int = Field(..., ge=1, le=1 << 24, description="parallel lanes (e.g. FP32 cores)")
    ops_per_lane_per_cycle: float = Field(1.0, gt=0, le=1024, allow_inf_nan=False,
                                          description="operations per lane per cycle")
    freq_mhz: float = Field(..., gt=0, le=100_000, allow_inf_nan=False, description="vector clock, MHz")
    ops_per_element: dict[str, float] = Field(default_factory=dict,
                                              description="per op kind: operations per element (overrides op.flops)")

    @field_validator("ops_per_element")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        kinds = ("softmax", "norm", "rope", "activation", "embedding", "elementwise", "dequant")
        bad = [k for k in v if k not in kinds]
        if bad:
            raise ValueError(f"unknown op kind(s) {', '.join(map(repr, bad))}; allowed: {', '.join(kinds)}")
        neg = [f"{k}={x!r}" for k, x in v.items() if not (isinstance(x, (int, float)) and x > 0 and math.isfinite(x))]
        if neg:
            raise ValueError(f"operations per element must be finite and > 0, got {', '.join(neg)}")
        return v

    def ops_per_s(self) -> float:
        """Peak vector operations per second."""
        return self.lanes * self.ops_per_lane_per_cycle * self.freq_mhz * 1e6


class DieSpec(BaseModel):
    """One die: ``units`` identical systolic units sharing an on-die SRAM (``sram_bytes``, L2-like), a
    vector unit, and its own off-chip memory.

    ``formats`` maps each PE input format the units run to MACs per PE per cycle (``{bf16: 1, int8: 2}``:
    an int8 PE does two MACs per cycle, on two consecutive K elements). The unit's ``pe.input`` is the
    default format and must be listed. ``unit.memory_port`` must be left out: the die's ``memory`` feeds
    the units (through the SRAM) and the mapper models that traffic itself.
    """

    model_config = _FROZEN
    units: int = Field(..., ge=1, le=1 << 16, description="systolic units per die")
    unit: SystolicConfig
    formats: dict[str, float] = Field(..., min_length=1, description="PE format -> MACs per PE per cycle")
    sram_bytes: int = Field(..., ge=1024, le=1 << 40, description="on-die SRAM shared by the units, bytes")
    sram_bank_bytes: int | None = Field(
        None, ge=1024, le=1 << 40, description="bank size an on-die SRAM access is priced at, bytes "
                                               "(default: min(sram_bytes, 1 MiB), the technology table's largest point)")
    vector: VectorSpec
    memory: OffChipConfig = Field(default_factory=OffChipConfig, description="DRAM/HBM preset + overrides, DMA")

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k not in FORMATS]
        if bad:
            raise ValueError(f"unknown format(s) {', '.join(map(repr, bad))}; allowed: {', '.join(FORMATS)}")
        neg = [f"{k}={x!r}" for k, x in v.items()
               if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x <= 0]
        if neg:
            raise ValueError(f"MACs per PE per cycle must be finite and > 0, got {', '.join(neg)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "DieSpec":
        problems = []
        if self.unit.pe.input not in self.formats:
            problems.append(f"formats must list the unit's pe.input {self.unit.pe.input!r}, "
                            f"got {', '.join(self.formats)}")
        if self.unit.memory_port is not None:
            problems.append("unit.memory_port must be left out (the die's memory section feeds the units), "
                            f"got {self.unit.memory_port.model_dump()}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- formats -------------------------------------------------------------------------------
    def resolve_format(self, fmt: str | None) -> tuple[str, float, str | None]:
        """(format the units run, MACs per PE per cycle, warning or None) for a requested PE format.

        ``None`` means the unit's default (``unit.pe.input``). A format the die does not list runs as
        the slowest listed 2-byte format (ties: alphabetical), with a warning — an fp8 GEMM on a die
        without fp8 is computed at its bf16/fp16 rate, as a real part without fp8 units would after
        up-converting on load. A die with no 2-byte format raises :class:`ConfigError`.
        """
        if fmt is None:
            fmt = self.unit.pe.input
        if fmt in self.formats:
            return fmt, float(self.formats[fmt]), None
        two = sorted((self.formats[f], f) for f in self.formats if FORMAT_BYTES.get(f) == 2)
        if not two:
            raise ConfigError(f"pe_format: {fmt!r} is not among the die's formats ({', '.join(self.formats)}) "
                              f"and the die has no 2-byte format to fall back to")
        rate, slow = two[0]
        return slow, float(rate), (f"pe_format {fmt!r} is not among the die's formats ({', '.join(self.formats)}); "
                                   f"computed at the {slow} rate ({rate:g} MACs/PE/cycle)")

    def peak_flops(self, fmt: str | None = None) -> float:
        """Peak FLOP/s of the die for ``fmt`` (default: the unit's pe.input; unsupported formats use
        the fallback of :meth:`resolve_format`): ``2 x units x rows x cols x MACs/PE/cycle x freq``."""
        _, rate, _ = self.resolve_format(fmt)
        return 2.0 * self.units * self.unit.rows * self.unit.cols * rate * self.unit.freq_mhz * 1e6

    def memory_bandwidth_bytes_per_s(self) -> float:
        """Peak (nominal) DRAM bandwidth of the die, bytes/s."""
        return self.memory.dram.config().peak_bandwidth_bytes_per_s

    def memory_capacity_bytes(self) -> int:
        return self.memory.dram.config().capacity_bytes

    @property
    def bank_bytes(self) -> int:
        return self.sram_bank_bytes if self.sram_bank_bytes is not None else min(self.sram_bytes, 1 << 20)


class PublishedFigures(BaseModel):
    """Published figures a preset resembles (each cited in ``sources`` as ``published.<field>``)."""

    model_config = _FROZEN
    peak_flops: dict[str, float] = Field(default_factory=dict, description="format -> dense FLOP/s (or OP/s)")
    memory_bytes_per_s: float | None = Field(None, gt=0, description="DRAM/HBM bandwidth, bytes/s")
    memory_bytes: float | None = Field(None, gt=0, description="DRAM/HBM capacity, bytes")


class SystemSpec(BaseModel):
    """A system: ``dies`` identical dies, joined by a package (required when ``dies > 1``)."""

    model_config = _FROZEN
    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    dies: int = Field(1, ge=1, le=4096, description="identical dies")
    die: DieSpec
    package: PackageSection | None = Field(None, description="D2D package (topology, link, noc...): dies > 1")
    technology: str = Field("horowitz45", description="technology table pricing MACs, SRAM, vector ops")
    published: PublishedFigures = Field(default_factory=PublishedFigures)
    sources: dict[str, str] = Field(default_factory=dict, description="field path -> citation")

    @model_validator(mode="after")
    def _package(self) -> "SystemSpec":
        if self.dies > 1 and self.package is None:
            raise ValueError(f"package: required when dies > 1 (dies = {self.dies}), got none")
        if self.package is not None and self.package.dies != self.dies:
            raise ValueError(f"package.dies: must equal dies ({self.dies}), got {self.package.dies}")
        return self

    def peak_flops(self, fmt: str | None = None) -> float:
        """Peak FLOP/s of the whole system for PE format ``fmt`` (2 FLOPs per MAC)."""
        return self.dies * self.die.peak_flops(fmt)

    def peak_memory_bytes_per_s(self) -> float:
        """Peak DRAM/HBM bandwidth of the whole system, bytes/s."""
        return self.dies * self.die.memory_bandwidth_bytes_per_s()

    def memory_capacity_bytes(self) -> int:
        return self.dies * self.die.memory_capacity_bytes()

    def summary(self) -> dict[str, Any]:
        """Headline figures: peaks per format, bandwidth, capacity, SRAM."""
        return {"name": self.name, "dies": self.dies, "units_per_die": self.die.units,
                "array": f"{self.die.unit.rows}x{self.die.unit.cols}", "freq_mhz": self.die.unit.freq_mhz,
                "peak_flops": {f: self.peak_flops(f) for f in self.die.formats},
                "peak_memory_bytes_per_s": self.peak_memory_bytes_per_s(),
                "memory_bytes": self.memory_capacity_bytes(), "sram_bytes_per_die": self.die.sram_bytes,
                "vector_ops_per_s": self.dies * self.die.vector.ops_per_s()}


# --- loading -----------------------------------------------------------------------------------
def system_names() -> list[str]:
    """Names of the system presets (``examples/systems/*.yaml``)."""
    return sorted(p.stem for p in SYSTEMS_DIR.glob("*.yaml"))


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out += _leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(data, list):
        out = []
        for i, value in enumerate(data):
            out += _leaves(value, f"{prefix}[{i}]")
        return out
    return [(prefix, data)]


def _covers(source: str, path: str) -> bool:
    return path == source or path.startswith(source + ".") or path.startswith(source + "[")


def source_problems(data: dict, root: str) -> list[str]:
    """Lines for every number in ``data`` without a source, and every source naming no field."""
    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        return [f"{root}.sources: must map field paths to citations, got {type(sources).__name__}"]
    leaves = [(p, v) for p, v in _leaves({k: v for k, v in data.items() if k != "sources"})]
    problems = [f"{root}.sources: no source for {path} = {value!r} (cite it, or a parent path)"
                for path, value in leaves
                if isinstance(value, (int, float)) and not isinstance(value, bool)
                and not any(_covers(s, path) for s in sources)]
    problems += [f"{root}.sources.{s}: names no field of the file" for s in sources
                 if not any(_covers(s, path) for path, _ in leaves)]
    problems += [f"{root}.sources.{s}: citation must be a non-empty string, got {c!r}" for s, c in sources.items()
                 if not isinstance(c, str) or not c.strip()]
    return problems


def parse_system(data: object, root: str = "system") -> SystemSpec:
    """Validate a system mapping; errors become one :class:`ConfigError` line per problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{root}: expected a mapping of system fields, got {type(data).__name__}")
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            spec = SystemSpec.model_validate(data)
    except ValidationError as err:
        raise config_error_from(err, root=root) from None
    problems = source_problems(data, root)
    if problems:
        raise ConfigError(problems)
    return spec


def load_system(name_or_path: str | Path | SystemSpec) -> SystemSpec:
    """A system preset by name (``examples/systems/<name>.yaml``) or a YAML file path; a
    :class:`SystemSpec` is returned as is."""
    if isinstance(name_or_path, SystemSpec):
        return name_or_path
    if not isinstance(name_or_path, (str, Path)):
        raise ConfigError(f"system: must be a preset name or a path, got {name_or_path!r}")
    path = Path(name_or_path)
    if not path.is_file():
        named = SYSTEMS_DIR / f"{name_or_path}.yaml"
        if isinstance(name_or_path, str) and "/" not in name_or_path and named.is_file():
            path = named
        else:
            raise ConfigError(f"system: {str(name_or_path)!r} is neither a preset ({', '.join(system_names())}) "
                              f"nor an existing file")
    return parse_system(read_yaml(path), root=path.stem)
