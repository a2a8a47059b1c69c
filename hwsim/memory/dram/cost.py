"""stub (being written)"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hwsim.errors import ConfigError
from hwsim.memory.dram.config import DramConfig


class TrafficPattern(BaseModel):
    """A closed-loop traffic pattern: ``requests`` transactions, ``outstanding`` in flight."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["stream", "random", "strided"] = Field("stream", description="address pattern")
    requests: int = Field(20000, ge=1, le=100_000_000, description="transactions in the run")
    read_fraction: float = Field(1.0, ge=0.0, le=1.0, description="share of reads (the rest are writes)")
    stride_bytes: int | None = Field(None, ge=1, description="strided: bytes between consecutive requests")
    outstanding: int | None = Field(None, ge=1, le=1_000_000, description="requests in flight")
    seed: int = Field(0, ge=0, description="seed of random addresses and of the read/write choice")

    def outstanding_for(self, cfg: DramConfig) -> int:
        """Requests in flight: as given, else ``queue_depth`` per pseudo channel (all queues full)."""
        return self.outstanding if self.outstanding is not None else cfg.queue_depth * cfg.total_pseudo_channels

    def stride_for(self, cfg: DramConfig) -> int | None:
        if self.kind != "strided":
            return self.stride_bytes
        return self.stride_bytes if self.stride_bytes is not None else 2 * cfg.transaction_bytes

    def check(self, cfg: DramConfig) -> None:
        if self.kind == "strided":
            s = self.stride_for(cfg)
            if s % cfg.transaction_bytes:
                raise ConfigError(f"stride_bytes: must be a multiple of the {cfg.transaction_bytes}-byte "
                                  f"transaction, got {s}")


def pattern_addresses(cfg: DramConfig, pattern: TrafficPattern) -> np.ndarray:
    """The byte addresses of the pattern's requests, in issue order (int64)."""
    pattern.check(cfg)
    n = pattern.requests
    tb = cfg.transaction_bytes
    ntx = cfg.capacity_bytes // tb
    if pattern.kind == "stream":
        idx = np.arange(n, dtype=np.int64) % ntx
    elif pattern.kind == "random":
        idx = np.random.default_rng([pattern.seed, 0]).integers(0, ntx, n, dtype=np.int64)
    else:
        step = (pattern.stride_for(cfg) // tb) % ntx
        if n * step < (1 << 62):
            idx = (np.arange(n, dtype=np.int64) * step) % ntx
        else:
            idx = np.array([(k * step) % ntx for k in range(n)], dtype=np.int64)
    return idx * tb


class DramCost: pass
def dram_cost(cfg, pattern): raise NotImplementedError
