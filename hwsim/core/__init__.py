"""Simulation kernel on SimPy: clocks, components with declared ports, channels, stats and tracing."""

from hwsim.core.channel import Channel, Link
from hwsim.core.clock import Clock
from hwsim.core.component import Component, PortDir, PortSpec
from hwsim.core.sim import Simulation
from hwsim.core.stats import Stats
from hwsim.core.trace import Tracer

__all__ = ["Channel", "Clock", "Component", "Link", "PortDir", "PortSpec", "Simulation", "Stats", "Tracer"]
