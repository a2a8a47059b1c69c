"""Chiplets: die-to-die links (UCIe-like PHY presets, retry), package topologies and collectives."""

from hwsim.chiplet.link import D2DLinkCL, D2DLinkConfig, link_preset_names, load_link, run_link_cl
from hwsim.chiplet.package import DieConfig, Package, PackageConfig
from hwsim.chiplet.run import CollectiveResult, run_collective

__all__ = ["CollectiveResult", "D2DLinkCL", "D2DLinkConfig", "DieConfig", "Package", "PackageConfig",
           "link_preset_names", "load_link", "run_collective", "run_link_cl"]
