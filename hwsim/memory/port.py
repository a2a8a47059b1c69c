"""The memory port that fills a unit's operand SRAMs from off-array memory."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MemoryPortConfig(BaseModel):
    """One transfer at a time, in order: ``ceil(bytes / bandwidth)`` cycles on the port, then the data
    is usable ``latency_cycles`` later."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bandwidth_bytes_per_cycle: int = Field(..., ge=1, le=1 << 20, description="bytes per unit clock cycle")
    latency_cycles: int = Field(0, ge=0, le=1 << 20, description="cycles from last byte sent to data usable")


def serialisation_cycles(nbytes: int, bytes_per_cycle: int | None) -> int:
    """Cycles a port of ``bytes_per_cycle`` (None = unlimited) is busy sending ``nbytes``."""
    if bytes_per_cycle is None or nbytes <= 0:
        return 0
    return -(-nbytes // bytes_per_cycle)
