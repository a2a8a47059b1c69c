"""The technology-node table (``hwsim/power/data/nodes/nodes.yaml``) that turns synthesis into mm² and MHz."""

from __future__ import annotations

import functools
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hwsim.errors import ConfigError, config_error_from


class Sourced(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    value: float = Field(..., gt=0)
    source: str = Field(..., min_length=3)


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    density_mtr_per_mm2: float = Field(..., gt=0, description="million transistors per mm² of cells")
    density_source: str = Field(..., min_length=3)
    fo4_ps: float = Field(..., gt=0, description="FO4 inverter delay, ps")
    fo4_source: str = Field(..., min_length=3)
    toggle_energy_scale: float = Field(..., gt=0, description="switching energy per transistor toggle vs 45 nm")
    toggle_energy_source: str = Field(..., min_length=3)


class NodeTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    references: dict[str, str]
    utilization: Sourced
    gate_delay_fo4: Sourced
    register_overhead_fo4: Sourced
    toggle_energy: dict[str, str]
    nodes: dict[str, Node]

    def node(self, name: str) -> Node:
        if name not in self.nodes:
            raise ConfigError(f"--node: unknown technology node {name!r}; known: {', '.join(self.nodes)}")
        return self.nodes[name]

    def area_mm2(self, transistors: int, node: str) -> float:
        """Block area: transistors at the node's density, divided by the placement utilisation."""
        return transistors / (self.node(node).density_mtr_per_mm2 * 1e6) / self.utilization.value

    def toggle_energy_scale(self, node: str) -> float:
        """Energy per transistor toggle at ``node`` relative to the 45 nm calibration."""
        return self.node(node).toggle_energy_scale

    def fmax_mhz(self, logic_depth: int, node: str) -> float:
        """Highest clock: one period holds ``logic_depth`` gate levels plus the register overhead."""
        return self.fmax_mhz_at_fo4(logic_depth, self.node(node).fo4_ps)

    def fmax_mhz_at_fo4(self, logic_depth: int, fo4_ps: float) -> float:
        """:meth:`fmax_mhz` for a given FO4 delay (e.g. a technology table's ``node.fo4_ps``), MHz."""
        period_ps = (logic_depth * self.gate_delay_fo4.value + self.register_overhead_fo4.value) * fo4_ps
        return 1e6 / period_ps


@functools.lru_cache(maxsize=1)
def load_nodes() -> NodeTable:
    """The packaged node table (parsed once per process; the model is frozen)."""
    text = resources.files("hwsim.power").joinpath("data/nodes/nodes.yaml").read_text()
    try:
        return NodeTable.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        raise config_error_from(err, root="nodes.yaml") from None
