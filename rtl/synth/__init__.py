"""Yosys synthesis of the RTL twins: cells, flip-flops, transistors, logic depth; area and fmax per node."""

from rtl.synth.flow import SynthResult, synth_block, synthesize
from rtl.synth.nodes import NodeTable, load_nodes

__all__ = ["NodeTable", "SynthResult", "load_nodes", "synth_block", "synthesize"]
