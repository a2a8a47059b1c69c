"""Memories: the operand SRAMs and the port that fills them (``sram``, ``port``), banked scratchpads
(``scratchpad``), caches (``cache``), DRAM/HBM (``dram``), the DMA engine (``dma``) and the off-chip
configuration that puts DRAM behind a DMA engine (``offchip``). Import the submodules directly; this
package only re-exports the light configs (the kernel imports it)."""

from hwsim.memory.port import MemoryPortConfig, serialisation_cycles
from hwsim.memory.sram import SramConfig

__all__ = ["MemoryPortConfig", "SramConfig", "serialisation_cycles"]
