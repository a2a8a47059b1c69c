"""Chiplets: die-to-die links (UCIe-like PHY presets, retry), package topologies and collectives."""

from hwsim.chiplet.adapter import d2d_adapter_check, package_adapter_check
from hwsim.chiplet.link import D2DLinkCL, D2DLinkConfig, link_preset_names, load_link, run_link_cl
from hwsim.chiplet.package import DieConfig, Package, PackageConfig
from hwsim.chiplet.run import CollectiveResult, run_collective

__all__ = ["CollectiveResult", "D2DLinkCL", "D2DLinkConfig", "DieConfig", "Package", "PackageConfig",
           "d2d_adapter_check", "link_preset_names", "load_link", "package_adapter_check", "run_collective",
           "run_link_cl"]
