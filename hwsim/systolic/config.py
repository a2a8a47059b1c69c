"""Configuration of a systolic GEMM unit: array, PE, operand SRAMs and the memory port feeding them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hwsim.memory.port import MemoryPortConfig
from hwsim.memory.sram import SramConfig
from hwsim.pe.config import PEConfig

# SramConfig and MemoryPortConfig live in hwsim.memory; re-exported here for convenience.
__all__ = ["MemoryPortConfig", "SramConfig", "SystolicConfig"]


class SystolicConfig(BaseModel):
    """A rows x cols systolic array of MAC PEs with one dataflow.

    ``memory_port: null`` means an ideal operand supply (no stalls), which is what SCALE-Sim's
    compute-cycle count assumes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    rows: int = Field(..., ge=1, le=4096, description="PE rows")
    cols: int = Field(..., ge=1, le=4096, description="PE columns")
    dataflow: Literal["os", "ws", "is"] = Field("ws", description="output-, weight- or input-stationary")
    pe: PEConfig = Field(default_factory=PEConfig)
    sram: SramConfig = Field(default_factory=SramConfig)
    memory_port: MemoryPortConfig | None = None
    freq_mhz: float = Field(1000.0, gt=0, le=100_000, description="unit clock, MHz")

    @property
    def pes(self) -> int:
        return self.rows * self.cols
