"""Compatibility layers: read other tools' input formats and reproduce their accounting."""

from hwsim.compat.scalesim import (
    Layer, ScaleSimConfig, read_scalesim_cfg, read_topology, run_scalesim_inputs, scalesim_sram_counts,
)

__all__ = [
    "Layer", "ScaleSimConfig", "read_scalesim_cfg", "read_topology", "run_scalesim_inputs",
    "scalesim_sram_counts",
]
