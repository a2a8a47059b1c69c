"""Memories: operand SRAMs and the memory port that fills them (HBM/DRAM, caches, DMA come later)."""

from hwsim.memory.port import MemoryPortConfig, serialisation_cycles
from hwsim.memory.sram import SramConfig

__all__ = ["MemoryPortConfig", "SramConfig", "serialisation_cycles"]
