"""Configuration of a systolic GEMM unit: array, PE, operand SRAMs and the memory port feeding them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hwsim.pe.config import PEConfig


class SramConfig(BaseModel):
    """Operand/result SRAM capacities in KiB. Each operand SRAM is double-buffered: it is split in two
    halves, one being read by the array while the other is filled by the memory port."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    a_kib: float = Field(64, gt=0, le=1 << 20, description="A-operand (activation / ifmap) SRAM, KiB")
    b_kib: float = Field(64, gt=0, le=1 << 20, description="B-operand (weight / filter) SRAM, KiB")
    c_kib: float = Field(64, gt=0, le=1 << 20, description="C (result / psum accumulator) SRAM, KiB")

    def kib(self, operand: str) -> float:
        return {"a": self.a_kib, "b": self.b_kib, "c": self.c_kib}[operand]


class MemoryPortConfig(BaseModel):
    """The port that fills the operand SRAMs from off-array memory: one transfer at a time, in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bandwidth_bytes_per_cycle: int = Field(..., ge=1, le=1 << 20, description="bytes per unit clock cycle")
    latency_cycles: int = Field(0, ge=0, le=1 << 20, description="cycles from last byte sent to data usable")


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
