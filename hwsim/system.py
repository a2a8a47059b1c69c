"""Run configs: a systolic unit, a technology and a workload, loaded from YAML.

Example (``examples/demo.yaml``)::

    name: demo
    unit: {rows: 32, cols: 32, dataflow: ws, pe: {input: int8, accumulator: int32}}
    workload:
      gemms:
        - {name: qkv, m: 128, n: 768, k: 256}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hwsim.errors import ConfigError, config_error_from
from hwsim.memory.offchip import OffChipConfig
from hwsim.noc.config import NocConfig
from hwsim.systolic.config import SystolicConfig


class GemmLayer(BaseModel):
    """One GEMM of the workload: C[m,n] = A[m,k] . B[k,n], run ``count`` times."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(..., min_length=1)
    m: int = Field(..., ge=1, le=1 << 31)
    n: int = Field(..., ge=1, le=1 << 31)
    k: int = Field(..., ge=1, le=1 << 31)
    count: int = Field(1, ge=1, le=1 << 20, description="repetitions (e.g. identical transformer blocks)")
    split: Literal["column", "column_gather", "row", "none"] = Field(
        "column", description="with a package: how the GEMM is split over the dies (tensor parallel): "
                              "column = N split, outputs stay sharded; column_gather = N split + all-gather of C; "
                              "row = K split + all-reduce of the partial sums; none = one die computes it all")


class PackageSection(BaseModel):
    """``dies`` copies of the unit (each with its own memory) in one package, joined by D2D links.

    Every GEMM is split over the dies by its ``split`` (tensor parallel); the collective it needs runs
    on the package model (:mod:`hwsim.chiplet`) after the dies finish (no overlap)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    dies: int = Field(..., ge=2, le=4096, description="identical dies (ranks)")
    topology: str | dict = Field("ring", description="ring, full, switch, mesh, or a mapping such as "
                                                     "{kind: mesh, rows: 2, cols: 2}")
    link: str | dict = Field("ucie-advanced", description="D2D link preset or mapping")
    modules_per_edge: int | None = Field(None, ge=1, le=256, description="link modules per die-to-die edge")
    hbm_stacks_per_die: int = Field(0, ge=0, le=64, description="HBM stacks beside each die (reported)")
    allreduce: Literal["ring", "tree", "2d"] = Field("ring", description="all-reduce algorithm")
    chunk_bytes: int = Field(65536, ge=64, le=1 << 30, description="collective chunk size, bytes")
    noc: NocConfig | None = Field(None, description="each die's on-chip network between its compute tile and "
                                                    "its D2D PHY (hwsim.noc)")
    unit_node: int = Field(0, ge=0, description="NoC node of the die's compute tile")
    phy_node: int | None = Field(None, ge=0, description="NoC node of the die's D2D PHY (default: the last node)")
    noc_packet_bytes: int = Field(256, ge=1, le=1 << 20, description="NoC packet size of D2D payload, bytes")

    @model_validator(mode="after")
    def _valid(self) -> "PackageSection":
        try:
            self.package_config(100.0)
        except ConfigError as err:
            raise ValueError("; ".join(err.problems)) from None
        if self.noc is not None:
            nodes = self.noc_nodes()
            bad = [f"{name}: must be a node of the {nodes}-node die NoC (0..{nodes - 1}), got {v}"
                   for name, v in (("unit_node", self.unit_node), ("phy_node", self.phy_node))
                   if v is not None and v >= nodes]
            if bad:
                raise ValueError("; ".join(bad))
        return self

    def noc_nodes(self) -> int:
        from hwsim.noc.topology import Topology

        return Topology.of(self.noc).nodes

    def phy(self) -> int:
        return self.phy_node if self.phy_node is not None else self.noc_nodes() - 1

    def package_config(self, die_area_mm2: float, name: str = "package"):
        """The :class:`~hwsim.chiplet.package.PackageConfig` of ``dies`` dies of ``die_area_mm2`` each."""
        from hwsim.chiplet.package import PackageConfig

        return PackageConfig.uniform(self.dies, self.topology, self.link, die_area_mm2=die_area_mm2,
                                     hbm_stacks=self.hbm_stacks_per_die, modules_per_edge=self.modules_per_edge,
                                     name=name)


class WorkloadConfig(BaseModel):
    """Either a list of GEMMs or a SCALE-Sim topology CSV (path relative to the config file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    gemms: list[GemmLayer] = Field(default_factory=list)
    scalesim_topology: str | None = None
    topology_kind: Literal["auto", "conv", "gemm"] = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> "WorkloadConfig":
        if bool(self.gemms) == bool(self.scalesim_topology):
            raise ValueError("give exactly one of 'gemms' (a non-empty list) or 'scalesim_topology' (a CSV path)")
        return self


class RunConfig(BaseModel):
    """What ``hwsim run`` runs: one unit, a technology table, a workload and how to evaluate it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="report folder name")
    unit: SystolicConfig
    technology: str = Field("horowitz45", description="technology table name or YAML path")
    face: Literal["cost", "cl"] = "cost"
    accounting: Literal["hwsim", "scalesim"] = "hwsim"
    seed: int = Field(0, ge=0, description="seed of the random operands used by the CL face")
    area_model: Literal["table", "synthesis"] = Field(
        "table", description="PE area from the technology table, or from Yosys synthesis of the PE's RTL twin "
                             "(which also gives the clock limit)")
    node: str = Field("45nm", description="technology node of the synthesis estimate (area_model: synthesis)")
    memory: OffChipConfig | None = Field(
        None, description="off-chip DRAM/HBM feeding the unit through a DMA engine (instead of unit.memory_port)")
    package: PackageSection | None = Field(
        None, description="several dies of this unit in one package (tensor parallel over D2D links)")
    leakage: bool = Field(True, description="add leakage (unit area x the technology's W/mm2 x time) to the "
                                            "energy, when the table has node figures")
    power_window_cycles: int = Field(
        100, ge=1, le=1 << 30, description="face cl: the power trace's window, unit cycles")
    workload: WorkloadConfig

    @property
    def dies(self) -> int:
        return self.package.dies if self.package is not None else 1

    @model_validator(mode="after")
    def _accounting_face(self) -> "RunConfig":
        if self.accounting == "scalesim" and self.face != "cost":
            raise ValueError("accounting 'scalesim' is a cost-face view; use face: cost")
        if self.memory is not None and self.unit.memory_port is not None:
            raise ValueError("give either unit.memory_port (a simple port) or memory (DRAM through DMA), not both")
        if self.package is None:
            bad = [f"workload.gemms[{i}].split: {g.split!r} needs a package section (several dies)"
                   for i, g in enumerate(self.workload.gemms) if g.split != "column"]
            if bad:
                raise ValueError("; ".join(bad))
        return self


@dataclass(frozen=True)
class Layer:
    name: str
    m: int
    n: int
    k: int
    count: int = 1
    split: str = "column"


def read_yaml(path: str | Path) -> object:
    """Parse a YAML file; a missing file or a syntax error is one readable ConfigError line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None


def load_run_config(path: str | Path) -> RunConfig:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config fields at the top level, got {type(data).__name__}")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise config_error_from(err, root=Path(path).stem) from None


def resolve_layers(cfg: RunConfig, base_dir: Path) -> list[Layer]:
    """The workload as a list of GEMM layers (SCALE-Sim conv layers become their im2col GEMMs)."""
    wl = cfg.workload
    if wl.gemms:
        return [Layer(g.name, g.m, g.n, g.k, g.count, g.split) for g in wl.gemms]
    from hwsim.compat.scalesim import read_topology

    topo = Path(wl.scalesim_topology)
    if not topo.is_absolute():
        topo = base_dir / topo
    return [Layer(lay.name, lay.m, lay.n, lay.k) for lay in read_topology(topo, wl.topology_kind)]
