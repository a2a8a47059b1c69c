"""hwsim: an AI-accelerator architecture toolkit.

Blocks are described once by a frozen config and have up to four faces that agree:
FL (functional, bit-accurate values), cost (closed-form counts), CL (cycle-level SimPy model)
and RTL (Amaranth twin). See docs/architecture.md.
"""

__version__ = "0.1.0"
