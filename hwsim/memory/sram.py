"""Double-buffered operand/result SRAM scratchpads of a compute unit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SramConfig(BaseModel):
    """Operand/result SRAM capacities in KiB. Each operand SRAM is double-buffered: it is split in two
    halves, one being read by the array while the other is filled by the memory port."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    a_kib: float = Field(64, gt=0, le=1 << 20, description="A-operand (activation / ifmap) SRAM, KiB")
    b_kib: float = Field(64, gt=0, le=1 << 20, description="B-operand (weight / filter) SRAM, KiB")
    c_kib: float = Field(64, gt=0, le=1 << 20, description="C (result / psum accumulator) SRAM, KiB")

    def kib(self, operand: str) -> float:
        return {"a": self.a_kib, "b": self.b_kib, "c": self.c_kib}[operand]

    def half_bits(self, operand: str) -> int:
        """Capacity of one buffer half of ``operand``'s SRAM, in bits."""
        return int(self.kib(operand) * 1024 * 8) // 2
