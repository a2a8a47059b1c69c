"""A simulation: one SimPy environment (integer picoseconds), its clocks, components and tracer."""

from __future__ import annotations

import simpy

from hwsim.core.clock import Clock
from hwsim.core.trace import Tracer


class Simulation:
    """Owns the SimPy environment; time is an integer number of picoseconds."""

    def __init__(self, trace: bool | Tracer = False, name: str = "hwsim"):
        """``trace``: True for a new :class:`Tracer`, or an existing one to append to."""
        self.env = simpy.Environment(initial_time=0)
        self.clocks: dict[str, Clock] = {}
        self.components: list = []
        if isinstance(trace, Tracer):
            self.tracer: Tracer | None = trace
        else:
            self.tracer = Tracer(name) if trace else None

    def clock(self, name: str, period_ps: int) -> Clock:
        """Create (or return the existing) clock domain ``name`` with an integer period in ps."""
        if name in self.clocks:
            existing = self.clocks[name]
            if existing.period_ps != period_ps:
                raise ValueError(f"clock {name} already exists with period {existing.period_ps} ps")
            return existing
        clk = Clock(self.env, period_ps, name)
        self.clocks[name] = clk
        return clk

    def add(self, component) -> None:
        self.components.append(component)
        if self.tracer is not None:
            self.tracer.track(component.name)

    def run(self, until: int | simpy.Event | None = None) -> None:
        for comp in self.components:
            comp.start()
        self.env.run(until=until)

    @property
    def now_ps(self) -> int:
        return int(self.env.now)
