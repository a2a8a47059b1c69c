"""Off-chip memory feeding a compute unit: a DRAM/HBM device behind a DMA engine."""

from __future__ import annotations

import functools
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hwsim.errors import ConfigError
from hwsim.memory.dma import DmaConfig


class DramSpec(BaseModel):
    """A DRAM preset (``hbm2e``, ``hbm3``, ``ddr4``, ``lpddr5``) with optional field overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    preset: str = Field("hbm3", description="preset name")
    overrides: dict[str, Any] = Field(default_factory=dict, description="DramConfig fields to change")

    @model_validator(mode="after")
    def _valid(self) -> "DramSpec":
        try:
            self.config()
        except ConfigError as err:
            raise ValueError("; ".join(err.problems)) from None
        return self

    def config(self):
        """The validated :class:`~hwsim.memory.dram.DramConfig` (frozen; shared between equal specs)."""
        try:
            overrides = json.dumps(self.overrides, sort_keys=True)
        except (TypeError, ValueError):  # not JSON-able: validate uncached (and report the field)
            return _load(self.preset, self.overrides)
        return _load_cached(self.preset, overrides)


def _load(preset: str, overrides: dict):
    from hwsim.memory.dram import load_preset

    try:
        return load_preset(preset, **overrides)
    except ValidationError as err:
        from hwsim.errors import format_validation_error

        raise ConfigError(format_validation_error(err, f"dram[{preset}]")) from None


@functools.lru_cache(maxsize=256)
def _load_cached(preset: str, overrides_json: str):
    return _load(preset, json.loads(overrides_json))


class OffChipConfig(BaseModel):
    """The unit's operands come from ``dram`` through a DMA engine (2-D strided tile descriptors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    dram: DramSpec = Field(default_factory=DramSpec)
    dma: DmaConfig = Field(default_factory=DmaConfig)
    layout: Literal["row_major", "tiled"] = Field(
        "row_major", description="how A and B are stored in DRAM: plain row-major matrices, or blocks shaped "
                                 "to the dataflow so every load is one contiguous run (hwsim.systolic.layout)")
